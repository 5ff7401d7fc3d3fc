// concat, one input at a time: rows of `len` elements of x (contiguous, `outer` rows) into y, whose rows are
// `ystride` elements long, starting at element `offset` of each y row. Byte pointers; copies bits (f32 or i32).
import { assertCount, assertPtr } from '../lib/check';
import { copyRows } from '../lib/copy';

export function concat_fwd_f32(x: usize, y: usize, outer: i32, len: i32, ystride: i32, offset: i32): void {
  assertPtr(x, 'concat_fwd_f32: x must be 4-byte aligned');
  assertPtr(y, 'concat_fwd_f32: y must be 4-byte aligned');
  assertCount(outer, 'concat_fwd_f32: outer must be >= 0');
  assert(len >= 0 && offset >= 0 && offset + len <= ystride, 'concat_fwd_f32: 0 <= offset <= offset + len <= ystride');
  copyRows(x, <usize>len << 2, y + (<usize>offset << 2), <usize>ystride << 2, outer, <usize>len << 2);
}
