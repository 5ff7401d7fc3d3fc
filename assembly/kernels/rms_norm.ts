// RMSNorm over rows: y = x/rms ⊙ w, rms = √(mean x² + ε); backward dx = (w⊙dy − x̂·mean(x̂⊙w⊙dy))/rms (models.md §D.5).
// x, y, dy, dx (N, D), w, dw (D), byte pointers, D >= 1. Squares are taken of x·2^−e (2^e ≤ max|x|, exact power of
// two), so |x| up to FLT_MAX does not overflow; x̂ = x/rms = (x·2^−e)·r with r = 1/√(mean (x·2^−e)² + ε·2^−2e).
import { absMax, invScale } from '../lib/rows';
import { hsum4, madd4 } from '../lib/simd';

// Row statistics, set by rowStats: x̂ = (x·is)·r, 1/rms = r·is.
let is: f32 = 1;
let r: f32 = 0;

function rowStats(row: usize, D: i32, eps: f32): void {
  is = invScale(absMax(row, D));
  const is4 = f32x4.splat(is);
  let acc = f32x4.splat(0);
  let acc1 = acc;
  let acc2 = acc;
  let acc3 = acc;
  let j = 0;
  for (; j + 16 <= D; j += 16) {
    const p = row + (<usize>j << 2);
    const c0 = f32x4.mul(v128.load(p), is4);
    const c1 = f32x4.mul(v128.load(p, 16), is4);
    const c2 = f32x4.mul(v128.load(p, 32), is4);
    const c3 = f32x4.mul(v128.load(p, 48), is4);
    acc = madd4(c0, c0, acc);
    acc1 = madd4(c1, c1, acc1);
    acc2 = madd4(c2, c2, acc2);
    acc3 = madd4(c3, c3, acc3);
  }
  for (; j + 4 <= D; j += 4) {
    const c = f32x4.mul(v128.load(row + (<usize>j << 2)), is4);
    acc = madd4(c, c, acc);
  }
  let s = hsum4(f32x4.add(f32x4.add(acc, acc1), f32x4.add(acc2, acc3)));
  for (; j < D; j++) {
    const c = load<f32>(row + (<usize>j << 2)) * is;
    s += c * c;
  }
  // is < 1 only when max|x·is| >= 1, so the sum is >= 1 there; else ε·is² = ε > 0: never 1/0.
  r = 1 / Mathf.sqrt(s / <f32>D + eps * is * is);
}

export function rms_norm_fwd_f32(x: usize, w: usize, y: usize, N: i32, D: i32, eps: f32): void {
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>D << 2;
    const row = x + off;
    const out = y + off;
    rowStats(row, D, eps);
    const is4 = f32x4.splat(is);
    const r4 = f32x4.splat(r);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.mul(f32x4.mul(f32x4.mul(v128.load(row + o), is4), r4), v128.load(w + o)));
    }
    for (; j < D; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(row + o) * is * r * load<f32>(w + o));
    }
  }
}

/** dx = (g − x̂·mean(x̂⊙g))/rms with g = w⊙dy; dw = Σ_rows dy⊙x̂. */
export function rms_norm_bwd_f32(x: usize, w: usize, dy: usize, dx: usize, dw: usize, N: i32, D: i32, eps: f32): void {
  memory.fill(dw, 0, <usize>D << 2);
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>D << 2;
    const row = x + off;
    const grow = dy + off;
    const out = dx + off;
    rowStats(row, D, eps);
    const is4 = f32x4.splat(is);
    const r4 = f32x4.splat(r);
    // Σ x̂⊙w⊙dy with two accumulators (x̂ = (x·is)·r, 1/rms = r·is).
    let acc = f32x4.splat(0);
    let acc1 = acc;
    let j = 0;
    for (; j + 8 <= D; j += 8) {
      const o = <usize>j << 2;
      const xh0 = f32x4.mul(f32x4.mul(v128.load(row + o), is4), r4);
      const xh1 = f32x4.mul(f32x4.mul(v128.load(row + o, 16), is4), r4);
      acc = madd4(f32x4.mul(v128.load(grow + o), v128.load(w + o)), xh0, acc);
      acc1 = madd4(f32x4.mul(v128.load(grow + o, 16), v128.load(w + o, 16)), xh1, acc1);
    }
    for (; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(f32x4.mul(v128.load(row + o), is4), r4);
      acc = madd4(f32x4.mul(v128.load(grow + o), v128.load(w + o)), xh, acc);
    }
    let gx = hsum4(f32x4.add(acc, acc1));
    for (; j < D; j++) {
      const o = <usize>j << 2;
      gx += load<f32>(grow + o) * load<f32>(w + o) * (load<f32>(row + o) * is * r);
    }
    const mgx = gx / <f32>D;
    const rinv = r * is;
    const mgx4 = f32x4.splat(mgx);
    const ri4 = f32x4.splat(rinv);
    for (j = 0; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      const xh = f32x4.mul(f32x4.mul(v128.load(row + o), is4), r4);
      const d = v128.load(grow + o);
      const g = f32x4.mul(d, v128.load(w + o));
      v128.store(out + o, f32x4.mul(ri4, f32x4.sub(g, f32x4.mul(xh, mgx4))));
      v128.store(dw + o, madd4(d, xh, v128.load(dw + o)));
    }
    for (; j < D; j++) {
      const o = <usize>j << 2;
      const xh = load<f32>(row + o) * is * r;
      const d = load<f32>(grow + o);
      store<f32>(out + o, rinv * (d * load<f32>(w + o) - xh * mgx));
      store<f32>(dw + o, d * xh + load<f32>(dw + o));
    }
  }
}
