// minLSTM scan, time-major (T, N = B·D): h_t = f'_t·h_{t−1} + i'_t·g(p_t) and its fused backward (models.md §C.3,
// §D.3). Normalised: f' = σ(−Δ), i' = σ(Δ), Δ = softplus(−u_f) − softplus(−u_i) = log(i/f); else f' = σ(u_f), i' = σ(u_i).
// Time outer, channels inner in f32x4 lanes (as mingru_scan). h0 mode: 0 none, 1 pre-activation g(h0), 2 state.
import { madd4 } from '../lib/simd';
import { loadPartial4, storePartial4, vexpGateNonPos4, vexpNegGate4 } from '../lib/vmath';
import { scan_dh0_f32, scan_h0_eff_f32 } from './mingru_scan';

@inline function k4(c: f32): v128 {
  return f32x4.splat(c);
}

// Gate values of the last gates() call (globals: a function cannot return two vectors without allocating).
let gA: v128 = k4(0); // f' (the decay a)
let gI: v128 = k4(0); // i'
let gDf: v128 = k4(0); // normalised: f'i'·σ(−u_f), du_f = −λ(h̃ − h_{t−1})·gDf; plain: f(1−f), du_f = λ·h_{t−1}·gDf
let gDi: v128 = k4(0); // normalised: f'i'·σ(−u_i), du_i = λ(h̃ − h_{t−1})·gDi; plain: i(1−i), du_i = λ·h̃·gDi

/** The gates into gA, gI (and, with grad, gDf, gDi).
 *  Normalised: f' = f/(f+i) = (1+E_i)/(2+E_f+E_i) with E = e^−u (this is σ(−Δ), Δ = log(i/f)); scaled by A = e^−m,
 *  m = max(0, −u_f, −u_i), every exponential has an argument ≤ 0 and one of them is 1: with F = e^(−u_f−m),
 *  I = e^(−u_i−m), S = 2A + F + I ≥ 1, f' = (A+I)/S, i' = (A+F)/S, and f'i'σ(−u_f) = f'·F/S, f'i'σ(−u_i) = i'·I/S
 *  (σ(−u_f) = F/(A+F)). Plain: f = 1/(1+E_f), f(1−f) = f·(E_f·f) (no cancellation), the same for i. */
@inline function gates(uf: v128, ui: v128, norm: i32, grad: bool): void {
  if (norm) {
    const mn = f32x4.pmin(f32x4.pmin(uf, ui), k4(0)); // −m
    const A = vexpGateNonPos4(mn);
    const F = vexpGateNonPos4(f32x4.sub(mn, uf));
    const I = vexpGateNonPos4(f32x4.sub(mn, ui));
    const r = f32x4.div(k4(1), f32x4.add(f32x4.add(f32x4.add(A, A), F), I));
    gA = f32x4.mul(f32x4.add(A, I), r);
    gI = f32x4.mul(f32x4.add(A, F), r);
    if (!grad) return;
    gDf = f32x4.mul(gA, f32x4.mul(F, r));
    gDi = f32x4.mul(gI, f32x4.mul(I, r));
  } else {
    const ef = vexpNegGate4(uf);
    const ei = vexpNegGate4(ui);
    gA = f32x4.div(k4(1), f32x4.add(k4(1), ef));
    gI = f32x4.div(k4(1), f32x4.add(k4(1), ei));
    if (!grad) return;
    gDf = f32x4.mul(gA, f32x4.mul(ef, gA)); // f(1−f)
    gDi = f32x4.mul(gI, f32x4.mul(ei, gI)); // i(1−i)
  }
}

/** g(x) = x + ½ for x ≥ 0, σ(x) = e/(1+e) below, e = e^min(x, 0): max(x, 0) + σ(min(x, 0)), no select. */
@inline function gOnly(x: v128): v128 {
  const e = vexpGateNonPos4(x);
  return f32x4.add(f32x4.pmax(x, k4(0)), f32x4.div(e, f32x4.add(k4(1), e))); // x ≥ 0: e = 1, x + ½ exactly
}

/** g(x) and, into gGd, g'(x) = σ(x)(1 − σ(x)) below 0 (1 above), from one e^min(x, 0). */
let gGd: v128 = k4(0);
@inline function gAndDg(x: v128): v128 {
  const e = vexpGateNonPos4(x);
  const r = f32x4.div(k4(1), f32x4.add(k4(1), e));
  const pos = f32x4.ge(x, k4(0));
  const s = f32x4.mul(e, r);
  gGd = v128.bitselect(k4(1), f32x4.mul(s, r), pos);
  return f32x4.add(f32x4.pmax(x, k4(0)), s);
}

@inline function ld(p: usize, n: i32): v128 {
  return n >= 4 ? v128.load(p) : loadPartial4(p, n);
}
@inline function st(p: usize, v: v128, n: i32): void {
  if (n >= 4) v128.store(p, v);
  else storePartial4(p, v, n);
}

/** One forward vector at lanes q of row o (n lanes); norm is a literal at every call, so the branches fold. */
@inline function fwdVec(uf: usize, ui: usize, p: usize, h: usize, prev: usize, o: usize, q: usize, n: i32, norm: i32): void {
  gates(ld(uf + o + q, n), ld(ui + o + q, n), norm, false);
  const g = gOnly(ld(p + o + q, n));
  st(h + o + q, madd4(gA, ld(prev + q, n), f32x4.mul(gI, g)), n);
}

/** h (T, N) and hT (N) from u_f, u_i, p (T, N) and h0 (N, or 0 when mode is 0). */
export function minlstm_scan_fwd_f32(uf: usize, ui: usize, p: usize, h0: usize, h: usize, hT: usize, T: i32, N: i32, mode: i32, norm: i32): void {
  const row = <usize>N << 2;
  scan_h0_eff_f32(h0, hT, N, mode); // hT holds h_{−1} until the end
  for (let t = 0; t < T; t++) {
    const o = <usize>t * row;
    const prev = t == 0 ? hT : h + o - row;
    let c = 0;
    if (norm) for (; c + 4 <= N; c += 4) fwdVec(uf, ui, p, h, prev, o, <usize>c << 2, 4, 1);
    else for (; c + 4 <= N; c += 4) fwdVec(uf, ui, p, h, prev, o, <usize>c << 2, 4, 0);
    if (c < N) {
      if (norm) fwdVec(uf, ui, p, h, prev, o, <usize>c << 2, N - c, 1);
      else fwdVec(uf, ui, p, h, prev, o, <usize>c << 2, N - c, 0);
    }
  }
  if (T > 0) memory.copy(hT, h + <usize>(T - 1) * row, row);
}

/** One reverse vector at lanes q of row o (n lanes): λ = lam + dh; du_f, du_i, dp out; lam ← f'·λ. */
@inline function bwdVec(uf: usize, ui: usize, p: usize, dh: usize, duf: usize, dui: usize, dp: usize, lam: usize, prev: usize, o: usize, q: usize, n: i32, norm: i32): void {
  const l = f32x4.add(ld(lam + q, n), ld(dh + o + q, n));
  gates(ld(uf + o + q, n), ld(ui + o + q, n), norm, true);
  const g = gAndDg(ld(p + o + q, n));
  const hp = ld(prev + q, n);
  if (norm) {
    const dd = f32x4.mul(l, f32x4.sub(g, hp)); // λ·(h̃ − h_{t−1}), times ∂/∂Δ = f'i'
    st(duf + o + q, f32x4.neg(f32x4.mul(dd, gDf)), n);
    st(dui + o + q, f32x4.mul(dd, gDi), n);
  } else {
    st(duf + o + q, f32x4.mul(f32x4.mul(l, hp), gDf), n);
    st(dui + o + q, f32x4.mul(f32x4.mul(l, g), gDi), n);
  }
  st(dp + o + q, f32x4.mul(f32x4.mul(l, gI), gGd), n);
  st(lam + q, f32x4.mul(gA, l), n);
}

/** du_f, du_i, dp (T, N) and dh0 (N, mode ≠ 0) from the inputs, the forward's h, dh (T, N), dhT (N); work: 2N floats. */
export function minlstm_scan_bwd_f32(uf: usize, ui: usize, p: usize, h: usize, dh: usize, dhT: usize, h0: usize, duf: usize, dui: usize, dp: usize, dh0: usize, work: usize, T: i32, N: i32, mode: i32, norm: i32): void {
  const row = <usize>N << 2;
  const lam = work;
  const hp0 = work + row;
  memory.copy(lam, dhT, row);
  scan_h0_eff_f32(h0, hp0, N, mode);
  for (let t = T - 1; t >= 0; t--) {
    const o = <usize>t * row;
    const prev = t == 0 ? hp0 : h + o - row;
    let c = 0;
    if (norm) for (; c + 4 <= N; c += 4) bwdVec(uf, ui, p, dh, duf, dui, dp, lam, prev, o, <usize>c << 2, 4, 1);
    else for (; c + 4 <= N; c += 4) bwdVec(uf, ui, p, dh, duf, dui, dp, lam, prev, o, <usize>c << 2, 4, 0);
    if (c < N) {
      if (norm) bwdVec(uf, ui, p, dh, duf, dui, dp, lam, prev, o, <usize>c << 2, N - c, 1);
      else bwdVec(uf, ui, p, dh, duf, dui, dp, lam, prev, o, <usize>c << 2, N - c, 0);
    }
  }
  scan_dh0_f32(lam, h0, dh0, N, mode);
}
