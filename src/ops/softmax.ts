// softmax over the last axis, y = exp(x − max) / Σ exp(x − max) (stable), and its fused backward
// dx = y ⊙ (dy − Σ dy ⊙ y) from the saved output (models.md §B.11). x, y, dy, dx (..., D); rows N = size / D.
import softmaxWgsl from '../../shaders/softmax.wgsl';
import { ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';
import { checkRowInputs, perRow, rows } from './rows.js';

type NoParams = Record<string, never>;

/** Checks (x) or (y, dy): f32, rank >= 1, all of one shape. */
function checkInputs(op: string, names: readonly string[], inputs: readonly Spec[]): Spec {
  const { where, x } = checkRowInputs(op, names, inputs);
  for (const [i, s] of inputs.entries()) {
    if (!sameShape(s.shape, x.shape)) throw new ShapeError(`${where}: ${names[i]} must have the shape of ${names[0]}, ${fmtShape(x.shape)}`);
  }
  return x;
}

export const softmaxOp: OpDef<NoParams> = {
  name: 'softmax',
  family: 'softmax',
  inputNames: ['x'],
  shapes(inputs) {
    return [{ shape: checkInputs('softmax', ['x'], inputs).shape, dtype: 'f32' }];
  },
  reference([x], specs) {
    const { N, D } = rows(specs);
    const y = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      const b = n * D;
      let mx = -Infinity;
      for (let j = 0; j < D; j++) mx = Math.max(mx, x![b + j]!);
      let sum = 0;
      for (let j = 0; j < D; j++) sum += (y[b + j] = Math.exp(x![b + j]! - mx));
      for (let j = 0; j < D; j++) y[b + j]! /= sum;
    }
    return [y];
  },
  grad({ outputs, dOutputs }) {
    const dy = dOutputs[0];
    return [dy ? softmaxBwd(outputs[0]!, dy) : null];
  },
  wasm(k, specs) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    k.exports['softmax_fwd_f32']!(k.inputs[0]!, k.outputs[0]!, N, D);
  },
  webgpu(gpu, specs) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    gpu.dispatch({
      shader: softmaxWgsl,
      entry: 'softmax_fwd',
      buffers: [gpu.inputs[0]!, gpu.outputs[0]!],
      uniforms: [N, D],
      ...perRow(gpu, N, D),
    });
  },
  cost(specs) {
    const { N, D } = rows(specs);
    return { flops: 5 * N * D, bytes: 8 * N * D };
  },
};

export const softmaxBwdOp: OpDef<NoParams> = {
  name: 'softmax_bwd',
  family: 'softmax',
  inputNames: ['y', 'dy'],
  shapes(inputs) {
    return [{ shape: checkInputs('softmax_bwd', ['y', 'dy'], inputs).shape, dtype: 'f32' }];
  },
  reference([y, dy], specs) {
    const { N, D } = rows(specs);
    const dx = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      const b = n * D;
      let dot = 0;
      for (let j = 0; j < D; j++) dot += dy![b + j]! * y![b + j]!;
      for (let j = 0; j < D; j++) dx[b + j] = y![b + j]! * (dy![b + j]! - dot);
    }
    return [dx];
  },
  grad: null,
  wasm(k, specs) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    k.exports['softmax_bwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, N, D);
  },
  webgpu(gpu, specs) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    gpu.dispatch({
      shader: softmaxWgsl,
      entry: 'softmax_bwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.outputs[0]!],
      uniforms: [N, D],
      ...perRow(gpu, N, D),
    });
  },
  cost(specs) {
    const { N, D } = rows(specs);
    return { flops: 4 * N * D, bytes: 12 * N * D };
  },
};

/** Softmax over the last axis of x (rank >= 1), max-subtracted so large |x| stays finite. */
export function softmax(x: Tensor, opts: CallOptions = {}): Tensor {
  return runOp(softmaxOp, [x], {}, opts)[0]!;
}

/** dx = y ⊙ (dy − Σ_last dy ⊙ y), the gradient of softmax from its output y. */
export function softmaxBwd(y: Tensor, dy: Tensor, opts: CallOptions = {}): Tensor {
  return runOp(softmaxBwdOp, [y, dy], {}, opts)[0]!;
}
