// The gated scans' recurrence plumbing (`//!include linear_scan_chunks`), shared by mingru_scan and minlstm_scan and
// driven by scanGpuForward / scanGpuBackward in src/ops/scan_common.ts: h_t = a_t·h_{t−1} + b_t per channel c < N over
// time-major (T, N) buffers, and its adjoint λ_t = dh_t + a_{t+1}·λ_{t+1} in reverse, either one invocation per
// channel looping over T or chunked in three phases (u.phase 0: per chunk (∏a, h from 0), 1: the carries, sequential
// over the chunks per channel, 2: each chunk replayed from its carry). Chunk j covers steps [j·L, min((j+1)·L, T)).
// Brings the uniform u (@0 Params), the bindings below, h0_eff, h_prev, write_dh0 and the entries
//   scan_fwd                 @1… the PRE pre-activations (T,N), then h0 (N) h (T,N) hT (N)        [x]
//   scan_fwd_chunks          as scan_fwd + agg (nC,N) vec2                      [x, nC] / [x, 1] / [x, nC]
//   scan_bwd_lambda          @1… the PRE − 1 inputs of the decay, then b_h0 (N) dh (T,N) dhT (N) lam (T,N) dh0 (N)
//   scan_bwd_lambda_chunks   as scan_bwd_lambda + b_agg (nC,N) vec2, phases as scan_fwd_chunks, reversed
// and, for the shader's chain-rule entry (bindings pre…, h0, hs, lam, then its gradients), hs: the forward's h.
// The including shader declares `override WG: u32`, `const PRE: u32` (its pre-activation inputs, the last one p, not
// read by the decay), its own bindings from @1 and after lam, g_f and dg_f (`//!include gates`), and the model:
// fn coef(i: u32) -> vec2f, the (a, b) of element i = t·N + c, and fn decay(i: u32) -> f32, its a alone.

struct Params { T: u32, N: u32, mode: u32, L: u32, nC: u32, phase: u32, norm: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(PRE + 1) var<storage, read> h0: array<f32>;           // (N)     scan_fwd*, chain rule
@group(0) @binding(PRE + 2) var<storage, read_write> h: array<f32>;      // (T, N)  scan_fwd*
@group(0) @binding(PRE + 3) var<storage, read_write> hT: array<f32>;     // (N)     scan_fwd*
@group(0) @binding(PRE + 4) var<storage, read_write> agg: array<vec2f>;  // (nC, N) scan_fwd_chunks
@group(0) @binding(PRE) var<storage, read> b_h0: array<f32>;             // (N)     scan_bwd_lambda*
@group(0) @binding(PRE + 1) var<storage, read> dh: array<f32>;           // (T, N)  scan_bwd_lambda*
@group(0) @binding(PRE + 2) var<storage, read> dhT: array<f32>;          // (N)     scan_bwd_lambda*
@group(0) @binding(PRE + 3) var<storage, read_write> lam: array<f32>;    // (T, N)  scan_bwd_lambda*, chain rule (→ dp)
@group(0) @binding(PRE + 4) var<storage, read_write> dh0: array<f32>;    // (N)     scan_bwd_lambda*
@group(0) @binding(PRE + 5) var<storage, read_write> b_agg: array<vec2f>;// (nC, N) scan_bwd_lambda_chunks
@group(0) @binding(PRE + 2) var<storage, read> hs: array<f32>;           // (T, N)  chain rule: the forward's h

/** h_{−1} from the raw h0 value by mode: 0 none, 1 pre-activation g(h0), 2 state h0. */
fn h0_eff(raw: f32) -> f32 {
  if (u.mode == 1u) { return g_f(raw); }
  return select(0.0, raw, u.mode == 2u);
}

/** h_{t−1} of element i = t·N + c for the chain rule: the effective h0 at t = 0, else the forward's h. */
fn h_prev(t: u32, c: u32, i: u32) -> f32 {
  if (t == 0u) { return h0_eff(h0[c]); }
  return hs[i - u.N];
}

@compute @workgroup_size(WG)
fn scan_fwd(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= u.N) { return; }
  var hc = h0_eff(h0[c]);
  for (var t = 0u; t < u.T; t++) {
    let i = t * u.N + c;
    let ab = coef(i);
    hc = ab.x * hc + ab.y;
    h[i] = hc;
  }
  hT[c] = hc;
}

@compute @workgroup_size(WG)
fn scan_fwd_chunks(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let j = gid.y;
  if (c >= u.N || j >= u.nC) { return; }
  if (u.phase == 1u) { // carries: agg[j] ← h entering chunk j
    var carry = h0_eff(h0[c]);
    for (var jj = 0u; jj < u.nC; jj++) {
      let e = agg[jj * u.N + c];
      agg[jj * u.N + c] = vec2f(carry, 0.0);
      carry = e.x * carry + e.y;
    }
    return;
  }
  let t1 = min((j + 1u) * u.L, u.T);
  if (u.phase == 0u) {
    var A = 1.0;
    var Bc = 0.0;
    for (var t = j * u.L; t < t1; t++) {
      let ab = coef(t * u.N + c);
      A = A * ab.x;
      Bc = ab.x * Bc + ab.y;
    }
    agg[j * u.N + c] = vec2f(A, Bc);
    return;
  }
  var hc = agg[j * u.N + c].x;
  for (var t = j * u.L; t < t1; t++) {
    let i = t * u.N + c;
    let ab = coef(i);
    hc = ab.x * hc + ab.y;
    h[i] = hc;
  }
  if (t1 == u.T) { hT[c] = hc; }
}

/** dh0 from the adjoint carried past t = 0 (λ_0·a_0), through g' in mode 1. */
fn write_dh0(c: u32, x: f32) {
  if (u.mode == 1u) { dh0[c] = x * dg_f(b_h0[c]); }
  if (u.mode == 2u) { dh0[c] = x; }
}

@compute @workgroup_size(WG)
fn scan_bwd_lambda(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= u.N) { return; }
  var x = dhT[c]; // a_{t+1}·λ_{t+1}: what flows into step t from the right
  for (var t = u.T; t > 0u; t--) {
    let i = (t - 1u) * u.N + c;
    let l = dh[i] + x;
    lam[i] = l;
    x = decay(i) * l;
  }
  write_dh0(c, x);
}

@compute @workgroup_size(WG)
fn scan_bwd_lambda_chunks(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let j = gid.y;
  if (c >= u.N || j >= u.nC) { return; }
  if (u.phase == 1u) { // carries, right to left: b_agg[j] ← what flows into chunk j's last step
    var x = dhT[c];
    for (var jj = u.nC; jj > 0u; jj--) {
      let e = b_agg[(jj - 1u) * u.N + c];
      b_agg[(jj - 1u) * u.N + c] = vec2f(x, 0.0);
      x = e.x * x + e.y;
    }
    write_dh0(c, x);
    return;
  }
  let t0 = j * u.L;
  let t1 = min(t0 + u.L, u.T);
  var x = select(0.0, b_agg[j * u.N + c].x, u.phase == 2u);
  var A = 1.0;
  for (var t = t1; t > t0; t--) {
    let i = (t - 1u) * u.N + c;
    let l = dh[i] + x;
    let a = decay(i);
    if (u.phase == 2u) { lam[i] = l; }
    A = A * a;
    x = a * l;
  }
  if (u.phase == 0u) { b_agg[j * u.N + c] = vec2f(A, x); }
}
