// RMSNorm over the last axis: y = x/rms ⊙ w with rms = √(mean x² + ε), and its fused backward (models.md §D.5)
// dx = (w⊙dy)/rms − x·mean(x⊙w⊙dy)/rms³, dw = Σ_rows dy⊙x/rms, recomputing rms from x. x, y, dy, dx (..., D); w (D).
import rmsNormWgsl from '../../shaders/rms_norm.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, OpDef } from './op.js';
import { checkNormInputs, grid, perRow, rows, wgFor } from './rows.js';

export interface RmsNormParams {
  eps: number;
}

/** 1/rms of one row, in float64. */
function rowRinv(x: Float64Array, base: number, D: number, eps: number): number {
  let ss = 0;
  for (let j = 0; j < D; j++) ss += x[base + j]! ** 2;
  return 1 / Math.sqrt(ss / D + eps);
}

export const rmsNormOp: OpDef<RmsNormParams> = {
  name: 'rms_norm',
  family: 'rms_norm',
  inputNames: ['x', 'w'],
  shapes(inputs, p) {
    return [{ shape: checkNormInputs('rms_norm', ['x', 'w'], inputs, p?.eps).shape, dtype: 'f32' }];
  },
  reference([x, w], specs, p) {
    const { N, D } = rows(specs);
    const y = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      const b = n * D;
      const rinv = rowRinv(x!, b, D, p.eps);
      for (let j = 0; j < D; j++) y[b + j] = x![b + j]! * rinv * w![j]!;
    }
    return [y];
  },
  grad({ inputs, dOutputs, params }) {
    const dy = dOutputs[0];
    if (!dy) return [null, null];
    return rmsNormBwd(inputs[0]!, inputs[1]!, dy, params);
  },
  wasm(k, specs, p) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    k.exports['rms_norm_fwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, N, D, p.eps);
  },
  webgpu(gpu, specs, p) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    gpu.dispatch({
      shader: rmsNormWgsl,
      entry: 'rms_norm_fwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.outputs[0]!],
      uniforms: [N, D, { f32: p.eps }, 0, 0],
      ...perRow(gpu, N, D),
    });
  },
  cost(specs) {
    const { N, D } = rows(specs);
    return { flops: 6 * N * D, bytes: 4 * (2 * N * D + D) };
  },
};

export const rmsNormBwdOp: OpDef<RmsNormParams> = {
  name: 'rms_norm_bwd',
  family: 'rms_norm',
  inputNames: ['x', 'w', 'dy'],
  shapes(inputs, p) {
    const x = checkNormInputs('rms_norm_bwd', ['x', 'w', 'dy'], inputs, p?.eps);
    return [{ shape: x.shape, dtype: 'f32' }, { shape: inputs[1]!.shape, dtype: 'f32' }];
  },
  reference([x, w, dy], specs, p) {
    const { N, D } = rows(specs);
    const dx = new Float64Array(N * D);
    const dw = new Float64Array(D);
    for (let n = 0; n < N; n++) {
      const b = n * D;
      const rinv = rowRinv(x!, b, D, p.eps);
      let m = 0; // mean(x⊙w⊙dy)
      for (let j = 0; j < D; j++) m += (x![b + j]! * w![j]! * dy![b + j]!) / D;
      for (let j = 0; j < D; j++) {
        dx[b + j] = w![j]! * dy![b + j]! * rinv - x![b + j]! * m * rinv ** 3;
        dw[j]! += dy![b + j]! * x![b + j]! * rinv;
      }
    }
    return [dx, dw];
  },
  grad: null,
  wasm(k, specs, p) {
    const { N, D } = rows(specs);
    if (D === 0) return;
    const [x, w, dy] = k.inputs as [number, number, number];
    k.exports['rms_norm_bwd_f32']!(x, w, dy, k.outputs[0]!, k.outputs[1]!, N, D, p.eps);
  },
  webgpu(gpu, specs, p) {
    const { N, D } = rows(specs);
    if (D === 0) return;
    rmsNormBwdGpu(gpu, N, D, p.eps);
  },
  cost(specs) {
    const { N, D } = rows(specs);
    return { flops: 10 * N * D, bytes: 4 * (3 * N * D + 2 * D) };
  },
};

/** Row pass (dx and row stats), then a column pass over chunks of rows, then a sum over chunks (dw). */
function rmsNormBwdGpu(gpu: GpuKernelContext, N: number, D: number, eps: number): void {
  const [x, w, dy] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer];
  const [dx, dw] = gpu.outputs as [GPUBuffer, GPUBuffer];
  const WG = wgFor(D, gpu.limits.maxComputeInvocationsPerWorkgroup);
  const R = Math.max(8, Math.ceil(N / 256)); // rows per chunk
  const P = Math.ceil(N / R); // chunks
  const common = { shader: rmsNormWgsl, uniforms: [N, D, { f32: eps }, R, P], overrides: { WG } };
  const part = gpu.scratch(4 * D * Math.max(P, 1));
  if (N > 0) {
    const st = gpu.scratch(8 * N);
    gpu.dispatch({ ...common, entry: 'rms_norm_bwd', buffers: [x, w, dy, dx, st], workgroups: grid(N, gpu.limits.maxComputeWorkgroupsPerDimension) });
    gpu.dispatch({ ...common, entry: 'rms_norm_bwd_params', buffers: [x, dy, st, part], workgroups: [Math.ceil(D / WG), P] });
  }
  gpu.dispatch({ ...common, entry: 'rms_norm_bwd_sum', buffers: [part, dw], workgroups: [Math.ceil(D / WG)] });
}

export interface RmsNormOptions {
  /** Added to mean(x²) inside the square root (default 1e-6). */
  eps?: number;
}

/** RMSNorm over the last axis of x (..., D) with weight w (D). */
export function rmsNorm(x: Tensor, w: Tensor, { eps = 1e-6 }: RmsNormOptions = {}, opts: CallOptions = {}): Tensor {
  return runOp(rmsNormOp, [x, w], { eps }, opts)[0]!;
}

/** [dx, dw] of rmsNorm for upstream dy, recomputing rms from x. */
export function rmsNormBwd(x: Tensor, w: Tensor, dy: Tensor, { eps = 1e-6 }: RmsNormOptions = {}, opts: CallOptions = {}): Tensor[] {
  return runOp(rmsNormBwdOp, [x, w, dy], { eps }, opts);
}
