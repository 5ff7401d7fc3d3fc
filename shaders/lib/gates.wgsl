// Stable element-wise math of the gated kernels (`//!include gates`): e^x and ln x as the Cephes polynomials of
// assembly/lib/vmath.ts (the builtin exp loses accuracy for large |x|), log1p, σ, softplus, and minGRU's
// g(x) = x + ½ (x ≥ 0) or σ(x), its derivative and log g. Every function stays finite where the math is.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const SQRTHF: f32 = 0.707106781186547524;

/** e^x, x clamped to [−104, 89]; 2^n applied in two halves so that no factor overflows. */
fn exp_f(x0: f32) -> f32 {
  let x = min(max(x0, -104.0), 89.0);
  let fx = round(x * LOG2E);
  let r = (x - fx * LN2_HI) - fx * LN2_LO;
  var q = 1.9875691500e-4 * r + 1.3981999507e-3;
  q = q * r + 8.3334519073e-3;
  q = q * r + 4.1665795894e-2;
  q = q * r + 1.6666665459e-1;
  q = q * r + 5.0000001201e-1;
  let y = q * r * r + r + 1.0;
  let n = i32(fx);
  let n1 = n >> 1u;
  return y * bitcast<f32>(u32(n1 + 127) << 23u) * bitcast<f32>(u32(n - n1 + 127) << 23u);
}

/** ln x for x > 0 (normal or subnormal); x = 0 gives −1/0 and x < 0 gives 0/0 at run time. */
fn log_f(x0: f32) -> f32 {
  if (x0 <= 0.0) {
    return select((x0 - x0) / (x0 - x0), -1.0 / x0, x0 == 0.0);
  }
  let sub = x0 < 1.17549435e-38;
  let xs = select(x0, x0 * 8388608.0, sub);
  let bits = bitcast<u32>(xs);
  var e = i32((bits >> 23u) & 0xffu) - select(126, 149, sub);
  var m = bitcast<f32>((bits & 0x807fffffu) | 0x3f000000u);
  if (m < SQRTHF) {
    e = e - 1;
    m = m + m;
  }
  m = m - 1.0;
  let fe = f32(e);
  let z = m * m;
  var q = 7.0376836292e-2 * m - 1.1514610310e-1;
  q = q * m + 1.1676998740e-1;
  q = q * m - 1.2420140846e-1;
  q = q * m + 1.4249322787e-1;
  q = q * m - 1.6668057665e-1;
  q = q * m + 2.0000714765e-1;
  q = q * m - 2.4999993993e-1;
  q = q * m + 3.3333331174e-1;
  var y = q * m * z;
  y = y + fe * LN2_LO;
  y = y - 0.5 * z;
  let r = (m + y) + fe * LN2_HI;
  return select(r, x0, bitcast<u32>(x0) == 0x7f800000u); // +Inf stays +Inf
}

/** ln(1 + z), accurate for tiny z (Goldberg): ln(v)·z/(v − 1), v = 1 + z. */
fn log1p_f(z: f32) -> f32 {
  let v = 1.0 + z;
  let d = v - 1.0;
  if (d == 0.0) { return z; }
  return log_f(v) * (z / d);
}

/** σ(x) from e^−|x| (no overflow either side). */
fn sigmoid_f(x: f32) -> f32 {
  let e = exp_f(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, x >= 0.0);
}

/** softplus(x) = max(x, 0) + log1p(e^−|x|). */
fn softplus_f(x: f32) -> f32 {
  return max(x, 0.0) + log1p_f(exp_f(-abs(x)));
}

/** g(x) = x + ½ for x ≥ 0, σ(x) below. */
fn g_f(x: f32) -> f32 {
  return select(sigmoid_f(x), x + 0.5, x >= 0.0);
}

/** g'(x) = 1 for x ≥ 0, σ(x)·σ(−x) = e·r² (e = eˣ, r = 1/(1 + e)) below, without the cancellation of σ(1 − σ). */
fn dg_f(x: f32) -> f32 {
  let e = exp_f(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r * r, 1.0, x >= 0.0);
}

/** log g(x): log1p(x − ½) for x ≥ 0 (exact argument near x = ½), −softplus(−x) = x − log1p(eˣ) below. */
fn log_g_f(x: f32) -> f32 {
  if (x >= 0.0) { return log1p_f(x - 0.5); }
  return x - log1p_f(exp_f(x));
}
