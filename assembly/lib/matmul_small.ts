// Small-M matmul (decode steps), memory-bound on B: each element of B is loaded once per group of up to 4
// rows of A, streaming several rows of B at a time. rows: B not transposed (sBn = 1); dot: B transposed (sBk = 1).
import { hsum4x4, madd4 } from './simd';

@inline function splatA(a: usize, m: i32, sAm: i32, k: i32, sAk: i32): v128 {
  return v128.load32_splat(a + (<usize>(m * sAm + k * sAk) << 2));
}

/** c[n] += s * p[n] for n in [from, N): the scalar column tail of the row kernels. */
@inline function axpyTail(c: usize, p: usize, s: f32, from: i32, N: i32): void {
  for (let n = from; n < N; n++) {
    const o = <usize>n << 2;
    store<f32>(c + o, load<f32>(c + o) + s * load<f32>(p + o));
  }
}

/**
 * C[b] = A[b]·B[b] (+ bias) for small M with B row-major (element (k, n) at b + (k*sBk + n)*4).
 * Rows of A go in groups of 4, 2, 1; C rows are first set to the bias (or 0), then accumulated.
 */
export function matmul_rows_f32(
  a: usize, b: usize, bias: usize, c: usize,
  batch: i32, M: i32, N: i32, K: i32,
  sAb: i32, sAm: i32, sAk: i32, sBb: i32, sBk: i32,
): void {
  const ldb = <usize>sBk << 2;
  const ldc = <usize>N << 2;
  for (let bt = 0; bt < batch; bt++) {
    const A0 = a + (<usize>(bt * sAb) << 2);
    const B0 = b + (<usize>(bt * sBb) << 2);
    const C0 = c + (<usize>(bt * M * N) << 2);
    for (let m = 0; m < M; m++) {
      if (bias) memory.copy(C0 + <usize>m * ldc, bias, ldc);
      else memory.fill(C0 + <usize>m * ldc, 0, ldc);
    }
    let m = 0;
    for (; m + 4 <= M; m += 4) rows4(A0, m, sAm, sAk, B0, ldb, C0 + <usize>m * ldc, ldc, N, K);
    for (; m + 2 <= M; m += 2) rows2(A0, m, sAm, sAk, B0, ldb, C0 + <usize>m * ldc, ldc, N, K);
    for (; m < M; m++) rows1(A0, m, sAm, sAk, B0, ldb, C0 + <usize>m * ldc, N, K);
  }
}

/** c += (s0*b0 + s1*b1) + (s2*b2 + s3*b3) at q + o: a short tree, so no long chain of dependent adds. */
@inline function tree4(s0: v128, s1: v128, s2: v128, s3: v128, p0: usize, p1: usize, p2: usize, p3: usize, q: usize): void {
  const t = madd4(s1, v128.load(p1), f32x4.mul(s0, v128.load(p0)));
  const u = madd4(s3, v128.load(p3), f32x4.mul(s2, v128.load(p2)));
  v128.store(q, f32x4.add(v128.load(q), f32x4.add(t, u)));
}

/** c += s0*b0 + s1*b1 at q. */
@inline function pair(s0: v128, s1: v128, b0: v128, b1: v128, q: usize): void {
  v128.store(q, f32x4.add(v128.load(q), madd4(s1, b1, f32x4.mul(s0, b0))));
}

/** One row of C += a row of A times B: 4 rows of B per pass over C, 16 columns (a cache line) per step. */
function rows1(a: usize, m: i32, sAm: i32, sAk: i32, b: usize, ldb: usize, c: usize, N: i32, K: i32): void {
  const n16 = <usize>(N & ~15) << 2;
  const n4 = <usize>(N & ~3) << 2;
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const s0 = splatA(a, m, sAm, k, sAk), s1 = splatA(a, m, sAm, k + 1, sAk);
    const s2 = splatA(a, m, sAm, k + 2, sAk), s3 = splatA(a, m, sAm, k + 3, sAk);
    const p0 = b + <usize>k * ldb, p1 = p0 + ldb, p2 = p1 + ldb, p3 = p2 + ldb;
    let n: usize = 0;
    for (; n < n16; n += 64) {
      tree4(s0, s1, s2, s3, p0 + n, p1 + n, p2 + n, p3 + n, c + n);
      tree4(s0, s1, s2, s3, p0 + n + 16, p1 + n + 16, p2 + n + 16, p3 + n + 16, c + n + 16);
      tree4(s0, s1, s2, s3, p0 + n + 32, p1 + n + 32, p2 + n + 32, p3 + n + 32, c + n + 32);
      tree4(s0, s1, s2, s3, p0 + n + 48, p1 + n + 48, p2 + n + 48, p3 + n + 48, c + n + 48);
    }
    for (; n < n4; n += 16) tree4(s0, s1, s2, s3, p0 + n, p1 + n, p2 + n, p3 + n, c + n);
    const from = N & ~3;
    if (from < N) {
      axpyTail(c, p0, f32x4.extract_lane(s0, 0), from, N); axpyTail(c, p1, f32x4.extract_lane(s1, 0), from, N);
      axpyTail(c, p2, f32x4.extract_lane(s2, 0), from, N); axpyTail(c, p3, f32x4.extract_lane(s3, 0), from, N);
    }
  }
  for (; k < K; k++) rowsOneK(a, m, 1, sAm, sAk, k, b + <usize>k * ldb, c, 0, N);
}

/** rows rows of C += A[m.., k] * B[k]: the k tail of the row kernels. */
function rowsOneK(a: usize, m: i32, rows: i32, sAm: i32, sAk: i32, k: i32, p: usize, c: usize, ldc: usize, N: i32): void {
  const n4 = <usize>(N & ~3) << 2;
  for (let r = 0; r < rows; r++) {
    const s = splatA(a, m + r, sAm, k, sAk);
    const cr = c + <usize>r * ldc;
    for (let n: usize = 0; n < n4; n += 16) v128.store(cr + n, madd4(s, v128.load(p + n), v128.load(cr + n)));
    axpyTail(cr, p, f32x4.extract_lane(s, 0), N & ~3, N);
  }
}

/** Two rows of C, 2 rows of B per pass, 8 columns per step. */
function rows2(a: usize, m: i32, sAm: i32, sAk: i32, b: usize, ldb: usize, c: usize, ldc: usize, N: i32, K: i32): void {
  const n8 = <usize>(N & ~7) << 2;
  const c1 = c + ldc;
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    const s00 = splatA(a, m, sAm, k, sAk), s01 = splatA(a, m, sAm, k + 1, sAk);
    const s10 = splatA(a, m + 1, sAm, k, sAk), s11 = splatA(a, m + 1, sAm, k + 1, sAk);
    const p0 = b + <usize>k * ldb, p1 = p0 + ldb;
    let n: usize = 0;
    for (; n < n8; n += 32) {
      let b0 = v128.load(p0 + n), b1 = v128.load(p1 + n);
      pair(s00, s01, b0, b1, c + n); pair(s10, s11, b0, b1, c1 + n);
      b0 = v128.load(p0 + n, 16); b1 = v128.load(p1 + n, 16);
      pair(s00, s01, b0, b1, c + n + 16); pair(s10, s11, b0, b1, c1 + n + 16);
    }
    const from = N & ~7;
    if (from < N) {
      axpyTail(c, p0, f32x4.extract_lane(s00, 0), from, N); axpyTail(c, p1, f32x4.extract_lane(s01, 0), from, N);
      axpyTail(c1, p0, f32x4.extract_lane(s10, 0), from, N); axpyTail(c1, p1, f32x4.extract_lane(s11, 0), from, N);
    }
  }
  if (k < K) rowsOneK(a, m, 2, sAm, sAk, k, b + <usize>k * ldb, c, ldc, N);
}

/** Four rows of C, 2 rows of B per pass, 4 columns per step. */
function rows4(a: usize, m: i32, sAm: i32, sAk: i32, b: usize, ldb: usize, c: usize, ldc: usize, N: i32, K: i32): void {
  const n4 = <usize>(N & ~3) << 2;
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    const s00 = splatA(a, m, sAm, k, sAk), s01 = splatA(a, m, sAm, k + 1, sAk);
    const s10 = splatA(a, m + 1, sAm, k, sAk), s11 = splatA(a, m + 1, sAm, k + 1, sAk);
    const s20 = splatA(a, m + 2, sAm, k, sAk), s21 = splatA(a, m + 2, sAm, k + 1, sAk);
    const s30 = splatA(a, m + 3, sAm, k, sAk), s31 = splatA(a, m + 3, sAm, k + 1, sAk);
    const p0 = b + <usize>k * ldb, p1 = p0 + ldb;
    for (let n: usize = 0; n < n4; n += 16) {
      const b0 = v128.load(p0 + n), b1 = v128.load(p1 + n);
      pair(s00, s01, b0, b1, c + n); pair(s10, s11, b0, b1, c1 + n);
      pair(s20, s21, b0, b1, c2 + n); pair(s30, s31, b0, b1, c3 + n);
    }
    const from = N & ~3;
    if (from < N) {
      axpyTail(c, p0, f32x4.extract_lane(s00, 0), from, N); axpyTail(c, p1, f32x4.extract_lane(s01, 0), from, N);
      axpyTail(c1, p0, f32x4.extract_lane(s10, 0), from, N); axpyTail(c1, p1, f32x4.extract_lane(s11, 0), from, N);
      axpyTail(c2, p0, f32x4.extract_lane(s20, 0), from, N); axpyTail(c2, p1, f32x4.extract_lane(s21, 0), from, N);
      axpyTail(c3, p0, f32x4.extract_lane(s30, 0), from, N); axpyTail(c3, p1, f32x4.extract_lane(s31, 0), from, N);
    }
  }
  if (k < K) rowsOneK(a, m, 4, sAm, sAk, k, b + <usize>k * ldb, c, ldc, N);
}

/**
 * C[b] = A[b]·B[b]ᵀ (+ bias) for small M with B stored (N, K) (element (k, n) at b + (n*sBn + k)*4): dot
 * products of A rows with 4 rows of B at a time. A rows that are not contiguous are first gathered into
 * `work` (2*K floats).
 */
export function matmul_dot_f32(
  a: usize, b: usize, bias: usize, c: usize,
  batch: i32, M: i32, N: i32, K: i32,
  sAb: i32, sAm: i32, sAk: i32, sBb: i32, sBn: i32,
  work: usize,
): void {
  const ldb = <usize>sBn << 2;
  for (let bt = 0; bt < batch; bt++) {
    const A0 = a + (<usize>(bt * sAb) << 2);
    const B0 = b + (<usize>(bt * sBb) << 2);
    const C0 = c + (<usize>(bt * M * N) << 2);
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      const x0 = rowOf(A0, m, sAm, sAk, K, work);
      const x1 = rowOf(A0, m + 1, sAm, sAk, K, work + (<usize>K << 2));
      dot2(x0, x1, B0, ldb, C0 + (<usize>(m * N) << 2), N, K, bias);
    }
    if (m < M) dot1(rowOf(A0, m, sAm, sAk, K, work), B0, ldb, C0 + (<usize>(m * N) << 2), N, K, bias);
  }
}

/** Pointer to row m of A as K contiguous floats: in place when sAk == 1, else gathered into `dst`. */
function rowOf(a: usize, m: i32, sAm: i32, sAk: i32, K: i32, dst: usize): usize {
  const src = a + (<usize>(m * sAm) << 2);
  if (sAk == 1) return src;
  for (let k = 0; k < K; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>(k * sAk) << 2)));
  return dst;
}

/** x·y over K floats (both contiguous). */
function dotOne(x: usize, y: usize, K: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = acc0;
  const kv = <usize>(K & ~7) << 2;
  for (let k: usize = 0; k < kv; k += 32) {
    acc0 = madd4(v128.load(x + k), v128.load(y + k), acc0);
    acc1 = madd4(v128.load(x + k, 16), v128.load(y + k, 16), acc1);
  }
  const v = f32x4.add(acc0, acc1);
  let s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (let k = K & ~7; k < K; k++) s += load<f32>(x + (<usize>k << 2)) * load<f32>(y + (<usize>k << 2));
  return s;
}

/** c[n] = x·B[n] (+ bias[n]) for one row x, 8 rows of B per step (8 independent accumulators). */
function dot1(x: usize, b: usize, ldb: usize, c: usize, N: i32, K: i32, bias: usize): void {
  const kv = <usize>(K & ~3) << 2;
  let n = 0;
  for (; n + 8 <= N; n += 8) {
    const r0 = b + <usize>n * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
    const r4 = r3 + ldb, r5 = r4 + ldb, r6 = r5 + ldb, r7 = r6 + ldb;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (let k: usize = 0; k < kv; k += 16) {
      const xv = v128.load(x + k);
      a0 = madd4(xv, v128.load(r0 + k), a0); a1 = madd4(xv, v128.load(r1 + k), a1);
      a2 = madd4(xv, v128.load(r2 + k), a2); a3 = madd4(xv, v128.load(r3 + k), a3);
      a4 = madd4(xv, v128.load(r4 + k), a4); a5 = madd4(xv, v128.load(r5 + k), a5);
      a6 = madd4(xv, v128.load(r6 + k), a6); a7 = madd4(xv, v128.load(r7 + k), a7);
    }
    let v = f32x4.add(hsum4x4(a0, a1, a2, a3), dotTail4(x, r0, r1, r2, r3, K & ~3, K));
    let w = f32x4.add(hsum4x4(a4, a5, a6, a7), dotTail4(x, r4, r5, r6, r7, K & ~3, K));
    if (bias) {
      v = f32x4.add(v, v128.load(bias + (<usize>n << 2)));
      w = f32x4.add(w, v128.load(bias + (<usize>n << 2), 16));
    }
    v128.store(c + (<usize>n << 2), v);
    v128.store(c + (<usize>n << 2), w, 16);
  }
  for (; n < N; n++) {
    const s = dotOne(x, b + <usize>n * ldb, K);
    store<f32>(c + (<usize>n << 2), bias ? s + load<f32>(bias + (<usize>n << 2)) : s);
  }
}

/** [x·r0, x·r1, x·r2, x·r3] over k in [from, K): the scalar tail of the dot kernels. */
function dotTail4(x: usize, r0: usize, r1: usize, r2: usize, r3: usize, from: i32, K: i32): v128 {
  let t = f32x4.splat(0);
  for (let k = from; k < K; k++) {
    const o = <usize>k << 2;
    const xs = v128.load32_splat(x + o);
    const col = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(r0 + o)), 1, load<f32>(r1 + o)), 2, load<f32>(r2 + o)), 3, load<f32>(r3 + o));
    t = f32x4.add(t, f32x4.mul(xs, col));
  }
  return t;
}

/** Two rows of C from rows x0, x1 of A, 4 rows of B per step: each B vector feeds two accumulators. */
function dot2(x0: usize, x1: usize, b: usize, ldb: usize, c: usize, N: i32, K: i32, bias: usize): void {
  const kv = <usize>(K & ~3) << 2;
  const ldc = <usize>N << 2;
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const r0 = b + <usize>n * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
    let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    for (let k: usize = 0; k < kv; k += 16) {
      const u = v128.load(x0 + k), w = v128.load(x1 + k);
      const b0 = v128.load(r0 + k), b1 = v128.load(r1 + k), b2 = v128.load(r2 + k), b3 = v128.load(r3 + k);
      a00 = madd4(u, b0, a00); a01 = madd4(u, b1, a01); a02 = madd4(u, b2, a02); a03 = madd4(u, b3, a03);
      a10 = madd4(w, b0, a10); a11 = madd4(w, b1, a11); a12 = madd4(w, b2, a12); a13 = madd4(w, b3, a13);
    }
    let v0 = f32x4.add(hsum4x4(a00, a01, a02, a03), dotTail4(x0, r0, r1, r2, r3, K & ~3, K));
    let v1 = f32x4.add(hsum4x4(a10, a11, a12, a13), dotTail4(x1, r0, r1, r2, r3, K & ~3, K));
    if (bias) {
      const bv = v128.load(bias + (<usize>n << 2));
      v0 = f32x4.add(v0, bv);
      v1 = f32x4.add(v1, bv);
    }
    v128.store(c + (<usize>n << 2), v0);
    v128.store(c + ldc + (<usize>n << 2), v1);
  }
  for (; n < N; n++) {
    const row = b + <usize>n * ldb;
    const bn: f32 = bias ? load<f32>(bias + (<usize>n << 2)) : 0;
    store<f32>(c + (<usize>n << 2), dotOne(x0, row, K) + bn);
    store<f32>(c + ldc + (<usize>n << 2), dotOne(x1, row, K) + bn);
  }
}
