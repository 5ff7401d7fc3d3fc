// minLSTM scan, time-major (T, N = B·D): h_t = f'_t·h_{t−1} + i'_t·g(p_t) (models.md §C.3), normalised (u.norm = 1:
// f' = σ(−Δ), i' = σ(Δ), Δ = softplus(−u_f) − softplus(−u_i)) or not (f' = σ(u_f), i' = σ(u_i)); backward (§D.1, §D.3):
// the adjoint λ_t = dh_t + f'_{t+1}·λ_{t+1} in reverse, then the chain rule element-parallel. h0 mode (u.mode): 0 none,
// 1 pre-activation g(h0), 2 state h0. Entries and bindings (uniform @0 Params; dispatch x = ceil(N / WG)):
//   scan_fwd                 @1 uf (T,N) @2 ui (T,N) @3 p (T,N) @4 h0 (N) @5 h (T,N) @6 hT (N)           [x]
//   scan_fwd_chunks          as fwd + @7 agg (nC,N) vec2; phase 0 chunk (∏a, local h), 1 carries, 2 replay
//                                                                                               [x, nC] / [x, 1] / [x, nC]
//   scan_bwd_lambda          @1 uf @2 ui @3 h0 (N) @4 dh (T,N) @5 dhT (N) @6 lam (T,N) @7 dh0 (N)         [x]
//   scan_bwd_lambda_chunks   as bwd_lambda + @8 agg (nC,N) vec2, phases as fwd_chunks, reversed
//   minlstm_scan_bwd         @1 uf @2 ui @3 p @4 h0 @5 h (T,N) @6 lam → dp (in place) @7 duf @8 dui   [x, min(T, 65535)]
// Chunk j covers steps [j·L, min((j+1)·L, T)). Overrides: WG.
override WG: u32 = 64u;

const PRE: u32 = 3u; // uf, ui, p
@group(0) @binding(1) var<storage, read> uf: array<f32>;           // (T, N)  every entry
@group(0) @binding(2) var<storage, read> ui: array<f32>;           // (T, N)  every entry
@group(0) @binding(3) var<storage, read> p: array<f32>;            // (T, N)  fwd, fwd_chunks, bwd
@group(0) @binding(7) var<storage, read_write> duf: array<f32>;    // (T, N)  bwd
@group(0) @binding(8) var<storage, read_write> dui: array<f32>;    // (T, N)  bwd

// exp_f, sigmoid_f, softplus_f, g_f (x + ½ or σ), dg_f
//!include gates
// uniform u (Params); bindings h0 h hT agg, b_h0 dh dhT lam dh0 b_agg, hs (numbered after PRE); h0_eff, h_prev,
// write_dh0; the entries scan_fwd, scan_fwd_chunks, scan_bwd_lambda(_chunks), over the coef and decay below
//!include linear_scan_chunks

// (f', i', ∂f'i'-factor for u_f, for u_i): normalised f' = σ(−Δ), i' = σ(Δ) and (f'i'σ(−u_f), f'i'σ(−u_i));
// plain f' = σ(u_f), i' = σ(u_i) and (f(1−f), i(1−i)).
fn gates(a: f32, b: f32) -> vec4f {
  if (u.norm == 1u) {
    let d = softplus_f(-a) - softplus_f(-b);
    let fp = sigmoid_f(-d);
    let ip = sigmoid_f(d);
    return vec4f(fp, ip, fp * ip * sigmoid_f(-a), fp * ip * sigmoid_f(-b));
  }
  let f = sigmoid_f(a);
  let i = sigmoid_f(b);
  return vec4f(f, i, f * sigmoid_f(-a), i * sigmoid_f(-b));
}
// (a, b) of step element i: (f', i'·g(p)).
fn coef(i: u32) -> vec2f {
  let gt = gates(uf[i], ui[i]);
  return vec2f(gt.x, gt.y * g_f(p[i]));
}
// a = f' alone (the adjoint's decay).
fn decay(i: u32) -> f32 {
  if (u.norm == 1u) { return sigmoid_f(softplus_f(-ui[i]) - softplus_f(-uf[i])); }
  return sigmoid_f(uf[i]);
}

@compute @workgroup_size(WG)
fn minlstm_scan_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x;
  if (c >= u.N) { return; }
  for (var t = gid.y; t < u.T; t += nwg.y) {
    let i = t * u.N + c;
    let hp = h_prev(t, c, i);
    let gt = gates(uf[i], ui[i]);
    let pp = p[i];
    let l = lam[i];
    let gp = g_f(pp);
    if (u.norm == 1u) {
      let dd = l * (gp - hp);
      duf[i] = -dd * gt.z;
      dui[i] = dd * gt.w;
    } else {
      duf[i] = l * hp * gt.z;
      dui[i] = l * gp * gt.w;
    }
    lam[i] = l * gt.y * dg_f(pp);
  }
}
