// Scaled dot-product attention for SRU++ (models.md §B.4, §B.5), time-major, and its fused backward (§B.11).
// q (L, B, H·dh); kv (Lm+L, B, 2·H·dh) = [K | V] as linear2 of §B.4 emits it, the first Lm rows the memory; head h
// owns columns [h·dh, (h+1)·dh) of q, K and V. Optional key padding mask (Lm+L, B), 1 = pad. o (L, B, H·dh), lse (L, B, H).
import attentionWgsl from '../../shaders/attention.wgsl';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { runOp, zeros, type CallOptions } from '../engine.js';
import { fmtShape, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, OpDef, Spec, Specs } from './op.js';

/**
 * Which keys query i (0-based in the current segment, absolute position Lm + i) sees, exactly as §B.5:
 * - causal: keys [0, Lm + i] (all memory, then the current positions up to itself): Lm + i + 1 keys;
 * - causal + sameLength (evaluation): keys [i, Lm + i], a window of exactly m + 1 keys with m = memLen;
 * - not causal: all Lm + L keys. Padded keys (mask 1) are removed from any of these.
 * The §B.5 masks add −10000 to the logits; here masked keys get weight exactly 0 (the limit; the same in float32
 * whenever the visible logits lie within ~9900 of each other). A row with no visible key gives o = 0, lse = 0,
 * and no gradient.
 */
export interface AttentionParams {
  heads: number;
  causal: boolean;
  memLen: number;
  sameLength?: boolean;
  /** Logit scale; default 1/√dh. */
  scale?: number;
}

/** Sizes and the visible key range [lo(i), hi(i)) of every query, shared by all backends. */
export interface AttentionGeometry {
  L: number; Lk: number; Lm: number; B: number; H: number; dh: number; HD: number;
  scale: number; causal: boolean; sameLength: boolean; hasMask: boolean;
}

export function attnLo(g: AttentionGeometry, i: number): number {
  return g.sameLength ? i : 0;
}
export function attnHi(g: AttentionGeometry, i: number): number {
  return g.causal ? g.Lm + i + 1 : g.Lk;
}

function geometry(inputs: readonly Spec[], p: AttentionParams, maskAt: number): AttentionGeometry {
  const [L, B, HD] = inputs[0]!.shape as [number, number, number];
  const Lk = inputs[1]!.shape[0]!;
  const dh = HD / p.heads;
  return {
    L, Lk, Lm: p.memLen, B, H: p.heads, dh, HD, scale: p.scale ?? 1 / Math.sqrt(Math.max(dh, 1)),
    causal: p.causal, sameLength: !!p.sameLength, hasMask: inputs.length > maskAt,
  };
}

/** Validates (q, kv, [o, lse, dO, dlse,] mask?) and params; returns the geometry. */
function check(op: string, names: readonly string[], inputs: readonly Spec[], p: AttentionParams): AttentionGeometry {
  const where = `${op}(${inputs.map((s, i) => `${names[i] ?? i} ${fmtShape(s.shape)}`).join(', ')})`;
  const need = names.length - 1;
  if (inputs.length !== need && inputs.length !== need + 1) throw new ShapeError(`${where}: expected inputs (${names.join(', ')}?), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: ${names[i]} must be f32, got ${s.dtype}`);
  });
  const H = p?.heads;
  if (!(Number.isInteger(H) && H >= 1)) throw new OptionError(`${where}: heads must be an integer >= 1, got ${H}`);
  if (!(Number.isInteger(p.memLen) && p.memLen >= 0)) throw new OptionError(`${where}: memLen must be an integer >= 0, got ${p.memLen}`);
  if (p.sameLength && !p.causal) throw new OptionError(`${where}: sameLength is the causal evaluation window; it needs causal`);
  if (p.scale !== undefined && !Number.isFinite(p.scale)) throw new OptionError(`${where}: scale must be finite, got ${p.scale}`);
  const [q, kv] = inputs as [Spec, Spec];
  if (q.shape.length !== 3) throw new ShapeError(`${where}: q must be (L, B, heads·dh), got rank ${q.shape.length}`);
  const [L, B, HD] = q.shape as [number, number, number];
  if (HD % H !== 0) throw new ShapeError(`${where}: q's last dim ${HD} is not a multiple of heads ${H}`);
  const Lk = p.memLen + L;
  const want = (s: Spec, shape: readonly number[], name: string): void => {
    if (!sameShape(s.shape, shape)) throw new ShapeError(`${where}: ${name} must have shape ${fmtShape(shape)}, got ${fmtShape(s.shape)}`);
  };
  want(kv, [Lk, B, 2 * HD], 'kv (memLen + L, B, 2·heads·dh)');
  if (names.length > 3) {
    want(inputs[2]!, [L, B, HD], 'o');
    want(inputs[3]!, [L, B, H], 'lse');
    want(inputs[4]!, [L, B, HD], 'dO');
    want(inputs[5]!, [L, B, H], 'dlse');
  }
  if (inputs.length > need) want(inputs[need]!, [Lk, B], 'mask (memLen + L, B)');
  return geometry(inputs, p, need);
}

const FWD_NAMES = ['q', 'kv', 'mask'] as const;
const BWD_NAMES = ['q', 'kv', 'o', 'lse', 'dO', 'dlse', 'mask'] as const;

/** Calls fn(i, b, h, row) with the query row's scaled logits s[j] (−Infinity where key j is invisible). */
function forRows(g: AttentionGeometry, q: Float64Array, kv: Float64Array, mask: Float64Array | undefined,
  fn: (i: number, b: number, h: number, s: Float64Array) => void): void {
  const s = new Float64Array(g.Lk);
  for (let i = 0; i < g.L; i++) {
    for (let b = 0; b < g.B; b++) {
      for (let h = 0; h < g.H; h++) {
        s.fill(-Infinity);
        const qo = (i * g.B + b) * g.HD + h * g.dh;
        for (let j = attnLo(g, i); j < attnHi(g, i); j++) {
          if (mask && mask[j * g.B + b] !== 0) continue;
          const ko = (j * g.B + b) * 2 * g.HD + h * g.dh;
          let d = 0;
          for (let c = 0; c < g.dh; c++) d += q[qo + c]! * kv[ko + c]!;
          s[j] = g.scale * d;
        }
        fn(i, b, h, s);
      }
    }
  }
}

function reference(x: readonly Float64Array[], specs: Specs, p: AttentionParams): Float64Array[] {
  const g = geometry(specs.inputs, p, 2);
  const [q, kv, mask] = x as [Float64Array, Float64Array, Float64Array?];
  const o = new Float64Array(g.L * g.B * g.HD);
  const lse = new Float64Array(g.L * g.B * g.H);
  forRows(g, q, kv, mask, (i, b, h, s) => {
    const mx = s.reduce((a, x) => Math.max(a, x), -Infinity);
    if (mx === -Infinity) return; // no visible key: o = 0, lse = 0
    let l = 0;
    for (let j = 0; j < g.Lk; j++) l += Math.exp(s[j]! - mx);
    const oo = (i * g.B + b) * g.HD + h * g.dh;
    for (let j = 0; j < g.Lk; j++) {
      const pj = Math.exp(s[j]! - mx) / l;
      if (pj === 0) continue;
      const vo = (j * g.B + b) * 2 * g.HD + g.HD + h * g.dh;
      for (let c = 0; c < g.dh; c++) o[oo + c]! += pj * kv[vo + c]!;
    }
    lse[(i * g.B + b) * g.H + h] = mx + Math.log(l);
  });
  return [o, lse];
}

/** §B.11 with P recomputed from the saved lse: dS = P ⊙ (dP − (dO·o − dlse)); dq = s·dS K, dK = s·dSᵀ q, dV = Pᵀ dO. */
function referenceBwd(x: readonly Float64Array[], specs: Specs, p: AttentionParams): Float64Array[] {
  const g = geometry(specs.inputs, p, 6);
  const [q, kv, o, lse, dO, dlse, mask] = x as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array?];
  const dq = new Float64Array(q.length);
  const dkv = new Float64Array(kv.length);
  forRows(g, q, kv, mask, (i, b, h, s) => {
    const r = (i * g.B + b) * g.H + h;
    const qo = (i * g.B + b) * g.HD + h * g.dh;
    let delta = -dlse[r]!;
    for (let c = 0; c < g.dh; c++) delta += dO[qo + c]! * o[qo + c]!;
    for (let j = 0; j < g.Lk; j++) {
      if (s[j] === -Infinity) continue;
      const P = Math.exp(s[j]! - lse[r]!);
      const ko = (j * g.B + b) * 2 * g.HD + h * g.dh;
      const vo = ko + g.HD;
      let dP = 0;
      for (let c = 0; c < g.dh; c++) dP += dO[qo + c]! * kv[vo + c]!;
      const dS = g.scale * P * (dP - delta);
      for (let c = 0; c < g.dh; c++) {
        dq[qo + c]! += dS * kv[ko + c]!;
        dkv[ko + c]! += dS * q[qo + c]!;
        dkv[vo + c]! += P * dO[qo + c]!;
      }
    }
  });
  return [dq, dkv];
}

/** Visible (query, key) pairs, for the cost model (padding ignored). */
function pairs(g: AttentionGeometry): number {
  let n = 0;
  for (let i = 0; i < g.L; i++) n += Math.max(0, attnHi(g, i) - attnLo(g, i));
  return n * g.B * g.H;
}

export const attentionOp: OpDef<AttentionParams> = {
  name: 'attention',
  family: 'attention',
  inputNames: FWD_NAMES,
  shapes(inputs, p) {
    const g = check('attention', FWD_NAMES, inputs, p);
    return [{ shape: [g.L, g.B, g.HD], dtype: 'f32' }, { shape: [g.L, g.B, g.H], dtype: 'f32' }];
  },
  reference,
  grad({ inputs, outputs, dOutputs, params }) {
    const [q, kv, mask] = inputs as [Tensor, Tensor, Tensor?];
    const [o, lse] = outputs as [Tensor, Tensor];
    const [dO, dlse] = dOutputs;
    if (!dO && !dlse) return [null, null, null];
    const backend = q.backend.name;
    const dOut = dO ?? zeros(o.shape, { backend });
    const dl = dlse ?? zeros(lse.shape, { backend });
    const [dq, dkv] = runOp(attentionBwdOp, mask ? [q, kv, o, lse, dOut, dl, mask] : [q, kv, o, lse, dOut, dl], params) as [Tensor, Tensor];
    return mask ? [dq, dkv, null] : [dq, dkv];
  },
  wasm(k, specs, p) {
    const g = geometry(specs.inputs, p, 2);
    if (g.L * g.B * g.HD === 0) return;
    const work = k.scratch(4 * (4 * KB + 4 * g.dh + 16));
    const [q, kv, mask] = k.inputs as [number, number, number?];
    k.exports['attention_fwd_f32']!(q, kv, mask ?? 0, k.outputs[0]!, k.outputs[1]!, g.L, g.Lm, g.B, g.H, g.dh, flags(g), g.scale, work);
  },
  webgpu(gpu, specs, p) {
    const g = geometry(specs.inputs, p, 2);
    if (g.L * g.B * g.HD === 0) return;
    const [q, kv, mask] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer?];
    gpu.dispatch({
      shader: attentionWgsl, entry: 'attention_fwd', buffers: [q, kv, mask ?? q, gpu.outputs[0]!, gpu.outputs[1]!],
      uniforms: uniforms(g), overrides: { WG: 64 }, workgroups: [Math.ceil(g.L / 16), g.H, g.B],
    });
  },
  cost(specs, p) {
    const g = geometry(specs.inputs, p, 2);
    return { flops: pairs(g) * (4 * g.dh + 4), bytes: 4 * (g.L * g.B * g.HD * 2 + g.Lk * g.B * 2 * g.HD + g.L * g.B * g.H) };
  },
};

export const attentionBwdOp: OpDef<AttentionParams> = {
  name: 'attention_bwd',
  family: 'attention',
  inputNames: BWD_NAMES,
  shapes(inputs, p) {
    check('attention_bwd', BWD_NAMES, inputs, p);
    return [{ shape: inputs[0]!.shape, dtype: 'f32' }, { shape: inputs[1]!.shape, dtype: 'f32' }];
  },
  reference: referenceBwd,
  grad: null,
  wasm(k, specs, p) {
    const g = geometry(specs.inputs, p, 6);
    const [q, kv, o, lse, dO, dlse, mask] = k.inputs as [number, number, number, number, number, number, number?];
    const [dq, dkv] = k.outputs as [number, number];
    if (g.L * g.B * g.HD === 0) {
      if (g.Lk * g.B * g.HD > 0) k.f32(dkv, g.Lk * g.B * 2 * g.HD).fill(0);
      return;
    }
    const work = k.scratch(4 * (12 * KB + 16));
    k.exports['attention_bwd_f32']!(q, kv, o, lse, dO, dlse, mask ?? 0, dq, dkv, g.L, g.Lm, g.B, g.H, g.dh, flags(g), g.scale, work);
  },
  webgpu(gpu, specs, p) {
    attentionBwdGpu(gpu, geometry(specs.inputs, p, 6));
  },
  cost(specs, p) {
    const g = geometry(specs.inputs, p, 6);
    return { flops: pairs(g) * (10 * g.dh + 6), bytes: 4 * (g.L * g.B * g.HD * 4 + g.Lk * g.B * 4 * g.HD + 2 * g.L * g.B * g.H) };
  },
};

/** Keys per block in the wasm kernels (their scratch holds 4 rows of KB scores). */
const KB = 64;

function flags(g: AttentionGeometry): number {
  return (g.causal ? 1 : 0) | (g.sameLength ? 2 : 0);
}

/** The uniform block of shaders/attention.wgsl, in its field order. */
function uniforms(g: AttentionGeometry): (number | { f32: number })[] {
  return [g.L, g.Lm, g.B, g.H, g.dh, flags(g), g.hasMask ? 1 : 0, { f32: g.scale }];
}

/** δ = dO·o − dlse per row, then dq per query tile and [dK | dV] per key tile, each recomputing P from lse. */
function attentionBwdGpu(gpu: GpuKernelContext, g: AttentionGeometry): void {
  const [q, kv, o, lse, dO, dlse, mask] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer?];
  const [dq, dkv] = gpu.outputs as [GPUBuffer, GPUBuffer];
  if (g.B * g.HD === 0 || g.Lk === 0) return;
  const common = { shader: attentionWgsl, uniforms: uniforms(g), overrides: { WG: 64 } };
  const rows = g.L * g.B * g.H;
  const delta = gpu.scratch(4 * Math.max(rows, 1));
  if (rows > 0) {
    const maxX = gpu.limits.maxComputeWorkgroupsPerDimension;
    const n = Math.ceil(rows / 64);
    gpu.dispatch({ ...common, entry: 'attention_bwd_delta', buffers: [o, dO, dlse, delta], workgroups: [Math.min(n, maxX), Math.ceil(n / maxX)] });
    gpu.dispatch({ ...common, entry: 'attention_bwd_dq', buffers: [q, kv, lse, dO, delta, mask ?? q, dq], workgroups: [Math.ceil(g.L / 16), g.H, g.B] });
  }
  gpu.dispatch({ ...common, entry: 'attention_bwd_dkv', buffers: [q, kv, lse, dO, delta, mask ?? q, dkv], workgroups: [Math.ceil(g.Lk / 16), g.H, g.B] });
}

export interface AttentionOptions extends CallOptions {
  heads?: number;
  causal?: boolean;
  memLen?: number;
  sameLength?: boolean;
  scale?: number;
  /** Key padding mask (memLen + L, B), 1 = pad. */
  mask?: Tensor;
}

function paramsOf(o: AttentionOptions): AttentionParams {
  const p: AttentionParams = { heads: o.heads ?? 1, causal: o.causal ?? true, memLen: o.memLen ?? 0, sameLength: !!o.sameLength };
  if (o.scale !== undefined) p.scale = o.scale;
  return p;
}

/** [o, lse]: attention of q (L, B, H·dh) over kv = [K | V] (memLen + L, B, 2·H·dh); causal by default. */
export function attention(q: Tensor, kv: Tensor, opts: AttentionOptions = {}): Tensor[] {
  return runOp(attentionOp, opts.mask ? [q, kv, opts.mask] : [q, kv], paramsOf(opts), opts);
}

/** [dq, d(kv)] of attention for upstream dO (and dlse, default 0), from the saved o and lse. */
export function attentionBwd(q: Tensor, kv: Tensor, o: Tensor, lse: Tensor, dO: Tensor, opts: AttentionOptions & { dlse?: Tensor } = {}): Tensor[] {
  const dl = opts.dlse ?? zeros(lse.shape, { backend: lse.backend.name });
  const ins = [q, kv, o, lse, dO, dl, ...(opts.mask ? [opts.mask] : [])];
  const out = runOp(attentionBwdOp, ins, paramsOf(opts), opts);
  if (!opts.dlse) dl.dispose();
  return out;
}
