// linear_scan: h_t = a_t ⊙ h_{t−1} + b_t per channel (models.md §C.2, §E), time-major a, b, h (T, B, D), h0, hT (B, D);
// `reverse` runs t = T−1 … 0 (hT is then the state after t = 0). Backward by the adjoint recurrence of §D.1, a scan in
// the opposite direction: λ_s = g_s + a_{s+1} λ_{s+1}, da_s = λ_s h_{s−1}, db_s = λ_s, dh0 = a_0 λ_0 (s = step order).
import linearScanWgsl from '../../shaders/linear_scan.wgsl';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { runOp, zeros, type CallOptions } from '../engine.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, OpDef, Spec } from './op.js';

export interface LinearScanParams {
  /** Run the recurrence from t = T−1 down to 0. */
  reverse?: boolean;
  /** WebGPU path: 'auto' (default) picks the chunked scan when B·D is small and T long; tests force either. */
  gpuPath?: 'auto' | 'sequential' | 'chunked';
  /** WebGPU chunk length of the chunked scan (default: chosen from T and B·D). */
  chunk?: number;
}

/** The chunked WebGPU scan is used below this many channels (B·D) ... */
export const CHUNKED_MAX_CHANNELS = 4096;
/** ... when T is at least this long. */
export const CHUNKED_MIN_T = 256;

/** Which WebGPU path runs (T, N = B·D) and with which chunk length. */
export function linearScanGpuPlan(T: number, N: number, p: LinearScanParams): { chunked: boolean; C: number } {
  const chunked = p.gpuPath === 'chunked' || (p.gpuPath !== 'sequential' && N < CHUNKED_MAX_CHANNELS && T >= CHUNKED_MIN_T);
  // About 16K invocations in the local and fix-up passes, chunks of 16 … 1024 steps.
  const auto = Math.min(1024, Math.max(16, 2 ** Math.ceil(Math.log2(Math.max(1, (T * N) / 16384)))));
  const C = Math.max(p.chunk ?? auto, Math.ceil(T / 65535), 1);
  return { chunked, C };
}

function where(op: string, names: readonly string[], inputs: readonly Spec[], p: LinearScanParams): string {
  return `${op}(${inputs.map((s, i) => `${names[i] ?? i} ${fmtShape(s.shape)}`).join(', ')}${p?.reverse ? ', reverse' : ''})`;
}

function checkParams(w: string, p: LinearScanParams): void {
  if (p?.gpuPath !== undefined && !['auto', 'sequential', 'chunked'].includes(p.gpuPath)) throw new OptionError(`${w}: gpuPath must be 'auto', 'sequential' or 'chunked', got '${p.gpuPath}'`);
  if (p?.chunk !== undefined && !(Number.isInteger(p.chunk) && p.chunk >= 1)) throw new OptionError(`${w}: chunk must be an integer >= 1, got ${p.chunk}`);
}

/** Checks f32, (T, B, D) for the first nSeq inputs, (B, D) for the nState after them (the last optional); returns [T, B, D]. */
function check(op: string, names: readonly string[], inputs: readonly Spec[], p: LinearScanParams, nSeq: number, nState: number): [number, number, number] {
  const w = where(op, names, inputs, p);
  checkParams(w, p);
  if (inputs.length < nSeq + nState - 1 || inputs.length > nSeq + nState) {
    throw new ShapeError(`${w}: expected inputs (${names.join(', ')}) with the last optional, got ${inputs.length}`);
  }
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${w}: ${names[i]} must be f32, got ${s.dtype}`);
  });
  const a = inputs[0]!;
  if (a.shape.length !== 3) throw new ShapeError(`${w}: ${names[0]} must be time-major (T, B, D), got rank ${a.shape.length}`);
  const [T, B, D] = a.shape as [number, number, number];
  inputs.forEach((s, i) => {
    const want = i < nSeq ? [T, B, D] : [B, D];
    if (!sameShape(s.shape, want)) throw new ShapeError(`${w}: ${names[i]} must have shape ${fmtShape(want)} like ${names[0]} (T, B, D), got ${fmtShape(s.shape)}`);
  });
  return [T, B, D];
}

/** Time index of step s. */
const at = (s: number, T: number, rev: boolean) => (rev ? T - 1 - s : s);

export const linearScanOp: OpDef<LinearScanParams> = {
  name: 'linear_scan',
  family: 'linear_scan',
  inputNames: ['a', 'b', 'h0'],
  shapes(inputs, p) {
    const [T, B, D] = check('linear_scan', ['a', 'b', 'h0'], inputs, p, 2, 1);
    return [{ shape: [T, B, D], dtype: 'f32' }, { shape: [B, D], dtype: 'f32' }];
  },
  reference([a, b, h0], specs, p) {
    const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
    const N = B * D;
    const h = new Float64Array(T * N);
    const state = h0 ? Float64Array.from(h0) : new Float64Array(N);
    for (let s = 0; s < T; s++) {
      const o = at(s, T, !!p.reverse) * N;
      for (let n = 0; n < N; n++) h[o + n] = state[n] = a![o + n]! * state[n]! + b![o + n]!;
    }
    return [h, state];
  },
  grad({ inputs, outputs, dOutputs, params }) {
    const [a, , h0] = inputs as [Tensor, Tensor, Tensor?];
    const [dh, dhT] = dOutputs;
    if (!dh && !dhT) return [null, null, null];
    const be = { backend: a.backend.name };
    const g = dh ?? zeros(a.shape, be);
    const gT = dhT ?? zeros(outputs[1]!.shape, be);
    const [da, db, dh0] = runOp(linearScanBwdOp, h0 ? [a, outputs[0]!, g, gT, h0] : [a, outputs[0]!, g, gT], params, be);
    if (h0) return [da!, db!, dh0!];
    dh0!.dispose();
    return [da!, db!];
  },
  wasm(k, specs, p) {
    const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
    const [a, b, h0] = k.inputs;
    k.exports['linear_scan_fwd_f32']!(a!, b!, h0 ?? 0, k.outputs[0]!, k.outputs[1]!, T, B * D, p.reverse ? 1 : 0, h0 === undefined ? 0 : 1);
  },
  webgpu(gpu, specs, p) {
    const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
    linearScanFwdGpu(gpu, T, B * D, p);
  },
  cost(specs) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: 2 * n, bytes: 4 * 3 * n };
  },
};

export const linearScanBwdOp: OpDef<LinearScanParams> = {
  name: 'linear_scan_bwd',
  family: 'linear_scan',
  inputNames: ['a', 'h', 'dh', 'dhT', 'h0'],
  shapes(inputs, p) {
    const [T, B, D] = check('linear_scan_bwd', ['a', 'h', 'dh', 'dhT', 'h0'], inputs, p, 3, 2);
    return [{ shape: [T, B, D], dtype: 'f32' }, { shape: [T, B, D], dtype: 'f32' }, { shape: [B, D], dtype: 'f32' }];
  },
  reference([a, h, dh, dhT, h0], specs, p) {
    const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
    const N = B * D;
    const rev = !!p.reverse;
    const da = new Float64Array(T * N);
    const db = new Float64Array(T * N);
    const lam = Float64Array.from(dhT!); // λ_{s+1}·a_{s+1} is folded in below; at s = T−1 the carry is dhT
    for (let s = T - 1; s >= 0; s--) {
      const o = at(s, T, rev) * N;
      const po = s > 0 ? at(s - 1, T, rev) * N : -1;
      for (let n = 0; n < N; n++) {
        const l = (db[o + n] = dh![o + n]! + lam[n]!);
        const prev = po >= 0 ? h![po + n]! : h0 ? h0[n]! : 0;
        da[o + n] = l * prev;
        lam[n] = a![o + n]! * l; // a_s λ_s: the carry into step s−1 (dh0 at s = 0)
      }
    }
    return [da, db, lam];
  },
  grad: null,
  wasm(k, specs, p) {
    const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
    const [a, h, dh, dhT, h0] = k.inputs;
    const [da, db, dh0] = k.outputs;
    k.exports['linear_scan_bwd_f32']!(a!, h!, dh!, dhT!, h0 ?? 0, da!, db!, dh0!, T, B * D, p.reverse ? 1 : 0, h0 === undefined ? 0 : 1);
  },
  webgpu(gpu, specs, p) {
    const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
    linearScanBwdGpu(gpu, T, B * D, p);
  },
  cost(specs) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: 4 * n, bytes: 4 * 5 * n };
  },
};

const WG = 64;

/** A 2-D grid of workgroups of WG invocations covering `count` (x·y·WG ≥ count). */
function grid(count: number, limit: number): [number, number] {
  const groups = Math.ceil(count / WG);
  const x = Math.min(groups, limit);
  return [x, Math.ceil(groups / Math.max(x, 1))];
}

function linearScanFwdGpu(gpu: GpuKernelContext, T: number, N: number, p: LinearScanParams): void {
  const [a, b, h0] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer?];
  const [h, hT] = gpu.outputs as [GPUBuffer, GPUBuffer];
  const lim = gpu.limits.maxComputeWorkgroupsPerDimension;
  const { chunked, C } = linearScanGpuPlan(T, N, p);
  const K = Math.ceil(T / C);
  const uniforms = [T, N, p.reverse ? 1 : 0, h0 ? 1 : 0, C, K];
  const common = { shader: linearScanWgsl, uniforms, overrides: { WG } };
  if (!chunked || T === 0) {
    gpu.dispatch({ ...common, entry: 'linear_scan_fwd', buffers: [a, b, h0 ?? a, h, hT], workgroups: grid(N, lim) });
    return;
  }
  const agg = gpu.scratch(8 * K * N);
  const carry = gpu.scratch(4 * K * N);
  const perChunk = grid(K * N, lim);
  gpu.dispatch({ ...common, entry: 'linear_scan_fwd_local', buffers: [a, b, h, agg], workgroups: perChunk });
  gpu.dispatch({ ...common, entry: 'linear_scan_fwd_carry', buffers: [agg, h0 ?? a, carry, hT], workgroups: grid(N, lim) });
  gpu.dispatch({ ...common, entry: 'linear_scan_fwd_fix', buffers: [a, carry, h], workgroups: perChunk });
}

function linearScanBwdGpu(gpu: GpuKernelContext, T: number, N: number, p: LinearScanParams): void {
  const [a, h, dh, dhT, h0] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer?];
  const [da, db, dh0] = gpu.outputs as [GPUBuffer, GPUBuffer, GPUBuffer];
  const lim = gpu.limits.maxComputeWorkgroupsPerDimension;
  const { chunked, C } = linearScanGpuPlan(T, N, p);
  const K = Math.ceil(T / C);
  const uniforms = [T, N, p.reverse ? 1 : 0, h0 ? 1 : 0, C, K];
  const common = { shader: linearScanWgsl, uniforms, overrides: { WG } };
  if (!chunked || T === 0) {
    gpu.dispatch({ ...common, entry: 'linear_scan_bwd', buffers: [a, h, dh, dhT, h0 ?? a, da, db, dh0], workgroups: grid(N, lim) });
    return;
  }
  const agg = gpu.scratch(8 * K * N);
  const carry = gpu.scratch(4 * K * N);
  const perChunk = grid(K * N, lim);
  gpu.dispatch({ ...common, entry: 'linear_scan_bwd_local', buffers: [a, dh, dhT, db, agg], workgroups: perChunk });
  gpu.dispatch({ ...common, entry: 'linear_scan_bwd_carry', buffers: [a, agg, carry, dh0], workgroups: grid(N, lim) });
  gpu.dispatch({ ...common, entry: 'linear_scan_bwd_fix', buffers: [a, h, h0 ?? a, carry, db, da], workgroups: perChunk });
}

export interface LinearScanOptions extends LinearScanParams, CallOptions {
  /** Initial state (B, D); zeros when absent. */
  h0?: Tensor;
}

/** [h (T, B, D), hT (B, D)] of h_t = a_t ⊙ h_{t−1} + b_t over time-major a, b (T, B, D). */
export function linearScan(a: Tensor, b: Tensor, opts: LinearScanOptions = {}): [Tensor, Tensor] {
  const { h0, backend, ...params } = opts;
  const out = runOp(linearScanOp, h0 ? [a, b, h0] : [a, b], params, { backend });
  return [out[0]!, out[1]!];
}

/** [da, db, dh0] of linearScan for upstream dh (T, B, D) and dhT (B, D), from the forward's a, h and h0. */
export function linearScanBwd(a: Tensor, h: Tensor, dh: Tensor, dhT: Tensor, opts: LinearScanOptions = {}): [Tensor, Tensor, Tensor] {
  const { h0, backend, ...params } = opts;
  const out = runOp(linearScanBwdOp, h0 ? [a, h, dh, dhT, h0] : [a, h, dh, dhT], params, { backend });
  return [out[0]!, out[1]!, out[2]!];
}
