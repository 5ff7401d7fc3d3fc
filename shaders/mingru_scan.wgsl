// minGRU scan, time-major (T, N = B·D): h_t = a_t·h_{t−1} + b_t, a = 1−z = σ(−k), b = z·g(p) (models.md §C.3),
// and its backward (§D.1, §D.2): the adjoint λ_t = dh_t + a_{t+1}·λ_{t+1} (a reverse linear recurrence), then
// dk = λ·z·a·(g(p) − h_{t−1}), dp = λ·z·g'(p). h0 mode (u.mode): 0 none, 1 pre-activation g(h0), 2 state h0.
// Entries and bindings (uniform @0 Params; dispatch x = ceil(N / WG)):
//   scan_fwd                 @1 k (T,N) @2 p (T,N) @3 h0 (N) @4 h (T,N) @5 hT (N)            [x]
//   scan_fwd_chunks          as fwd + @6 agg (nC,N) vec2; phase 0 chunk (∏a, local h), 1 carries, 2 replay
//                                                                                         [x, nC] / [x, 1] / [x, nC]
//   scan_bwd_lambda          @1 k @2 h0 (N) @3 dh (T,N) @4 dhT (N) @5 lam (T,N) @6 dh0 (N)   [x]
//   scan_bwd_lambda_chunks   as bwd_lambda + @7 agg (nC,N) vec2, phases as fwd_chunks, reversed
//   mingru_scan_bwd          @1 k @2 p @3 h0 @4 h (T,N) @5 lam → dp (T,N, in place) @6 dk (T,N)  [x, min(T, 65535)]
// Chunk j covers steps [j·L, min((j+1)·L, T)). Overrides: WG.
override WG: u32 = 64u;

const PRE: u32 = 2u; // k, p
@group(0) @binding(1) var<storage, read> k: array<f32>;            // (T, N)  every entry
@group(0) @binding(2) var<storage, read> p: array<f32>;            // (T, N)  fwd, fwd_chunks, bwd
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;     // (T, N)  bwd

// exp_f, sigmoid_f, g_f (x + ½ or σ), dg_f
//!include gates
// uniform u (Params); bindings h0 h hT agg, b_h0 dh dhT lam dh0 b_agg, hs (numbered after PRE); h0_eff, h_prev,
// write_dh0; the entries scan_fwd, scan_fwd_chunks, scan_bwd_lambda(_chunks), over the coef and decay below
//!include linear_scan_chunks

// (a, b) of step element i: (1 − z, z·g(p)), z = σ(k).
fn coef(i: u32) -> vec2f {
  let kk = k[i];
  return vec2f(sigmoid_f(-kk), sigmoid_f(kk) * g_f(p[i]));
}
// a = σ(−k) alone (the adjoint's decay).
fn decay(i: u32) -> f32 {
  return sigmoid_f(-k[i]);
}

@compute @workgroup_size(WG)
fn mingru_scan_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x;
  if (c >= u.N) { return; }
  for (var t = gid.y; t < u.T; t += nwg.y) {
    let i = t * u.N + c;
    let hp = h_prev(t, c, i);
    let kk = k[i];
    let pp = p[i];
    let lz = lam[i] * sigmoid_f(kk);
    dk[i] = lz * sigmoid_f(-kk) * (g_f(pp) - hp);
    lam[i] = lz * dg_f(pp);
  }
}
