// slice as a strided row copy, one element per invocation, bits copied as u32 (so f32 and i32 alike).
// slice_fwd: dst[dstOff + r·dstStride + j] = src[srcOff + r·srcStride + j] for r < rows, j < len (total = rows·len).
// slice_bwd: dx[r·dstStride + k] = dy[r·len + k − dstOff] inside the slice, 0 outside (total = rows·dstStride).
// Bindings: @0 Copy; @1 src: x (outer, n·inner) or dy (outer, size·inner); @2 dst: y (outer, size·inner) or dx (outer, dim·inner).
// Dispatch: [min(groups, maxPerDim), ceil(groups / x)], groups = ceil(total / WG). Overrides: WG.

override WG: u32 = 256;

struct Copy { rows: u32, len: u32, srcStride: u32, srcOff: u32, dstStride: u32, dstOff: u32, total: u32 }
@group(0) @binding(0) var<uniform> u: Copy;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WG)
fn slice_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid;
  if (e >= u.total) { return; }
  let r = e / u.len;
  let j = e - r * u.len;
  dst[u.dstOff + r * u.dstStride + j] = src[u.srcOff + r * u.srcStride + j];
}

@compute @workgroup_size(WG)
fn slice_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid;
  if (e >= u.total) { return; }
  let r = e / u.dstStride;
  let k = e - r * u.dstStride;
  var v = 0u;
  if (k >= u.dstOff && k < u.dstOff + u.len) { v = src[u.srcOff + r * u.srcStride + k - u.dstOff]; }
  dst[e] = v;
}
