// unary: y = f(x) and dx = dy·f'(x) element-wise, fn chosen by a uniform id (order of UNARY_FNS in src/ops/unary.ts).
// exp and log are the Cephes polynomials of assembly/lib/vmath.ts (shaders/lib/gates.wgsl, with σ, softplus and g);
// every f is evaluated in a form that stays finite where the math is. Dispatch: (min(ceil(n/WG), max), 1, 1), grid-stride.
override WG: u32 = 256u;

struct Params {
  n: u32,
  fn_id: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // (n)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;      // (n) unary_fwd output
@group(0) @binding(2) var<storage, read> dy: array<f32>;           // (n) unary_bwd upstream gradient
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;     // (n) unary_bwd output

// exp_f, log_f, log1p_f, sigmoid_f, softplus_f, g_f, dg_f, log_g_f and the constants LN2_HI, LN2_LO, SQRTHF
//!include gates

fn tanh_f(v: f32) -> f32 {
  let a = abs(v);
  if (a < 0.625) {
    let s = v * v;
    var p = -5.70498872745e-3 * s + 2.06390887954e-2;
    p = p * s - 5.37397155531e-2;
    p = p * s + 1.33314422036e-1;
    p = p * s - 3.33332819422e-1;
    return p * s * v + v;
  }
  let z = exp_f(-2.0 * a);
  return sign(v) * ((1.0 - z) / (1.0 + z));
}

// e^(-a²/2), a ≥ 0, without the rounding error of a²: a = h + l with h on 12 bits (h² exact).
fn exp_neg_half_sq(a0: f32) -> f32 {
  let a = min(a0, 20.0);
  let h = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let b = -0.5 * (a - h) * (a + h);
  let t = 1.0 + b * (1.0 + b * (0.5 + b * (1.0 / 6.0 + b * (1.0 / 24.0 + b / 120.0))));
  return exp_f(-0.5 * h * h) * t;
}

// Φ(x) = ½·erfc(-x/√2), Cephes ndtrf/erfcf polynomials.
fn phi_f(v: f32) -> f32 {
  let t = v * SQRTHF;
  let at = abs(t);
  if (at < 1.0) {
    let s = t * t;
    var e = 7.853861353153693e-5 * s - 8.010193625184903e-4;
    e = e * s + 5.188327685732524e-3;
    e = e * s - 2.685381193529856e-2;
    e = e * s + 1.128358514861418e-1;
    e = e * s - 3.761262582423300e-1;
    e = e * s + 1.128379165726710;
    return 0.5 + 0.5 * e * t;
  }
  let q = 1.0 / at;
  let q2 = q * q;
  var p: f32;
  if (at < 2.0) {
    p = 2.326819970068386e-2 * q2 - 1.387039388740657e-1;
    p = p * q2 + 3.687424674597105e-1;
    p = p * q2 - 5.824733027278666e-1;
    p = p * q2 + 6.210004621745983e-1;
    p = p * q2 - 4.944515323274145e-1;
    p = p * q2 + 3.404879937665872e-1;
    p = p * q2 - 2.741127028184656e-1;
    p = p * q2 + 5.638259427386472e-1;
  } else {
    p = -1.047766399936249e1 * q2 + 1.297719955372516e1;
    p = p * q2 - 7.495518717768503;
    p = p * q2 + 2.921019019210786;
    p = p * q2 - 1.015265279202700;
    p = p * q2 + 4.218463358204948e-1;
    p = p * q2 - 2.820767439740514e-1;
    p = p * q2 + 5.641895067754075e-1;
  }
  let half = 0.5 * exp_neg_half_sq(abs(v)) * q * p;
  return select(1.0 - half, half, v < 0.0);
}

fn f_fwd(id: u32, v: f32) -> f32 {
  switch id {
    case 0u: { return -v; }
    case 1u: { return exp_f(v); }
    case 2u: { return log_f(v); }
    case 3u: { return sigmoid_f(v); }
    case 4u: { return tanh_f(v); }
    case 5u: { return softplus_f(v); }
    case 6u: { return max(v, 0.0); }
    case 7u: { return v * phi_f(v); }
    case 8u: { return v * sigmoid_f(v); }
    case 9u: { return g_f(v); }
    default: { return log_g_f(v); }
  }
}

// dy·f'(x)
fn f_bwd(id: u32, v: f32, g: f32) -> f32 {
  switch id {
    case 0u: { return -g; }
    case 1u: { return g * exp_f(v); }
    case 2u: { return g / v; }
    case 3u: { return g * sigmoid_f(v) * sigmoid_f(-v); }
    case 4u: {
      let z = exp_f(-2.0 * abs(v));
      return g * 4.0 * z / ((1.0 + z) * (1.0 + z));
    }
    case 5u: { return g * sigmoid_f(v); }
    case 6u: { return select(0.0, g, v > 0.0); }
    case 7u: { return g * (phi_f(v) + v * 0.3989422804014327 * exp_neg_half_sq(abs(v))); }
    case 8u: { return g * sigmoid_f(v) * (1.0 + v * sigmoid_f(-v)); }
    case 9u: { return g * dg_f(v); }
    default: { return select(g * sigmoid_f(-v), g / (v + 0.5), v >= 0.0); }
  }
}

@compute @workgroup_size(WG)
fn unary_fwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < u.n; i += stride) {
    y[i] = f_fwd(u.fn_id, x[i]);
  }
}

@compute @workgroup_size(WG)
fn unary_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < u.n; i += stride) {
    dx[i] = f_bwd(u.fn_id, x[i], dy[i]);
  }
}
