// binary: c = a ∘ b (0 add, 1 sub, 2 mul, 3 div) with broadcasting. The host collapses the output to rank ≤ 6 dims
// (left-padded with 1) and passes per-operand element strides, 0 on broadcast axes. c is contiguous.
// Dispatch: (min(ceil(n/WG), max), 1, 1), grid-stride over the n outputs.
override WG: u32 = 256u;

struct Params {
  n: u32,
  fn_id: u32,
  rank: u32,
  d0: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
  sa0: u32, sa1: u32, sa2: u32, sa3: u32, sa4: u32, sa5: u32,
  sb0: u32, sb1: u32, sb2: u32, sb3: u32, sb4: u32, sb5: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // strided view of (d0..d5)
@group(0) @binding(2) var<storage, read> b: array<f32>;        // strided view of (d0..d5)
@group(0) @binding(3) var<storage, read_write> c: array<f32>;  // (d0, d1, d2, d3, d4, d5) contiguous

fn apply(id: u32, x: f32, y: f32) -> f32 {
  switch id {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    default: { return x / y; }
  }
}

@compute @workgroup_size(WG)
fn binary_fwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var d = array<u32, 6>(u.d0, u.d1, u.d2, u.d3, u.d4, u.d5);
  var sa = array<u32, 6>(u.sa0, u.sa1, u.sa2, u.sa3, u.sa4, u.sa5);
  var sb = array<u32, 6>(u.sb0, u.sb1, u.sb2, u.sb3, u.sb4, u.sb5);
  let top = 6u - u.rank; // outermost used dim
  let stride = nwg.x * WG;
  for (var i = gid.x; i < u.n; i += stride) {
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var k = 5u; k > top; k--) {
      let coord = rest % d[k];
      rest = rest / d[k];
      ia += coord * sa[k];
      ib += coord * sb[k];
    }
    ia += rest * sa[top];
    ib += rest * sb[top];
    c[i] = apply(u.fn_id, a[ia], b[ib]);
  }
}
