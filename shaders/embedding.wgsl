// embedding: row lookup out[n, d] = table[ids[n], d] (zero for an id outside [0, V)), and its backward
// dtable[v, d] = Σ_{n: ids[n] = v} dy[n, d] done as a gather (WebGPU has no float atomics).
// Both entries take uniforms (N, V, D) and a 2-D grid of workgroups (x·y ≥ the count below).

override WG: u32 = 64;

struct Dims { N: u32, V: u32, D: u32 }
@group(0) @binding(0) var<uniform> u: Dims;

// ---- forward: one invocation per output element, ceil(N·D / WG) workgroups ----
@group(0) @binding(1) var<storage, read> ids: array<i32>;          // (N)
@group(0) @binding(2) var<storage, read> table: array<f32>;        // (V, D)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // (N, D)

@compute @workgroup_size(WG)
fn embedding_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= u.N * u.D) { return; }
  let n = i / u.D;
  let d = i - n * u.D;
  let id = ids[n];
  var x = 0.0;
  if (id >= 0 && u32(id) < u.V) { x = table[u32(id) * u.D + d]; }
  out[i] = x;
}

// ---- backward: one workgroup per table row v (V workgroups) ----
// The workgroup reads ids in tiles of WG. A tile with no id equal to v costs two barriers; otherwise the hits
// are compacted in increasing n by a prefix sum (so sums run in a fixed order) and their dy rows are added
// into the workgroup's own row of dtable.
@group(0) @binding(1) var<storage, read> ids_b: array<i32>;        // (N)
@group(0) @binding(2) var<storage, read> dy: array<f32>;           // (N, D)
@group(0) @binding(3) var<storage, read_write> dtable: array<f32>; // (V, D)

var<workgroup> scan: array<u32, WG>;
var<workgroup> hits: array<u32, WG>;
var<workgroup> any_hit: u32;

@compute @workgroup_size(WG)
fn embedding_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let v = wid.y * nwg.x + wid.x;
  if (v >= u.V) { return; }
  let row = v * u.D;
  for (var d = lid; d < u.D; d += WG) { dtable[row + d] = 0.0; }
  for (var t0 = 0u; t0 < u.N; t0 += WG) {
    let n = t0 + lid;
    var hit = 0u;
    if (n < u.N && ids_b[n] == i32(v)) {
      hit = 1u;
      any_hit = 1u;
    }
    scan[lid] = hit;
    let found = workgroupUniformLoad(&any_hit);
    workgroupBarrier(); // every invocation has read any_hit before it is reset
    if (found == 0u) { continue; }
    if (lid == 0u) { any_hit = 0u; }
    for (var off = 1u; off < WG; off <<= 1u) { // Hillis–Steele inclusive scan of the hit flags
      var x = 0u;
      if (lid >= off) { x = scan[lid - off]; }
      workgroupBarrier();
      scan[lid] += x;
      workgroupBarrier();
    }
    if (hit == 1u) { hits[scan[lid] - 1u] = n; }
    let m = scan[WG - 1u];
    workgroupBarrier();
    for (var d = lid; d < u.D; d += WG) {
      var acc = dtable[row + d];
      for (var j = 0u; j < m; j++) { acc += dy[hits[j] * u.D + d]; }
      dtable[row + d] = acc;
    }
    workgroupBarrier(); // scan and hits are rewritten by the next tile
  }
}
