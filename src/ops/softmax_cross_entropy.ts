// Fused softmax + cross-entropy per row: loss[n] = logsumexp(x[n, :]) − x[n, t[n]] (max-subtracted); backward
// dlogits = (softmax(x) − onehot(t)) ⊙ dloss, recomputing the row statistics (models.md §D.5). Target −1 ignores a
// row (loss 0, gradient 0); kernels and reference treat any target outside [0, V) so; the user function throws.
import sceWgsl from '../../shaders/softmax_cross_entropy.wgsl';
import { DTypeError, ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkIndexRange } from './embedding.js';
import type { OpDef, Spec, Specs } from './op.js';
import { grid } from './rows.js';

type NoParams = Record<string, never>;

/** The target that marks a row to ignore (padding). */
export const IGNORE_INDEX = -1;

/** Threads per workgroup (one workgroup per row): a power of two for the tree reductions, no wider than V needs. */
function wgFor(V: number): number {
  return V <= 64 ? 64 : V <= 128 ? 128 : 256;
}

function checkLogitsTargets(op: string, inputs: readonly Spec[], extra: string[]): void {
  const [logits, targets] = inputs;
  const where = `${op}(logits ${fmtShape(logits?.shape ?? [])}, targets ${fmtShape(targets?.shape ?? [])} ${targets?.dtype ?? '?'}${extra.map((e, i) => `, ${e} ${fmtShape(inputs[i + 2]?.shape ?? [])}`).join('')})`;
  if (inputs.length !== 2 + extra.length || !logits || !targets) {
    throw new ShapeError(`${where}: expected inputs (logits, targets${extra.map((e) => `, ${e}`).join('')}), got ${inputs.length}`);
  }
  if (logits.dtype !== 'f32') throw new DTypeError(`${where}: logits must be f32, got ${logits.dtype}`);
  if (targets.dtype !== 'i32') throw new DTypeError(`${where}: targets must be i32, got ${targets.dtype}`);
  if (logits.shape.length !== 2 || logits.shape[1]! < 1) throw new ShapeError(`${where}: logits must be 2-D (N, V) with V >= 1`);
  const N = logits.shape[0]!;
  if (targets.shape.length !== 1 || targets.shape[0] !== N) throw new ShapeError(`${where}: targets must have shape [${N}] (one per row of logits)`);
  for (const [i, e] of extra.entries()) {
    const s = inputs[i + 2]!;
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: ${e} must be f32, got ${s.dtype}`);
    if (s.shape.length !== 1 || s.shape[0] !== N) throw new ShapeError(`${where}: ${e} must have shape [${N}]`);
  }
}

function nv(specs: Specs): { N: number; V: number } {
  const s = specs.inputs[0]!.shape;
  return { N: s[0]!, V: s[1]! };
}

/** max and Σ exp(x − max) of one row, in float64. */
function rowStats(x: Float64Array, base: number, V: number): { mx: number; sum: number } {
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, x[base + j]!);
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(x[base + j]! - mx);
  return { mx, sum };
}

export const softmaxCrossEntropyOp: OpDef<NoParams> = {
  name: 'softmax_cross_entropy',
  family: 'softmax_cross_entropy',
  inputNames: ['logits', 'targets'],
  shapes(inputs) {
    checkLogitsTargets('softmax_cross_entropy', inputs, []);
    return [{ shape: [inputs[0]!.shape[0]!], dtype: 'f32' }];
  },
  reference([x, t], specs) {
    const { N, V } = nv(specs);
    const loss = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      const tn = t![n]!;
      if (tn < 0 || tn >= V) continue; // ignored row
      const { mx, sum } = rowStats(x!, n * V, V);
      loss[n] = mx - x![n * V + tn]! + Math.log(sum);
    }
    return [loss];
  },
  grad({ inputs, dOutputs }) {
    const [logits, targets] = inputs as [Tensor, Tensor];
    const dloss = dOutputs[0];
    return [dloss ? softmaxCrossEntropyBwd(logits, targets, dloss) : null, null];
  },
  wasm(k, specs) {
    const { N, V } = nv(specs);
    k.exports['softmax_cross_entropy_fwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, N, V);
  },
  webgpu(gpu, specs) {
    const { N, V } = nv(specs);
    if (N === 0) return;
    gpu.dispatch({
      shader: sceWgsl,
      entry: 'softmax_cross_entropy_fwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.outputs[0]!],
      uniforms: [N, V],
      overrides: { WG: wgFor(V) },
      workgroups: grid(N, gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs) {
    const { N, V } = nv(specs);
    return { flops: 4 * N * V, bytes: 4 * (N * V + 2 * N) };
  },
};

export const softmaxCrossEntropyBwdOp: OpDef<NoParams> = {
  name: 'softmax_cross_entropy_bwd',
  family: 'softmax_cross_entropy',
  inputNames: ['logits', 'targets', 'dloss'],
  shapes(inputs) {
    checkLogitsTargets('softmax_cross_entropy_bwd', inputs, ['dloss']);
    return [{ shape: inputs[0]!.shape, dtype: 'f32' }];
  },
  reference([x, t, dl], specs) {
    const { N, V } = nv(specs);
    const dx = new Float64Array(N * V);
    for (let n = 0; n < N; n++) {
      const tn = t![n]!;
      if (tn < 0 || tn >= V) continue;
      const { mx, sum } = rowStats(x!, n * V, V);
      for (let j = 0; j < V; j++) dx[n * V + j] = (Math.exp(x![n * V + j]! - mx) / sum - (j === tn ? 1 : 0)) * dl![n]!;
    }
    return [dx];
  },
  grad: null,
  wasm(k, specs) {
    const { N, V } = nv(specs);
    k.exports['softmax_cross_entropy_bwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.inputs[2]!, k.outputs[0]!, N, V);
  },
  webgpu(gpu, specs) {
    const { N, V } = nv(specs);
    if (N === 0) return;
    gpu.dispatch({
      shader: sceWgsl,
      entry: 'softmax_cross_entropy_bwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.inputs[2]!, gpu.outputs[0]!],
      uniforms: [N, V],
      overrides: { WG: wgFor(V) },
      workgroups: grid(N, gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs) {
    const { N, V } = nv(specs);
    return { flops: 6 * N * V, bytes: 4 * (2 * N * V + 2 * N) };
  },
};

export interface SoftmaxCrossEntropyOptions extends CallOptions {
  /** Skip reading CPU-resident targets to check their range (out-of-range targets then count as ignored). */
  unchecked?: boolean;
}

/**
 * Per-row softmax cross-entropy of `logits` (N, V) against integer `targets` (N): loss (N); −1 ignores a row.
 * The op stays per-row: for a mean loss, reduce the result and divide by the number of rows not ignored.
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor, opts: SoftmaxCrossEntropyOptions = {}): Tensor {
  const V = logits.shape[1];
  if (!opts.unchecked && logits.shape.length === 2 && V !== undefined) checkIndexRange('softmax_cross_entropy', 'target', targets, V, IGNORE_INDEX);
  return runOp(softmaxCrossEntropyOp, [logits, targets], {}, opts)[0]!;
}

/** dlogits = (softmax(logits) − onehot(targets)) ⊙ dloss, zero on ignored rows. */
export function softmaxCrossEntropyBwd(logits: Tensor, targets: Tensor, dloss: Tensor, opts: CallOptions = {}): Tensor {
  return runOp(softmaxCrossEntropyBwdOp, [logits, targets, dloss], {}, opts)[0]!;
}
