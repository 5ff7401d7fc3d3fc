// transpose: swaps two axes, y[..., j, ..., i, ...] = x[..., i, ..., j, ...] (e.g. (B, T, D) <-> (T, B, D)). In the
// view x (A, P, M, Q, I) -> y (A, Q, M, P, I) it is a row copy of I elements, or a 2-D tile transpose when I = 1.
import transposeWgsl from '../../shaders/transpose.wgsl';
import { ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';
import { checkAxis, checkCopyDType } from './slice.js';

export interface TransposeParams {
  /** The two axes to swap (negative counts from the end; equal axes make a copy). */
  axis0: number;
  axis1: number;
}

/** Threads per workgroup (one output element each). */
const WG = 256;

interface View {
  A: number;
  P: number;
  M: number;
  Q: number;
  I: number;
}

function checkInput(inputs: readonly Spec[], p: TransposeParams): { x: Spec; a: number; b: number } {
  const where = `transpose(${inputs.map((s, i) => `${i === 0 ? 'x' : `input ${i}`} ${fmtShape(s.shape)}`).join(', ')})`;
  if (inputs.length !== 1) throw new ShapeError(`${where}: expected one input (x), got ${inputs.length}`);
  const x = inputs[0]!;
  checkCopyDType(where, 'x', x);
  const a0 = checkAxis(where, x.shape, p.axis0);
  const a1 = checkAxis(where, x.shape, p.axis1);
  return { x, a: Math.min(a0, a1), b: Math.max(a0, a1) };
}

/** x as (A, P, M, Q, I): P and Q the swapped axes (a < b), A before, M between, I after. */
function view(shape: readonly number[], a: number, b: number): View {
  if (a === b) return { A: sizeOf(shape.slice(0, a)), P: 1, M: 1, Q: shape[a]!, I: sizeOf(shape.slice(a + 1)) }; // a copy
  return { A: sizeOf(shape.slice(0, a)), P: shape[a]!, M: sizeOf(shape.slice(a + 1, b)), Q: shape[b]!, I: sizeOf(shape.slice(b + 1)) };
}

function viewOf(specs: { inputs: readonly Spec[] }, p: TransposeParams): View {
  const { x, a, b } = checkInput(specs.inputs, p);
  return view(x.shape, a, b);
}

export const transposeOp: OpDef<TransposeParams> = {
  name: 'transpose',
  family: 'transpose',
  inputNames: ['x'],
  shapes(inputs, p) {
    const { x, a, b } = checkInput(inputs, p);
    const shape = [...x.shape];
    [shape[a], shape[b]] = [shape[b]!, shape[a]!];
    return [{ shape, dtype: x.dtype }];
  },
  reference([x], specs, p) {
    const { A, P, M, Q, I } = viewOf(specs, p);
    const y = new Float64Array(A * P * M * Q * I);
    for (let al = 0; al < A; al++)
      for (let q = 0; q < Q; q++)
        for (let m = 0; m < M; m++)
          for (let pp = 0; pp < P; pp++) {
            const src = (((al * P + pp) * M + m) * Q + q) * I;
            y.set(x!.subarray(src, src + I), (((al * Q + q) * M + m) * P + pp) * I);
          }
    return [y];
  },
  grad({ inputs, dOutputs, params }) {
    const dy = dOutputs[0];
    return [dy && inputs[0]!.dtype === 'f32' ? transpose(dy, params.axis0, params.axis1) : null];
  },
  wasm(k, specs, p) {
    const { A, P, M, Q, I } = viewOf(specs, p);
    if (A * P * M * Q * I === 0) return;
    const buf = I === 1 ? k.scratch(k.exports['transpose_scratch_bytes']!() as number) : 0;
    k.exports['transpose_fwd_f32']!(k.inputs[0]!, k.outputs[0]!, A, P, M, Q, I, buf);
  },
  webgpu(gpu, specs, p) {
    const { A, P, M, Q, I } = viewOf(specs, p);
    const total = A * P * M * Q * I;
    if (total === 0) return;
    const groups = Math.ceil(total / WG);
    const x = Math.min(groups, gpu.limits.maxComputeWorkgroupsPerDimension);
    gpu.dispatch({
      shader: transposeWgsl,
      entry: 'transpose_fwd',
      buffers: [gpu.inputs[0]!, gpu.outputs[0]!],
      uniforms: [P, M, Q, I, total],
      overrides: { WG },
      workgroups: [x, Math.ceil(groups / x)],
    });
  },
  cost(specs) {
    return { flops: 0, bytes: 8 * sizeOf(specs.outputs[0]!.shape) };
  },
};

/** Swaps axes axis0 and axis1 of x (negative counts from the end); a new tensor (a copy). */
export function transpose(x: Tensor, axis0: number, axis1: number, opts: CallOptions = {}): Tensor {
  return runOp(transposeOp, [x], { axis0, axis1 }, opts)[0]!;
}
