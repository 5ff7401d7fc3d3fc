// causal_conv1d: depthwise causal conv over time, y_t = bias + Σ_{j<K} w[j]⊙xx_{t+j} with xx = [state (K−1 rows) or
// zeros; x (T rows)], rows of N = B·D channels, time-major. Backward without float atomics:
//   bwd_dx:     per (u, n), u < T+K−1: dxx_u = Σ_j w[j]·dy_{u−j} (+ dStateOut_{u−T}) into dx (u >= K−1) or dstate
//   bwd_params: per (j·D + d, chunk p of R rows of the T·B rows): part[p, j, d] = Σ dy·xx_{t+j} (j = K: Σ dy)
//   bwd_sum:    per (j·D + d): dw[j, d] (j < K) or dbias[d] (j = K) = Σ_p part[p, j, d]
// Bindings: @0 U (T, B, D, K, hasBias, hasState, R, P)
//   fwd:    @1 x (T, B, D), @2 w (K, D), @3 bias (D), @4 state (K−1, B, D), @5 y (T, B, D)      dispatch grid(T·B·D)
//   state:  @1 x (T, B, D), @2 state (K−1, B, D), @3 stateOut (K−1, B, D)                      dispatch grid((K−1)·B·D)
//   bwd_dx: @1 w (K, D), @2 dy (T, B, D), @3 dStateOut (K−1, B, D), @4 dx (T, B, D), @5 dstate (K−1, B, D)
//                                                                                              dispatch grid((T+K−1)·B·D)
//   bwd_params: @1 x (T, B, D), @2 dy (T, B, D), @3 state (K−1, B, D), @4 part (P, K+1, D)     dispatch [ceil((K+1)·D / WG), P]
//   bwd_sum:    @1 part (P, K+1, D), @2 dw (K, D), @3 dbias (D)                                dispatch [ceil((K+1)·D / WG)]
// grid(n) = [x, y] with x·y·WG >= n. Absent bias / state / dStateOut: any buffer at the slot, never read; dstate
// absent: a 4-byte scratch, never written. Overrides: WG.

override WG: u32 = 64;

struct U { T: u32, B: u32, D: u32, K: u32, hasBias: u32, hasState: u32, R: u32, P: u32 }
@group(0) @binding(0) var<uniform> u: U;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
// state
@group(0) @binding(2) var<storage, read> state_s: array<f32>;
@group(0) @binding(3) var<storage, read_write> state_out: array<f32>;
// bwd_dx
@group(0) @binding(1) var<storage, read> w_d: array<f32>;
@group(0) @binding(2) var<storage, read> dy_d: array<f32>;
@group(0) @binding(3) var<storage, read> dso: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dstate: array<f32>;
// bwd_params
@group(0) @binding(2) var<storage, read> dy_p: array<f32>;
@group(0) @binding(3) var<storage, read> state_p: array<f32>;
@group(0) @binding(4) var<storage, read_write> part: array<f32>;
// bwd_sum
@group(0) @binding(1) var<storage, read> part_s: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn causal_conv1d_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let N = u.B * u.D;
  let i = index(wid, nwg, lid);
  if (i >= u.T * N) { return; }
  let t = i / N;
  let n = i - t * N;
  let d = n % u.D;
  var acc = 0.0;
  if (u.hasBias != 0u) { acc = bias[d]; }
  for (var j = 0u; j < u.K; j++) {
    let r = t + j; // row of xx
    if (r + 1u >= u.K) {
      acc += w[j * u.D + d] * x[(r + 1u - u.K) * N + n];
    } else if (u.hasState != 0u) {
      acc += w[j * u.D + d] * state[r * N + n];
    }
  }
  y[i] = acc;
}

@compute @workgroup_size(WG)
fn causal_conv1d_state(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let N = u.B * u.D;
  let i = index(wid, nwg, lid);
  if (i >= (u.K - 1u) * N) { return; }
  let r = u.T + i / N; // row of xx
  let n = i % N;
  if (r + 1u >= u.K) { state_out[i] = x[(r + 1u - u.K) * N + n]; } else { state_out[i] = state_s[r * N + n]; }
}

@compute @workgroup_size(WG)
fn causal_conv1d_bwd_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let N = u.B * u.D;
  let i = index(wid, nwg, lid);
  if (i >= (u.T + u.K - 1u) * N) { return; }
  let r = i / N; // row of xx
  let n = i - r * N;
  let d = n % u.D;
  if (r + 1u < u.K && u.hasState == 0u) { return; }
  var acc = 0.0;
  if (u.hasState != 0u && r >= u.T) { acc = dso[(r - u.T) * N + n]; } // the new state's gradient: the last K−1 rows
  for (var j = 0u; j < u.K; j++) {
    if (j <= r && r - j < u.T) { acc += w_d[j * u.D + d] * dy_d[(r - j) * N + n]; }
  }
  if (r + 1u >= u.K) { dx[(r + 1u - u.K) * N + n] = acc; } else { dstate[r * N + n] = acc; }
}

@compute @workgroup_size(WG)
fn causal_conv1d_bwd_params(@builtin(global_invocation_id) gid: vec3u) {
  let jd = gid.x;
  let p = gid.y;
  if (jd >= (u.K + 1u) * u.D) { return; }
  let j = jd / u.D;
  let d = jd - j * u.D;
  let N = u.B * u.D;
  var acc = 0.0;
  let end = min(u.T * u.B, (p + 1u) * u.R);
  for (var q = p * u.R; q < end; q++) { // row q = (t, b)
    let t = q / u.B;
    let n = (q - t * u.B) * u.D + d;
    let g = dy_p[t * N + n];
    if (j == u.K) {
      acc += g;
    } else {
      let r = t + j;
      if (r + 1u >= u.K) { acc += g * x[(r + 1u - u.K) * N + n]; } else if (u.hasState != 0u) { acc += g * state_p[r * N + n]; }
    }
  }
  part[p * (u.K + 1u) * u.D + jd] = acc;
}

@compute @workgroup_size(WG)
fn causal_conv1d_bwd_sum(@builtin(global_invocation_id) gid: vec3u) {
  let jd = gid.x;
  if (jd >= (u.K + 1u) * u.D) { return; }
  var acc = 0.0;
  for (var p = 0u; p < u.P; p++) { acc += part_s[p * (u.K + 1u) * u.D + jd]; }
  if (jd < u.K * u.D) { dw[jd] = acc; } else { dbias[jd - u.K * u.D] = acc; }
}
