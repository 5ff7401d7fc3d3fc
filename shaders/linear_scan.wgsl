// linear_scan: h_t = a_t·h_{t−1} + b_t per channel n < N = B·D over time-major (T, N) buffers, in step order s
// (t = s, or T−1−s when reverse), and its adjoint (models.md §D.1): λ_s = dh_s + a_{s+1}λ_{s+1} (+ dhT at s = T−1),
// db_s = λ_s, da_s = λ_s·h_{s−1}, dh0 = a_0·λ_0. Two mappings (models.md §E.2b):
//   sequential: one invocation per channel loops over T (linear_scan_fwd, linear_scan_bwd)
//   chunked three-phase (§E.2), K = ceil(T / C) chunks of C steps, one invocation per (channel, chunk):
//     (invocation i: chunk k = i / N, channel n = i % N)
//     *_local: scan the chunk with zero carry (h or λ written in place), aggregate (A, B) per (chunk, channel)
//     *_carry: per channel, sequential over the K aggregates: the carry entering each chunk, and hT (or dh0)
//     *_fix:   per (channel, chunk), add A^loc·carry to each step (and, backward, write da)
// Bindings: @0 U (T, N, reverse, hasH0, C, K)
//   fwd:       @1 a, @2 b (T, N), @3 h0 (N), @4 h (T, N), @5 hT (N)                     dispatch grid(N)
//   fwd_local: @1 a, @2 b (T, N), @3 h (T, N), @4 agg (K, N) vec2                         dispatch grid(K·N)
//   fwd_carry: @1 agg (K, N) vec2, @2 h0 (N), @3 carry (K, N), @4 hT (N)                  dispatch grid(N)
//   fwd_fix:   @1 a (T, N), @2 carry (K, N), @3 h (T, N)                                  dispatch grid(K·N)
//   bwd:       @1 a, @2 h, @3 dh (T, N), @4 dhT, @5 h0 (N), @6 da, @7 db (T, N), @8 dh0 (N)   dispatch grid(N)
//   bwd_local: @1 a, @2 dh (T, N), @3 dhT (N), @4 db (T, N), @5 agg (K, N) vec2             dispatch grid(K·N)
//   bwd_carry: @1 a (T, N), @2 agg (K, N) vec2, @3 carry (K, N), @4 dh0 (N)                 dispatch grid(N)
//   bwd_fix:   @1 a, @2 h (T, N), @3 h0 (N), @4 carry (K, N), @5 db, @6 da (T, N)           dispatch grid(K·N)
// grid(N) = [x, y] with x·y·WG >= N. h0 absent (hasH0 = 0): any buffer is bound at its slot and never read.
// Overrides: WG.

override WG: u32 = 64;

struct U { T: u32, N: u32, reverse: u32, hasH0: u32, C: u32, K: u32 }
@group(0) @binding(0) var<uniform> u: U;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> h0: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;
@group(0) @binding(5) var<storage, read_write> hT: array<f32>;
// fwd_local
@group(0) @binding(3) var<storage, read_write> h_l: array<f32>;
@group(0) @binding(4) var<storage, read_write> agg_l: array<vec2f>;
// fwd_carry
@group(0) @binding(1) var<storage, read> agg_c: array<vec2f>;
@group(0) @binding(2) var<storage, read> h0_c: array<f32>;
@group(0) @binding(3) var<storage, read_write> carry_c: array<f32>;
@group(0) @binding(4) var<storage, read_write> hT_c: array<f32>;
// fwd_fix
@group(0) @binding(2) var<storage, read> carry_f: array<f32>;
@group(0) @binding(3) var<storage, read_write> h_f: array<f32>;
// bwd
@group(0) @binding(2) var<storage, read> hb: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
@group(0) @binding(4) var<storage, read> dhT: array<f32>;
@group(0) @binding(5) var<storage, read> h0b: array<f32>;
@group(0) @binding(6) var<storage, read_write> da: array<f32>;
@group(0) @binding(7) var<storage, read_write> db: array<f32>;
@group(0) @binding(8) var<storage, read_write> dh0: array<f32>;
// bwd_local
@group(0) @binding(2) var<storage, read> dh_l: array<f32>;
@group(0) @binding(3) var<storage, read> dhT_l: array<f32>;
@group(0) @binding(4) var<storage, read_write> db_l: array<f32>;
@group(0) @binding(5) var<storage, read_write> agg_bl: array<vec2f>;
// bwd_carry
@group(0) @binding(2) var<storage, read> agg_bc: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> carry_bc: array<f32>;
@group(0) @binding(4) var<storage, read_write> dh0_c: array<f32>;
// bwd_fix
@group(0) @binding(3) var<storage, read> h0_bf: array<f32>;
@group(0) @binding(4) var<storage, read> carry_bf: array<f32>;
@group(0) @binding(5) var<storage, read_write> db_f: array<f32>;
@group(0) @binding(6) var<storage, read_write> da_f: array<f32>;

/** Element index of step s, channel n. */
fn idx(s: u32, n: u32) -> u32 {
  let t = select(s, u.T - 1u - s, u.reverse != 0u);
  return t * u.N + n;
}

/** Invocation index in a 2-D grid of WG-wide workgroups. */
fn channel(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn linear_scan_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = channel(wid, nwg, lid);
  if (n >= u.N) { return; }
  var st = 0.0;
  if (u.hasH0 != 0u) { st = h0[n]; }
  for (var s = 0u; s < u.T; s++) {
    let i = idx(s, n);
    st = a[i] * st + b[i];
    h[i] = st;
  }
  hT[n] = st;
}

@compute @workgroup_size(WG)
fn linear_scan_fwd_local(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = channel(wid, nwg, lid);
  let k = i0 / u.N;
  let n = i0 - k * u.N;
  if (k >= u.K) { return; }
  var A = 1.0;
  var Bl = 0.0;
  let end = min(u.T, (k + 1u) * u.C);
  for (var s = k * u.C; s < end; s++) {
    let i = idx(s, n);
    let ai = a[i];
    A *= ai;
    Bl = ai * Bl + b[i];
    h_l[i] = Bl;
  }
  agg_l[k * u.N + n] = vec2f(A, Bl);
}

@compute @workgroup_size(WG)
fn linear_scan_fwd_carry(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = channel(wid, nwg, lid);
  if (n >= u.N) { return; }
  var c = 0.0;
  if (u.hasH0 != 0u) { c = h0_c[n]; }
  for (var k = 0u; k < u.K; k++) {
    carry_c[k * u.N + n] = c;
    let e = agg_c[k * u.N + n];
    c = e.x * c + e.y;
  }
  hT_c[n] = c;
}

@compute @workgroup_size(WG)
fn linear_scan_fwd_fix(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = channel(wid, nwg, lid);
  let k = i0 / u.N;
  let n = i0 - k * u.N;
  if (k >= u.K) { return; }
  let c = carry_f[k * u.N + n];
  if (c == 0.0) { return; }
  var A = 1.0;
  let end = min(u.T, (k + 1u) * u.C);
  for (var s = k * u.C; s < end; s++) {
    let i = idx(s, n);
    A *= a[i];
    h_f[i] = h_f[i] + A * c;
  }
}

@compute @workgroup_size(WG)
fn linear_scan_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = channel(wid, nwg, lid);
  if (n >= u.N) { return; }
  var c = dhT[n]; // a_{s+1}·λ_{s+1}, the carry into step s
  for (var s = u.T; s > 0u; s--) {
    let i = idx(s - 1u, n);
    let l = dh[i] + c;
    db[i] = l;
    var prev = 0.0;
    if (s > 1u) { prev = hb[idx(s - 2u, n)]; } else if (u.hasH0 != 0u) { prev = h0b[n]; }
    da[i] = l * prev;
    c = a[i] * l;
  }
  dh0[n] = c;
}

@compute @workgroup_size(WG)
fn linear_scan_bwd_local(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = channel(wid, nwg, lid);
  let k = i0 / u.N;
  let n = i0 - k * u.N;
  if (k >= u.K) { return; }
  let lo = k * u.C;
  let end = min(u.T, lo + u.C);
  // λ^loc with zero carry past the chunk; P = Π a over the chunk's steps after lo, and a at the next chunk's first step.
  var c = 0.0;
  var P = 1.0;
  if (end == u.T) { c = dhT_l[n]; P = 0.0; } else { P = a[idx(end, n)]; }
  var l = 0.0;
  for (var s = end; s > lo; s--) {
    let i = idx(s - 1u, n);
    l = dh_l[i] + c;
    db_l[i] = l;
    let ai = a[i];
    c = ai * l;
    if (s - 1u > lo) { P *= ai; }
  }
  agg_bl[k * u.N + n] = vec2f(P, l);
}

@compute @workgroup_size(WG)
fn linear_scan_bwd_carry(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = channel(wid, nwg, lid);
  if (n >= u.N) { return; }
  var L = 0.0; // true λ at the first step of chunk k + 1
  for (var k = u.K; k > 0u; k--) {
    carry_bc[(k - 1u) * u.N + n] = L;
    let e = agg_bc[(k - 1u) * u.N + n];
    L = e.y + e.x * L;
  }
  dh0_c[n] = select(0.0, a[idx(0u, n)] * L, u.T > 0u);
}

@compute @workgroup_size(WG)
fn linear_scan_bwd_fix(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = channel(wid, nwg, lid);
  let k = i0 / u.N;
  let n = i0 - k * u.N;
  if (k >= u.K) { return; }
  let L = carry_bf[k * u.N + n];
  let lo = k * u.C;
  let end = min(u.T, lo + u.C);
  var P = 0.0;
  if (end < u.T) { P = a[idx(end, n)]; }
  for (var s = end; s > lo; s--) {
    let i = idx(s - 1u, n);
    let l = db_f[i] + P * L;
    db_f[i] = l;
    var prev = 0.0;
    if (s - 1u > 0u) { prev = hb[idx(s - 2u, n)]; } else if (u.hasH0 != 0u) { prev = h0_bf[n]; }
    da_f[i] = l * prev;
    P *= a[i];
  }
}
