// softmax over rows: y = exp(x − max) / Σ exp(x − max); backward dx = y ⊙ (dy − Σ dy ⊙ y).
// x, y, dy, dx (N, D) contiguous, byte pointers; D >= 1. SIMD over the row with scalar tails.
import { hsum4, madd4 } from '../lib/simd';
import { exp1, vexp4 } from '../lib/vmath';

/** max over row[0..D), D >= 1; four accumulators hide the latency of f32x4.max. */
@inline function rowMax(row: usize, D: i32): f32 {
  let j = 0;
  let mx: f32 = load<f32>(row);
  if (D >= 4) {
    let m0 = v128.load(row);
    let m1 = m0;
    let m2 = m0;
    let m3 = m0;
    for (; j + 16 <= D; j += 16) {
      const p = row + (<usize>j << 2);
      m0 = f32x4.max(m0, v128.load(p));
      m1 = f32x4.max(m1, v128.load(p, 16));
      m2 = f32x4.max(m2, v128.load(p, 32));
      m3 = f32x4.max(m3, v128.load(p, 48));
    }
    for (; j + 4 <= D; j += 4) m0 = f32x4.max(m0, v128.load(row + (<usize>j << 2)));
    m0 = f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3));
    mx = max(max(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)), max(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
  }
  for (; j < D; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)));
  return mx;
}

export function softmax_fwd_f32(x: usize, y: usize, N: i32, D: i32): void {
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>D << 2;
    const row = x + off;
    const out = y + off;
    const mx = rowMax(row, D);
    const m4 = f32x4.splat(mx);
    // exp(x − max) into y (x − max ≤ 0; −Inf from a huge gap gives 0), summed on the way.
    let acc = f32x4.splat(0);
    let acc1 = acc;
    let j = 0;
    for (; j + 8 <= D; j += 8) {
      const o = <usize>j << 2;
      const e0 = vexp4(f32x4.sub(v128.load(row + o), m4));
      const e1 = vexp4(f32x4.sub(v128.load(row + o, 16), m4));
      v128.store(out + o, e0);
      v128.store(out + o, e1, 16);
      acc = f32x4.add(acc, e0);
      acc1 = f32x4.add(acc1, e1);
    }
    for (; j + 4 <= D; j += 4) {
      const e = vexp4(f32x4.sub(v128.load(row + (<usize>j << 2)), m4));
      v128.store(out + (<usize>j << 2), e);
      acc = f32x4.add(acc, e);
    }
    let s = hsum4(f32x4.add(acc, acc1));
    for (; j < D; j++) {
      const e = exp1(load<f32>(row + (<usize>j << 2)) - mx);
      store<f32>(out + (<usize>j << 2), e);
      s += e;
    }
    const inv: f32 = 1 / s; // s >= 1: the max term is exp(0)
    const i4 = f32x4.splat(inv);
    for (j = 0; j + 4 <= D; j += 4) v128.store(out + (<usize>j << 2), f32x4.mul(v128.load(out + (<usize>j << 2)), i4));
    for (; j < D; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) * inv);
  }
}

export function softmax_bwd_f32(y: usize, dy: usize, dx: usize, N: i32, D: i32): void {
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>D << 2;
    const yr = y + off;
    const gr = dy + off;
    const out = dx + off;
    let acc = f32x4.splat(0);
    let acc1 = acc;
    let j = 0;
    for (; j + 8 <= D; j += 8) {
      const o = <usize>j << 2;
      acc = madd4(v128.load(yr + o), v128.load(gr + o), acc);
      acc1 = madd4(v128.load(yr + o, 16), v128.load(gr + o, 16), acc1);
    }
    for (; j + 4 <= D; j += 4) acc = madd4(v128.load(yr + (<usize>j << 2)), v128.load(gr + (<usize>j << 2)), acc);
    let dot = hsum4(f32x4.add(acc, acc1));
    for (; j < D; j++) dot += load<f32>(yr + (<usize>j << 2)) * load<f32>(gr + (<usize>j << 2));
    const d4 = f32x4.splat(dot);
    for (j = 0; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(gr + o), d4)));
    }
    for (; j < D; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(yr + o) * (load<f32>(gr + o) - dot));
    }
  }
}
