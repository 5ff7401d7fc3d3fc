// minGRU scan, time-major (T, N = B·D): h_t = (1−z_t)·h_{t−1} + z_t·g(p_t), z = σ(k), and its fused backward
// (models.md §C.3, §D.2). Time outer, channels inner in f32x4 lanes: every row streams once, h_{t−1} is the row
// just written. h0 mode: 0 none (h0 = 0), 1 pre-activation (h0 = g(raw)), 2 state (used as is).
import { madd4 } from '../lib/simd';
import { loadPartial4, storePartial4, vexp4, vexpGateNonPos4, vexpNegGate4 } from '../lib/vmath';

@inline function k4(c: f32): v128 {
  return f32x4.splat(c);
}

/** g(x) = x + ½ for x ≥ 0, σ(x) below (e^x/(1+e^x), no overflow). */
@inline function vg4(x: v128): v128 {
  const e = vexp4(f32x4.pmin(x, k4(0)));
  return v128.bitselect(f32x4.add(x, k4(0.5)), f32x4.div(e, f32x4.add(k4(1), e)), f32x4.ge(x, k4(0)));
}

/** g'(x) = 1 for x ≥ 0, σ(x)(1 − σ(x)) below. */
@inline function vdg4(x: v128): v128 {
  const e = vexp4(f32x4.pmin(x, k4(0)));
  const r = f32x4.div(k4(1), f32x4.add(k4(1), e));
  return v128.bitselect(k4(1), f32x4.mul(f32x4.mul(e, r), r), f32x4.ge(x, k4(0)));
}

/** The effective initial state of lanes at h0 (count lanes) for a mode. */
@inline function h0Eff4(h0: usize, mode: i32, count: i32): v128 {
  if (mode == 0) return k4(0);
  const v = count >= 4 ? v128.load(h0) : loadPartial4(h0, count);
  return mode == 1 ? vg4(v) : v;
}

/** Writes the effective initial state of N channels to out (mode 0: zeros). */
export function scan_h0_eff_f32(h0: usize, out: usize, N: i32, mode: i32): void {
  if (mode == 0) return memory.fill(out, 0, <usize>N << 2);
  if (mode == 2) return memory.copy(out, h0, <usize>N << 2);
  let c = 0;
  for (; c + 4 <= N; c += 4) v128.store(out + (<usize>c << 2), h0Eff4(h0 + (<usize>c << 2), 1, 4));
  if (c < N) storePartial4(out + (<usize>c << 2), h0Eff4(h0 + (<usize>c << 2), 1, N - c), N - c);
}

/** h ← a·hprev + z·g(p) for one vector: z = σ(k) = 1/(1+e), a = 1−z = e·z with e = e^−k, σ(p<0) = e_p/(1+e_p) with
 *  e_p = e^min(p,0). The gate exponentials are clamped to [e^-86, e^86] (vexpGate4), so z and a are exact to a few
 *  ulp down to ~1e-37 and a = e·z ≤ 1 keeps a·h_{t−1} finite. Two divisions rather than one shared one: the divider
 *  runs beside the multiply-add pipes, which the two exponentials keep busy. g(p) = max(p, 0) + σ(min(p, 0)) without a
 *  select: for p ≥ 0, e_p = e^0 = 1 exactly and σ = ½ exactly. */
@inline function fwdStep(kv: v128, pv: v128, hp: v128): v128 {
  const e = vexpNegGate4(kv);
  const ep = vexpGateNonPos4(pv);
  const z = f32x4.div(k4(1), f32x4.add(k4(1), e));
  const g = f32x4.add(f32x4.pmax(pv, k4(0)), f32x4.div(ep, f32x4.add(k4(1), ep))); // p ≥ 0: e_p = 1, p + ½ exactly
  return madd4(f32x4.mul(e, z), hp, f32x4.mul(z, g));
}

/** h (T, N) and hT (N) from k, p (T, N) and h0 (N, or 0 when mode is 0). */
export function mingru_scan_fwd_f32(k: usize, p: usize, h0: usize, h: usize, hT: usize, T: i32, N: i32, mode: i32): void {
  const row = <usize>N << 2;
  scan_h0_eff_f32(h0, hT, N, mode); // hT holds h_{−1} until the end
  for (let t = 0; t < T; t++) {
    const o = <usize>t * row;
    const prev = t == 0 ? hT : h + o - row;
    let c = 0;
    for (; c + 8 <= N; c += 8) {
      // two independent vectors per iteration: more work between loop overheads and constant reloads
      const q = <usize>c << 2;
      const h0v = fwdStep(v128.load(k + o + q), v128.load(p + o + q), v128.load(prev + q));
      const h1v = fwdStep(v128.load(k + o + q, 16), v128.load(p + o + q, 16), v128.load(prev + q, 16));
      v128.store(h + o + q, h0v);
      v128.store(h + o + q, h1v, 16);
    }
    for (; c + 4 <= N; c += 4) {
      const q = <usize>c << 2;
      v128.store(h + o + q, fwdStep(v128.load(k + o + q), v128.load(p + o + q), v128.load(prev + q)));
    }
    if (c < N) {
      const q = <usize>c << 2;
      const n = N - c;
      storePartial4(h + o + q, fwdStep(loadPartial4(k + o + q, n), loadPartial4(p + o + q, n), loadPartial4(prev + q, n)), n);
    }
  }
  if (T > 0) memory.copy(hT, h + <usize>(T - 1) * row, row);
}

/** One reverse step at lanes q of row o: λ = lam + dh; dk, dp out; lam ← a·λ. */
@inline function bwdStep(k: usize, p: usize, dh: usize, dk: usize, dp: usize, lam: usize, prev: usize, o: usize, q: usize, n: i32): void {
  const kv = n >= 4 ? v128.load(k + o + q) : loadPartial4(k + o + q, n);
  const pv = n >= 4 ? v128.load(p + o + q) : loadPartial4(p + o + q, n);
  const hp = n >= 4 ? v128.load(prev + q) : loadPartial4(prev + q, n);
  const l = f32x4.add(n >= 4 ? v128.load(lam + q) : loadPartial4(lam + q, n), n >= 4 ? v128.load(dh + o + q) : loadPartial4(dh + o + q, n));
  // as fwdStep: e = e^−k, z = 1/(1+e), a = e·z; w = 1/(1+e_p) = 1 − σ(p), σ(p) = e_p·w, g'(p<0) = σ(p)·w
  const e = vexpNegGate4(kv);
  const ep = vexpGateNonPos4(pv);
  const z = f32x4.div(k4(1), f32x4.add(k4(1), e));
  const a = f32x4.mul(e, z);
  const w = f32x4.div(k4(1), f32x4.add(k4(1), ep));
  const sg = f32x4.mul(ep, w);
  const pp = f32x4.ge(pv, k4(0));
  const gp = f32x4.add(f32x4.pmax(pv, k4(0)), sg); // as fwdStep
  const dgp = v128.bitselect(k4(1), f32x4.mul(sg, w), pp);
  const lz = f32x4.mul(l, z);
  const dkv = f32x4.mul(f32x4.mul(lz, a), f32x4.sub(gp, hp));
  const dpv = f32x4.mul(lz, dgp);
  const nl = f32x4.mul(a, l);
  if (n >= 4) {
    v128.store(dk + o + q, dkv);
    v128.store(dp + o + q, dpv);
    v128.store(lam + q, nl);
  } else {
    storePartial4(dk + o + q, dkv, n);
    storePartial4(dp + o + q, dpv, n);
    storePartial4(lam + q, nl, n);
  }
}

/** dh0 (N) from the adjoint carried past t = 0 (λ_0·a_0), through g' in mode 1. */
export function scan_dh0_f32(lam: usize, h0: usize, dh0: usize, N: i32, mode: i32): void {
  if (mode == 0) return;
  if (mode == 2) return memory.copy(dh0, lam, <usize>N << 2);
  let c = 0;
  for (; c + 4 <= N; c += 4) {
    const q = <usize>c << 2;
    v128.store(dh0 + q, f32x4.mul(v128.load(lam + q), vdg4(v128.load(h0 + q))));
  }
  if (c < N) {
    const q = <usize>c << 2;
    storePartial4(dh0 + q, f32x4.mul(loadPartial4(lam + q, N - c), vdg4(loadPartial4(h0 + q, N - c))), N - c);
  }
}

/** dk, dp (T, N) and dh0 (N, mode ≠ 0) from k, p, the forward's h, dh (T, N) and dhT (N); work: 2N floats. */
export function mingru_scan_bwd_f32(k: usize, p: usize, h: usize, dh: usize, dhT: usize, h0: usize, dk: usize, dp: usize, dh0: usize, work: usize, T: i32, N: i32, mode: i32): void {
  const row = <usize>N << 2;
  const lam = work;
  const hp0 = work + row;
  memory.copy(lam, dhT, row);
  scan_h0_eff_f32(h0, hp0, N, mode);
  for (let t = T - 1; t >= 0; t--) {
    const o = <usize>t * row;
    const prev = t == 0 ? hp0 : h + o - row;
    let c = 0;
    for (; c + 8 <= N; c += 8) {
      bwdStep(k, p, dh, dk, dp, lam, prev, o, <usize>c << 2, 4);
      bwdStep(k, p, dh, dk, dp, lam, prev, o, (<usize>c << 2) + 16, 4);
    }
    for (; c + 4 <= N; c += 4) bwdStep(k, p, dh, dk, dp, lam, prev, o, <usize>c << 2, 4);
    if (c < N) bwdStep(k, p, dh, dk, dp, lam, prev, o, <usize>c << 2, N - c);
  }
  scan_dh0_f32(lam, h0, dh0, N, mode);
}
