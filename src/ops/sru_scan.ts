// sru_scan: SRU's elementwise recurrence as the sru package executes it (models.md §A.3), both directions in one
// launch, and its fused backward sru_scan_bwd (§A.9). Time-major: U (T, B, n·k) with n = ndir·H, column ((dir·H + j)·k + m).
import sruWgsl from '../../shaders/sru_scan.wgsl';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, OpDef, Spec, Specs, UniformValue } from './op.js';

/**
 * k: 3 (highway x'_t = scaleX·x_t, x given) or 4 (x'_t = u3, the 4th interleaved column; x is then not an input).
 * hasSkip false: h = m·r·g(c), no highway and no x (k must be 3). activation: g = identity or tanh.
 * hasC0 / hasMask / hasPad: whether c0 (B, n), the variational dropout mask (B, n) and the pad mask (T, B)
 * (1 = pad, 0 = token, as f32) follow weight_c and bias, in that order.
 */
export interface SruScanParams {
  k: 3 | 4;
  bidirectional: boolean;
  scaleX: number;
  hasSkip: boolean;
  activation: 'identity' | 'tanh';
  hasC0?: boolean;
  hasMask?: boolean;
  hasPad?: boolean;
}

/** The backward also says which upstream gradients (of h, cLast, C) follow the forward's inputs and C. */
export interface SruScanBwdParams extends SruScanParams {
  hasDH: boolean;
  hasDCLast: boolean;
  hasDC: boolean;
}

/** scale_x = √(1 + 2·e^highway_bias) (§A.4, used when rescale and has_skip_term; else 1). */
export function sruScaleX(highwayBias: number): number {
  return Math.sqrt(1 + 2 * Math.exp(highwayBias));
}

/** Positions of the inputs present under params p (−1 where absent). */
export interface SruSlots { U: number; x: number; wc: number; bias: number; c0: number; mask: number; pad: number; count: number }

export function sruSlots(p: SruScanParams): SruSlots {
  let i = 0;
  const at = (present: boolean) => (present ? i++ : -1);
  const U = at(true);
  const x = at(p.k === 3 && p.hasSkip);
  const wc = at(true);
  const bias = at(true);
  return { U, x, wc, bias, c0: at(!!p.hasC0), mask: at(!!p.hasMask), pad: at(!!p.hasPad), count: i };
}

export interface SruGeometry { T: number; B: number; H: number; nd: number; n: number; k: number }

/** Flag bits shared by the wasm and WGSL kernels. */
export const SRU_FLAGS = { x: 1, skip: 2, tanh: 4, c0: 8, mask: 16, pad: 32, dcLast: 64, dh: 128, dC: 256 } as const;

export function sruFlags(p: SruScanParams | SruScanBwdParams): number {
  const b = p as Partial<SruScanBwdParams>;
  const F = SRU_FLAGS;
  return (p.k === 3 && p.hasSkip ? F.x : 0) | (p.hasSkip ? F.skip : 0) | (p.activation === 'tanh' ? F.tanh : 0) |
    (p.hasC0 ? F.c0 : 0) | (p.hasMask ? F.mask : 0) | (p.hasPad ? F.pad : 0) |
    (b.hasDCLast ? F.dcLast : 0) | (b.hasDH ? F.dh : 0) | (b.hasDC ? F.dC : 0);
}

function describe(op: string, names: readonly string[], inputs: readonly Spec[], p: SruScanParams): string {
  const ins = inputs.map((s, i) => `${names[i] ?? i} ${fmtShape(s.shape)}`).join(', ');
  return `${op}(${ins}; k ${p?.k}, ${p?.bidirectional ? 'bidirectional' : 'unidirectional'}, ${p?.hasSkip ? 'skip' : 'no skip'}, ${p?.activation})`;
}

function inputNames(p: SruScanParams): string[] {
  const s = sruSlots(p);
  const names: string[] = [];
  for (const key of ['U', 'x', 'weight_c', 'bias', 'c0', 'mask', 'pad'] as const) {
    const slot = s[key === 'weight_c' ? 'wc' : key];
    if (slot >= 0) names[slot] = key;
  }
  return names;
}

/** Validates the forward's inputs (the first sruSlots(p).count of `inputs`) and returns the geometry. */
function check(op: string, inputs: readonly Spec[], p: SruScanParams, extra: readonly string[] = []): SruGeometry {
  const names = [...inputNames(p), ...extra];
  const where = describe(op, names, inputs, p);
  if (!p || (p.k !== 3 && p.k !== 4)) throw new OptionError(`${where}: k must be 3 or 4`);
  if (p.activation !== 'identity' && p.activation !== 'tanh') throw new OptionError(`${where}: activation must be 'identity' or 'tanh'`);
  if (!Number.isFinite(p.scaleX)) throw new OptionError(`${where}: scaleX must be a finite number`);
  if (p.k === 4 && !p.hasSkip) throw new OptionError(`${where}: k = 4 carries the highway projection, so it needs hasSkip`);
  if (inputs.length !== names.length) throw new ShapeError(`${where}: expected inputs (${names.join(', ')}), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: ${names[i]} must be f32, got ${s.dtype}`);
  });
  const s = sruSlots(p);
  const U = inputs[s.U]!.shape;
  const nd = p.bidirectional ? 2 : 1;
  if (U.length !== 3 || U[2]! % (nd * p.k) !== 0) {
    throw new ShapeError(`${where}: U must be (T, B, ndir·H·k) with ndir ${nd}, k ${p.k}, got ${fmtShape(U)}`);
  }
  const [T, B] = [U[0]!, U[1]!];
  const n = U[2]! / p.k;
  const want = (slot: number, shape: readonly number[], what: string): void => {
    if (slot >= 0 && !sameShape(inputs[slot]!.shape, shape)) throw new ShapeError(`${where}: ${what} must have shape ${fmtShape(shape)}, got ${fmtShape(inputs[slot]!.shape)}`);
  };
  want(s.x, [T, B, n], 'x (the highway input, k = 3 needs d_in = n_out)');
  want(s.wc, [2 * n], 'weight_c ([v_f; v_r])');
  want(s.bias, [2 * n], 'bias ([b_f; b_r])');
  want(s.c0, [B, n], 'c0');
  want(s.mask, [B, n], 'mask');
  want(s.pad, [T, B], 'pad');
  return { T, B, H: n / nd, nd, n, k: p.k };
}

const sig = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function sruScanShapes(inputs: readonly Spec[], p: SruScanParams): Spec[] {
  const g = check('sru_scan', inputs, p);
  return [{ shape: [g.T, g.B, g.n], dtype: 'f32' }, { shape: [g.B, g.n], dtype: 'f32' }, { shape: [g.T, g.B, g.n], dtype: 'f32' }];
}

/** The loop of §A.3, one (b, column) at a time; dir 1 runs t = T−1 … 0. */
function sruScanReference(xs: readonly Float64Array[], specs: Specs, p: SruScanParams): Float64Array[] {
  const { T, B, H, n, k } = check('sru_scan', specs.inputs, p);
  const s = sruSlots(p);
  const [U, x, wc, bias, c0, mask, pad] = [s.U, s.x, s.wc, s.bias, s.c0, s.mask, s.pad].map((i) => (i >= 0 ? xs[i]! : null));
  const h = new Float64Array(T * B * n);
  const C = new Float64Array(T * B * n);
  const cLast = new Float64Array(B * n);
  for (let b = 0; b < B; b++) {
    for (let col = 0; col < n; col++) {
      const rev = col >= H;
      const [vf, vr, bf, br] = [wc![col]!, wc![n + col]!, bias![col]!, bias![n + col]!];
      const m = mask ? mask[b * n + col]! : 1;
      let c = c0 ? c0[b * n + col]! : 0;
      for (let st = 0; st < T; st++) {
        const t = rev ? T - 1 - st : st;
        const o = (t * B + b) * n + col;
        C[o] = c;
        if (pad && pad[t * B + b] !== 0) continue; // h stays 0, c carries over
        const u = o * k;
        const f = sig(U![u + 1]! + vf * c + bf);
        const r = sig(U![u + 2]! + vr * c + br);
        c = (c - U![u]!) * f + U![u]!;
        const gc = p.activation === 'tanh' ? Math.tanh(c) : c;
        const xp = k === 3 ? (x ? p.scaleX * x[o]! : 0) : U![u + 3]!;
        h[o] = p.hasSkip ? (gc - xp) * m * r + xp : gc * m * r;
        C[o] = c;
      }
      cLast[b * n + col] = c;
    }
  }
  return [h, cLast, C];
}

function bwdShapes(inputs: readonly Spec[], p: SruScanBwdParams): Spec[] {
  const s = sruSlots(p);
  const extra = ['C', ...(p.hasDH ? ['dh'] : []), ...(p.hasDCLast ? ['dcLast'] : []), ...(p.hasDC ? ['dC'] : [])];
  const fwd = inputs.slice(0, s.count);
  const g = check('sru_scan_bwd', fwd, p);
  const names = [...inputNames(p), ...extra];
  const where = describe('sru_scan_bwd', names, inputs, p);
  if (inputs.length !== s.count + extra.length) throw new ShapeError(`${where}: expected inputs (${names.join(', ')}), got ${inputs.length}`);
  extra.forEach((name, i) => {
    const spec = inputs[s.count + i]!;
    const shape = name === 'dcLast' ? [g.B, g.n] : [g.T, g.B, g.n];
    if (spec.dtype !== 'f32') throw new DTypeError(`${where}: ${name} must be f32, got ${spec.dtype}`);
    if (!sameShape(spec.shape, shape)) throw new ShapeError(`${where}: ${name} must have shape ${fmtShape(shape)}, got ${fmtShape(spec.shape)}`);
  });
  const out: Spec[] = [{ shape: inputs[s.U]!.shape, dtype: 'f32' }];
  if (s.x >= 0) out.push({ shape: inputs[s.x]!.shape, dtype: 'f32' });
  out.push({ shape: [2 * g.n], dtype: 'f32' }, { shape: [2 * g.n], dtype: 'f32' });
  if (s.c0 >= 0) out.push({ shape: [g.B, g.n], dtype: 'f32' });
  return out;
}

/** §A.9 reverse loop per (b, column), plus dC[t] added into the carried dL/dc (C is an output too). */
function bwdReference(xs: readonly Float64Array[], specs: Specs, p: SruScanBwdParams): Float64Array[] {
  const s = sruSlots(p);
  const { T, B, H, n, k } = check('sru_scan_bwd', specs.inputs.slice(0, s.count), p);
  const [U, x, wc, bias, c0, mask, pad] = [s.U, s.x, s.wc, s.bias, s.c0, s.mask, s.pad].map((i) => (i >= 0 ? xs[i]! : null));
  let at = s.count;
  const C = xs[at++]!;
  const dh = p.hasDH ? xs[at++]! : null;
  const dcl = p.hasDCLast ? xs[at++]! : null;
  const dC = p.hasDC ? xs[at++]! : null;
  const dU = new Float64Array(U!.length);
  const dx = new Float64Array(x ? x.length : 0);
  const dwc = new Float64Array(2 * n);
  const db = new Float64Array(2 * n);
  const dc0 = new Float64Array(B * n);
  for (let b = 0; b < B; b++) {
    for (let col = 0; col < n; col++) {
      const rev = col >= H;
      const [vf, vr, bf, br] = [wc![col]!, wc![n + col]!, bias![col]!, bias![n + col]!];
      const m = mask ? mask[b * n + col]! : 1;
      let gam = dcl ? dcl[b * n + col]! : 0;
      for (let st = T - 1; st >= 0; st--) {
        const t = rev ? T - 1 - st : st;
        const o = (t * B + b) * n + col;
        if (dC) gam += dC[o]!;
        if (pad && pad[t * B + b] !== 0) continue;
        const cp = st > 0 ? C[o + (rev ? B * n : -B * n)]! : c0 ? c0[b * n + col]! : 0;
        const u = o * k;
        const f = sig(U![u + 1]! + vf * cp + bf);
        const r = sig(U![u + 2]! + vr * cp + br);
        const c = C[o]!;
        const gc = p.activation === 'tanh' ? Math.tanh(c) : c;
        const gp = p.activation === 'tanh' ? 1 - gc * gc : 1;
        const gh = dh ? dh[o]! : 0;
        const xp = k === 3 ? (x ? p.scaleX * x[o]! : 0) : U![u + 3]!;
        const dr = gh * (p.hasSkip ? gc - xp : gc) * m * r * (1 - r);
        const gt = gh * m * r * gp + gam;
        const df = gt * (cp - U![u]!) * f * (1 - f);
        dU[u] = gt * (1 - f);
        dU[u + 1] = df;
        dU[u + 2] = dr;
        if (k === 4) dU[u + 3] = gh * (1 - m * r);
        if (x) dx[o] = p.scaleX * gh * (1 - m * r);
        db[col]! += df;
        db[n + col]! += dr;
        dwc[col]! += df * cp;
        dwc[n + col]! += dr * cp;
        gam = gt * f + df * vf + dr * vr;
      }
      dc0[b * n + col] = gam;
    }
  }
  return [dU, ...(x ? [dx] : []), dwc, db, ...(c0 ? [dc0] : [])];
}

/** Pointers or buffers of the forward's inputs by name (absent ones: `none`). */
function pick<X>(all: readonly X[], s: SruSlots, none: X): Record<'U' | 'x' | 'wc' | 'bias' | 'c0' | 'mask' | 'pad', X> {
  const get = (i: number) => (i >= 0 ? all[i]! : none);
  return { U: get(s.U), x: get(s.x), wc: get(s.wc), bias: get(s.bias), c0: get(s.c0), mask: get(s.mask), pad: get(s.pad) };
}

/** Invocations per workgroup of every WGSL entry. */
const WG = 64;

function grid(count: number, limit: number): [number, number] {
  const x = Math.min(Math.max(count, 1), limit);
  return [x, Math.ceil(count / x)];
}

/** Copies weight_c, bias, c0, mask, dcLast and pad into one buffer P (WebGPU allows 8 storage buffers per entry);
 * returns P and the Dims uniforms (offsets of each part into P, then its length). */
function packSmall(gpu: GpuKernelContext, g: SruGeometry, p: SruScanParams, src: Record<'wc' | 'bias' | 'c0' | 'mask' | 'dcl' | 'pad', GPUBuffer | null>): { P: GPUBuffer; uniforms: UniformValue[] } {
  const sizes = [2 * g.n, 2 * g.n, src.c0 ? g.B * g.n : 0, src.mask ? g.B * g.n : 0, src.dcl ? g.B * g.n : 0, src.pad ? g.T * g.B : 0];
  const offs: number[] = [];
  let total = 0;
  for (const z of sizes) (offs.push(total), (total += z));
  const uniforms: UniformValue[] = [g.T, g.B, g.H, g.n, g.k, sruFlags(p), { f32: p.scaleX }, ...offs, total];
  const P = gpu.scratch(4 * total);
  const d = src.wc!;
  gpu.dispatch({
    shader: sruWgsl,
    entry: 'sru_scan_pack',
    buffers: [d, src.bias!, src.c0 ?? d, src.mask ?? d, src.dcl ?? d, src.pad ?? d, P],
    uniforms,
    overrides: { WG },
    workgroups: grid(Math.ceil(total / WG), gpu.limits.maxComputeWorkgroupsPerDimension),
  });
  return { P, uniforms };
}

export const sruScanOp: OpDef<SruScanParams> = {
  name: 'sru_scan',
  family: 'sru_scan',
  inputNames: ['U', 'x', 'weight_c', 'bias', 'c0', 'mask', 'pad'], // with every optional input present (see sruSlots)
  shapes: sruScanShapes,
  reference: sruScanReference,
  grad({ inputs, outputs, dOutputs, params: p }) {
    const [dh, dcl, dC] = dOutputs;
    const s = sruSlots(p);
    const grads: (Tensor | null)[] = inputs.map(() => null);
    if (!dh && !dcl && !dC) return grads;
    const up = [dh, dcl, dC].filter((t): t is Tensor => !!t);
    const r = runOp(sruScanBwdOp, [...inputs, outputs[2]!, ...up], { ...p, hasDH: !!dh, hasDCLast: !!dcl, hasDC: !!dC });
    let i = 0;
    for (const slot of [s.U, s.x, s.wc, s.bias, s.c0]) if (slot >= 0) grads[slot] = r[i++]!;
    return grads;
  },
  wasm(w, specs, p) {
    const g = check('sru_scan', specs.inputs, p);
    if (g.B * g.n === 0) return;
    const i = pick(w.inputs, sruSlots(p), 0);
    const [h, cLast, C] = w.outputs as [number, number, number];
    w.exports['sru_scan_fwd_f32']!(i.U, i.x, i.wc, i.bias, i.c0, i.mask, i.pad, h, cLast, C, g.T, g.B, g.H, g.nd, g.k, sruFlags(p), p.scaleX);
  },
  webgpu(gpu, specs, p) {
    const g = check('sru_scan', specs.inputs, p);
    if (g.B * g.n === 0) return;
    const i = pick<GPUBuffer | null>(gpu.inputs, sruSlots(p), null);
    const { P, uniforms } = packSmall(gpu, g, p, { wc: i.wc, bias: i.bias, c0: i.c0, mask: i.mask, dcl: null, pad: i.pad });
    gpu.dispatch({
      shader: sruWgsl,
      entry: 'sru_scan_fwd',
      buffers: [i.U!, i.x ?? i.U!, P, ...(gpu.outputs as GPUBuffer[])],
      uniforms,
      overrides: { WG },
      workgroups: grid(Math.ceil((g.B * g.n) / WG), gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs, p) {
    const g = check('sru_scan', specs.inputs, p);
    const io = g.T * g.B * g.n * (g.k + (p.k === 3 && p.hasSkip ? 1 : 0) + 2) + 4 * g.n + g.B * g.n * 3;
    return { flops: 30 * g.T * g.B * g.n, bytes: 4 * io };
  },
};

export const sruScanBwdOp: OpDef<SruScanBwdParams> = {
  name: 'sru_scan_bwd',
  family: 'sru_scan',
  inputNames: ['U', 'x', 'weight_c', 'bias', 'c0', 'mask', 'pad', 'C', 'dh', 'dcLast', 'dC'],
  shapes: bwdShapes,
  reference: bwdReference,
  grad: null,
  wasm(w, specs, p) {
    const s = sruSlots(p);
    const g = check('sru_scan_bwd', specs.inputs.slice(0, s.count), p);
    const i = pick(w.inputs, s, 0);
    let at = s.count;
    const C = w.inputs[at++]!;
    const dh = p.hasDH ? w.inputs[at++]! : 0;
    const dcl = p.hasDCLast ? w.inputs[at++]! : 0;
    const dC = p.hasDC ? w.inputs[at++]! : 0;
    let o = 0;
    const dU = w.outputs[o++]!;
    const dx = s.x >= 0 ? w.outputs[o++]! : 0;
    const [dwc, dbias] = [w.outputs[o++]!, w.outputs[o++]!];
    const BN = g.B * g.n;
    const gam = s.c0 >= 0 ? w.outputs[o]! : w.scratch(4 * Math.max(BN, 1)); // carried dL/dc; ends as dc0
    const part = w.scratch(16 * Math.max(BN, 1));
    w.exports['sru_scan_bwd_f32']!(i.U, i.x, i.wc, i.bias, i.c0, i.mask, i.pad, C, dh, dcl, dC, dU, dx, part, gam, g.T, g.B, g.H, g.nd, g.k, sruFlags(p), p.scaleX);
    w.exports['sru_scan_bwd_reduce_f32']!(part, dwc, dbias, g.B, g.n);
  },
  webgpu(gpu, specs, p) {
    const s = sruSlots(p);
    const g = check('sru_scan_bwd', specs.inputs.slice(0, s.count), p);
    const i = pick<GPUBuffer | null>(gpu.inputs, s, null);
    let at = s.count;
    const C = gpu.inputs[at++]!;
    const dh = p.hasDH ? gpu.inputs[at++]! : null;
    const dcl = p.hasDCLast ? gpu.inputs[at++]! : null;
    const dC = p.hasDC ? gpu.inputs[at++]! : null;
    let o = 0;
    const dU = gpu.outputs[o++]!;
    const dx = s.x >= 0 ? gpu.outputs[o++]! : gpu.scratch(4);
    const [dwc, dbias] = [gpu.outputs[o++]!, gpu.outputs[o++]!];
    const dc0 = s.c0 >= 0 ? gpu.outputs[o]! : gpu.scratch(4);
    const BN = g.B * g.n;
    const { P, uniforms } = packSmall(gpu, g, p, { wc: i.wc, bias: i.bias, c0: i.c0, mask: i.mask, dcl, pad: i.pad });
    const common = { shader: sruWgsl, uniforms, overrides: { WG } };
    const lim = gpu.limits.maxComputeWorkgroupsPerDimension;
    // dh and dC interleaved as (T, B, n, 2) when dC is given; dh alone is read as it is.
    let G = dh ?? i.U!;
    if (dC && g.T * BN > 0) {
      G = gpu.scratch(8 * g.T * BN);
      gpu.dispatch({ ...common, entry: 'sru_scan_bwd_zip', buffers: [dh ?? dC, dC, G], workgroups: grid(Math.ceil((g.T * BN) / WG), lim) });
    }
    const S = gpu.scratch(4 * 5 * Math.max(BN, 1)); // (4, B, n) partial dv_f, dv_r, db_f, db_r, then dc0 (B, n)
    if (BN > 0) {
      gpu.dispatch({ ...common, entry: 'sru_scan_bwd', buffers: [i.U!, i.x ?? i.U!, C, G, P, dU, dx, S], workgroups: grid(Math.ceil(BN / WG), lim) });
    }
    gpu.dispatch({ ...common, entry: 'sru_scan_bwd_reduce', buffers: [S, dwc, dbias, dc0], workgroups: grid(Math.ceil(Math.max(BN, 2 * g.n, 1) / WG), lim) });
  },
  cost(specs, p) {
    const s = sruSlots(p);
    const g = check('sru_scan_bwd', specs.inputs.slice(0, s.count), p);
    const x = s.x >= 0 ? 2 : 0;
    const io = g.T * g.B * g.n * (2 * g.k + x + 1 + (p.hasDH ? 1 : 0) + (p.hasDC ? 1 : 0)) + 9 * g.B * g.n + 8 * g.n;
    return { flops: 50 * g.T * g.B * g.n, bytes: 4 * io };
  },
};

export interface SruScanOptions extends CallOptions {
  c0?: Tensor;
  /** Variational dropout mask (B, n), the same at every step; it also scales the highway complement. */
  mask?: Tensor;
  /** (T, B), 1 = pad: c carries over and h is 0 there. */
  pad?: Tensor;
}

export type SruScanConfig = Omit<SruScanParams, 'hasC0' | 'hasMask' | 'hasPad'>;

/**
 * [h (T, B, n), cLast (B, n), C (T, B, n)], n = ndir·H. C holds every c_t: it is what the backward reads, and callers
 * may ignore it. cLast of a bidirectional layer is [c_fwd at t = T−1, c_bwd at t = 0]. x (T, B, n) is the highway input
 * for k = 3 with hasSkip, and must be null otherwise (k = 4 takes x' from U's 4th column). weightC = [v_f; v_r] and
 * bias = [b_f; b_r], each half over all n columns dir·H + j (§A.2).
 */
export function sruScan(U: Tensor, x: Tensor | null, weightC: Tensor, bias: Tensor, cfg: SruScanConfig, opts: SruScanOptions = {}): Tensor[] {
  const p: SruScanParams = { ...cfg, hasC0: !!opts.c0, hasMask: !!opts.mask, hasPad: !!opts.pad };
  const xs = [U, ...(x ? [x] : []), weightC, bias, ...[opts.c0, opts.mask, opts.pad].filter((t): t is Tensor => !!t)];
  return runOp(sruScanOp, xs, p, opts);
}

