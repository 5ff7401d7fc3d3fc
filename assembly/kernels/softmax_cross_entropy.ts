// Softmax cross-entropy per row: loss[n] = (max − x[t]) + log Σ exp(x − max); dlogits = (softmax − onehot(t))·dloss.
// logits / dlogits (N, V), targets (N) i32, loss / dloss (N); a target outside [0, V) (−1 = ignore) gives 0.
import { hsum4 } from '../lib/simd';
import { exp1, log1, vexp4 } from '../lib/vmath';

/** max over row[0..V), V >= 1. pmax (one maxps) rather than the NaN-propagating max, which costs several
 *  instructions in V8 (1.45x on the forward); a NaN it drops still reaches the result through Σ exp(x − max). */
@inline function rowMax(row: usize, V: i32): f32 {
  let j = 0;
  let mx: f32 = load<f32>(row);
  if (V >= 4) {
    let m4 = v128.load(row);
    for (j = 4; j + 4 <= V; j += 4) m4 = f32x4.pmax(m4, v128.load(row + (<usize>j << 2)));
    mx = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
  }
  for (; j < V; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)));
  return mx;
}

/** Σ exp(row[j] − mx); when `dst` is non-zero, also stores each exp(row[j] − mx) there. */
@inline function sumExp(row: usize, V: i32, mx: f32, dst: usize): f32 {
  const m4 = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= V; j += 4) {
    const e = vexp4(f32x4.sub(v128.load(row + (<usize>j << 2)), m4));
    if (dst) v128.store(dst + (<usize>j << 2), e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum4(acc);
  for (; j < V; j++) {
    const e = exp1(load<f32>(row + (<usize>j << 2)) - mx);
    if (dst) store<f32>(dst + (<usize>j << 2), e);
    s += e;
  }
  return s;
}

export function softmax_cross_entropy_fwd_f32(logits: usize, targets: usize, loss: usize, N: i32, V: i32): void {
  for (let n = 0; n < N; n++) {
    const t = load<i32>(targets + (<usize>n << 2));
    let l: f32 = 0;
    if (t >= 0 && t < V) {
      const row = logits + (<usize>n * <usize>V << 2);
      const mx = rowMax(row, V);
      l = (mx - load<f32>(row + (<usize>t << 2))) + log1(sumExp(row, V, mx, 0));
    }
    store<f32>(loss + (<usize>n << 2), l);
  }
}

export function softmax_cross_entropy_bwd_f32(logits: usize, targets: usize, dloss: usize, dlogits: usize, N: i32, V: i32): void {
  for (let n = 0; n < N; n++) {
    const t = load<i32>(targets + (<usize>n << 2));
    const off = <usize>n * <usize>V << 2;
    const dst = dlogits + off;
    if (t < 0 || t >= V) {
      memory.fill(dst, 0, <usize>V << 2);
      continue;
    }
    const row = logits + off;
    const mx = rowMax(row, V);
    const dl = load<f32>(dloss + (<usize>n << 2));
    const scale = dl / sumExp(row, V, mx, dst); // dst now holds exp(x − max)
    const s4 = f32x4.splat(scale);
    let j = 0;
    for (; j + 4 <= V; j += 4) v128.store(dst + (<usize>j << 2), f32x4.mul(v128.load(dst + (<usize>j << 2)), s4));
    for (; j < V; j++) store<f32>(dst + (<usize>j << 2), load<f32>(dst + (<usize>j << 2)) * scale);
    const pt = dst + (<usize>t << 2);
    store<f32>(pt, load<f32>(pt) - dl);
  }
}
