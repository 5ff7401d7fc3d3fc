// Reduction of x viewed as (outer, n, inner) over n: y (outer, inner) = sum | mean | max, and its backward.
// Sums stay accurate for long n: f32x4 partial sums over blocks of BLOCK terms, block sums added in f64.
// op: 0 sum, 1 mean, 2 max. max propagates NaN; its gradient goes to the first index where x == y (or x is NaN).

const BLOCK = 256;
/** Rows at least this wide are summed by streaming them (sumColsStream) rather than by column strips. */
const STREAM = 256;

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** Σ of n contiguous f32: 16 f32 lanes over blocks of 16·BLOCK elements, block sums added in f64. */
function sumRow(p: usize, n: i32): f64 {
  let total: f64 = 0;
  let k = 0;
  while (k + 16 <= n) {
    const end = min(k + 16 * BLOCK, n);
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (; k + 16 <= end; k += 16) {
      const q = at(p, k);
      a0 = f32x4.add(a0, v128.load(q));
      a1 = f32x4.add(a1, v128.load(q, 16));
      a2 = f32x4.add(a2, v128.load(q, 32));
      a3 = f32x4.add(a3, v128.load(q, 48));
    }
    const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
    const d = f64x2.add(f64x2.promote_low_f32x4(s), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 0, 1)));
    total += f64x2.extract_lane(d, 0) + f64x2.extract_lane(d, 1);
  }
  for (; k < n; k++) total += <f64>load<f32>(at(p, k));
  return total;
}

// Maxima use pmax (one instruction; V8 lowers NaN-propagating max to several) and track NaNs in a separate mask.
@inline function isnan4(v: v128): v128 {
  return f32x4.ne(v, v);
}

function maxRow(p: usize, n: i32): f32 {
  let m0 = f32x4.splat(-<f32>Infinity);
  let m1 = m0;
  let m2 = m0;
  let m3 = m0;
  let nan = i32x4.splat(0);
  let k = 0;
  for (; k + 16 <= n; k += 16) {
    const q = at(p, k);
    const v0 = v128.load(q);
    const v1 = v128.load(q, 16);
    const v2 = v128.load(q, 32);
    const v3 = v128.load(q, 48);
    m0 = f32x4.pmax(m0, v0);
    m1 = f32x4.pmax(m1, v1);
    m2 = f32x4.pmax(m2, v2);
    m3 = f32x4.pmax(m3, v3);
    nan = v128.or(nan, v128.or(v128.or(isnan4(v0), isnan4(v1)), v128.or(isnan4(v2), isnan4(v3))));
  }
  for (; k + 4 <= n; k += 4) {
    const v = v128.load(at(p, k));
    m0 = f32x4.pmax(m0, v);
    nan = v128.or(nan, isnan4(v));
  }
  if (v128.any_true(nan)) return NaN;
  const m = f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3));
  let r = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; k < n; k++) r = max(r, load<f32>(at(p, k)));
  return r;
}

/** acc[j..j+4) (f64) += the f32x4 a. */
@inline function addTo(acc: usize, j: i32, a: v128): void {
  const q = acc + (<usize>j << 3);
  v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(a)));
  v128.store(q, f64x2.add(v128.load(q, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1))), 16);
}

/** Column sums of an (n, inner) block into acc (f64, inner): rows in blocks of BLOCK (a block's columns stay in
 *  cache), 16 columns at a time in four independent f32x4 chains, then 4, then one. */
function sumCols(p: usize, n: i32, inner: i32, acc: usize): void {
  memory.fill(acc, 0, <usize>inner << 3);
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = min(k0 + BLOCK, n);
    let j = 0;
    for (; j + 16 <= inner; j += 16) {
      let a0 = f32x4.splat(0);
      let a1 = a0;
      let a2 = a0;
      let a3 = a0;
      for (let k = k0; k < k1; k++) {
        const q = at(p, k * inner + j);
        a0 = f32x4.add(a0, v128.load(q));
        a1 = f32x4.add(a1, v128.load(q, 16));
        a2 = f32x4.add(a2, v128.load(q, 32));
        a3 = f32x4.add(a3, v128.load(q, 48));
      }
      addTo(acc, j, a0);
      addTo(acc, j + 4, a1);
      addTo(acc, j + 8, a2);
      addTo(acc, j + 12, a3);
    }
    for (; j + 4 <= inner; j += 4) {
      let a = f32x4.splat(0);
      for (let k = k0; k < k1; k++) a = f32x4.add(a, v128.load(at(p, k * inner + j)));
      addTo(acc, j, a);
    }
    for (; j < inner; j++) {
      let s: f32 = 0;
      for (let k = k0; k < k1; k++) s += load<f32>(at(p, k * inner + j));
      const q = acc + (<usize>j << 3);
      store<f64>(q, load<f64>(q) + <f64>s);
    }
  }
}

/** Column maxima of an (n, inner) block, n ≥ 1, written to y (inner); rows in blocks so the columns stay cached. */
function maxCols(p: usize, n: i32, inner: i32, y: usize): void {
  memory.copy(y, p, <usize>inner << 2);
  for (let k0 = 1; k0 < n; k0 += BLOCK) {
    const k1 = min(k0 + BLOCK, n);
    let j = 0;
    for (; j + 8 <= inner; j += 8) {
      const yj = at(y, j);
      let m0 = v128.load(yj);
      let m1 = v128.load(yj, 16);
      let n0 = isnan4(m0);
      let n1 = isnan4(m1);
      for (let k = k0; k < k1; k++) {
        const q = at(p, k * inner + j);
        const v0 = v128.load(q);
        const v1 = v128.load(q, 16);
        m0 = f32x4.pmax(m0, v0);
        m1 = f32x4.pmax(m1, v1);
        n0 = v128.or(n0, isnan4(v0));
        n1 = v128.or(n1, isnan4(v1));
      }
      v128.store(yj, v128.bitselect(f32x4.splat(<f32>NaN), m0, n0));
      v128.store(yj, v128.bitselect(f32x4.splat(<f32>NaN), m1, n1), 16);
    }
    for (; j < inner; j++) {
      let m = load<f32>(at(y, j));
      for (let k = k0; k < k1; k++) m = max(m, load<f32>(at(p, k * inner + j)));
      store<f32>(at(y, j), m);
    }
  }
}

/** Column sums for wide rows (inner ≥ STREAM): rows streamed in order into an f32 block row blk, which is
 *  folded into acc (f64) every BLOCK rows. */
function sumColsStream(p: usize, n: i32, inner: i32, acc: usize, blk: usize): void {
  memory.fill(acc, 0, <usize>inner << 3);
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = min(k0 + BLOCK, n);
    memory.copy(blk, at(p, k0 * inner), <usize>inner << 2);
    for (let k = k0 + 1; k < k1; k++) {
      const row = at(p, k * inner);
      let j = 0;
      for (; j + 8 <= inner; j += 8) {
        const b = at(blk, j);
        const q = at(row, j);
        v128.store(b, f32x4.add(v128.load(b), v128.load(q)));
        v128.store(b, f32x4.add(v128.load(b, 16), v128.load(q, 16)), 16);
      }
      for (; j < inner; j++) store<f32>(at(blk, j), load<f32>(at(blk, j)) + load<f32>(at(row, j)));
    }
    let j = 0;
    for (; j + 4 <= inner; j += 4) addTo(acc, j, v128.load(at(blk, j)));
    for (; j < inner; j++) {
      const q = acc + (<usize>j << 3);
      store<f64>(q, load<f64>(q) + <f64>load<f32>(at(blk, j)));
    }
  }
}

/** y[o, j] = op over k of x[o, k, j]. acc: scratch of 12·inner bytes (used when inner > 1 and op is sum or mean). */
export function reduce_fwd_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32, op: i32, acc: usize): void {
  const scale: f64 = op == 1 ? 1.0 / <f64>n : 1.0;
  for (let o = 0; o < outer; o++) {
    const p = at(x, o * n * inner);
    const yo = at(y, o * inner);
    if (inner == 1) {
      store<f32>(yo, op == 2 ? maxRow(p, n) : <f32>(sumRow(p, n) * scale));
    } else if (op == 2) {
      if (n > 0) maxCols(p, n, inner, yo);
      else for (let j = 0; j < inner; j++) store<f32>(at(yo, j), -<f32>Infinity);
    } else {
      if (inner >= STREAM) sumColsStream(p, n, inner, acc, acc + (<usize>inner << 3));
      else sumCols(p, n, inner, acc);
      for (let j = 0; j < inner; j++) store<f32>(at(yo, j), <f32>(load<f64>(acc + (<usize>j << 3)) * scale));
    }
  }
}

/** dx[o, k, j] = dy[o, j]·(1 | 1/n) for sum | mean; for max, dy[o, j] at the first k where x == y (or x is NaN), else 0. */
export function reduce_bwd_f32(x: usize, y: usize, dy: usize, dx: usize, outer: i32, n: i32, inner: i32, op: i32): void {
  const scale: f32 = op == 1 ? <f32>(1.0 / <f64>n) : 1;
  const sv = f32x4.splat(scale);
  for (let o = 0; o < outer; o++) {
    const xo = at(x, o * n * inner);
    const dxo = at(dx, o * n * inner);
    const yo = at(y, o * inner);
    const dyo = at(dy, o * inner);
    if (op != 2 && inner == 1) {
      const g = load<f32>(dyo) * scale;
      const gv = f32x4.splat(g);
      let k = 0;
      for (; k + 4 <= n; k += 4) v128.store(at(dxo, k), gv);
      for (; k < n; k++) store<f32>(at(dxo, k), g);
    } else if (op != 2) {
      for (let k = 0; k < n; k++) {
        const row = at(dxo, k * inner);
        let j = 0;
        for (; j + 4 <= inner; j += 4) v128.store(at(row, j), f32x4.mul(v128.load(at(dyo, j)), sv));
        for (; j < inner; j++) store<f32>(at(row, j), load<f32>(at(dyo, j)) * scale);
      }
    } else if (inner == 1) {
      const m = load<f32>(yo);
      let k = 0;
      while (k < n && !(load<f32>(at(xo, k)) == m || isNaN(load<f32>(at(xo, k))))) k++;
      memory.fill(dxo, 0, <usize>n << 2);
      if (k < n) store<f32>(at(dxo, k), load<f32>(dyo));
    } else {
      let j = 0;
      for (; j + 4 <= inner; j += 4) {
        const m = v128.load(at(yo, j));
        const g = v128.load(at(dyo, j));
        let found = i32x4.splat(0);
        for (let k = 0; k < n; k++) {
          const v = v128.load(at(xo, k * inner + j));
          const hit = v128.andnot(v128.or(f32x4.eq(v, m), f32x4.ne(v, v)), found);
          v128.store(at(dxo, k * inner + j), v128.and(g, hit));
          found = v128.or(found, hit);
        }
      }
      for (; j < inner; j++) {
        const m = load<f32>(at(yo, j));
        const g = load<f32>(at(dyo, j));
        let found = false;
        for (let k = 0; k < n; k++) {
          const v = load<f32>(at(xo, k * inner + j));
          const hit = !found && (v == m || isNaN(v));
          store<f32>(at(dxo, k * inner + j), hit ? g : 0);
          found = found || hit;
        }
      }
    }
  }
}
