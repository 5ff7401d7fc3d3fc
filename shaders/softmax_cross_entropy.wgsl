// Softmax cross-entropy, one workgroup per row (2-D grid, x·y ≥ N; any V): max and Σ exp(x − max) by tree
// reductions in workgroup memory. Uniforms (N, V). A target outside [0, V) (−1 = ignore) gives loss 0 and
// gradient 0, and is never used as an index.

override WG: u32 = 256; // a power of two

struct Dims { N: u32, V: u32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;          // (N, V)
@group(0) @binding(2) var<storage, read> targets: array<i32>;         // (N)
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;      // (N)      forward
@group(0) @binding(3) var<storage, read> dloss: array<f32>;           // (N)      backward
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;   // (N, V)   backward

// reduce_wg(lid, v, op): max (op 0) or sum (op 1) of v over the workgroup (shaders/lib/row_reduce.wgsl).
//!include row_reduce

/** (max, Σ exp(x − max)) of the row starting at base. */
fn row_stats(base: u32, lid: u32) -> vec2f {
  var mx = logits[base]; // V >= 1; a real element, so rows at -FLT_MAX keep max = x
  for (var j = lid; j < u.V; j += WG) { mx = max(mx, logits[base + j]); }
  let m = reduce_wg(lid, mx, 0u);
  var acc = 0.0;
  for (var j = lid; j < u.V; j += WG) { acc += exp(logits[base + j] - m); }
  return vec2f(m, reduce_wg(lid, acc, 1u));
}

@compute @workgroup_size(WG)
fn softmax_cross_entropy_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                             @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.V;
  let st = row_stats(base, lid);
  if (lid == 0u) {
    let t = targets[n];
    var l = 0.0;
    if (t >= 0 && u32(t) < u.V) { l = (st.x - logits[base + u32(t)]) + log(st.y); }
    loss[n] = l;
  }
}

@compute @workgroup_size(WG)
fn softmax_cross_entropy_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                             @builtin(local_invocation_index) lid: u32) {
  let n = wid.y * nwg.x + wid.x;
  if (n >= u.N) { return; }
  let base = n * u.V;
  let st = row_stats(base, lid);
  let t = targets[n];
  let valid = t >= 0 && u32(t) < u.V;
  let dl = dloss[n];
  let scale = dl / st.y;
  for (var j = lid; j < u.V; j += WG) {
    var g = 0.0;
    if (valid) { g = exp(logits[base + j] - st.x) * scale - select(0.0, dl, j == u32(t)); }
    dlogits[base + j] = g;
  }
}
