// linear_scan: h_t = a_t·h_{t−1} + b_t over time-major (T, N) rows (N = B·D channels, byte pointers), step order
// reversed when `reverse`. Channels in f32x4 lanes, time sequential; blocks of BLOCK channels keep the previous row in
// L1. Backward (models.md §D.1): λ_s = dh_s + a_{s+1}λ_{s+1} (+ dhT at the last step), db = λ, da = λ·h_{s−1}, dh0 = a_0λ_0.
import { madd4 } from '../lib/simd';

/** Channels per block: one row of a block is 256 KB, so the previous row is still in L2. */
const BLOCK: i32 = 65536;

/** out = a·prev + b over n channels. */
@inline function fwdRow(a: usize, b: usize, prev: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    v128.store(out + o, madd4(v128.load(a + o), v128.load(prev + o), v128.load(b + o)));
    v128.store(out + o, madd4(v128.load(a + o, 16), v128.load(prev + o, 16), v128.load(b + o, 16)), 16);
    v128.store(out + o, madd4(v128.load(a + o, 32), v128.load(prev + o, 32), v128.load(b + o, 32)), 32);
    v128.store(out + o, madd4(v128.load(a + o, 48), v128.load(prev + o, 48), v128.load(b + o, 48)), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, madd4(v128.load(a + o), v128.load(prev + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(prev + o) + load<f32>(b + o));
  }
}

export function linear_scan_fwd_f32(a: usize, b: usize, h0: usize, h: usize, hT: usize, T: i32, N: i32, reverse: i32, hasH0: i32): void {
  const row = <usize>N << 2;
  if (T == 0) {
    if (hasH0) memory.copy(hT, h0, row);
    else memory.fill(hT, 0, row);
    return;
  }
  for (let n0 = 0; n0 < N; n0 += BLOCK) {
    const nb = min(BLOCK, N - n0);
    const off = <usize>n0 << 2;
    let prev: usize = hasH0 ? h0 + off : 0;
    for (let s = 0; s < T; s++) {
      const o = <usize>(reverse ? T - 1 - s : s) * row + off;
      if (prev == 0) memory.copy(h + o, b + o, <usize>nb << 2); // h_0 = 0: the first step is b
      else fwdRow(a + o, b + o, prev, h + o, nb);
      prev = h + o;
    }
    memory.copy(hT + off, prev, <usize>nb << 2);
  }
}

/** One backward row in the bulk: λ = dh + carryA·carryL, db = λ, da = λ·prev. */
@inline function bwdRow(dh: usize, carryA: usize, carryL: usize, prev: usize, db: usize, da: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const l0 = madd4(v128.load(carryA + o), v128.load(carryL + o), v128.load(dh + o));
    const l1 = madd4(v128.load(carryA + o, 16), v128.load(carryL + o, 16), v128.load(dh + o, 16));
    v128.store(db + o, l0);
    v128.store(db + o, l1, 16);
    v128.store(da + o, f32x4.mul(l0, v128.load(prev + o)));
    v128.store(da + o, f32x4.mul(l1, v128.load(prev + o, 16)), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const l = madd4(v128.load(carryA + o), v128.load(carryL + o), v128.load(dh + o));
    v128.store(db + o, l);
    v128.store(da + o, f32x4.mul(l, v128.load(prev + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const l = load<f32>(carryA + o) * load<f32>(carryL + o) + load<f32>(dh + o);
    store<f32>(db + o, l);
    store<f32>(da + o, l * load<f32>(prev + o));
  }
}

/** The last step (carryA = 0: the carry is dhT itself) or the first without h0 (prev = 0: da = 0); scalar. */
function bwdRowEdge(dh: usize, carryA: usize, carryL: usize, prev: usize, db: usize, da: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const c = carryA ? load<f32>(carryA + o) * load<f32>(carryL + o) : load<f32>(carryL + o);
    const l = load<f32>(dh + o) + c;
    store<f32>(db + o, l);
    store<f32>(da + o, prev ? l * load<f32>(prev + o) : 0);
  }
}

/** λ rows go to db; the carry into step s is a_{s+1}·db_{s+1}, read back from the row written just before. */
export function linear_scan_bwd_f32(
  a: usize, h: usize, dh: usize, dhT: usize, h0: usize, da: usize, db: usize, dh0: usize,
  T: i32, N: i32, reverse: i32, hasH0: i32,
): void {
  const row = <usize>N << 2;
  if (T == 0) {
    memory.copy(dh0, dhT, row);
    return;
  }
  for (let n0 = 0; n0 < N; n0 += BLOCK) {
    const nb = min(BLOCK, N - n0);
    const off = <usize>n0 << 2;
    let carryA: usize = 0;
    let carryL: usize = dhT + off;
    for (let s = T - 1; s >= 0; s--) {
      const o = <usize>(reverse ? T - 1 - s : s) * row + off;
      const prev: usize = s > 0 ? h + <usize>(reverse ? T - s : s - 1) * row + off : hasH0 ? h0 + off : 0;
      if (carryA == 0 || prev == 0) bwdRowEdge(dh + o, carryA, carryL, prev, db + o, da + o, nb);
      else bwdRow(dh + o, carryA, carryL, prev, db + o, da + o, nb);
      carryA = a + o;
      carryL = db + o;
    }
    // dh0 = a_0·λ_0
    for (let i = 0; i < nb; i++) {
      const o = <usize>i << 2;
      store<f32>(dh0 + off + o, load<f32>(carryA + o) * load<f32>(carryL + o));
    }
  }
}
