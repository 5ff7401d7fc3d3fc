// LayerNorm over the last axis: y = (x − μ)/√(var + ε) ⊙ γ + β (biased variance, ε inside the root, as PyTorch),
// and its fused backward (models.md §B.11), which recomputes μ and rstd from x. x, y, dy, dx (..., D); γ, β (D).
import layerNormWgsl from '../../shaders/layer_norm.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, OpDef } from './op.js';
import { checkNormInputs, grid, perRow, rows, wgFor } from './rows.js';

export interface LayerNormParams {
  eps: number;
}

/** μ and rstd of row n, in float64. */
function rowStats(x: Float64Array, base: number, D: number, eps: number): { mu: number; rstd: number } {
  let mu = 0;
  for (let j = 0; j < D; j++) mu += x[base + j]!;
  mu /= D;
  let v = 0;
  for (let j = 0; j < D; j++) v += (x[base + j]! - mu) ** 2;
  return { mu, rstd: 1 / Math.sqrt(v / D + eps) };
}

export const layerNormOp: OpDef<LayerNormParams> = {
  name: 'layer_norm',
  family: 'layer_norm',
  inputNames: ['x', 'gamma', 'beta'],
  shapes(inputs, p) {
    return [{ shape: checkNormInputs('layer_norm', ['x', 'gamma', 'beta'], inputs, p?.eps).shape, dtype: 'f32' }];
  },
  reference([x, gamma, beta], specs, p) {
    const { N, D } = rows(specs);
    const y = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      const b = n * D;
      const { mu, rstd } = rowStats(x!, b, D, p.eps);
      for (let j = 0; j < D; j++) y[b + j] = (x![b + j]! - mu) * rstd * gamma![j]! + beta![j]!;
    }
    return [y];
  },
  grad({ inputs, dOutputs, params }) {
    const dy = dOutputs[0];
    if (!dy) return [null, null, null];
    return layerNormBwd(inputs[0]!, inputs[1]!, dy, params);
  },
  wasm(k, specs, p) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    k.exports['layer_norm_fwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.inputs[2]!, k.outputs[0]!, N, D, p.eps);
  },
  webgpu(gpu, specs, p) {
    const { N, D } = rows(specs);
    if (N * D === 0) return;
    gpu.dispatch({
      shader: layerNormWgsl,
      entry: 'layer_norm_fwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.inputs[2]!, gpu.outputs[0]!],
      uniforms: [N, D, { f32: p.eps }, 0, 0],
      ...perRow(gpu, N, D),
    });
  },
  cost(specs) {
    const { N, D } = rows(specs);
    return { flops: 9 * N * D, bytes: 4 * (2 * N * D + 2 * D) };
  },
};

export const layerNormBwdOp: OpDef<LayerNormParams> = {
  name: 'layer_norm_bwd',
  family: 'layer_norm',
  inputNames: ['x', 'gamma', 'dy'],
  shapes(inputs, p) {
    const x = checkNormInputs('layer_norm_bwd', ['x', 'gamma', 'dy'], inputs, p?.eps);
    const D = inputs[1]!.shape;
    return [{ shape: x.shape, dtype: 'f32' }, { shape: D, dtype: 'f32' }, { shape: D, dtype: 'f32' }];
  },
  reference([x, gamma, dy], specs, p) {
    const { N, D } = rows(specs);
    const dx = new Float64Array(N * D);
    const dgamma = new Float64Array(D);
    const dbeta = new Float64Array(D);
    const xh = new Float64Array(D);
    for (let n = 0; n < N; n++) {
      const b = n * D;
      const { mu, rstd } = rowStats(x!, b, D, p.eps);
      let mg = 0;
      let mgx = 0;
      for (let j = 0; j < D; j++) {
        xh[j] = (x![b + j]! - mu) * rstd;
        const g = dy![b + j]! * gamma![j]!;
        mg += g / D;
        mgx += (g * xh[j]!) / D;
        dgamma[j]! += dy![b + j]! * xh[j]!;
        dbeta[j]! += dy![b + j]!;
      }
      for (let j = 0; j < D; j++) dx[b + j] = rstd * (dy![b + j]! * gamma![j]! - mg - xh[j]! * mgx);
    }
    return [dx, dgamma, dbeta];
  },
  grad: null,
  wasm(k, specs, p) {
    const { N, D } = rows(specs);
    if (D === 0) return;
    const [x, gamma, dy] = k.inputs as [number, number, number];
    const [dx, dgamma, dbeta] = k.outputs as [number, number, number];
    k.exports['layer_norm_bwd_f32']!(x, gamma, dy, dx, dgamma, dbeta, N, D, p.eps);
  },
  webgpu(gpu, specs, p) {
    const { N, D } = rows(specs);
    if (D === 0) return;
    layerNormBwdGpu(gpu, N, D, p.eps);
  },
  cost(specs) {
    const { N, D } = rows(specs);
    return { flops: 16 * N * D, bytes: 4 * (3 * N * D + 3 * D) };
  },
};

/** Row pass (dx and row stats), then a column pass over chunks of rows, then a sum over chunks (dγ, dβ). */
function layerNormBwdGpu(gpu: GpuKernelContext, N: number, D: number, eps: number): void {
  const [x, gamma, dy] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer];
  const [dx, dgamma, dbeta] = gpu.outputs as [GPUBuffer, GPUBuffer, GPUBuffer];
  const WG = wgFor(D, gpu.limits.maxComputeInvocationsPerWorkgroup);
  const R = Math.max(8, Math.ceil(N / 256)); // rows per chunk
  const P = Math.ceil(N / R); // chunks
  const common = { shader: layerNormWgsl, uniforms: [N, D, { f32: eps }, R, P], overrides: { WG } };
  const part = gpu.scratch(4 * 2 * D * Math.max(P, 1));
  if (N > 0) {
    const st = gpu.scratch(16 * N);
    gpu.dispatch({ ...common, entry: 'layer_norm_bwd', buffers: [x, gamma, dy, dx, st], workgroups: grid(N, gpu.limits.maxComputeWorkgroupsPerDimension) });
    gpu.dispatch({ ...common, entry: 'layer_norm_bwd_params', buffers: [x, dy, st, part], workgroups: [Math.ceil(D / WG), P] });
  }
  gpu.dispatch({ ...common, entry: 'layer_norm_bwd_sum', buffers: [part, dgamma, dbeta], workgroups: [Math.ceil(D / WG)] });
}

export interface LayerNormOptions {
  /** Added to the variance inside the square root (default 1e-5, as PyTorch). */
  eps?: number;
}

/** LayerNorm over the last axis of x (..., D) with affine γ, β (D). */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, { eps = 1e-5 }: LayerNormOptions = {}, opts: CallOptions = {}): Tensor {
  return runOp(layerNormOp, [x, gamma, beta], { eps }, opts)[0]!;
}

/** [dx, dγ, dβ] of layerNorm for upstream dy, recomputing the row statistics from x. */
export function layerNormBwd(x: Tensor, gamma: Tensor, dy: Tensor, { eps = 1e-5 }: LayerNormOptions = {}, opts: CallOptions = {}): Tensor[] {
  return runOp(layerNormBwdOp, [x, gamma, dy], { eps }, opts);
}
