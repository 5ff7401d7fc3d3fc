// reduce: x seen as (outer, n, inner); y[o, j] = sum | mean | max over k of x[o, k, j] (op 0 | 1 | 2), and the
// backward dx[o, k, j] (max: dy at the first k where x == y or x is NaN, else 0). Two layouts:
// reduce_fwd/_bwd: one workgroup (WG a power of two) per output (o, j), threads stride over k, then a tree through
//   workgroup memory; dispatch (min(outer·inner, max), ceil(outer·inner / that), 1), output = wid.x + wid.y·nwg.x.
// reduce_fwd_cols/_bwd_cols: one thread per output, neighbours read neighbouring j (coalesced); sums in 3 levels
//   of blocks (64, 64·64, all) to stay accurate for long n; dispatch (min(ceil(outer·inner / WG), max), 1, 1).
override WG: u32 = 256u;

struct Params {
  outer: u32,
  n: u32,
  inner: u32,
  op: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // (outer, n, inner)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;        // (outer, inner) reduce_fwd output
@group(0) @binding(2) var<storage, read> y_in: array<f32>;           // (outer, inner) reduce_bwd: forward output
@group(0) @binding(3) var<storage, read> dy: array<f32>;             // (outer, inner)
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;       // (outer, n, inner)

var<workgroup> part: array<f32, WG>;
// WGSL lets compilers assume no NaN at run time (v != v may fold to false), so NaN is tested on the bits.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// max that propagates NaN
fn max_nan(a: f32, b: f32) -> f32 {
  if (is_nan(a)) {
    return a;
  }
  return select(max(a, b), b, is_nan(b));
}
var<workgroup> kfirst: array<u32, WG>;

/** Index in x of the first term (k = 0) of output `out` = (o, j): x[o, 0, j]; the others follow every `inner`. */
fn first_of(out: u32) -> u32 {
  return (out / u.inner) * u.n * u.inner + out % u.inner;
}

@compute @workgroup_size(WG)
fn reduce_fwd(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let out = wid.x + wid.y * nwg.x;
  if (out >= u.outer * u.inner) {
    return;
  }
  let base = first_of(out);
  let t = lid.x;
  var acc = 0.0;
  if (u.op == 2u) {
    acc = x[base]; // n ≥ 1 for max (checked on the host)
  }
  for (var k = t; k < u.n; k += WG) {
    let v = x[base + k * u.inner];
    if (u.op == 2u) {
      acc = max_nan(acc, v);
    } else {
      acc += v;
    }
  }
  part[t] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      let other = part[t + s];
      if (u.op == 2u) {
        part[t] = max_nan(part[t], other);
      } else {
        part[t] = part[t] + other;
      }
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    y[out] = select(part[0], part[0] / f32(u.n), u.op == 1u);
  }
}

@compute @workgroup_size(WG)
fn reduce_bwd(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let out = wid.x + wid.y * nwg.x;
  if (out >= u.outer * u.inner) {
    return;
  }
  let base = first_of(out);
  let t = lid.x;
  let g = dy[out];
  if (u.op != 2u) {
    let v = select(g, g / f32(u.n), u.op == 1u);
    for (var k = t; k < u.n; k += WG) {
      dx[base + k * u.inner] = v;
    }
    return;
  }
  let m = y_in[out];
  var kmin = u.n;
  for (var k = t; k < u.n; k += WG) {
    let v = x[base + k * u.inner];
    if ((v == m || is_nan(v)) && k < kmin) {
      kmin = k;
    }
  }
  kfirst[t] = kmin;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      kfirst[t] = min(kfirst[t], kfirst[t + s]);
    }
    workgroupBarrier();
  }
  let kf = workgroupUniformLoad(&kfirst[0]);
  for (var k = t; k < u.n; k += WG) {
    dx[base + k * u.inner] = select(0.0, g, k == kf);
  }
}

/** Σ_k x[base + k·inner] in three levels of blocks (64 terms, 64 blocks, all), so f32 error grows slowly with n. */
fn sum_strided(base: u32) -> f32 {
  var total = 0.0;
  var k = 0u;
  while (k < u.n) {
    var big = 0.0;
    let k_big = min(k + 4096u, u.n);
    while (k < k_big) {
      var small = 0.0;
      let k_small = min(k + 64u, k_big);
      for (; k < k_small; k++) {
        small += x[base + k * u.inner];
      }
      big += small;
    }
    total += big;
  }
  return total;
}

@compute @workgroup_size(WG)
fn reduce_fwd_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var out = gid.x; out < u.outer * u.inner; out += nwg.x * WG) {
    let base = first_of(out);
    if (u.op == 2u) {
      var m = x[base];
      for (var k = 1u; k < u.n; k++) {
        let v = x[base + k * u.inner];
        m = max_nan(m, v);
      }
      y[out] = m;
    } else {
      let s = sum_strided(base);
      y[out] = select(s, s / f32(u.n), u.op == 1u);
    }
  }
}

@compute @workgroup_size(WG)
fn reduce_bwd_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var out = gid.x; out < u.outer * u.inner; out += nwg.x * WG) {
    let base = first_of(out);
    let g = dy[out];
    var kf = u.n; // max: the first k where x == y (or x is NaN)
    if (u.op == 2u) {
      let m = y_in[out];
      for (var k = 0u; k < u.n; k++) {
        let v = x[base + k * u.inner];
        if (v == m || is_nan(v)) {
          kf = k;
          break;
        }
      }
    }
    let v = select(g, g / f32(u.n), u.op == 1u);
    for (var k = 0u; k < u.n; k++) {
      dx[base + k * u.inner] = select(select(0.0, g, k == kf), v, u.op != 2u);
    }
  }
}
