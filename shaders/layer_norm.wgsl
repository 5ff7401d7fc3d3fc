// LayerNorm over the last axis, y = (x − μ)·rstd ⊙ γ + β (biased var, ε inside the root), one workgroup per row
// (2-D grid, x·y ≥ N; any D). Statistics are taken on c = x·2^−e − x₀·2^−e (2^e ≤ max|x|, exact), so huge values do
// not overflow and a constant row stays exactly constant. Backward (models.md §B.11) in three passes, no float atomics:
//   layer_norm_bwd:        per row, dx = rstd·(g − mean g − x̂·mean(g⊙x̂)), g = dy⊙γ; row stats (inv_s, k, m, r) to `st`
//   layer_norm_bwd_params: per (column, chunk of R rows), partial Σ dy⊙x̂ and Σ dy into part (P, 2, D)
//   layer_norm_bwd_sum:    per column, dγ = Σ_p part[p, 0], dβ = Σ_p part[p, 1]
// Bindings: @0 Dims (N, D, eps, R, P)
//   fwd:    @1 x (N, D), @2 gamma (D), @3 beta (D), @4 y (N, D)            dispatch [min(N, maxPerDim), ceil(N / x)]
//   bwd:    @1 x (N, D), @2 gamma (D), @3 dy (N, D), @4 dx (N, D), @5 st (N) vec4    dispatch as fwd
//   params: @1 x (N, D), @2 dy (N, D), @3 st (N) vec4, @4 part (P, 2, D)     dispatch [ceil(D / WG), P]
//   sum:    @1 part (P, 2, D), @2 dgamma (D), @3 dbeta (D)                   dispatch [ceil(D / WG)]
// Overrides: WG (a power of two, <= 256).

override WG: u32 = 256;

struct Dims { N: u32, D: u32, eps: f32, R: u32, P: u32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // (N, D)     fwd, bwd, params
@group(0) @binding(2) var<storage, read> gamma: array<f32>;         // (D)        fwd, bwd
@group(0) @binding(3) var<storage, read> beta: array<f32>;          // (D)        fwd
@group(0) @binding(4) var<storage, read_write> y: array<f32>;       // (N, D)     fwd
@group(0) @binding(3) var<storage, read> dy: array<f32>;            // (N, D)     bwd
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;      // (N, D)     bwd
@group(0) @binding(5) var<storage, read_write> st: array<vec4f>;    // (N)        bwd: (inv_s, k, m, r) per row
@group(0) @binding(2) var<storage, read> dy_p: array<f32>;          // (N, D)     params
@group(0) @binding(3) var<storage, read> st_p: array<vec4f>;        // (N)        params
@group(0) @binding(4) var<storage, read_write> part: array<f32>;    // (P, 2, D)  params
@group(0) @binding(1) var<storage, read> part_s: array<f32>;        // (P, 2, D)  sum
@group(0) @binding(2) var<storage, read_write> dgamma: array<f32>;  // (D)        sum
@group(0) @binding(3) var<storage, read_write> dbeta: array<f32>;   // (D)        sum

// reduce_wg(lid, v, op): max (op 0) or sum (op 1) of v over the workgroup, reduce_wg2(lid, v2): sum of a vec2f
// (shaders/lib/row_reduce.wgsl); inv_scale(max|x|): the exact power-of-two scale (shaders/lib/inv_scale.wgsl).
//!include row_reduce
//!include inv_scale

struct Stats { inv_s: f32, k: f32, m: f32, r: f32, rstd: f32 }

/** x̂ = ((x·inv_s − k) − m)·r and rstd = 1/√(var + ε) of the row starting at base (two-pass, shifted, scaled). */
fn row_stats(base: u32, lid: u32) -> Stats {
  var a = 0.0;
  for (var j = lid; j < u.D; j += WG) { a = max(a, abs(x[base + j])); }
  let inv_s = inv_scale(reduce_wg(lid, a, 0u));
  let k = x[base] * inv_s;
  var acc = 0.0;
  for (var j = lid; j < u.D; j += WG) { acc += x[base + j] * inv_s - k; }
  let m = reduce_wg(lid, acc, 1u) / f32(u.D);
  acc = 0.0;
  for (var j = lid; j < u.D; j += WG) {
    let c = (x[base + j] * inv_s - k) - m;
    acc += c * c;
  }
  let v = reduce_wg(lid, acc, 1u) / f32(u.D); // var·inv_s²
  let t = v + u.eps * inv_s * inv_s;
  var r = 0.0;
  if (t > 0.0) { r = inverseSqrt(t); }
  var rstd = inverseSqrt(u.eps); // a constant row (v = 0) has var = 0 exactly, whatever its scale
  if (v > 0.0) { rstd = r * inv_s; }
  return Stats(inv_s, k, m, r, rstd);
}

@compute @workgroup_size(WG)
fn layer_norm_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.D;
  let s = row_stats(base, lid);
  for (var j = lid; j < u.D; j += WG) {
    let xh = ((x[base + j] * s.inv_s - s.k) - s.m) * s.r;
    y[base + j] = xh * gamma[j] + beta[j];
  }
}

@compute @workgroup_size(WG)
fn layer_norm_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.D;
  let s = row_stats(base, lid);
  var acc = vec2f(0.0);
  for (var j = lid; j < u.D; j += WG) {
    let xh = ((x[base + j] * s.inv_s - s.k) - s.m) * s.r;
    let g = dy[base + j] * gamma[j];
    acc += vec2f(g, g * xh);
  }
  let mean = reduce_wg2(lid, acc) / f32(u.D); // (mean g, mean g⊙x̂)
  for (var j = lid; j < u.D; j += WG) {
    let xh = ((x[base + j] * s.inv_s - s.k) - s.m) * s.r;
    let g = dy[base + j] * gamma[j];
    dx[base + j] = s.rstd * ((g - mean.x) - xh * mean.y);
  }
  if (lid == 0u) { st[n] = vec4f(s.inv_s, s.k, s.m, s.r); }
}

@compute @workgroup_size(WG)
fn layer_norm_bwd_params(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let p = gid.y;
  if (j >= u.D) { return; }
  var acc = vec2f(0.0);
  let end = min(u.N, (p + 1u) * u.R);
  for (var n = p * u.R; n < end; n++) {
    let s = st_p[n];
    let d = dy_p[n * u.D + j];
    acc += vec2f(d * (((x[n * u.D + j] * s.x - s.y) - s.z) * s.w), d);
  }
  part[(2u * p) * u.D + j] = acc.x;
  part[(2u * p + 1u) * u.D + j] = acc.y;
}

@compute @workgroup_size(WG)
fn layer_norm_bwd_sum(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= u.D) { return; }
  var acc = vec2f(0.0);
  for (var p = 0u; p < u.P; p++) { acc += vec2f(part_s[(2u * p) * u.D + j], part_s[(2u * p + 1u) * u.D + j]); }
  dgamma[j] = acc.x;
  dbeta[j] = acc.y;
}
