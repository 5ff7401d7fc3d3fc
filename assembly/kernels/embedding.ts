// embedding: out[n] = table[ids[n]] (a zero row for an id outside [0, V)); backward scatter-adds dy[n] into
// dtable[ids[n]]. Pointers are byte offsets; ids (N) i32, table / dtable (V, D), out / dy (N, D), contiguous.

/** dst[0..D) = src[0..D). */
@inline function copyRow(dst: usize, src: usize, D: i32): void {
  let d = 0;
  for (; d + 4 <= D; d += 4) v128.store(dst + (<usize>d << 2), v128.load(src + (<usize>d << 2)));
  for (; d < D; d++) store<f32>(dst + (<usize>d << 2), load<f32>(src + (<usize>d << 2)));
}

/** dst[0..D) += src[0..D). */
@inline function addRow(dst: usize, src: usize, D: i32): void {
  let d = 0;
  for (; d + 4 <= D; d += 4) {
    const o = <usize>d << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; d < D; d++) {
    const o = <usize>d << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

export function embedding_fwd_f32(ids: usize, table: usize, out: usize, N: i32, V: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  for (let n = 0; n < N; n++) {
    const id = load<i32>(ids + (<usize>n << 2));
    const dst = out + <usize>n * rowBytes;
    if (id >= 0 && id < V) copyRow(dst, table + <usize>id * rowBytes, D);
    else memory.fill(dst, 0, rowBytes);
  }
}

export function embedding_bwd_f32(ids: usize, dy: usize, dtable: usize, N: i32, V: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  memory.fill(dtable, 0, <usize>V * rowBytes);
  for (let n = 0; n < N; n++) {
    const id = load<i32>(ids + (<usize>n << 2));
    if (id >= 0 && id < V) addRow(dtable + <usize>id * rowBytes, dy + <usize>n * rowBytes, D);
  }
}
