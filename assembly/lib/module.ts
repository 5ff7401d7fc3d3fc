// Facts about the module itself, read by the TypeScript loader.

/** First byte the TypeScript allocator may hand out (after static data). */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build, 0 in the plain one. */
export function has_relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
