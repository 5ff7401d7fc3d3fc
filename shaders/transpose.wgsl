// transpose of two axes in the view x (A, P, M, Q, I) -> y (A, Q, M, P, I): y[α, q, m, p, i] = x[α, p, m, q, i],
// one output element per invocation (reads gather, writes coalesce), bits copied as u32 (f32 and i32 alike).
// Bindings: @0 Dims (P, M, Q, I, total = A·P·M·Q·I); @1 x (A, P, M, Q, I); @2 y (A, Q, M, P, I).
// Dispatch: [min(groups, maxPerDim), ceil(groups / x)], groups = ceil(total / WG). Overrides: WG.

override WG: u32 = 256;

struct Dims { P: u32, M: u32, Q: u32, I: u32, total: u32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WG)
fn transpose_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid;
  if (e >= u.total) { return; }
  // e = (((α·Q + q)·M + m)·P + p)·I + i
  let i = e % u.I;
  var t = e / u.I;
  let p = t % u.P;
  t = t / u.P;
  let m = t % u.M;
  t = t / u.M;
  let q = t % u.Q;
  let a = t / u.Q;
  y[e] = x[(((a * u.P + p) * u.M + m) * u.Q + q) * u.I + i];
}
