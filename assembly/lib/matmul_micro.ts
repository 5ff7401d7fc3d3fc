// Register-blocked matmul micro-kernels: an MR x 8 tile of C kept in f32x4 registers over a packed K panel.
// 6x8 (12 accumulators) in the relaxed build where madd4 is one FMA; 5x8 in the plain build (mul+add needs a temp).
import { madd4 } from './simd';

/** Rows of the micro-tile: what fits in 15 xmm registers without spills (measured). */
export const MICRO_MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Columns of the micro-tile: two f32x4. */
export const MICRO_NR: i32 = 8;

/** How the accumulators start: zeros, the bias row (8 floats), or the current C tile. */
export const INIT_ZERO: i32 = 0;
export const INIT_BIAS: i32 = 1;
export const INIT_LOAD: i32 = 2;

/**
 * C[MR x 8] (=|+=) pa·pb over kc steps. pa: packed A panel [kc][MR]; pb: packed B panel [kc][8];
 * c: byte pointer of the tile, ldc: its row stride in bytes; bias: 8 floats when init is INIT_BIAS.
 */
export function matmulMicro(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, init: i32, bias: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) micro6x8(pa, pb, kc, c, ldc, init, bias);
  else micro5x8(pa, pb, kc, c, ldc, init, bias);
}

function micro6x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (init == INIT_LOAD) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16); c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16); c50 = v128.load(c + 5 * ldc); c51 = v128.load(c + 5 * ldc, 16);
  } else if (init == INIT_BIAS) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01; c40 = c00; c41 = c01; c50 = c00; c51 = c01;
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa); c00 = madd4(a, b0, c00); c01 = madd4(a, b1, c01);
    a = v128.load32_splat(pa, 4); c10 = madd4(a, b0, c10); c11 = madd4(a, b1, c11);
    a = v128.load32_splat(pa, 8); c20 = madd4(a, b0, c20); c21 = madd4(a, b1, c21);
    a = v128.load32_splat(pa, 12); c30 = madd4(a, b0, c30); c31 = madd4(a, b1, c31);
    a = v128.load32_splat(pa, 16); c40 = madd4(a, b0, c40); c41 = madd4(a, b1, c41);
    a = v128.load32_splat(pa, 20); c50 = madd4(a, b0, c50); c51 = madd4(a, b1, c51);
    pa += 24;
    pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16); v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
  v128.store(c + 4 * ldc, c40); v128.store(c + 4 * ldc, c41, 16); v128.store(c + 5 * ldc, c50); v128.store(c + 5 * ldc, c51, 16);
}

function micro5x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, init: i32, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  if (init == INIT_LOAD) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16); c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16);
  } else if (init == INIT_BIAS) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01; c40 = c00; c41 = c01;
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa); c00 = madd4(a, b0, c00); c01 = madd4(a, b1, c01);
    a = v128.load32_splat(pa, 4); c10 = madd4(a, b0, c10); c11 = madd4(a, b1, c11);
    a = v128.load32_splat(pa, 8); c20 = madd4(a, b0, c20); c21 = madd4(a, b1, c21);
    a = v128.load32_splat(pa, 12); c30 = madd4(a, b0, c30); c31 = madd4(a, b1, c31);
    a = v128.load32_splat(pa, 16); c40 = madd4(a, b0, c40); c41 = madd4(a, b1, c41);
    pa += 20;
    pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16); v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
  v128.store(c + 4 * ldc, c40); v128.store(c + 4 * ldc, c41, 16);
}
