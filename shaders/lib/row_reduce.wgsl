// Workgroup tree reductions for one-workgroup-per-row kernels (`//!include row_reduce`). The including shader
// declares `override WG: u32` (a power of two); every invocation of the workgroup must call, in the same order.

var<workgroup> red: array<f32, WG>;
var<workgroup> red2: array<vec2f, WG>;

/** Tree-reduces v over the workgroup with max (op 0) or + (op 1); every invocation gets the result. */
fn reduce_wg(lid: u32, v: f32, op: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (op == 0u) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] = red[lid] + red[lid + s]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // red is reused by the next reduction
  return r;
}

/** Sums two values at once over the workgroup; every invocation gets the result. */
fn reduce_wg2(lid: u32, v: vec2f) -> vec2f {
  red2[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red2[lid] = red2[lid] + red2[lid + s]; }
    workgroupBarrier();
  }
  let r = red2[0];
  workgroupBarrier(); // red2 is reused by the next reduction
  return r;
}
