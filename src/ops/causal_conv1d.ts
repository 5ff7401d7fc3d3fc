// causal_conv1d: depthwise causal convolution over time (models.md §C.6), time-major x, y (T, B, D), taps w (K, D),
// y_t = bias + Σ_{j<K} w[j]·x_{t−K+1+j} (w[K−1] weighs the current step), x_{<0} from `state` (K−1, B, D) or zeros.
// With a state the op also returns the new state (the last K−1 inputs), so generation can feed one step at a time.
import causalConv1dWgsl from '../../shaders/causal_conv1d.wgsl';
import { DTypeError, ShapeError } from '../errors.js';
import { runOp, zeros, type CallOptions } from '../engine.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec, Specs } from './op.js';

export type CausalConv1dParams = Record<string, never>;

/** Sizes and which optional inputs are present. */
interface Geo { T: number; B: number; D: number; K: number; bias: number; state: number }

const FWD = ['x', 'w', 'bias', 'state'] as const;
const BWD = ['x', 'w', 'dy', 'state', 'dStateOut'] as const;

/**
 * Forward inputs (x, w, bias?, state?): a third input of rank 1 is the bias, of rank 3 the state.
 * Backward inputs (x, w, dy) or (x, w, dy, state, dStateOut). Returns the sizes and the optional inputs' indices (−1).
 */
function check(op: string, inputs: readonly Spec[], bwd: boolean): Geo {
  const names: string[] = bwd ? [...BWD] : inputs.length === 3 && inputs[2]!.shape.length === 3 ? ['x', 'w', 'state'] : [...FWD];
  const w = `${op}(${inputs.map((s, i) => `${names[i] ?? i} ${fmtShape(s.shape)}`).join(', ')})`;
  const counts = bwd ? [3, 5] : [2, 3, 4];
  if (!counts.includes(inputs.length)) throw new ShapeError(`${w}: expected inputs (${bwd ? 'x, w, dy[, state, dStateOut]' : 'x, w[, bias][, state]'}), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${w}: ${names[i]} must be f32, got ${s.dtype}`);
  });
  const [x, wt] = inputs as [Spec, Spec];
  if (x.shape.length !== 3) throw new ShapeError(`${w}: x must be time-major (T, B, D), got rank ${x.shape.length}`);
  const [T, B, D] = x.shape as [number, number, number];
  if (wt.shape.length !== 2 || wt.shape[1] !== D || wt.shape[0]! < 1) throw new ShapeError(`${w}: w must have shape [K, ${D}] with K >= 1 (taps, oldest first), got ${fmtShape(wt.shape)}`);
  const K = wt.shape[0]!;
  const want: Record<string, number[]> = { bias: [D], state: [K - 1, B, D], dy: [T, B, D], dStateOut: [K - 1, B, D] };
  names.forEach((n, i) => {
    const s = inputs[i];
    if (s && want[n] && !sameShape(s.shape, want[n]!)) throw new ShapeError(`${w}: ${n} must have shape ${fmtShape(want[n]!)}, got ${fmtShape(s.shape)}`);
  });
  const idx = (n: string) => (names.indexOf(n) < inputs.length ? names.indexOf(n) : -1);
  return { T, B, D, K, bias: bwd ? -1 : idx('bias'), state: idx('state') };
}

function geo(specs: Specs, bwd: boolean): Geo {
  return check('', specs.inputs, bwd);
}

/** Row u of the padded input xx = [state or zeros (K−1 rows); x (T rows)], as an offset into x or state, or null. */
function xxRow(u: number, g: Geo, hasState: boolean): { src: 'x' | 'state'; off: number } | null {
  const N = g.B * g.D;
  if (u >= g.K - 1) return { src: 'x', off: (u - g.K + 1) * N };
  return hasState ? { src: 'state', off: u * N } : null;
}

export const causalConv1dOp: OpDef<CausalConv1dParams> = {
  name: 'causal_conv1d',
  family: 'causal_conv1d',
  inputNames: FWD,
  shapes(inputs) {
    const g = check('causal_conv1d', inputs, false);
    const y: Spec = { shape: [g.T, g.B, g.D], dtype: 'f32' };
    return g.state >= 0 ? [y, { shape: [g.K - 1, g.B, g.D], dtype: 'f32' }] : [y];
  },
  reference(xs, specs) {
    const g = geo(specs, false);
    const [x, w] = xs as [Float64Array, Float64Array];
    const bias = g.bias >= 0 ? xs[g.bias]! : null;
    const state = g.state >= 0 ? xs[g.state]! : null;
    const N = g.B * g.D;
    const at = (u: number, n: number) => {
      const r = xxRow(u, g, !!state);
      return r ? (r.src === 'x' ? x : state!)[r.off + n]! : 0;
    };
    const y = new Float64Array(g.T * N);
    for (let t = 0; t < g.T; t++) {
      for (let n = 0; n < N; n++) {
        const d = n % g.D;
        let s = bias ? bias[d]! : 0;
        for (let j = 0; j < g.K; j++) s += w[j * g.D + d]! * at(t + j, n);
        y[t * N + n] = s;
      }
    }
    if (!state) return [y];
    const so = new Float64Array((g.K - 1) * N);
    for (let i = 0; i < g.K - 1; i++) for (let n = 0; n < N; n++) so[i * N + n] = at(g.T + i, n);
    return [y, so];
  },
  grad({ inputs, dOutputs }) {
    const g = check('causal_conv1d', inputs, false);
    const [x, w] = inputs as [Tensor, Tensor];
    const be = { backend: x.backend.name };
    const dy = dOutputs[0] ?? zeros(x.shape, be);
    const state = g.state >= 0 ? inputs[g.state]! : null;
    const ins = state ? [x, w, dy, state, dOutputs[1] ?? zeros(state.shape, be)] : [x, w, dy];
    const [dx, dw, dbias, dstate] = runOp(causalConv1dBwdOp, ins, {}, be);
    const out: (Tensor | null)[] = [dx!, dw!];
    if (g.bias >= 0) out.push(dbias!);
    else dbias!.dispose();
    if (state) out.push(dstate!);
    return out;
  },
  wasm(k, specs) {
    const g = geo(specs, false);
    const bias = g.bias >= 0 ? k.inputs[g.bias]! : 0;
    const state = g.state >= 0 ? k.inputs[g.state]! : 0;
    k.exports['causal_conv1d_fwd_f32']!(k.inputs[0]!, k.inputs[1]!, bias, state, k.outputs[0]!, k.outputs[1] ?? 0, g.T, g.B, g.D, g.K, g.bias >= 0 ? 1 : 0, g.state >= 0 ? 1 : 0);
  },
  webgpu(gpu, specs) {
    const g = geo(specs, false);
    const [x, w] = gpu.inputs as [GPUBuffer, GPUBuffer];
    const bias = g.bias >= 0 ? gpu.inputs[g.bias]! : x;
    const state = g.state >= 0 ? gpu.inputs[g.state]! : x;
    const common = { shader: causalConv1dWgsl, uniforms: uniforms(g, 0, 0), overrides: { WG } };
    const lim = gpu.limits.maxComputeWorkgroupsPerDimension;
    gpu.dispatch({ ...common, entry: 'causal_conv1d_fwd', buffers: [x, w, bias, state, gpu.outputs[0]!], workgroups: grid(g.T * g.B * g.D, lim) });
    if (g.state >= 0) {
      gpu.dispatch({ ...common, entry: 'causal_conv1d_state', buffers: [x, state, gpu.outputs[1]!], workgroups: grid((g.K - 1) * g.B * g.D, lim) });
    }
  },
  cost(specs) {
    const g = geo(specs, false);
    const n = g.T * g.B * g.D;
    return { flops: 2 * g.K * n, bytes: 4 * (2 * n + (g.K + 1) * g.D) };
  },
};

export const causalConv1dBwdOp: OpDef<CausalConv1dParams> = {
  name: 'causal_conv1d_bwd',
  family: 'causal_conv1d',
  inputNames: BWD,
  shapes(inputs) {
    const g = check('causal_conv1d_bwd', inputs, true);
    const out: Spec[] = [{ shape: [g.T, g.B, g.D], dtype: 'f32' }, { shape: [g.K, g.D], dtype: 'f32' }, { shape: [g.D], dtype: 'f32' }];
    if (g.state >= 0) out.push({ shape: [g.K - 1, g.B, g.D], dtype: 'f32' });
    return out;
  },
  reference(xs, specs) {
    const g = geo(specs, true);
    const [x, w, dy, state, dso] = xs as [Float64Array, Float64Array, Float64Array, Float64Array?, Float64Array?];
    const N = g.B * g.D;
    const dx = new Float64Array(g.T * N);
    const dstate = new Float64Array((g.K - 1) * N);
    const dw = new Float64Array(g.K * g.D);
    const dbias = new Float64Array(g.D);
    // dxx_u = Σ_{j: 0 <= u−j < T} w[j]·dy_{u−j} (+ dStateOut_{u−T} for u >= T): the transposed correlation.
    for (let u = 0; u < g.T + g.K - 1; u++) {
      for (let n = 0; n < N; n++) {
        const d = n % g.D;
        let s = dso && u >= g.T ? dso[(u - g.T) * N + n]! : 0;
        for (let j = 0; j < g.K; j++) if (u - j >= 0 && u - j < g.T) s += w[j * g.D + d]! * dy[(u - j) * N + n]!;
        if (u >= g.K - 1) dx[(u - g.K + 1) * N + n] = s;
        else dstate[u * N + n] = s;
      }
    }
    for (let t = 0; t < g.T; t++) {
      for (let n = 0; n < N; n++) {
        const d = n % g.D;
        const gy = dy[t * N + n]!;
        dbias[d]! += gy;
        for (let j = 0; j < g.K; j++) {
          const r = xxRow(t + j, g, !!state);
          if (r) dw[j * g.D + d]! += gy * (r.src === 'x' ? x : state!)[r.off + n]!;
        }
      }
    }
    return state ? [dx, dw, dbias, dstate] : [dx, dw, dbias];
  },
  grad: null,
  wasm(k, specs) {
    const g = geo(specs, true);
    const [x, w, dy, state, dso] = k.inputs;
    const [dx, dw, dbias, dstate] = k.outputs;
    k.exports['causal_conv1d_bwd_f32']!(x!, w!, dy!, state ?? 0, dso ?? 0, dx!, dw!, dbias!, dstate ?? 0, g.T, g.B, g.D, g.K, g.state >= 0 ? 1 : 0);
  },
  webgpu(gpu, specs) {
    const g = geo(specs, true);
    const [x, w, dy, state, dso] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer?, GPUBuffer?];
    const [dx, dw, dbias, dstate] = gpu.outputs as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer?];
    const rows = g.T * g.B;
    const R = Math.max(8, Math.ceil(rows / 256)); // rows per partial sum
    const P = Math.max(1, Math.ceil(rows / R));
    const common = { shader: causalConv1dWgsl, uniforms: uniforms(g, R, P), overrides: { WG } };
    const lim = gpu.limits.maxComputeWorkgroupsPerDimension;
    const part = gpu.scratch(4 * P * (g.K + 1) * g.D);
    gpu.dispatch({ ...common, entry: 'causal_conv1d_bwd_dx', buffers: [w, dy, dso ?? dy, dx, dstate ?? gpu.scratch(4)], workgroups: grid((g.T + g.K - 1) * g.B * g.D, lim) });
    gpu.dispatch({ ...common, entry: 'causal_conv1d_bwd_params', buffers: [x, dy, state ?? x, part], workgroups: [Math.ceil(((g.K + 1) * g.D) / WG), P] });
    gpu.dispatch({ ...common, entry: 'causal_conv1d_bwd_sum', buffers: [part, dw, dbias], workgroups: [Math.ceil(((g.K + 1) * g.D) / WG)] });
  },
  cost(specs) {
    const g = geo(specs, true);
    const n = g.T * g.B * g.D;
    return { flops: 4 * g.K * n, bytes: 4 * (3 * n + 2 * (g.K + 1) * g.D) };
  },
};

const WG = 64;

function uniforms(g: Geo, R: number, P: number): number[] {
  return [g.T, g.B, g.D, g.K, g.bias >= 0 ? 1 : 0, g.state >= 0 ? 1 : 0, R, P];
}

/** A 2-D grid of WG-wide workgroups covering `count` invocations (x·y·WG ≥ count). */
function grid(count: number, limit: number): [number, number] {
  const groups = Math.ceil(count / WG);
  const x = Math.min(groups, limit);
  return [x, Math.ceil(groups / Math.max(x, 1))];
}

export interface CausalConv1dOptions extends CallOptions {
  bias?: Tensor;
  /** The K−1 inputs before x (K−1, B, D), e.g. from the previous call's second output; zeros when absent. */
  state?: Tensor;
}

/** Depthwise causal conv of x (T, B, D) with taps w (K, D): [y] or, with a state, [y, new state (K−1, B, D)]. */
export function causalConv1d(x: Tensor, w: Tensor, opts: CausalConv1dOptions = {}): Tensor[] {
  const ins = [x, w];
  if (opts.bias) ins.push(opts.bias);
  if (opts.state) ins.push(opts.state);
  return runOp(causalConv1dOp, ins, {}, { backend: opts.backend });
}

/** [dx, dw, dbias] (+ dstate with a state) of causalConv1d for upstream dy (and dStateOut with a state). */
export function causalConv1dBwd(x: Tensor, w: Tensor, dy: Tensor, opts: CallOptions & { state?: Tensor; dStateOut?: Tensor } = {}): Tensor[] {
  const dso = opts.state && !opts.dStateOut ? zeros(opts.state.shape, { backend: x.backend.name }) : null;
  const ins = opts.state ? [x, w, dy, opts.state, opts.dStateOut ?? dso!] : [x, w, dy];
  try {
    return runOp(causalConv1dBwdOp, ins, {}, { backend: opts.backend });
  } finally {
    dso?.dispose();
  }
}
