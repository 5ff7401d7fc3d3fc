// f32x4 transcendentals (Cephes polynomials, Cody-Waite reduction) shared by every kernel, plus scalar wrappers
// that run the same vector code on one lane. Measured over dense sweeps of the f32 range (tests/ops/vmath.test.ts):
// exp ≤ 1.5 ulp, log ≤ 1 ulp (subnormal inputs too), tanh ≤ 2 ulp, sigmoid/softplus ≤ 3 ulp, x·Φ(x) ≤ 1e-6 relative.
// The gate exponentials (vexpGate4 and friends: clamped to [-86, 86], ≤ 2.6 ulp) trade range and an ulp for speed.
import { madd4 } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // 9 significant bits: n·LN2_HI is exact for |n| ≤ 2^15
const LN2_LO: f32 = -2.12194440e-4;
const SQRTHF: f32 = 0.707106781186547524;
const MIN_NORMAL: f32 = 1.17549435e-38;

@inline function k4(c: f32): v128 {
  return f32x4.splat(c);
}

/** 2^n for integer lanes n in [-126, 127], built from the exponent field. */
@inline function pow2i4(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

/** e^x. Reduction x = n·ln2 + r, |r| ≤ ln2/2; e^r = 1 + r + r²·P(r); scaled by 2^⌊n/2⌋·2^(n-⌊n/2⌋) so that
 *  results in the subnormal range round once and overflow happens only where the true value overflows. */
@inline export function vexp4(x0: v128): v128 {
  // e^-104 < 2^-150 rounds to 0; e^89 > FLT_MAX. pmin/pmax (one instruction each) keep a NaN x0 as their first operand.
  const x = f32x4.pmin(f32x4.pmax(x0, k4(-104.0)), k4(89.0));
  const fx = f32x4.nearest(f32x4.mul(x, k4(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(fx, k4(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(fx, k4(LN2_LO)));
  let p = madd4(k4(1.9875691500e-4), r, k4(1.3981999507e-3));
  p = madd4(p, r, k4(8.3334519073e-3));
  p = madd4(p, r, k4(4.1665795894e-2));
  p = madd4(p, r, k4(1.6666665459e-1));
  p = madd4(p, r, k4(5.0000001201e-1));
  const y = f32x4.add(madd4(p, f32x4.mul(r, r), r), k4(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  return f32x4.mul(f32x4.mul(y, pow2i4(n1)), pow2i4(n2));
}

// ---- e^x for gates (σ and friends): faster, narrower, slightly less accurate than vexp4 ----------------------
// Inputs are clamped to [-86.5, 86] so every result is a normal float (e^-86.5 ≈ 2.7e-38, e^86 ≈ 2^124): a gate
// saturates long before that, and its callers combine such values in ways that cannot overflow. n = round(x·log2 e)
// comes from the magic-number trick (x·log2 e + 1.5·2^23 holds n in its low mantissa bits), so there is no float →
// int conversion, and 2^n is applied by adding n to the exponent field. e^r, |r| ≤ ln2/2, by a degree-5 minimax
// polynomial (relative error 1.2e-7): with rounding, ≤ 2.6 ulp over the whole range, measured on dense sweeps of
// [-86, 86] in both builds (vexp4: 1.5 ulp). e^0 is exactly 1.
const EXP_MAGIC: f32 = 12582912.0; // 1.5·2^23
const EXP_C2: f32 = 0.4999917149543762;
const EXP_C3: f32 = 0.1666715294122696;
const EXP_C4: f32 = 0.04189896211028099;
const EXP_C5: f32 = 0.008311564102768898;

/** e^x for x already in [-86, 86] (not checked), ≤ 2.6 ulp. */
@inline export function vexpGateCore4(x: v128): v128 {
  const t = madd4(x, k4(LOG2E), k4(EXP_MAGIC));
  const fx = f32x4.sub(t, k4(EXP_MAGIC));
  let r = madd4(fx, k4(-LN2_HI), x);
  r = madd4(fx, k4(-LN2_LO), r);
  let p = madd4(k4(EXP_C5), r, k4(EXP_C4));
  p = madd4(p, r, k4(EXP_C3));
  p = madd4(p, r, k4(EXP_C2));
  p = madd4(p, r, k4(1.0));
  p = madd4(p, r, k4(1.0));
  return i32x4.add(p, i32x4.shl(t, 23));
}

/** e^x for any x, clamped to [-86, 86] first (NaN stays NaN), ≤ 2.6 ulp. */
@inline export function vexpGate4(x: v128): v128 {
  return vexpGateCore4(f32x4.pmin(f32x4.pmax(x, k4(-86.0)), k4(86.0)));
}

/** e^min(x, 0) (the exponential of σ(x) for x < 0), clamped below at -86 (NaN stays NaN), ≤ 2.6 ulp. */
@inline export function vexpGateNonPos4(x: v128): v128 {
  return vexpGateCore4(f32x4.pmax(f32x4.pmin(x, k4(0.0)), k4(-86.0)));
}

/** e^−x, clamped as vexpGate4 (−x by 0 − x: no sign-mask constant). */
@inline export function vexpNegGate4(x: v128): v128 {
  return vexpGate4(f32x4.sub(k4(0.0), x));
}

/** ln x. x = 2^e·m, m in [√½, √2); ln m = f - f²/2 + f³·P(f), f = m - 1. x < 0 or NaN → NaN, ±0 → -Inf, +Inf → +Inf.
 *  Subnormal inputs are scaled by 2^23 first. */
@inline export function vlog4(x: v128): v128 {
  const sub = f32x4.lt(x, k4(MIN_NORMAL));
  const xs = v128.bitselect(f32x4.mul(x, k4(8388608.0)), x, sub);
  let e = i32x4.sub(v128.and(i32x4.shr_u(xs, 23), i32x4.splat(0xff)), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(sub, i32x4.splat(23)));
  let m = v128.or(v128.and(xs, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000)); // m in [0.5, 1)
  const lo = f32x4.lt(m, k4(SQRTHF));
  e = i32x4.add(e, lo); // lo lanes are -1: e -= 1 and m doubles
  m = f32x4.sub(f32x4.add(m, v128.and(m, lo)), k4(1.0));
  const fe = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = madd4(k4(7.0376836292e-2), m, k4(-1.1514610310e-1));
  p = madd4(p, m, k4(1.1676998740e-1));
  p = madd4(p, m, k4(-1.2420140846e-1));
  p = madd4(p, m, k4(1.4249322787e-1));
  p = madd4(p, m, k4(-1.6668057665e-1));
  p = madd4(p, m, k4(2.0000714765e-1));
  p = madd4(p, m, k4(-2.4999993993e-1));
  p = madd4(p, m, k4(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = madd4(fe, k4(LN2_LO), y);
  y = madd4(z, k4(-0.5), y);
  let r = madd4(fe, k4(LN2_HI), f32x4.add(m, y));
  r = v128.bitselect(f32x4.splat(<f32>NaN), r, v128.not(f32x4.ge(x, k4(0.0))));
  r = v128.bitselect(f32x4.splat(-<f32>Infinity), r, f32x4.eq(x, k4(0.0)));
  return v128.bitselect(x, r, f32x4.eq(x, k4(<f32>Infinity)));
}

/** ln(1 + z) for z ≥ -1, accurate for tiny z: ln(u)·z/(u - 1) with u = 1 + z (Goldberg), z itself where u = 1. */
@inline export function vlog1p4(z: v128): v128 {
  const u = f32x4.add(z, k4(1.0));
  const d = f32x4.sub(u, k4(1.0));
  let r = f32x4.mul(vlog4(u), f32x4.div(z, d));
  r = v128.bitselect(z, r, f32x4.eq(d, k4(0.0)));
  return v128.bitselect(u, r, f32x4.eq(u, k4(<f32>Infinity)));
}

/** |x| with the sign bit cleared, and x's sign copied onto a non-negative v. */
@inline function copysign4(v: v128, x: v128): v128 {
  return v128.bitselect(x, v, i32x4.splat(0x80000000));
}

/** σ(x) = 1/(1 + e^-x), from z = e^-|x| so nothing overflows: 1/(1+z) for x ≥ 0, z/(1+z) below. */
@inline export function vsigmoid4(x: v128): v128 {
  const z = vexp4(f32x4.neg(f32x4.abs(x)));
  const r = f32x4.div(k4(1.0), f32x4.add(k4(1.0), z));
  return v128.bitselect(r, f32x4.mul(z, r), f32x4.ge(x, k4(0.0)));
}

/** tanh x: odd polynomial for |x| < 0.625, else ±(1 - z)/(1 + z) with z = e^-2|x|. */
@inline export function vtanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const s = f32x4.mul(x, x);
  let p = madd4(k4(-5.70498872745e-3), s, k4(2.06390887954e-2));
  p = madd4(p, s, k4(-5.37397155531e-2));
  p = madd4(p, s, k4(1.33314422036e-1));
  p = madd4(p, s, k4(-3.33332819422e-1));
  const small = madd4(f32x4.mul(p, s), x, x);
  const z = vexp4(f32x4.mul(a, k4(-2.0)));
  const big = copysign4(f32x4.div(f32x4.sub(k4(1.0), z), f32x4.add(k4(1.0), z)), x);
  return v128.bitselect(small, big, f32x4.lt(a, k4(0.625)));
}

/** 1 - tanh²x = 4z/(1+z)², z = e^-2|x| (no cancellation near saturation). */
@inline export function vdtanh4(x: v128): v128 {
  const z = vexp4(f32x4.mul(f32x4.abs(x), k4(-2.0)));
  const d = f32x4.add(k4(1.0), z);
  return f32x4.div(f32x4.mul(k4(4.0), z), f32x4.mul(d, d));
}

/** softplus x = max(x, 0) + ln(1 + e^-|x|). */
@inline export function vsoftplus4(x: v128): v128 {
  const z = vexp4(f32x4.neg(f32x4.abs(x)));
  return f32x4.add(f32x4.pmax(x, k4(0.0)), vlog1p4(z));
}

/** e^(-a²/2) for a ≥ 0 without the error of rounding a²: a = h + l with h on 12 bits, so h² is exact and
 *  e^(-a²/2) = e^(-h²/2)·e^(-l(a+h)/2), the second factor by its Taylor series (|l(a+h)/2| < 0.1). */
@inline export function vexpNegHalfSq4(a0: v128): v128 {
  const a = f32x4.pmin(a0, k4(20.0)); // e^-200 is 0 in f32 (NaN stays NaN)
  const h = v128.and(a, i32x4.splat(0xfffff000));
  const b = f32x4.mul(f32x4.mul(f32x4.sub(a, h), f32x4.add(a, h)), k4(-0.5));
  let t = madd4(b, k4(1.0 / 120.0), k4(1.0 / 24.0));
  t = madd4(t, b, k4(1.0 / 6.0));
  t = madd4(t, b, k4(0.5));
  t = madd4(t, b, k4(1.0));
  t = madd4(t, b, k4(1.0));
  return f32x4.mul(vexp4(f32x4.mul(f32x4.mul(h, h), k4(-0.5))), t);
}

/** Φ(x), the standard normal CDF = ½·erfc(-x/√2). |x| < √2: ½ + ½·erf(x/√2) with erf(t) = t·T(t²);
 *  else ½·erfc(|t|) = ½·e^(-x²/2)·q·P(q²) with q = 1/|t| (P for |t| < 2, R beyond), mirrored for x > 0. */
@inline export function vphi4(x: v128): v128 {
  const t = f32x4.mul(x, k4(SQRTHF));
  const at = f32x4.abs(t);
  const s = f32x4.mul(t, t);
  let e = madd4(k4(7.853861353153693e-5), s, k4(-8.010193625184903e-4));
  e = madd4(e, s, k4(5.188327685732524e-3));
  e = madd4(e, s, k4(-2.685381193529856e-2));
  e = madd4(e, s, k4(1.128358514861418e-1));
  e = madd4(e, s, k4(-3.761262582423300e-1));
  e = madd4(e, s, k4(1.128379165726710));
  const small = madd4(f32x4.mul(e, t), k4(0.5), k4(0.5));
  const q = f32x4.div(k4(1.0), at);
  const q2 = f32x4.mul(q, q);
  let p = madd4(k4(2.326819970068386e-2), q2, k4(-1.387039388740657e-1));
  p = madd4(p, q2, k4(3.687424674597105e-1));
  p = madd4(p, q2, k4(-5.824733027278666e-1));
  p = madd4(p, q2, k4(6.210004621745983e-1));
  p = madd4(p, q2, k4(-4.944515323274145e-1));
  p = madd4(p, q2, k4(3.404879937665872e-1));
  p = madd4(p, q2, k4(-2.741127028184656e-1));
  p = madd4(p, q2, k4(5.638259427386472e-1));
  let r = madd4(k4(-1.047766399936249e1), q2, k4(1.297719955372516e1));
  r = madd4(r, q2, k4(-7.495518717768503));
  r = madd4(r, q2, k4(2.921019019210786));
  r = madd4(r, q2, k4(-1.015265279202700));
  r = madd4(r, q2, k4(4.218463358204948e-1));
  r = madd4(r, q2, k4(-2.820767439740514e-1));
  r = madd4(r, q2, k4(5.641895067754075e-1));
  const poly = v128.bitselect(p, r, f32x4.lt(at, k4(2.0)));
  const half = f32x4.mul(f32x4.mul(vexpNegHalfSq4(f32x4.abs(x)), f32x4.mul(q, poly)), k4(0.5)); // Φ(-|x|)
  const big = v128.bitselect(half, f32x4.sub(k4(1.0), half), f32x4.lt(x, k4(0.0)));
  return v128.bitselect(small, big, f32x4.lt(at, k4(1.0)));
}

/** φ(x) = e^(-x²/2)/√(2π), the standard normal density. */
@inline export function vnormpdf4(x: v128): v128 {
  return f32x4.mul(vexpNegHalfSq4(f32x4.abs(x)), k4(0.3989422804014327));
}

// ---- scalar versions: the same vector code on lane 0 (so tails match the body bit for bit) --------------------
@inline export function exp1(x: f32): f32 {
  return f32x4.extract_lane(vexp4(f32x4.splat(x)), 0);
}
@inline export function log1(x: f32): f32 {
  return f32x4.extract_lane(vlog4(f32x4.splat(x)), 0);
}
@inline export function log1p1(x: f32): f32 {
  return f32x4.extract_lane(vlog1p4(f32x4.splat(x)), 0);
}
@inline export function sigmoid1(x: f32): f32 {
  return f32x4.extract_lane(vsigmoid4(f32x4.splat(x)), 0);
}
@inline export function tanh1(x: f32): f32 {
  return f32x4.extract_lane(vtanh4(f32x4.splat(x)), 0);
}
@inline export function softplus1(x: f32): f32 {
  return f32x4.extract_lane(vsoftplus4(f32x4.splat(x)), 0);
}

// ---- partial vectors for tails: lanes past `count` (1..3) read as 0 and are not written ------------------------
@inline export function loadPartial4(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
@inline export function storePartial4(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
