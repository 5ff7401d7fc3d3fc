// slice along one axis in the (outer, n, inner) view: y[o, j, i] = x[o, start + j, i] for j < size; the backward
// dx[o, start + j, i] = dy[o, j, i], zeros elsewhere. Byte pointers; sizes in elements; copies bits (f32 or i32).
import { assertCount, assertPtr } from '../lib/check';
import { copyRows, zeroRows } from '../lib/copy';

export function slice_fwd_f32(x: usize, y: usize, outer: i32, n: i32, inner: i32, start: i32, size: i32): void {
  assertPtr(x, 'slice_fwd_f32: x must be 4-byte aligned');
  assertPtr(y, 'slice_fwd_f32: y must be 4-byte aligned');
  assertCount(outer, 'slice_fwd_f32: outer must be >= 0');
  assert(start >= 0 && size >= 0 && start + size <= n && inner >= 0, 'slice_fwd_f32: 0 <= start <= start + size <= n');
  const len = <usize>size * <usize>inner << 2;
  copyRows(x + (<usize>start * <usize>inner << 2), <usize>n * <usize>inner << 2, y, len, outer, len);
}

export function slice_bwd_f32(dy: usize, dx: usize, outer: i32, n: i32, inner: i32, start: i32, size: i32): void {
  assertPtr(dy, 'slice_bwd_f32: dy must be 4-byte aligned');
  assertPtr(dx, 'slice_bwd_f32: dx must be 4-byte aligned');
  assertCount(outer, 'slice_bwd_f32: outer must be >= 0');
  assert(start >= 0 && size >= 0 && start + size <= n && inner >= 0, 'slice_bwd_f32: 0 <= start <= start + size <= n');
  const row = <usize>n * <usize>inner << 2;
  const len = <usize>size * <usize>inner << 2;
  const head = <usize>start * <usize>inner << 2;
  const tail = row - head - len;
  if (len == 0) return memory.fill(dx, 0, <usize>outer * row);
  // Zero only the parts dy does not cover, then copy dy's rows into place.
  zeroRows(dx, row, outer, head);
  zeroRows(dx + head + len, row, outer, tail);
  copyRows(dy, len, dx + head, row, outer, len);
}
