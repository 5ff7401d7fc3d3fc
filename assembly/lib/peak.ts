// The register-only f32x4 peak of this build: 12 independent madd4 chains (FMA when relaxed, else mul+add).
// Benchmarks divide achieved GFLOP/s by it; 96 flops per iteration.
import { madd4 } from './simd';

/** Runs `iters` iterations of 12 independent f32x4 multiply-adds; returns a lane so nothing is dead code. */
export function peak_f32x4(iters: i32, x: f32): f32 {
  const a = f32x4.splat(x);
  const b = f32x4.splat(0.999);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(1), c2 = f32x4.splat(2), c3 = f32x4.splat(3);
  let c4 = f32x4.splat(4), c5 = f32x4.splat(5), c6 = f32x4.splat(6), c7 = f32x4.splat(7);
  let c8 = f32x4.splat(8), c9 = f32x4.splat(9), c10 = f32x4.splat(10), c11 = f32x4.splat(11);
  for (let i = 0; i < iters; i++) {
    c0 = madd4(c0, b, a); c1 = madd4(c1, b, a); c2 = madd4(c2, b, a); c3 = madd4(c3, b, a);
    c4 = madd4(c4, b, a); c5 = madd4(c5, b, a); c6 = madd4(c6, b, a); c7 = madd4(c7, b, a);
    c8 = madd4(c8, b, a); c9 = madd4(c9, b, a); c10 = madd4(c10, b, a); c11 = madd4(c11, b, a);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))), 0);
}

/** STREAM-style copy of `bytes` (a multiple of 16) from src to dst with f32x4 loads and stores, four per iteration:
 *  the memory bandwidth a wasm kernel can reach (wasm has no non-temporal stores, so every written line is read first,
 *  as in the kernels; memmove switches to non-temporal stores on large copies and goes faster). */
export function stream_copy_f32x4(dst: usize, src: usize, bytes: usize): void {
  let i: usize = 0;
  for (; i + 64 <= bytes; i += 64) {
    const a = v128.load(src + i);
    const b = v128.load(src + i, 16);
    const c = v128.load(src + i, 32);
    const d = v128.load(src + i, 48);
    v128.store(dst + i, a);
    v128.store(dst + i, b, 16);
    v128.store(dst + i, c, 32);
    v128.store(dst + i, d, 48);
  }
  for (; i < bytes; i += 16) v128.store(dst + i, v128.load(src + i));
}
