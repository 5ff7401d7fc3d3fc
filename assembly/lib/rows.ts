// Row helpers shared by the norm kernels (layer_norm, rms_norm): max |x| of a row and the exact power-of-two scale
// 2^−e (2^e ≤ max|x|) that keeps their squares and sums in range.

/** max |row[j]| over [0, D); four accumulators hide the latency of f32x4.max. */
@inline export function absMax(row: usize, D: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let j = 0;
  for (; j + 16 <= D; j += 16) {
    const p = row + (<usize>j << 2);
    a0 = f32x4.max(a0, f32x4.abs(v128.load(p)));
    a1 = f32x4.max(a1, f32x4.abs(v128.load(p, 16)));
    a2 = f32x4.max(a2, f32x4.abs(v128.load(p, 32)));
    a3 = f32x4.max(a3, f32x4.abs(v128.load(p, 48)));
  }
  for (; j + 4 <= D; j += 4) a0 = f32x4.max(a0, f32x4.abs(v128.load(row + (<usize>j << 2))));
  a0 = f32x4.max(f32x4.max(a0, a1), f32x4.max(a2, a3));
  let a = max(max(f32x4.extract_lane(a0, 0), f32x4.extract_lane(a0, 1)), max(f32x4.extract_lane(a0, 2), f32x4.extract_lane(a0, 3)));
  for (; j < D; j++) a = max(a, abs(load<f32>(row + (<usize>j << 2))));
  return a;
}

/** 2^−e with e = ⌊log2 a⌋ clamped to [0, 126]: scales max|x| into [1, 2) and is exact. */
@inline export function invScale(a: f32): f32 {
  const e = min(max(<i32>((reinterpret<u32>(a) >> 23) & 0xff) - 127, 0), 126);
  return reinterpret<f32>(<u32>(127 - e) << 23);
}
