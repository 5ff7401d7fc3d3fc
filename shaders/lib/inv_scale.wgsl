// The exact power-of-two row scale of the norm kernels (`//!include inv_scale`); assembly/lib/rows.ts has its twin.

/** 2^−e with e = ⌊log2 a⌋ clamped to [0, 126]: scales max|x| into [1, 2) and is exact. */
fn inv_scale(a: f32) -> f32 {
  let e = clamp(i32((bitcast<u32>(a) >> 23u) & 0xffu) - 127, 0, 126);
  return bitcast<f32>(u32(127 - e) << 23u);
}
