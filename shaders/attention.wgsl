// Scaled dot-product attention (SRU++, models.md §B.4-§B.5, §B.11), flash style: a workgroup per (16-row tile, head,
// batch) stages 16x64 tiles of Q/K/V/dO through workgroup memory (dh in chunks of 64), online softmax per row; no
// (L, Lm+L) matrix is ever formed. The output rows themselves accumulate (each element is owned by one invocation).
// Bindings: @0 Dims; q (L, B, H·dh); kv (Lm+L, B, 2·H·dh) = [K | V]; mask (Lm+L, B) 1 = pad (unused when hasMask = 0);
//   attention_fwd:       @1 q, @2 kv, @3 mask, @4 o (L, B, H·dh), @5 lse (L, B, H)
//   attention_bwd_delta: @1 o, @2 dO (L, B, H·dh), @3 dlse (L, B, H), @4 delta (L, B, H) = dO·o − dlse
//   attention_bwd_dq:    @1 q, @2 kv, @3 lse, @4 dO, @5 delta, @6 mask, @7 dq (L, B, H·dh)
//   attention_bwd_dkv:   @1 q, @2 kv, @3 lse, @4 dO, @5 delta, @6 mask, @7 dkv (Lm+L, B, 2·H·dh)
// Dispatch: fwd and dq [ceil(L/16), H, B]; dkv [ceil((Lm+L)/16), H, B]; delta [x, y] with x·y·64 ≥ L·B·H. WG must be 64.
// flags: 1 causal (query i sees keys j ≤ Lm + i), 2 sameLength (and j ≥ i). Logits below −1e38 count as masked.

override WG: u32 = 64;
const T: u32 = 16u;  // rows per tile (queries or keys)
const DC: u32 = 64u; // dh columns per staged chunk
const NEG: f32 = -3.0e38;

struct Dims { L: u32, Lm: u32, B: u32, H: u32, dh: u32, flags: u32, hasMask: u32, scale: f32 }
@group(0) @binding(0) var<uniform> u: Dims;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kv: array<f32>;
@group(0) @binding(3) var<storage, read> kmask: array<f32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(1) var<storage, read> o_in: array<f32>;
@group(0) @binding(2) var<storage, read> dO_d: array<f32>;
@group(0) @binding(3) var<storage, read> dlse: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta_out: array<f32>;
@group(0) @binding(3) var<storage, read> lse_in: array<f32>;
@group(0) @binding(4) var<storage, read> dO: array<f32>;
@group(0) @binding(5) var<storage, read> delta: array<f32>;
@group(0) @binding(6) var<storage, read> kmask_b: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> dkv: array<f32>;

var<workgroup> ta: array<f32, 1024>; // [T][DC]
var<workgroup> tb: array<f32, 1024>; // [T][DC]
var<workgroup> ts: array<f32, 256>;  // [T][T] logits / P
var<workgroup> tp: array<f32, 256>;  // [T][T] dS
var<workgroup> rowv: array<f32, 64>; // per tile row: m, l, corr (fwd) or lse, delta (bwd)

fn key_lo(i: u32) -> u32 { return select(0u, i, (u.flags & 2u) != 0u); }
fn key_hi(i: u32) -> u32 { return select(u.Lm + u.L, u.Lm + i + 1u, (u.flags & 1u) != 0u); }
fn sees(i: u32, j: u32) -> bool { return i < u.L && j < u.Lm + u.L && j >= key_lo(i) && j < key_hi(i); }
fn hd() -> u32 { return u.H * u.dh; }
fn qi(i: u32, b: u32, h: u32, c: u32) -> u32 { return (i * u.B + b) * hd() + h * u.dh + c; }
/** Element c of K (half 0) or V (half 1) at key j. */
fn kvi(j: u32, b: u32, h: u32, half: u32, c: u32) -> u32 { return (j * u.B + b) * 2u * hd() + half * hd() + h * u.dh + c; }

/** Stages rows [row0, row0 + T) ∩ [0, lim) of q (src 0), K (1) or V (2), columns [c0, c0 + DC), into ta (to_a) or tb. */
fn stage(to_a: bool, src: u32, row0: u32, lim: u32, b: u32, h: u32, c0: u32, t: u32) {
  for (var e = t; e < T * DC; e += WG) {
    let r = row0 + e / DC;
    let c = c0 + e % DC;
    var v = 0.0;
    if (r < lim && c < u.dh) {
      if (src == 0u) { v = q[qi(r, b, h, c)]; } else { v = kv[kvi(r, b, h, src - 1u, c)]; }
    }
    if (to_a) { ta[e] = v; } else { tb[e] = v; }
  }
}

/** The same for rows of dO (backward entry points only). */
fn stage_do(to_a: bool, row0: u32, b: u32, h: u32, c0: u32, t: u32) {
  for (var e = t; e < T * DC; e += WG) {
    let r = row0 + e / DC;
    let c = c0 + e % DC;
    var v = 0.0;
    if (r < u.L && c < u.dh) { v = dO[qi(r, b, h, c)]; }
    if (to_a) { ta[e] = v; } else { tb[e] = v; }
  }
}

/** Thread t's four dot products: row t/4 of ta against rows 4(t%4)..+3 of tb, over one chunk. */
fn dots(t: u32, acc: vec4f) -> vec4f {
  let r = (t / 4u) * DC;
  let k = (t % 4u) * 4u * DC;
  var s = acc;
  for (var c = 0u; c < DC; c++) {
    let a = ta[r + c];
    s += a * vec4f(tb[k + c], tb[k + DC + c], tb[k + 2u * DC + c], tb[k + 3u * DC + c]);
  }
  return s;
}

/** ta·tbᵀ for tile rows (q or K by src_a) and (K or q by src_b) over all of dh; thread t gets its 4 entries. */
fn tile_dots(src_a: u32, row_a: u32, lim_a: u32, src_b: u32, row_b: u32, lim_b: u32, b: u32, h: u32, t: u32) -> vec4f {
  var s = vec4f(0.0);
  for (var c0 = 0u; c0 < u.dh; c0 += DC) {
    stage(true, src_a, row_a, lim_a, b, h, c0, t);
    stage(false, src_b, row_b, lim_b, b, h, c0, t);
    workgroupBarrier();
    s = dots(t, s);
    workgroupBarrier();
  }
  return s;
}

@compute @workgroup_size(WG)
fn attention_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let i0 = wid.x * T;
  let h = wid.y;
  let b = wid.z;
  let Lk = u.Lm + u.L;
  let r = t / 4u;
  let i = i0 + r;
  let jlo = key_lo(i0);
  let jhi = key_hi(min(i0 + T, u.L) - 1u);
  if (t < T) { rowv[t] = NEG; rowv[T + t] = 0.0; }
  for (var c0 = 0u; c0 < u.dh; c0 += DC) {
    for (var m = t % 4u; m < DC; m += 4u) { if (i < u.L && c0 + m < u.dh) { o[qi(i, b, h, c0 + m)] = 0.0; } }
  }
  for (var j0 = jlo; j0 < jhi; j0 += T) {
    let s = tile_dots(0u, i0, u.L, 1u, j0, Lk, b, h, t);
    for (var e = 0u; e < 4u; e++) {
      let k = (t % 4u) * 4u + e;
      let j = j0 + k;
      var vis = sees(i, j) && j < jhi;
      if (vis && u.hasMask != 0u) { vis = kmask[j * u.B + b] == 0.0; }
      ts[r * T + k] = select(NEG, s[e] * u.scale, vis);
    }
    workgroupBarrier();
    if (t < T) {
      var mx = NEG;
      for (var k = 0u; k < T; k++) { mx = max(mx, ts[t * T + k]); }
      let m_old = rowv[t];
      let m_new = max(m_old, mx);
      var corr = 1.0;
      if (mx > -1.0e38) { corr = select(exp(m_old - m_new), 0.0, m_old <= -1.0e38); }
      var l = rowv[T + t] * corr;
      for (var k = 0u; k < T; k++) {
        let v = ts[t * T + k];
        let p = select(exp(v - m_new), 0.0, v <= -1.0e38);
        ts[t * T + k] = p;
        l += p;
      }
      rowv[t] = m_new;
      rowv[T + t] = l;
      rowv[2u * T + t] = corr;
    }
    workgroupBarrier();
    for (var c0 = 0u; c0 < u.dh; c0 += DC) {
      stage(false, 2u, j0, Lk, b, h, c0, t);
      workgroupBarrier();
      let corr = rowv[2u * T + r];
      for (var m = t % 4u; m < DC; m += 4u) {
        if (i < u.L && c0 + m < u.dh) {
          var a = o[qi(i, b, h, c0 + m)] * corr;
          for (var k = 0u; k < T; k++) { a += ts[r * T + k] * tb[k * DC + m]; }
          o[qi(i, b, h, c0 + m)] = a;
        }
      }
      workgroupBarrier();
    }
  }
  let l = rowv[T + r];
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var c0 = 0u; c0 < u.dh; c0 += DC) {
    for (var m = t % 4u; m < DC; m += 4u) { if (i < u.L && c0 + m < u.dh) { o[qi(i, b, h, c0 + m)] *= inv; } }
  }
  if (t % 4u == 0u && i < u.L) { lse[(i * u.B + b) * u.H + h] = select(0.0, rowv[r] + log(l), l > 0.0); }
}

@compute @workgroup_size(WG)
fn attention_bwd_delta(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) t: u32) {
  let n = (wid.y * nwg.x + wid.x) * WG + t; // row (i, b, h)
  if (n >= u.L * u.B * u.H) { return; }
  let base = (n / u.H) * hd() + (n % u.H) * u.dh;
  var s = 0.0;
  for (var c = 0u; c < u.dh; c++) { s += dO_d[base + c] * o_in[base + c]; }
  delta_out[n] = s - dlse[n];
}

/** P and dS for thread t's 4 entries: queries i[e], keys j[e]; s, dp are its logits (unscaled) and dO·v. */
fn p_ds(i: u32, j: u32, b: u32, h: u32, s: f32, dp: f32, lse_i: f32, delta_i: f32) -> vec2f {
  var vis = sees(i, j);
  if (vis && u.hasMask != 0u) { vis = kmask_b[j * u.B + b] == 0.0; }
  if (!vis) { return vec2f(0.0); }
  let p = exp(s * u.scale - lse_i);
  return vec2f(p, p * (dp - delta_i) * u.scale);
}

@compute @workgroup_size(WG)
fn attention_bwd_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let i0 = wid.x * T;
  let h = wid.y;
  let b = wid.z;
  let Lk = u.Lm + u.L;
  let r = t / 4u;
  let i = i0 + r;
  if (t < T && i0 + t < u.L) { rowv[t] = lse_in[((i0 + t) * u.B + b) * u.H + h]; rowv[T + t] = delta[((i0 + t) * u.B + b) * u.H + h]; }
  for (var c0 = 0u; c0 < u.dh; c0 += DC) {
    for (var m = t % 4u; m < DC; m += 4u) { if (i < u.L && c0 + m < u.dh) { dq[qi(i, b, h, c0 + m)] = 0.0; } }
  }
  let jhi = key_hi(min(i0 + T, u.L) - 1u);
  for (var j0 = key_lo(i0); j0 < jhi; j0 += T) {
    let s = tile_dots(0u, i0, u.L, 1u, j0, Lk, b, h, t);
    var dp = vec4f(0.0);
    for (var c0 = 0u; c0 < u.dh; c0 += DC) {
      stage_do(true, i0, b, h, c0, t);
      stage(false, 2u, j0, Lk, b, h, c0, t);
      workgroupBarrier();
      dp = dots(t, dp);
      workgroupBarrier();
    }
    for (var e = 0u; e < 4u; e++) {
      let k = (t % 4u) * 4u + e;
      tp[r * T + k] = p_ds(i, j0 + k, b, h, s[e], dp[e], rowv[r], rowv[T + r]).y;
    }
    for (var c0 = 0u; c0 < u.dh; c0 += DC) {
      stage(false, 1u, j0, Lk, b, h, c0, t);
      workgroupBarrier();
      for (var m = t % 4u; m < DC; m += 4u) {
        if (i < u.L && c0 + m < u.dh) {
          var a = dq[qi(i, b, h, c0 + m)];
          for (var k = 0u; k < T; k++) { a += tp[r * T + k] * tb[k * DC + m]; }
          dq[qi(i, b, h, c0 + m)] = a;
        }
      }
      workgroupBarrier();
    }
  }
}

@compute @workgroup_size(WG)
fn attention_bwd_dkv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let j0 = wid.x * T;
  let h = wid.y;
  let b = wid.z;
  let Lk = u.Lm + u.L;
  let r = t / 4u; // this invocation's key row
  let j = j0 + r;
  for (var c0 = 0u; c0 < u.dh; c0 += DC) {
    for (var m = t % 4u; m < DC; m += 4u) {
      if (j < Lk && c0 + m < u.dh) { dkv[kvi(j, b, h, 0u, c0 + m)] = 0.0; dkv[kvi(j, b, h, 1u, c0 + m)] = 0.0; }
    }
  }
  // Queries that can see a key of this tile: causal i ≥ j0 − Lm; sameLength i ≤ last key.
  var ilo = 0u;
  if ((u.flags & 1u) != 0u && j0 > u.Lm) { ilo = j0 - u.Lm; }
  var ihi = u.L;
  if ((u.flags & 2u) != 0u) { ihi = min(u.L, j0 + T); }
  for (var i0 = ilo; i0 < ihi; i0 += T) {
    workgroupBarrier();
    if (t < T && i0 + t < u.L) { rowv[t] = lse_in[((i0 + t) * u.B + b) * u.H + h]; rowv[T + t] = delta[((i0 + t) * u.B + b) * u.H + h]; }
    let s = tile_dots(1u, j0, Lk, 0u, i0, u.L, b, h, t); // [key r][query 4(t%4)+e]
    var dp = vec4f(0.0);
    for (var c0 = 0u; c0 < u.dh; c0 += DC) {
      stage(true, 2u, j0, Lk, b, h, c0, t);
      stage_do(false, i0, b, h, c0, t);
      workgroupBarrier();
      dp = dots(t, dp);
      workgroupBarrier();
    }
    for (var e = 0u; e < 4u; e++) {
      let k = (t % 4u) * 4u + e;
      let pd = p_ds(i0 + k, j, b, h, s[e], dp[e], rowv[k], rowv[T + k]);
      ts[r * T + k] = pd.x;
      tp[r * T + k] = pd.y;
    }
    for (var c0 = 0u; c0 < u.dh; c0 += DC) {
      stage_do(false, i0, b, h, c0, t);
      stage(true, 0u, i0, u.L, b, h, c0, t);
      workgroupBarrier();
      for (var m = t % 4u; m < DC; m += 4u) {
        if (j < Lk && c0 + m < u.dh) {
          var av = dkv[kvi(j, b, h, 1u, c0 + m)];
          var ak = dkv[kvi(j, b, h, 0u, c0 + m)];
          for (var k = 0u; k < T; k++) {
            av += ts[r * T + k] * tb[k * DC + m];
            ak += tp[r * T + k] * ta[k * DC + m];
          }
          dkv[kvi(j, b, h, 1u, c0 + m)] = av;
          dkv[kvi(j, b, h, 0u, c0 + m)] = ak;
        }
      }
      workgroupBarrier();
    }
  }
}
