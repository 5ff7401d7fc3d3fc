// Shared by the fused minGRU / minLSTM scans: h0 modes, shape checks, the float64 step loop, and the WebGPU
// dispatch plan (one invocation per channel, or the chunked three-phase scan of models.md §E.2 for small B·D, long T).
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { zeros } from '../engine.js';
import { fmtShape, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, Spec, Specs } from './op.js';
import { UNARY_BWD_F64, UNARY_F64 } from './unary.js';

/** h0: `none` (h0 = 0, no input), `preactivation` (a raw learned value passed through g), `state` (a carried h). */
export type H0Mode = 'none' | 'preactivation' | 'state';
const MODES: readonly H0Mode[] = ['none', 'preactivation', 'state'];

/** The kernels' mode id (0, 1, 2 in the order above). */
export function modeId(where: string, m: H0Mode | undefined): number {
  const id = MODES.indexOf(m ?? 'none');
  if (id < 0) throw new OptionError(`${where}: unknown h0Mode '${m}' (expected one of ${MODES.join(', ')})`);
  return id;
}

export const g64 = UNARY_F64.g;
export const dg64 = (x: number): number => UNARY_BWD_F64.g(x, 1);

/** Dims of a scan: T steps, N = B·D independent channels. */
export function scanDims(specs: Specs): { T: number; B: number; D: number; N: number } {
  const [T, B, D] = specs.inputs[0]!.shape as [number, number, number];
  return { T, B, D, N: B * D };
}

/**
 * Checks a scan op's inputs: `seq` names (T, B, D) tensors of one shape, then `vec` names (B, D) tensors, then h0
 * (B, D) when the mode has one. Errors name the op, every shape and what was expected.
 */
export function checkScan(op: string, seq: readonly string[], vec: readonly string[], inputs: readonly Spec[], mode: H0Mode | undefined): { T: number; B: number; D: number } {
  const id = modeId(op, mode);
  const names = [...seq, ...vec, ...(id ? ['h0'] : [])];
  // Built only for an error message: this check runs on every scan call (a generation loop's hot path).
  const at = () => `${op}(${inputs.map((s, i) => `${names[i] ?? `input ${i}`} ${fmtShape(s.shape)}`).join(', ')}, h0Mode ${mode ?? 'none'})`;
  if (inputs.length !== names.length) {
    throw new ShapeError(`${at()}: expected inputs (${names.join(', ')}), got ${inputs.length}${id ? '' : " (h0 needs h0Mode 'preactivation' or 'state')"}`);
  }
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${at()}: ${names[i]} must be f32, got ${s.dtype}`);
  });
  const x = inputs[0]!.shape;
  if (x.length !== 3) throw new ShapeError(`${at()}: ${names[0]} must be time-major (T, B, D), got rank ${x.length}`);
  const [T, B, D] = x as [number, number, number];
  if (T < 1) throw new ShapeError(`${at()}: T must be >= 1`);
  inputs.forEach((s, i) => {
    const want = i < seq.length ? x : [B, D];
    if (!sameShape(s.shape, want)) throw new ShapeError(`${at()}: ${names[i]} must have shape ${fmtShape(want)}, got ${fmtShape(s.shape)}`);
  });
  return { T, B, D };
}

/** Effective h_{−1} of each channel in float64. */
export function h0Eff64(h0: Float64Array | undefined, N: number, mode: number): Float64Array {
  if (mode === 0 || !h0) return new Float64Array(N);
  return mode === 1 ? h0.map(g64) : Float64Array.from(h0);
}

/** Gradient of the raw h0 from the adjoint carried past t = 0 (λ_0·a_0). */
export function dh0From64(x: Float64Array, h0: Float64Array, mode: number): Float64Array {
  return mode === 1 ? x.map((v, c) => v * dg64(h0[c]!)) : x;
}

/** The upstream gradients of (h, hT), zeros where none arrived; null when neither did. */
export function upstream(h: Tensor, hT: Tensor, dOut: readonly (Tensor | null)[]): [Tensor, Tensor] | null {
  const [dh, dhT] = dOut;
  if (!dh && !dhT) return null;
  const backend = h.backend.name;
  return [dh ?? zeros(h.shape, { backend }), dhT ?? zeros(hT.shape, { backend })];
}

/** The WebGPU path choice; tests change these to force one path or the other. */
export const SCAN_GPU = {
  /** The chunked scan runs when B·D is at most this... */
  chunkedMaxChannels: 2048,
  /** ...and T at least this; otherwise one invocation per channel loops over all of T. */
  chunkedMinT: 512,
  /** Steps per chunk (raised when T would need more than 65,535 chunks). */
  chunk: 64,
};

/** Workgroup size of the per-channel kernels. */
const WG = 64;

export interface ScanGpuPlan {
  chunked: boolean;
  /** Steps per chunk and number of chunks (1 chunk of T when not chunked). */
  L: number;
  nC: number;
}

export function scanGpuPlan(T: number, N: number, maxDim: number): ScanGpuPlan {
  if (!(N <= SCAN_GPU.chunkedMaxChannels && T >= SCAN_GPU.chunkedMinT)) return { chunked: false, L: T, nC: 1 };
  const L = Math.max(1, SCAN_GPU.chunk, Math.ceil(T / maxDim));
  return { chunked: true, L, nC: Math.ceil(T / L) };
}

/** Buffers of one scan on the GPU; `pre` are the pre-activations in binding order (k, p or u_f, u_i, p). */
export interface ScanGpuBuffers {
  pre: readonly GPUBuffer[];
  h0: GPUBuffer | undefined;
}

/**
 * Records the forward (entries of shaders/lib/linear_scan_chunks.wgsl, which the shader includes): `scan_fwd` (one
 * invocation per channel over all of T), or the chunked scan in one entry `scan_fwd_chunks` run three times: phase 0
 * chunk aggregates (∏a, local h from 0), phase 1 the carries (sequential over chunks, per channel), phase 2 each chunk
 * replayed from its carry. Bindings: pre…, h0, h, hT (, agg).
 */
export function scanGpuForward(gpu: GpuKernelContext, shader: string, pre: readonly GPUBuffer[], h0in: GPUBuffer | undefined, T: number, N: number, mode: number, norm: number): void {
  if (N === 0) return;
  const [h, hT] = gpu.outputs as [GPUBuffer, GPUBuffer];
  const h0 = h0in ?? pre[0]!; // bound but never read in mode 0
  const plan = scanGpuPlan(T, N, gpu.limits.maxComputeWorkgroupsPerDimension);
  const uni = (phase: number) => [T, N, mode, plan.L, plan.nC, phase, norm];
  const wx = Math.ceil(N / WG);
  const common = { shader, overrides: { WG } };
  if (!plan.chunked) {
    gpu.dispatch({ ...common, entry: 'scan_fwd', buffers: [...pre, h0, h, hT], uniforms: uni(0), workgroups: [wx] });
    return;
  }
  const buffers = [...pre, h0, h, hT, gpu.scratch(8 * N * plan.nC)];
  for (const phase of [0, 1, 2]) gpu.dispatch({ ...common, entry: 'scan_fwd_chunks', buffers, uniforms: uni(phase), workgroups: [wx, phase === 1 ? 1 : plan.nC] });
}

/**
 * Records the backward. First the adjoint λ_t of models.md §D.1 (a linear recurrence in reverse time) into `lam`,
 * which is the dp output, overwritten later: `scan_bwd_lambda` per channel, or `scan_bwd_lambda_chunks` in three
 * phases as the forward; the adjoint carried past t = 0 gives dh0. Then the shader's own entry `bwd`, parallel over
 * (t, channel): the chain rule.
 * `a` are the pre-activations the decay a_t needs (k, or u_f and u_i: `pre` less its last, p, which is how
 * linear_scan_chunks.wgsl numbers the bindings after them); `grads` the other gradient outputs.
 * Bindings: a…, h0, dh, dhT, lam, dh0 (, agg); bwd: pre…, h0, h, lam, grads….
 */
export function scanGpuBackward(
  gpu: GpuKernelContext,
  shader: string,
  bwd: string,
  b: { pre: readonly GPUBuffer[]; a: readonly GPUBuffer[]; h0: GPUBuffer | undefined; h: GPUBuffer; dh: GPUBuffer; dhT: GPUBuffer; lam: GPUBuffer; dh0: GPUBuffer | undefined; grads: readonly GPUBuffer[] },
  T: number,
  N: number,
  mode: number,
  norm: number,
): void {
  if (N === 0) return;
  const h0 = b.h0 ?? b.pre[0]!;
  const dh0 = b.dh0 ?? gpu.scratch(16);
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension;
  const plan = scanGpuPlan(T, N, maxDim);
  const uni = (phase: number) => [T, N, mode, plan.L, plan.nC, phase, norm];
  const wx = Math.ceil(N / WG);
  const common = { shader, overrides: { WG } };
  const lamBuffers = [...b.a, h0, b.dh, b.dhT, b.lam, dh0];
  if (!plan.chunked) {
    gpu.dispatch({ ...common, entry: 'scan_bwd_lambda', buffers: lamBuffers, uniforms: uni(0), workgroups: [wx] });
  } else {
    const buffers = [...lamBuffers, gpu.scratch(8 * N * plan.nC)];
    for (const phase of [0, 1, 2]) gpu.dispatch({ ...common, entry: 'scan_bwd_lambda_chunks', buffers, uniforms: uni(phase), workgroups: [wx, phase === 1 ? 1 : plan.nC] });
  }
  gpu.dispatch({ ...common, entry: bwd, buffers: [...b.pre, h0, b.h, b.lam, ...b.grads], uniforms: uni(0), workgroups: [wx, Math.min(T, maxDim)] });
}
