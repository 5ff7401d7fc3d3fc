// Strided row copies (and zero fills) for the shape ops (slice, concat, transpose): byte pointers, lengths, strides.
// Long rows go to memory.copy (bulk memory, fastest for contiguous runs); short rows to v128 moves with a 4-byte tail.

/** Rows shorter than this many bytes are moved with v128 loads/stores instead of a memory.copy call. */
const SHORT_ROW: usize = 256;

/** Copies `rows` rows of `len` bytes (a multiple of 4) from src (row stride ss bytes) to dst (row stride ds bytes). */
@inline export function copyRows(src: usize, ss: usize, dst: usize, ds: usize, rows: i32, len: usize): void {
  if (rows <= 0 || len == 0) return;
  if (ss == len && ds == len) {
    memory.copy(dst, src, <usize>rows * len); // both sides contiguous: one run
    return;
  }
  if (len >= SHORT_ROW) {
    for (let r = 0; r < rows; r++) memory.copy(dst + <usize>r * ds, src + <usize>r * ss, len);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = src + <usize>r * ss;
    const d = dst + <usize>r * ds;
    let j: usize = 0;
    for (; j + 64 <= len; j += 64) {
      const a = v128.load(s + j);
      const b = v128.load(s + j, 16);
      const c = v128.load(s + j, 32);
      const e = v128.load(s + j, 48);
      v128.store(d + j, a);
      v128.store(d + j, b, 16);
      v128.store(d + j, c, 32);
      v128.store(d + j, e, 48);
    }
    for (; j + 16 <= len; j += 16) v128.store(d + j, v128.load(s + j));
    for (; j < len; j += 4) store<u32>(d + j, load<u32>(s + j));
  }
}

/** Zeroes `rows` rows of `len` bytes (a multiple of 4) at dst (row stride ds bytes). */
@inline export function zeroRows(dst: usize, ds: usize, rows: i32, len: usize): void {
  if (rows <= 0 || len == 0) return;
  if (ds == len || len >= SHORT_ROW) {
    if (ds == len) memory.fill(dst, 0, <usize>rows * len);
    else for (let r = 0; r < rows; r++) memory.fill(dst + <usize>r * ds, 0, len);
    return;
  }
  const z = i32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const d = dst + <usize>r * ds;
    let j: usize = 0;
    for (; j + 16 <= len; j += 16) v128.store(d + j, z);
    for (; j < len; j += 4) store<u32>(d + j, 0);
  }
}
