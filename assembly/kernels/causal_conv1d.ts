// causal_conv1d: y_t = bias + Σ_{j<K} w[j]⊙xx_{t+j} over time-major rows of N = B·D floats (byte pointers), where
// xx = [state (K−1 rows) or zeros; x (T rows)]. Backward: dxx_u = Σ_j w[j]⊙dy_{u−j} (+ dStateOut_{u−T}) split into
// dstate and dx; dw[j] = Σ_{t,b} dy_t⊙xx_{t+j}, dbias = Σ_{t,b} dy_t. Channels in f32x4 lanes with scalar tails.
import { madd4 } from '../lib/simd';

/** Row u of xx (or 0: a zero row). */
@inline function xxRow(x: usize, state: usize, u: i32, K: i32, row: usize): usize {
  if (u >= K - 1) return x + <usize>(u - K + 1) * row;
  return state ? state + <usize>u * row : 0;
}

/** out[b, :] += wj ⊙ src[b, :] for b < B (rows of D). */
@inline function axpyRows(out: usize, wj: usize, src: usize, B: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    const ob = out + (<usize>(b * D) << 2);
    const sb = src + (<usize>(b * D) << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(ob + o, madd4(v128.load(wj + o), v128.load(sb + o), v128.load(ob + o)));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(ob + o, load<f32>(wj + o) * load<f32>(sb + o) + load<f32>(ob + o));
    }
  }
}

/** acc[:] += Σ_b p[b, :] ⊙ q[b, :]. */
@inline function dotRows(acc: usize, p: usize, q: usize, B: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    const pb = p + (<usize>(b * D) << 2);
    const qb = q + (<usize>(b * D) << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(acc + o, madd4(v128.load(pb + o), v128.load(qb + o), v128.load(acc + o)));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(acc + o, load<f32>(pb + o) * load<f32>(qb + o) + load<f32>(acc + o));
    }
  }
}

/** acc[:] += Σ_b p[b, :]. */
@inline function sumRows(acc: usize, p: usize, B: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    const pb = p + (<usize>(b * D) << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(acc + o, f32x4.add(v128.load(pb + o), v128.load(acc + o)));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(acc + o, load<f32>(pb + o) + load<f32>(acc + o));
    }
  }
}

/** One output row away from the edges: out[b, :] = bias + Σ_{j<K} w[j] ⊙ src_j[b, :], src_j = src0 + j·step bytes. */
@inline function convRow(out: usize, w: usize, bias: usize, src0: usize, step: i32, B: i32, D: i32, K: i32): void {
  for (let b = 0; b < B; b++) {
    const ob = <usize>(b * D) << 2;
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      let acc = bias ? v128.load(bias + o) : f32x4.splat(0);
      let wj = w + o;
      let sj = src0 + ob + o;
      for (let j = 0; j < K; j++) {
        acc = madd4(v128.load(wj), v128.load(sj), acc);
        wj += <usize>D << 2;
        sj += <usize>step;
      }
      v128.store(out + ob + o, acc);
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      let acc: f32 = bias ? load<f32>(bias + o) : 0;
      for (let j = 0; j < K; j++) acc += load<f32>(w + (<usize>(j * D) << 2) + o) * load<f32>(src0 + <usize>(j * step) + ob + o);
      store<f32>(out + ob + o, acc);
    }
  }
}

export function causal_conv1d_fwd_f32(
  x: usize, w: usize, bias: usize, state: usize, y: usize, stateOut: usize,
  T: i32, B: i32, D: i32, K: i32, hasBias: i32, hasState: i32,
): void {
  const row = <usize>(B * D) << 2;
  const st: usize = hasState ? state : 0;
  // Rows t >= K−1 read K consecutive rows of x; the first K−1 rows read the state or zeros.
  for (let t = K - 1; t < T; t++) {
    const yt = y + <usize>t * row;
    if (hasBias) convRow(yt, w, bias, x + <usize>(t - K + 1) * row, <i32>row, B, D, K);
    else convRow(yt, w, 0, x + <usize>(t - K + 1) * row, <i32>row, B, D, K);
  }
  for (let t = 0; t < min(T, K - 1); t++) {
    const yt = y + <usize>t * row;
    if (hasBias) for (let b = 0; b < B; b++) memory.copy(yt + (<usize>(b * D) << 2), bias, <usize>D << 2);
    else memory.fill(yt, 0, row);
    for (let j = 0; j < K; j++) {
      const src = xxRow(x, st, t + j, K, row);
      if (src) axpyRows(yt, w + (<usize>(j * D) << 2), src, B, D);
    }
  }
  if (hasState) {
    for (let i = 0; i < K - 1; i++) {
      const src = xxRow(x, st, T + i, K, row);
      if (src) memory.copy(stateOut + <usize>i * row, src, row);
      else memory.fill(stateOut + <usize>i * row, 0, row);
    }
  }
}

export function causal_conv1d_bwd_f32(
  x: usize, w: usize, dy: usize, state: usize, dStateOut: usize, dx: usize, dw: usize, dbias: usize, dstate: usize,
  T: i32, B: i32, D: i32, K: i32, hasState: i32,
): void {
  const row = <usize>(B * D) << 2;
  const st: usize = hasState ? state : 0;
  // dx and dstate, one row u of xx at a time: rows K−1 <= u < T read K consecutive rows of dy (newest first) ...
  for (let u = K - 1; u < T; u++) convRow(dx + <usize>(u - K + 1) * row, w, 0, dy + <usize>u * row, -<i32>row, B, D, K);
  // ... the others (the first K−1 with a state, and the last K−1) fewer, plus dStateOut.
  for (let u = hasState ? 0 : K - 1; u < T + K - 1; u++) {
    if (u >= K - 1 && u < T) continue;
    const out = u >= K - 1 ? dx + <usize>(u - K + 1) * row : dstate + <usize>u * row;
    if (hasState && u >= T) memory.copy(out, dStateOut + <usize>(u - T) * row, row);
    else memory.fill(out, 0, row);
    for (let j = max(0, u - T + 1); j < K && j <= u; j++) axpyRows(out, w + (<usize>(j * D) << 2), dy + <usize>(u - j) * row, B, D);
  }
  // dw and dbias, accumulated in place.
  memory.fill(dw, 0, <usize>(K * D) << 2);
  memory.fill(dbias, 0, <usize>D << 2);
  for (let t = 0; t < T; t++) {
    const g = dy + <usize>t * row;
    sumRows(dbias, g, B, D);
    for (let j = 0; j < K; j++) {
      const src = xxRow(x, st, t + j, K, row);
      if (src) dotRows(dw + (<usize>(j * D) << 2), g, src, B, D);
    }
  }
}
