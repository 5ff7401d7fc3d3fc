// SRU's elementwise recurrence (models.md §A.3) and its backward (§A.9): one invocation per (b, column), column
// col = dir·H + j, sequential over t; columns col >= H run reversed in time, so both directions share one dispatch.
// The recurrence is non-linear in c (the v⊙c gate terms), so there is no chunked/associative scan: time stays serial.
// No float atomics: the backward writes per-(b, col) partials of dv, db and a second pass sums them over b.
// Bindings: @0 Dims (T, B, H, n, k, flags, scale_x, o_wc, o_b, o_c0, o_m, o_dcl, o_pad, total); flags as SRU_FLAGS.
//   pack:   @1 wc (2n), @2 bias (2n), @3 c0 (B, n), @4 mask (B, n), @5 dcLast (B, n), @6 pad (T, B), @7 P (total)
//           P = [wc | bias | c0 | mask | dcLast | pad] at offsets o_*; absent parts have length 0   [ceil(total / WG)]
//   fwd:    @1 U (T, B, n, k), @2 x (T, B, n), @3 P, @4 h (T, B, n), @5 cLast (B, n), @6 C (T, B, n)  [ceil(B·n / WG)]
//   zip:    @1 dh (T, B, n), @2 dC (T, B, n), @3 G (T, B, n) vec2 (dh or 0, dC)                   [ceil(T·B·n / WG)]
//   bwd:    @1 U, @2 x, @3 C, @4 G (dh, or zip's vec2 when dC is given), @5 P, @6 dU (T, B, n, k), @7 dx (T, B, n),
//           @8 S (5, B, n): partial dv_f, dv_r, db_f, db_r, then dc0                                 [ceil(B·n / WG)]
//   reduce: @1 S, @2 dwc (2n), @3 dbias (2n), @4 dc0 (B, n)                                   [ceil(max(B·n, n) / WG)]
// Dispatch grids are 2-D (x·y workgroups) when one dimension is not enough. Overrides: WG.

override WG: u32 = 64;

const F_X: u32 = 1u;
const F_SKIP: u32 = 2u;
const F_TANH: u32 = 4u;
const F_C0: u32 = 8u;
const F_MASK: u32 = 16u;
const F_PAD: u32 = 32u;
const F_DCL: u32 = 64u;
const F_DH: u32 = 128u;
const F_DC: u32 = 256u;

struct Dims { T: u32, B: u32, H: u32, n: u32, k: u32, flags: u32, scale_x: f32, o_wc: u32, o_b: u32, o_c0: u32, o_m: u32, o_dcl: u32, o_pad: u32, total: u32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> pk_wc: array<f32>;         // (2n)          pack
@group(0) @binding(2) var<storage, read> pk_b: array<f32>;          // (2n)          pack
@group(0) @binding(3) var<storage, read> pk_c0: array<f32>;         // (B, n)        pack
@group(0) @binding(4) var<storage, read> pk_m: array<f32>;          // (B, n)        pack
@group(0) @binding(5) var<storage, read> pk_dcl: array<f32>;        // (B, n)        pack
@group(0) @binding(6) var<storage, read> pk_pad: array<f32>;        // (T, B)        pack
@group(0) @binding(7) var<storage, read_write> pk_out: array<f32>;  // (total)       pack
@group(0) @binding(1) var<storage, read> U: array<f32>;             // (T, B, n, k)  fwd, bwd
@group(0) @binding(2) var<storage, read> xin: array<f32>;           // (T, B, n)     fwd, bwd
@group(0) @binding(3) var<storage, read> P: array<f32>;             // packed        fwd
@group(0) @binding(4) var<storage, read_write> h: array<f32>;       // (T, B, n)     fwd
@group(0) @binding(5) var<storage, read_write> c_last: array<f32>;  // (B, n)        fwd
@group(0) @binding(6) var<storage, read_write> C: array<f32>;       // (T, B, n)     fwd
@group(0) @binding(1) var<storage, read> z_dh: array<f32>;          // (T, B, n)     zip
@group(0) @binding(2) var<storage, read> z_dc: array<f32>;          // (T, B, n)     zip
@group(0) @binding(3) var<storage, read_write> z_g: array<vec2f>;   // (T, B, n)     zip
@group(0) @binding(3) var<storage, read> Cs: array<f32>;            // (T, B, n)     bwd
@group(0) @binding(4) var<storage, read> G: array<f32>;             // (T, B, n[, 2]) bwd
@group(0) @binding(5) var<storage, read> Pb: array<f32>;            // packed        bwd
@group(0) @binding(6) var<storage, read_write> dU: array<f32>;      // (T, B, n, k)  bwd
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;      // (T, B, n)     bwd
@group(0) @binding(8) var<storage, read_write> S: array<f32>;       // (5, B, n)     bwd
@group(0) @binding(1) var<storage, read> Sr: array<f32>;            // (5, B, n)     reduce
@group(0) @binding(2) var<storage, read_write> dwc: array<f32>;     // (2n)          reduce
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;   // (2n)          reduce
@group(0) @binding(4) var<storage, read_write> dc0: array<f32>;     // (B, n)        reduce

fn has(f: u32) -> bool { return (u.flags & f) != 0u; }

/** σ(z) from e^-|z| (never overflows). */
fn sigm(z: f32) -> f32 {
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, z >= 0.0);
}

/** tanh from e^-2|x| (the builtin may give NaN for large |x| on some drivers). */
fn tanh_s(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn flat(gid: vec3u, nw: vec3u) -> u32 { return gid.x + gid.y * nw.x * WG; }

@compute @workgroup_size(WG)
fn sru_scan_pack(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = flat(gid, nw);
  if (i >= u.total) { return; }
  var v: f32;
  if (i < u.o_b) { v = pk_wc[i]; }
  else if (i < u.o_c0) { v = pk_b[i - u.o_b]; }
  else if (i < u.o_m) { v = pk_c0[i - u.o_c0]; }
  else if (i < u.o_dcl) { v = pk_m[i - u.o_m]; }
  else if (i < u.o_pad) { v = pk_dcl[i - u.o_dcl]; }
  else { v = pk_pad[i - u.o_pad]; }
  pk_out[i] = v;
}

@compute @workgroup_size(WG)
fn sru_scan_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let id = flat(gid, nw);
  if (id >= u.B * u.n) { return; }
  let b = id / u.n;
  let col = id % u.n;
  let rev = col >= u.H;
  let vf = P[u.o_wc + col];
  let vr = P[u.o_wc + u.n + col];
  let bf = P[u.o_b + col];
  let br = P[u.o_b + u.n + col];
  var m = 1.0;
  if (has(F_MASK)) { m = P[u.o_m + id]; }
  var c = 0.0;
  if (has(F_C0)) { c = P[u.o_c0 + id]; }
  for (var s = 0u; s < u.T; s++) {
    let t = select(s, u.T - 1u - s, rev);
    let o = (t * u.B + b) * u.n + col;
    if (has(F_PAD) && P[u.o_pad + t * u.B + b] != 0.0) {
      C[o] = c;
      h[o] = 0.0;
      continue;
    }
    let ub = o * u.k;
    let u0 = U[ub];
    let f = sigm(U[ub + 1u] + vf * c + bf);
    let r = sigm(U[ub + 2u] + vr * c + br);
    c = (c - u0) * f + u0;
    var gc = c;
    if (has(F_TANH)) { gc = tanh_s(c); }
    var xp = 0.0;
    if (u.k == 4u) { xp = U[ub + 3u]; } else if (has(F_X)) { xp = u.scale_x * xin[o]; }
    var hv = gc * m * r;
    if (has(F_SKIP)) { hv = (gc - xp) * m * r + xp; }
    h[o] = hv;
    C[o] = c;
  }
  c_last[id] = c;
}

@compute @workgroup_size(WG)
fn sru_scan_bwd_zip(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let o = flat(gid, nw);
  if (o >= u.T * u.B * u.n) { return; }
  var g = 0.0;
  if (has(F_DH)) { g = z_dh[o]; }
  z_g[o] = vec2f(g, z_dc[o]);
}

@compute @workgroup_size(WG)
fn sru_scan_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let id = flat(gid, nw);
  let BN = u.B * u.n;
  if (id >= BN) { return; }
  let b = id / u.n;
  let col = id % u.n;
  let rev = col >= u.H;
  let vf = Pb[u.o_wc + col];
  let vr = Pb[u.o_wc + u.n + col];
  let bf = Pb[u.o_b + col];
  let br = Pb[u.o_b + u.n + col];
  var m = 1.0;
  if (has(F_MASK)) { m = Pb[u.o_m + id]; }
  var gam = 0.0;
  if (has(F_DCL)) { gam = Pb[u.o_dcl + id]; }
  var dvf = 0.0;
  var dvr = 0.0;
  var dbf = 0.0;
  var dbr = 0.0;
  for (var q = 0u; q < u.T; q++) {
    let s = u.T - 1u - q; // step in the direction's forward order
    let t = select(s, u.T - 1u - s, rev);
    let o = (t * u.B + b) * u.n + col;
    let ub = o * u.k;
    if (has(F_DC)) { gam += G[2u * o + 1u]; }
    if (has(F_PAD) && Pb[u.o_pad + t * u.B + b] != 0.0) {
      for (var j = 0u; j < u.k; j++) { dU[ub + j] = 0.0; }
      if (has(F_X)) { dx[o] = 0.0; }
      continue;
    }
    var cp = 0.0;
    if (s > 0u) { cp = Cs[select(o - BN, o + BN, rev)]; } else if (has(F_C0)) { cp = Pb[u.o_c0 + id]; }
    let u0 = U[ub];
    let f = sigm(U[ub + 1u] + vf * cp + bf);
    let r = sigm(U[ub + 2u] + vr * cp + br);
    let c = Cs[o];
    var gc = c;
    var gp = 1.0;
    if (has(F_TANH)) { gc = tanh_s(c); gp = 1.0 - gc * gc; }
    var gh = 0.0;
    if (has(F_DC)) { gh = G[2u * o]; } else if (has(F_DH)) { gh = G[o]; }
    var xp = 0.0;
    if (u.k == 4u) { xp = U[ub + 3u]; } else if (has(F_X)) { xp = u.scale_x * xin[o]; }
    let mr = m * r;
    var hg = gc;
    if (has(F_SKIP)) { hg = gc - xp; }
    let dr = gh * hg * mr * (1.0 - r);
    let gt = gh * mr * gp + gam;
    let df = gt * (cp - u0) * f * (1.0 - f);
    dU[ub] = gt * (1.0 - f);
    dU[ub + 1u] = df;
    dU[ub + 2u] = dr;
    if (u.k == 4u) { dU[ub + 3u] = gh * (1.0 - mr); }
    if (has(F_X)) { dx[o] = u.scale_x * gh * (1.0 - mr); }
    dvf += df * cp;
    dvr += dr * cp;
    dbf += df;
    dbr += dr;
    gam = gt * f + df * vf + dr * vr;
  }
  S[id] = dvf;
  S[BN + id] = dvr;
  S[2u * BN + id] = dbf;
  S[3u * BN + id] = dbr;
  S[4u * BN + id] = gam;
}

@compute @workgroup_size(WG)
fn sru_scan_bwd_reduce(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let id = flat(gid, nw);
  let BN = u.B * u.n;
  if (id < u.n) {
    var s = vec4f(0.0);
    for (var b = 0u; b < u.B; b++) {
      let i = b * u.n + id;
      s += vec4f(Sr[i], Sr[BN + i], Sr[2u * BN + i], Sr[3u * BN + i]);
    }
    dwc[id] = s.x;
    dwc[u.n + id] = s.y;
    dbias[id] = s.z;
    dbias[u.n + id] = s.w;
  }
  if (id < BN && has(F_C0)) { dc0[id] = Sr[4u * BN + id]; }
}
