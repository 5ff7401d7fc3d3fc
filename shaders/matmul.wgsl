// matmul: C = op(A)·op(B) (+ bias), batched, any element strides (transposes; a shared 2-D operand has batch stride 0).
// Each workgroup computes a TILE_M x TILE_N tile of C (TILE = 4 x workgroup side), staging BK-deep slabs of A and B
// in workgroup memory; each invocation keeps a 4x4 register block whose rows/columns are WG_Y/WG_X apart.
// Bindings: @0 Dims (uniform), @1 a (batch|1, M, K) by strides, @2 b (batch|1, K, N) by strides,
//           @3 bias (N) (aliases a when absent; hasBias = 0), @4 c (batch, M, N) contiguous.
// Dispatch: [ceil(N / TILE_N), ceil(M / TILE_M), batch chunk]; zBase offsets the batch index of a chunk.
// Overrides: WG_X, WG_Y (invocations per side, <= 16), BK (<= 16). Workgroup memory: 8 KiB.

struct Dims {
  batch: u32, M: u32, N: u32, K: u32,
  sAb: u32, sAm: u32, sAk: u32,
  sBb: u32, sBk: u32, sBn: u32,
  hasBias: u32, zBase: u32,
}

@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;       // (batch|1, M, K)
@group(0) @binding(2) var<storage, read> b: array<f32>;       // (batch|1, K, N)
@group(0) @binding(3) var<storage, read> bias: array<f32>;    // (N)
@group(0) @binding(4) var<storage, read_write> c: array<f32>; // (batch, M, N)

override WG_X: u32 = 16u; // <= 16
override WG_Y: u32 = 16u; // <= 16
override BK: u32 = 16u;   // <= 16
const RM: u32 = 4u; // rows of C per invocation
const RN: u32 = 4u; // columns of C per invocation
// Sized for the largest configuration with consts, not overrides: override-sized workgroup arrays have had
// engine bugs (WebKit 265895, naga #4450). 2 x 4 KiB, within the 16 KiB default limit.
const SLAB: u32 = 16u * 16u * 4u; // BK_max * TILE_max
var<workgroup> As: array<f32, SLAB>; // [BK][TILE_M], k-major
var<workgroup> Bs: array<f32, SLAB>; // [BK][TILE_N], k-major

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul_fwd(
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
) {
  let tileM = WG_Y * RM;
  let tileN = WG_X * RN;
  let threads = WG_X * WG_Y;
  let bt = wid.z + d.zBase;
  let m0 = wid.y * tileM;
  let n0 = wid.x * tileN;
  let aBase = bt * d.sAb;
  let bBase = bt * d.sBb;
  // Walk global memory along its unit stride so neighbouring invocations load neighbouring elements.
  let aKFast = d.sAk == 1u;
  let bNFast = d.sBn == 1u;

  var acc: array<f32, 16>; // RM * RN
  for (var k0 = 0u; k0 < d.K; k0 += BK) {
    for (var l = li; l < BK * tileM; l += threads) {
      var mm = l % tileM;
      var kk = l / tileM;
      if (aKFast) { mm = l / BK; kk = l % BK; }
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < d.M && k < d.K) { v = a[aBase + m * d.sAm + k * d.sAk]; }
      As[kk * tileM + mm] = v;
    }
    for (var l = li; l < BK * tileN; l += threads) {
      var nn = l / BK;
      var kk = l % BK;
      if (bNFast) { nn = l % tileN; kk = l / tileN; }
      let n = n0 + nn;
      let k = k0 + kk;
      var v = 0.0;
      if (n < d.N && k < d.K) { v = b[bBase + k * d.sBk + n * d.sBn]; }
      Bs[kk * tileN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>; // RM
      for (var i = 0u; i < RM; i++) { av[i] = As[kk * tileM + lid.y + i * WG_Y]; }
      for (var j = 0u; j < RN; j++) {
        let bv = Bs[kk * tileN + lid.x + j * WG_X];
        for (var i = 0u; i < RM; i++) { acc[i * RN + j] = fma(av[i], bv, acc[i * RN + j]); }
      }
    }
    workgroupBarrier();
  }

  if (bt >= d.batch) { return; }
  for (var j = 0u; j < RN; j++) {
    let n = n0 + lid.x + j * WG_X;
    if (n >= d.N) { continue; }
    var add = 0.0;
    if (d.hasBias != 0u) { add = bias[n]; }
    for (var i = 0u; i < RM; i++) {
      let m = m0 + lid.y + i * WG_Y;
      if (m < d.M) { c[(bt * d.M + m) * d.N + n] = acc[i * RN + j] + add; }
    }
  }
}
