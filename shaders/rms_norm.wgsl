// RMSNorm over the last axis, y = x/rms ⊙ w, rms = √(mean x² + ε), one workgroup per row (2-D grid, x·y ≥ N; any D).
// Squares are taken of x·2^−e (2^e ≤ max|x|, exact), so |x| up to FLT_MAX does not overflow: x̂ = (x·2^−e)·r with
// r = 1/√(mean (x·2^−e)² + ε·2^−2e) and 1/rms = r·2^−e. Backward (models.md §D.5) in three passes, no float atomics:
//   rms_norm_bwd:        per row, dx = (g − x̂·mean(x̂⊙g))/rms, g = w⊙dy; row stats (inv_s, r) to `st`
//   rms_norm_bwd_params: per (column, chunk of R rows), partial Σ dy⊙x̂ into part (P, D)
//   rms_norm_bwd_sum:    per column, dw = Σ_p part[p]
// Bindings: @0 Dims (N, D, eps, R, P)
//   fwd:    @1 x (N, D), @2 w (D), @3 y (N, D)                               dispatch [min(N, maxPerDim), ceil(N / x)]
//   bwd:    @1 x (N, D), @2 w (D), @3 dy (N, D), @4 dx (N, D), @5 st (N) vec2    dispatch as fwd
//   params: @1 x (N, D), @2 dy (N, D), @3 st (N) vec2, @4 part (P, D)          dispatch [ceil(D / WG), P]
//   sum:    @1 part (P, D), @2 dw (D)                                          dispatch [ceil(D / WG)]
// Overrides: WG (a power of two, <= 256).

override WG: u32 = 256;

struct Dims { N: u32, D: u32, eps: f32, R: u32, P: u32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // (N, D)  fwd, bwd, params
@group(0) @binding(2) var<storage, read> w: array<f32>;            // (D)     fwd, bwd
@group(0) @binding(3) var<storage, read_write> y: array<f32>;      // (N, D)  fwd
@group(0) @binding(3) var<storage, read> dy: array<f32>;           // (N, D)  bwd
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;     // (N, D)  bwd
@group(0) @binding(5) var<storage, read_write> st: array<vec2f>;   // (N)     bwd: (inv_s, r) per row
@group(0) @binding(2) var<storage, read> dy_p: array<f32>;         // (N, D)  params
@group(0) @binding(3) var<storage, read> st_p: array<vec2f>;       // (N)     params
@group(0) @binding(4) var<storage, read_write> part: array<f32>;   // (P, D)  params
@group(0) @binding(1) var<storage, read> part_s: array<f32>;       // (P, D)  sum
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;     // (D)     sum

// reduce_wg(lid, v, op): max (op 0) or sum (op 1) of v over the workgroup (shaders/lib/row_reduce.wgsl);
// inv_scale(max|x|): the exact power-of-two scale (shaders/lib/inv_scale.wgsl).
//!include row_reduce
//!include inv_scale

/** (inv_s, r) of the row starting at base: x̂ = (x·inv_s)·r. The sum is >= 1 wherever inv_s < 1: never 1/0. */
fn row_stats(base: u32, lid: u32) -> vec2f {
  var a = 0.0;
  for (var j = lid; j < u.D; j += WG) { a = max(a, abs(x[base + j])); }
  let inv_s = inv_scale(reduce_wg(lid, a, 0u));
  var acc = 0.0;
  for (var j = lid; j < u.D; j += WG) {
    let c = x[base + j] * inv_s;
    acc += c * c;
  }
  let ms = reduce_wg(lid, acc, 1u) / f32(u.D);
  return vec2f(inv_s, inverseSqrt(ms + u.eps * inv_s * inv_s));
}

@compute @workgroup_size(WG)
fn rms_norm_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.D;
  let s = row_stats(base, lid);
  for (var j = lid; j < u.D; j += WG) { y[base + j] = (x[base + j] * s.x) * s.y * w[j]; }
}

@compute @workgroup_size(WG)
fn rms_norm_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.D;
  let s = row_stats(base, lid);
  var acc = 0.0;
  for (var j = lid; j < u.D; j += WG) { acc += dy[base + j] * w[j] * ((x[base + j] * s.x) * s.y); }
  let mgx = reduce_wg(lid, acc, 1u) / f32(u.D);
  let rinv = s.y * s.x;
  for (var j = lid; j < u.D; j += WG) {
    let xh = (x[base + j] * s.x) * s.y;
    dx[base + j] = rinv * (dy[base + j] * w[j] - xh * mgx);
  }
  if (lid == 0u) { st[n] = s; }
}

@compute @workgroup_size(WG)
fn rms_norm_bwd_params(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let p = gid.y;
  if (j >= u.D) { return; }
  var acc = 0.0;
  let end = min(u.N, (p + 1u) * u.R);
  for (var n = p * u.R; n < end; n++) {
    let s = st_p[n];
    acc += dy_p[n * u.D + j] * ((x[n * u.D + j] * s.x) * s.y);
  }
  part[p * u.D + j] = acc;
}

@compute @workgroup_size(WG)
fn rms_norm_bwd_sum(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= u.D) { return; }
  var acc = 0.0;
  for (var p = 0u; p < u.P; p++) { acc += part_s[p * u.D + j]; }
  dw[j] = acc;
}
