// concat, one dispatch per input: x's rows (outer, len) copied into y (outer, ystride) at column dstOff, one element
// per invocation, bits copied as u32 (f32 and i32 alike): y[dstOff + r·dstStride + j] = x[srcOff + r·srcStride + j].
// Bindings: @0 Copy; @1 x (outer, n_i·inner); @2 y (outer, Σn·inner). Dispatch: [min(groups, maxPerDim),
// ceil(groups / x)], groups = ceil(total / WG), total = outer·len. Overrides: WG.

override WG: u32 = 256;

struct Copy { rows: u32, len: u32, srcStride: u32, srcOff: u32, dstStride: u32, dstOff: u32, total: u32 }
@group(0) @binding(0) var<uniform> u: Copy;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WG)
fn concat_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid;
  if (e >= u.total) { return; }
  let r = e / u.len;
  let j = e - r * u.len;
  y[u.dstOff + r * u.dstStride + j] = x[u.srcOff + r * u.srcStride + j];
}
