// Helpers shared by the row-wise ops (softmax, layer_norm, rms_norm, softmax_cross_entropy): rows over the last axis,
// workgroup size and grid for their one-workgroup-per-row WGSL kernels, and the input checks they have in common.
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import type { GpuKernelContext, Spec, Specs } from './op.js';

/**
 * Threads per workgroup for rows of length D: one workgroup per row, a power of two for the tree reductions.
 * At most 64: each thread then strides over D/64 elements; on SwiftShader (tests, CI) 64 threads per row run a
 * 1024x256 softmax in 68 ms against 1.1 s with 256 (barriers cost per invocation), and 64 is two warps on real GPUs.
 */
export function wgFor(D: number, limit: number): number {
  return Math.min(64, limit, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(D, 1)))));
}

/** A 2-D grid of `count` workgroups when one dimension is not enough (x·y ≥ count). */
export function grid(count: number, limit: number): [number, number] {
  const x = Math.min(count, limit);
  return [x, Math.ceil(count / Math.max(x, 1))];
}

/** The dispatch fields of a one-workgroup-per-row kernel over N rows of length D: WG and a grid of N workgroups. */
export function perRow(gpu: GpuKernelContext, N: number, D: number): { overrides: { WG: number }; workgroups: [number, number] } {
  return {
    overrides: { WG: wgFor(D, gpu.limits.maxComputeInvocationsPerWorkgroup) },
    workgroups: grid(N, gpu.limits.maxComputeWorkgroupsPerDimension),
  };
}

/** Rows N and row length D (the last axis) of the first input. */
export function rows(specs: Specs): { N: number; D: number } {
  const s = specs.inputs[0]!.shape;
  return { N: sizeOf(s.slice(0, -1)), D: s[s.length - 1]! };
}

/**
 * Checks that `inputs` are `names`, all f32, the first of rank >= 1; returns it and the message prefix
 * `op(name shape, ...suffix)` for the op's own checks.
 */
export function checkRowInputs(op: string, names: readonly string[], inputs: readonly Spec[], suffix = ''): { where: string; x: Spec } {
  const where = `${op}(${inputs.map((s, i) => `${names[i] ?? i} ${fmtShape(s.shape)}`).join(', ')}${suffix})`;
  if (inputs.length !== names.length) throw new ShapeError(`${where}: expected inputs (${names.join(', ')}), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: ${names[i]} must be f32, got ${s.dtype}`);
  });
  const x = inputs[0]!;
  if (x.shape.length < 1) throw new ShapeError(`${where}: ${names[0]} needs rank >= 1 (${op} runs over the last axis)`);
  return { where, x };
}

/** Checks a norm's inputs (layer_norm, rms_norm and their _bwd): x (..., D), `dy` like x, every other input (D). */
export function checkNormInputs(op: string, names: readonly string[], inputs: readonly Spec[], eps: number | undefined): Spec {
  const { where, x } = checkRowInputs(op, names, inputs, `, eps ${eps}`);
  if (!(typeof eps === 'number' && Number.isFinite(eps) && eps >= 0)) throw new OptionError(`${where}: eps must be a finite number >= 0`);
  const D = x.shape[x.shape.length - 1]!;
  for (let i = 1; i < inputs.length; i++) {
    const s = inputs[i]!;
    const want = names[i] === 'dy' ? x.shape : [D];
    if (!sameShape(s.shape, want)) throw new ShapeError(`${where}: ${names[i]} must have shape ${fmtShape(want)}, got ${fmtShape(s.shape)}`);
  }
  return x;
}
