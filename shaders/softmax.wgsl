// softmax over the last axis, one workgroup per row (2-D grid, x·y ≥ N; any D): row max and Σ exp(x − max) by tree
// reductions in workgroup memory; backward dx = y ⊙ (dy − Σ dy ⊙ y) with one more reduction.
// Bindings: @0 Dims (N, D); forward @1 x (N, D), @2 y (N, D); backward @1 y (N, D), @2 dy (N, D), @3 dx (N, D).
// Dispatch: [min(N, maxPerDim), ceil(N / x)]. Overrides: WG (a power of two, <= 256).

override WG: u32 = 256;

struct Dims { N: u32, D: u32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;         // (N, D)  forward
@group(0) @binding(2) var<storage, read_write> y: array<f32>;   // (N, D)  forward
@group(0) @binding(1) var<storage, read> yb: array<f32>;        // (N, D)  backward: saved output
@group(0) @binding(2) var<storage, read> dy: array<f32>;        // (N, D)  backward
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;  // (N, D)  backward

// reduce_wg(lid, v, op): max (op 0) or sum (op 1) of v over the workgroup (shaders/lib/row_reduce.wgsl).
//!include row_reduce

/** exp(v − mx) for v <= mx, 0 where the gap is beyond f32's range (never forms an infinite v − mx). */
fn exp_below(v: f32, mx: f32) -> f32 {
  if (v < mx - 104.0) { return 0.0; }
  return exp(v - mx);
}

@compute @workgroup_size(WG)
fn softmax_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.D;
  var mx = -3.402823e38;
  for (var j = lid; j < u.D; j += WG) { mx = max(mx, x[base + j]); }
  let m = reduce_wg(lid, mx, 0u);
  var acc = 0.0;
  for (var j = lid; j < u.D; j += WG) { acc += exp_below(x[base + j], m); }
  let inv = 1.0 / reduce_wg(lid, acc, 1u);
  for (var j = lid; j < u.D; j += WG) { y[base + j] = exp_below(x[base + j], m) * inv; }
}

@compute @workgroup_size(WG)
fn softmax_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.D;
  var acc = 0.0;
  for (var j = lid; j < u.D; j += WG) { acc += yb[base + j] * dy[base + j]; }
  let dot = reduce_wg(lid, acc, 1u);
  for (var j = lid; j < u.D; j += WG) { dx[base + j] = yb[base + j] * (dy[base + j] - dot); }
}
