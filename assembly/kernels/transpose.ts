// transpose of two axes in the view x (A, P, M, Q, I) -> y (A, Q, M, P, I): y[α, q, m, p, i] = x[α, p, m, q, i].
// I > 1: strided row copies of I elements; I = 1: P×Q transposes by 64×64 blocks staged in scratch (4×4 v128 shuffles).
import { assertCount, assertPtr } from '../lib/check';
import { copyRows } from '../lib/copy';

/** Cache block (elements per side) of the I = 1 path. */
const TB = 64;

/** 4×4 block: rows r0..r3 at src (row stride ss bytes) become columns at dst (row stride ds bytes). */
@inline function tile4(src: usize, ss: usize, dst: usize, ds: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + ss);
  const r2 = v128.load(src + 2 * ss);
  const r3 = v128.load(src + 3 * ss);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + ds, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * ds, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * ds, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * One P×Q matrix (row stride ss bytes) into its Q×P transpose (row stride ds bytes), 4-byte elements, a TB×TB block
 * at a time through `buf` (TB·TB·4 bytes): the block is read row by row, transposed into buf in 4×4 tiles, then
 * written out as whole rows, so with power-of-two strides no cache line is touched twice (partial writes of lines
 * 4 KiB apart thrash the cache sets: 6 GB/s instead of 60 for a 1024×256 matrix).
 */
function transpose2d(src: usize, ss: usize, dst: usize, ds: usize, P: i32, Q: i32, buf: usize): void {
  const bs: usize = <usize>TB << 2;
  for (let p0 = 0; p0 < P; p0 += TB) {
    const pn = min(TB, P - p0);
    for (let q0 = 0; q0 < Q; q0 += TB) {
      const qn = min(TB, Q - q0);
      const s0 = src + <usize>p0 * ss + (<usize>q0 << 2);
      let p = 0;
      for (; p + 4 <= pn; p += 4) {
        let q = 0;
        for (; q + 4 <= qn; q += 4) tile4(s0 + <usize>p * ss + (<usize>q << 2), ss, buf + <usize>q * bs + (<usize>p << 2), bs);
        for (; q < qn; q++) {
          for (let r = p; r < p + 4; r++) store<u32>(buf + <usize>q * bs + (<usize>r << 2), load<u32>(s0 + <usize>r * ss + (<usize>q << 2)));
        }
      }
      for (; p < pn; p++) {
        for (let q = 0; q < qn; q++) store<u32>(buf + <usize>q * bs + (<usize>p << 2), load<u32>(s0 + <usize>p * ss + (<usize>q << 2)));
      }
      copyRows(buf, bs, dst + <usize>q0 * ds + (<usize>p0 << 2), ds, qn, <usize>pn << 2);
    }
  }
}

/** Scratch bytes transpose_fwd_f32 needs in `buf` (one TB×TB block). */
export function transpose_scratch_bytes(): i32 {
  return TB * TB * 4;
}

export function transpose_fwd_f32(x: usize, y: usize, A: i32, P: i32, M: i32, Q: i32, I: i32, buf: usize): void {
  assertPtr(x, 'transpose_fwd_f32: x must be 4-byte aligned');
  assertPtr(y, 'transpose_fwd_f32: y must be 4-byte aligned');
  assertPtr(buf, 'transpose_fwd_f32: buf must be 4-byte aligned');
  assert(A >= 0 && P >= 0 && M >= 0 && Q >= 0 && I >= 0, 'transpose_fwd_f32: sizes must be >= 0');
  assertCount(A, 'transpose_fwd_f32: A must be >= 0');
  const row = <usize>I << 2; // bytes of one run of I elements
  const xs = <usize>M * <usize>Q * row; // x stride of p
  const ys = <usize>M * <usize>P * row; // y stride of q
  for (let a = 0; a < A; a++) {
    const xa = x + <usize>a * <usize>P * xs;
    const ya = y + <usize>a * <usize>Q * ys;
    for (let m = 0; m < M; m++) {
      const xm = xa + <usize>m * <usize>Q * row;
      const ym = ya + <usize>m * <usize>P * row;
      if (I == 1) transpose2d(xm, xs, ym, ys, P, Q, buf);
      else for (let q = 0; q < Q; q++) copyRows(xm + <usize>q * row, xs, ym + <usize>q * ys, row, P, row);
    }
  }
}
