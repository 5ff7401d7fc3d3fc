// Packing for the blocked matmul: copies a block of A into MR-row panels [k][MR] and a block of B into
// 8-column panels [k][8], zero-padding the edges, so the micro-kernel reads both sequentially.
import { MICRO_MR as MR, MICRO_NR as NR } from './matmul_micro';

/** Element (i, j) of a strided matrix at `base`: base + (i*si + j*sj)*4. */
@inline function at(base: usize, i: i32, si: i32, j: i32, sj: i32): usize {
  return base + (<usize>(i * si + j * sj) << 2);
}

/** Lanes t of four vectors as one vector: the 4x4 transpose, column t. */
@inline function transpose4(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, stride: usize): void {
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t2, 0, 2));
  v128.store(dst + stride, i64x2.shuffle(t0, t2, 1, 3));
  v128.store(dst + 2 * stride, i64x2.shuffle(t1, t3, 0, 2));
  v128.store(dst + 3 * stride, i64x2.shuffle(t1, t3, 1, 3));
}

/**
 * Packs B[k0..k0+kc, n0..n0+nc] (element (k, n) at b + (k*sBk + n*sBn)*4) into ceil(nc/8) panels of
 * kc x 8 floats each, panel p at dst + p*kc*32.
 */
export function packB(dst: usize, b: usize, sBk: i32, sBn: i32, k0: i32, kc: i32, n0: i32, nc: i32): void {
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const n = n0 + j;
    if (cols == NR && sBn == 1) {
      let src = at(b, k0, sBk, n, 1);
      const step = <usize>sBk << 2;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += step;
        dst += 32;
      }
    } else if (cols == NR && sBk == 1) {
      packRowsTransposed8(dst, at(b, k0, 1, n, sBn), <usize>sBn << 2, kc);
      dst += <usize>kc << 5;
    } else {
      for (let k = 0; k < kc; k++) {
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(dst, jj < cols ? load<f32>(at(b, k0 + k, sBk, n + jj, sBn)) : 0);
          dst += 4;
        }
      }
    }
  }
}

/** dst[k][i] = row_i[k] for 8 rows of kc contiguous floats, rows `ld` bytes apart (B transposed). */
function packRowsTransposed8(dst: usize, src: usize, ld: usize, kc: i32): void {
  const r0 = src, r1 = src + ld, r2 = src + 2 * ld, r3 = src + 3 * ld;
  const r4 = src + 4 * ld, r5 = src + 5 * ld, r6 = src + 6 * ld, r7 = src + 7 * ld;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const o = <usize>k << 2;
    transpose4(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), dst, 32);
    transpose4(v128.load(r4 + o), v128.load(r5 + o), v128.load(r6 + o), v128.load(r7 + o), dst + 16, 32);
    dst += 128;
  }
  for (; k < kc; k++) {
    const o = <usize>k << 2;
    store<f32>(dst, load<f32>(r0 + o)); store<f32>(dst, load<f32>(r1 + o), 4);
    store<f32>(dst, load<f32>(r2 + o), 8); store<f32>(dst, load<f32>(r3 + o), 12);
    store<f32>(dst, load<f32>(r4 + o), 16); store<f32>(dst, load<f32>(r5 + o), 20);
    store<f32>(dst, load<f32>(r6 + o), 24); store<f32>(dst, load<f32>(r7 + o), 28);
    dst += 32;
  }
}

/**
 * Packs A[m0..m0+mc, k0..k0+kc] (element (m, k) at a + (m*sAm + k*sAk)*4) into ceil(mc/MR) panels of
 * kc x MR floats each, panel p at dst + p*kc*MR*4.
 */
export function packA(dst: usize, a: usize, sAm: i32, sAk: i32, m0: i32, mc: i32, k0: i32, kc: i32): void {
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    const m = m0 + i;
    if (rows == MR && sAm == 1) {
      // A transposed: the MR values of one k are contiguous.
      let src = at(a, m, 1, k0, sAk);
      const step = <usize>sAk << 2;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        store<f32>(dst, load<f32>(src, 16), 16);
        if (MR == 6) store<f32>(dst, load<f32>(src, 20), 20);
        src += step;
        dst += MR << 2;
      }
    } else if (rows == MR && sAk == 1) {
      packRowsTransposedMR(dst, at(a, m, sAm, k0, 1), <usize>sAm << 2, kc);
      dst += <usize>(kc * MR) << 2;
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(dst, r < rows ? load<f32>(at(a, m + r, sAm, k0 + k, sAk)) : 0);
          dst += 4;
        }
      }
    }
  }
}

/** dst[k][i] = row_i[k] for MR rows of kc contiguous floats, rows `ld` bytes apart (A not transposed). */
function packRowsTransposedMR(dst: usize, src: usize, ld: usize, kc: i32): void {
  const r0 = src, r1 = src + ld, r2 = src + 2 * ld, r3 = src + 3 * ld, r4 = src + 4 * ld, r5 = src + 5 * ld;
  const step: usize = MR << 2;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const o = <usize>k << 2;
    transpose4(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), dst, step);
    const x4 = v128.load(r4 + o);
    if (MR == 6) {
      const x5 = v128.load(r5 + o);
      const lo = i32x4.shuffle(x4, x5, 0, 4, 1, 5);
      const hi = i32x4.shuffle(x4, x5, 2, 6, 3, 7);
      v128.store64_lane(dst + 16, lo, 0);
      v128.store64_lane(dst + 16 + step, lo, 1);
      v128.store64_lane(dst + 16 + 2 * step, hi, 0);
      v128.store64_lane(dst + 16 + 3 * step, hi, 1);
    } else {
      v128.store32_lane(dst + 16, x4, 0);
      v128.store32_lane(dst + 16 + step, x4, 1);
      v128.store32_lane(dst + 16 + 2 * step, x4, 2);
      v128.store32_lane(dst + 16 + 3 * step, x4, 3);
    }
    dst += step << 2;
  }
  for (; k < kc; k++) {
    const o = <usize>k << 2;
    store<f32>(dst, load<f32>(r0 + o)); store<f32>(dst, load<f32>(r1 + o), 4);
    store<f32>(dst, load<f32>(r2 + o), 8); store<f32>(dst, load<f32>(r3 + o), 12);
    store<f32>(dst, load<f32>(r4 + o), 16);
    if (MR == 6) store<f32>(dst, load<f32>(r5 + o), 20);
    dst += step;
  }
}
