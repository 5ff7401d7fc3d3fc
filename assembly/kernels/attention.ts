// Scaled dot-product attention over time-major q (L, B, H·dh) and kv = [K | V] (Lm+L, B, 2·H·dh), key mask (Lm+L, B)
// or 0; o (L, B, H·dh), lse (L, B, H). Four query rows at a time share every K/V load (dot products f32x4 along dh,
// lanes = rows for the online softmax); keys in blocks of KB. flags: 1 causal, 2 sameLength (see src/ops/attention.ts).
import { hsum4, hsum4x4, madd4 } from '../lib/simd';
import { loadPartial4, log1, storePartial4, vexp4 } from '../lib/vmath';

const KB = 64;
const NEG_INF: f32 = -Infinity;

/** [a0·x, a1·x, a2·x, a3·x] over dh floats. */
@inline function dot4(a0: usize, a1: usize, a2: usize, a3: usize, x: usize, dh: i32): v128 {
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  let c = 0;
  for (; c + 4 <= dh; c += 4) {
    const o = <usize>c << 2;
    const v = v128.load(x + o);
    s0 = madd4(v128.load(a0 + o), v, s0);
    s1 = madd4(v128.load(a1 + o), v, s1);
    s2 = madd4(v128.load(a2 + o), v, s2);
    s3 = madd4(v128.load(a3 + o), v, s3);
  }
  let r = hsum4x4(s0, s1, s2, s3);
  for (; c < dh; c++) {
    const o = <usize>c << 2;
    let a = f32x4.splat(load<f32>(a0 + o));
    a = f32x4.replace_lane(a, 1, load<f32>(a1 + o));
    a = f32x4.replace_lane(a, 2, load<f32>(a2 + o));
    a = f32x4.replace_lane(a, 3, load<f32>(a3 + o));
    r = madd4(a, f32x4.splat(load<f32>(x + o)), r);
  }
  return r;
}

/** dot4 against two keys at once (x and x + xStep bytes): each q load feeds two products. Returns [x·, x2·]. */
@inline function dot4x2(a0: usize, a1: usize, a2: usize, a3: usize, x: usize, x2: usize, dh: i32, out: usize): void {
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  let t0 = s0;
  let t1 = s0;
  let t2 = s0;
  let t3 = s0;
  let c = 0;
  for (; c + 4 <= dh; c += 4) {
    const o = <usize>c << 2;
    const v = v128.load(x + o);
    const w = v128.load(x2 + o);
    const q0 = v128.load(a0 + o);
    const q1 = v128.load(a1 + o);
    const q2 = v128.load(a2 + o);
    const q3 = v128.load(a3 + o);
    s0 = madd4(q0, v, s0);
    s1 = madd4(q1, v, s1);
    s2 = madd4(q2, v, s2);
    s3 = madd4(q3, v, s3);
    t0 = madd4(q0, w, t0);
    t1 = madd4(q1, w, t1);
    t2 = madd4(q2, w, t2);
    t3 = madd4(q3, w, t3);
  }
  let r = hsum4x4(s0, s1, s2, s3);
  let r2 = hsum4x4(t0, t1, t2, t3);
  for (; c < dh; c++) {
    const o = <usize>c << 2;
    let a = f32x4.splat(load<f32>(a0 + o));
    a = f32x4.replace_lane(a, 1, load<f32>(a1 + o));
    a = f32x4.replace_lane(a, 2, load<f32>(a2 + o));
    a = f32x4.replace_lane(a, 3, load<f32>(a3 + o));
    r = madd4(a, f32x4.splat(load<f32>(x + o)), r);
    r2 = madd4(a, f32x4.splat(load<f32>(x2 + o)), r2);
  }
  v128.store(out, r);
  v128.store(out, r2, 16);
}

/** a·b over dh floats. */
@inline function dot1(a: usize, b: usize, dh: i32): f32 {
  let s = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= dh; c += 4) s = madd4(v128.load(a + (<usize>c << 2)), v128.load(b + (<usize>c << 2)), s);
  let r = hsum4(s);
  for (; c < dh; c++) r += load<f32>(a + (<usize>c << 2)) * load<f32>(b + (<usize>c << 2));
  return r;
}

/** All-ones lanes for rows i0 + r (r < 4) that see key j (and exist); 0 elsewhere. */
@inline function visible(i0: i32, j: i32, L: i32, Lm: i32, flags: i32): v128 {
  const iv = i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3));
  let vis = i32x4.lt_s(iv, i32x4.splat(L));
  if (flags & 1) vis = v128.and(vis, i32x4.ge_s(iv, i32x4.splat(j - Lm)));
  if (flags & 2) vis = v128.and(vis, i32x4.le_s(iv, i32x4.splat(j)));
  return vis;
}

@inline function keyLo(i: i32, flags: i32): i32 {
  return flags & 2 ? i : 0;
}
@inline function keyHi(i: i32, Lm: i32, L: i32, flags: i32): i32 {
  return flags & 1 ? Lm + i + 1 : Lm + L;
}

@inline function padded(mask: usize, j: i32, B: i32, b: i32): bool {
  return mask != 0 && load<f32>(mask + (<usize>(j * B + b) << 2)) != 0;
}

/** Forward. work: 4·KB + 4·dh + 8 floats (scores [KB][4 rows], accumulators [4][dh], row stats). */
export function attention_fwd_f32(q: usize, kv: usize, mask: usize, o: usize, lse: usize, L: i32, Lm: i32, B: i32, H: i32,
  dh: i32, flags: i32, scale: f32, work: usize): void {
  const HD = H * dh;
  const S = work;
  const acc = work + (<usize>(4 * KB) << 2);
  const stats = acc + (<usize>(4 * dh) << 2);
  const rowBytes = <usize>dh << 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i0 = 0; i0 < L; i0 += 4) {
        const nr = min(4, L - i0);
        const q0 = q + (<usize>((i0 * B + b) * HD + h * dh) << 2);
        const qStep = <usize>(B * HD) << 2;
        const q1 = q0 + qStep * <usize>min(1, nr - 1);
        const q2 = q0 + qStep * <usize>min(2, nr - 1);
        const q3 = q0 + qStep * <usize>min(3, nr - 1);
        memory.fill(acc, 0, rowBytes * 4);
        let m = f32x4.splat(NEG_INF);
        let l = f32x4.splat(0);
        const jHi = keyHi(i0 + nr - 1, Lm, L, flags);
        for (let j0 = keyLo(i0, flags); j0 < jHi; j0 += KB) {
          const nj = min(KB, jHi - j0);
          // Raw dot products into S, two keys per pass; then scale, mask and the block max.
          const kStep = <usize>(B * 2 * HD) << 2;
          const k0 = kv + (<usize>((j0 * B + b) * 2 * HD + h * dh) << 2);
          let jj = 0;
          for (; jj + 2 <= nj; jj += 2) dot4x2(q0, q1, q2, q3, k0 + kStep * <usize>jj, k0 + kStep * <usize>(jj + 1), dh, S + (<usize>jj << 4));
          if (jj < nj) v128.store(S + (<usize>jj << 4), dot4(q0, q1, q2, q3, k0 + kStep * <usize>jj, dh));
          let bm = f32x4.splat(NEG_INF);
          for (jj = 0; jj < nj; jj++) {
            const j = j0 + jj;
            let vis = visible(i0, j, L, Lm, flags);
            if (padded(mask, j, B, b)) vis = f32x4.splat(0);
            const s = v128.bitselect(f32x4.mul(v128.load(S + (<usize>jj << 4)), f32x4.splat(scale)), f32x4.splat(NEG_INF), vis);
            v128.store(S + (<usize>jj << 4), s);
            bm = f32x4.max(bm, s);
          }
          const mNew = f32x4.max(m, bm);
          // Rows with nothing visible yet keep m = −Inf; exponents use 0 there so every p is exp(−Inf) = 0.
          const mSafe = v128.bitselect(f32x4.splat(0), mNew, f32x4.eq(mNew, f32x4.splat(NEG_INF)));
          const corr = vexp4(f32x4.sub(m, mSafe));
          let ls = f32x4.splat(0);
          for (let jj = 0; jj < nj; jj++) {
            const p = vexp4(f32x4.sub(v128.load(S + (<usize>jj << 4)), mSafe));
            v128.store(S + (<usize>jj << 4), p);
            ls = f32x4.add(ls, p);
          }
          l = madd4(l, corr, ls);
          m = mNew;
          v128.store(stats, corr);
          accumulatePV(acc, S, stats, kv + (<usize>(j0 * B * 2 * HD + b * 2 * HD + HD + h * dh) << 2), <usize>(B * 2 * HD) << 2, nj, dh);
        }
        v128.store(stats, m);
        v128.store(stats, l, 16);
        for (let r = 0; r < nr; r++) {
          const lr = load<f32>(stats + (<usize>r << 2), 16);
          const orow = o + (<usize>(((i0 + r) * B + b) * HD + h * dh) << 2);
          const arow = acc + rowBytes * <usize>r;
          const inv: f32 = lr > 0 ? 1 / lr : 0;
          let c = 0;
          for (; c + 4 <= dh; c += 4) v128.store(orow + (<usize>c << 2), f32x4.mul(v128.load(arow + (<usize>c << 2)), f32x4.splat(inv)));
          for (; c < dh; c++) store<f32>(orow + (<usize>c << 2), load<f32>(arow + (<usize>c << 2)) * inv);
          store<f32>(lse + (<usize>(((i0 + r) * B + b) * H + h) << 2), lr > 0 ? load<f32>(stats + (<usize>r << 2)) + log1(lr) : 0);
        }
      }
    }
  }
}

/** acc_r = acc_r·corr_r + Σ_jj P[jj][r]·v_jj for the 4 rows; v_jj at v + jj·vStep (bytes). */
@inline function accumulatePV(acc: usize, P: usize, corr: usize, v: usize, vStep: usize, nj: i32, dh: i32): void {
  const rowBytes = <usize>dh << 2;
  const c0 = v128.load32_splat(corr);
  const c1 = v128.load32_splat(corr + 4);
  const c2 = v128.load32_splat(corr + 8);
  const c3 = v128.load32_splat(corr + 12);
  let c = 0;
  for (; c + 8 <= dh; c += 8) {
    const off = <usize>c << 2;
    let a0 = f32x4.mul(v128.load(acc + off), c0);
    let a1 = f32x4.mul(v128.load(acc + rowBytes + off), c1);
    let a2 = f32x4.mul(v128.load(acc + 2 * rowBytes + off), c2);
    let a3 = f32x4.mul(v128.load(acc + 3 * rowBytes + off), c3);
    let b0 = f32x4.mul(v128.load(acc + off, 16), c0);
    let b1 = f32x4.mul(v128.load(acc + rowBytes + off, 16), c1);
    let b2 = f32x4.mul(v128.load(acc + 2 * rowBytes + off, 16), c2);
    let b3 = f32x4.mul(v128.load(acc + 3 * rowBytes + off, 16), c3);
    for (let jj = 0; jj < nj; jj++) {
      const vp = v + vStep * <usize>jj + off;
      const x = v128.load(vp);
      const y = v128.load(vp, 16);
      const p = P + (<usize>jj << 4);
      const p0 = v128.load32_splat(p);
      const p1 = v128.load32_splat(p + 4);
      const p2 = v128.load32_splat(p + 8);
      const p3 = v128.load32_splat(p + 12);
      a0 = madd4(p0, x, a0);
      a1 = madd4(p1, x, a1);
      a2 = madd4(p2, x, a2);
      a3 = madd4(p3, x, a3);
      b0 = madd4(p0, y, b0);
      b1 = madd4(p1, y, b1);
      b2 = madd4(p2, y, b2);
      b3 = madd4(p3, y, b3);
    }
    v128.store(acc + off, a0);
    v128.store(acc + rowBytes + off, a1);
    v128.store(acc + 2 * rowBytes + off, a2);
    v128.store(acc + 3 * rowBytes + off, a3);
    v128.store(acc + off, b0, 16);
    v128.store(acc + rowBytes + off, b1, 16);
    v128.store(acc + 2 * rowBytes + off, b2, 16);
    v128.store(acc + 3 * rowBytes + off, b3, 16);
  }
  for (; c + 4 <= dh; c += 4) {
    const off = <usize>c << 2;
    let a0 = f32x4.mul(v128.load(acc + off), c0);
    let a1 = f32x4.mul(v128.load(acc + rowBytes + off), c1);
    let a2 = f32x4.mul(v128.load(acc + 2 * rowBytes + off), c2);
    let a3 = f32x4.mul(v128.load(acc + 3 * rowBytes + off), c3);
    for (let jj = 0; jj < nj; jj++) {
      const x = v128.load(v + vStep * <usize>jj + off);
      const p = P + (<usize>jj << 4);
      a0 = madd4(v128.load32_splat(p), x, a0);
      a1 = madd4(v128.load32_splat(p + 4), x, a1);
      a2 = madd4(v128.load32_splat(p + 8), x, a2);
      a3 = madd4(v128.load32_splat(p + 12), x, a3);
    }
    v128.store(acc + off, a0);
    v128.store(acc + rowBytes + off, a1);
    v128.store(acc + 2 * rowBytes + off, a2);
    v128.store(acc + 3 * rowBytes + off, a3);
  }
  for (; c < dh; c++) {
    const off = <usize>c << 2;
    let a = f32x4.splat(load<f32>(acc + off));
    a = f32x4.replace_lane(a, 1, load<f32>(acc + rowBytes + off));
    a = f32x4.replace_lane(a, 2, load<f32>(acc + 2 * rowBytes + off));
    a = f32x4.replace_lane(a, 3, load<f32>(acc + 3 * rowBytes + off));
    a = f32x4.mul(a, v128.load(corr));
    for (let jj = 0; jj < nj; jj++) a = madd4(v128.load(P + (<usize>jj << 4)), f32x4.splat(load<f32>(v + vStep * <usize>jj + off)), a);
    store<f32>(acc + off, f32x4.extract_lane(a, 0));
    store<f32>(acc + rowBytes + off, f32x4.extract_lane(a, 1));
    store<f32>(acc + 2 * rowBytes + off, f32x4.extract_lane(a, 2));
    store<f32>(acc + 3 * rowBytes + off, f32x4.extract_lane(a, 3));
  }
}

/** Backward (models.md §B.11), one pass: per block of 4 query rows and each visible key j, P = exp(s − lse),
 *  dS = s·P ⊙ (dO·v_j − δ) with δ = dO·o − dlse; dK_j += Σ_r dS_r q_r and dV_j += Σ_r P_r dO_r at once, dq after the
 *  key block. dq (L, B, H·dh) and dkv (Lm+L, B, 2·H·dh) are zeroed first. work: 12·KB + 8 floats. */
export function attention_bwd_f32(q: usize, kv: usize, o: usize, lse: usize, dO: usize, dlse: usize, mask: usize, dq: usize,
  dkv: usize, L: i32, Lm: i32, B: i32, H: i32, dh: i32, flags: i32, scale: f32, work: usize): void {
  const HD = H * dh;
  const Lk = Lm + L;
  memory.fill(dq, 0, <usize>(L * B * HD) << 2);
  memory.fill(dkv, 0, <usize>(Lk * B * 2 * HD) << 2);
  const dS = work;
  const Sr = work + (<usize>(4 * KB) << 2);
  const dPr = work + (<usize>(8 * KB) << 2);
  const st = work + (<usize>(12 * KB) << 2);
  const qStep = <usize>(B * HD) << 2;
  const kStep = <usize>(B * 2 * HD) << 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i0 = 0; i0 < L; i0 += 4) {
        const nr = min(4, L - i0);
        const off0 = <usize>((i0 * B + b) * HD + h * dh) << 2;
        // Rows past L alias the last real row; their lanes are invisible, so they add nothing.
        const r1 = qStep * <usize>min(1, nr - 1);
        const r2 = qStep * <usize>min(2, nr - 1);
        const r3 = qStep * <usize>min(3, nr - 1);
        const s0 = (i0 * B + b) * H + h;
        for (let r = 0; r < 4; r++) {
          const rr = <usize>min(r, nr - 1);
          const ro = off0 + qStep * rr;
          const si = <usize>(s0 + <i32>rr * B * H) << 2;
          store<f32>(st + (<usize>r << 2), load<f32>(lse + si));
          store<f32>(st + (<usize>r << 2), dot1(dO + ro, o + ro, dh) - load<f32>(dlse + si), 16);
        }
        const lse4 = v128.load(st);
        const delta4 = v128.load(st, 16);
        const jHi = keyHi(i0 + nr - 1, Lm, L, flags);
        for (let j0 = keyLo(i0, flags); j0 < jHi; j0 += KB) {
          const nj = min(KB, jHi - j0);
          // Raw logits and dO·v for the block, two keys per pass, then P, dS and the dK / dV updates key by key.
          const k0 = kv + (<usize>((j0 * B + b) * 2 * HD + h * dh) << 2);
          const v0 = k0 + (<usize>HD << 2);
          let jj = 0;
          for (; jj + 2 <= nj; jj += 2) {
            dot4x2(q + off0, q + off0 + r1, q + off0 + r2, q + off0 + r3, k0 + kStep * <usize>jj, k0 + kStep * <usize>(jj + 1), dh, Sr + (<usize>jj << 4));
            dot4x2(dO + off0, dO + off0 + r1, dO + off0 + r2, dO + off0 + r3, v0 + kStep * <usize>jj, v0 + kStep * <usize>(jj + 1), dh, dPr + (<usize>jj << 4));
          }
          if (jj < nj) {
            v128.store(Sr + (<usize>jj << 4), dot4(q + off0, q + off0 + r1, q + off0 + r2, q + off0 + r3, k0 + kStep * <usize>jj, dh));
            v128.store(dPr + (<usize>jj << 4), dot4(dO + off0, dO + off0 + r1, dO + off0 + r2, dO + off0 + r3, v0 + kStep * <usize>jj, dh));
          }
          for (jj = 0; jj < nj; jj++) {
            const j = j0 + jj;
            const vis = visible(i0, j, L, Lm, flags);
            let g = f32x4.splat(0);
            if (v128.any_true(vis) && !padded(mask, j, B, b)) {
              const ko = kStep * <usize>jj;
              const s = f32x4.mul(v128.load(Sr + (<usize>jj << 4)), f32x4.splat(scale));
              const P = v128.and(vexp4(f32x4.sub(s, lse4)), vis);
              g = f32x4.mul(f32x4.mul(P, f32x4.sub(v128.load(dPr + (<usize>jj << 4)), delta4)), f32x4.splat(scale));
              const dk = dkv + (k0 - kv) + ko;
              rank4Update(dk, q + off0, r1, r2, r3, g, dh);
              rank4Update(dk + (<usize>HD << 2), dO + off0, r1, r2, r3, P, dh);
            }
            v128.store(dS + (<usize>jj << 4), g);
          }
          accumulateDq(dq + off0, r1, r2, r3, nr, dS, kv + (<usize>((j0 * B + b) * 2 * HD + h * dh) << 2), kStep, nj, dh);
        }
      }
    }
  }
}

/** y += Σ_r w_r·x_r over dh floats; x_r at x + {0, r1, r2, r3} bytes. */
@inline function rank4Update(y: usize, x: usize, r1: usize, r2: usize, r3: usize, w: v128, dh: i32): void {
  const w0 = f32x4.splat(f32x4.extract_lane(w, 0));
  const w1 = f32x4.splat(f32x4.extract_lane(w, 1));
  const w2 = f32x4.splat(f32x4.extract_lane(w, 2));
  const w3 = f32x4.splat(f32x4.extract_lane(w, 3));
  let c = 0;
  for (; c + 4 <= dh; c += 4) {
    const off = <usize>c << 2;
    let a = v128.load(y + off);
    a = madd4(w0, v128.load(x + off), a);
    a = madd4(w1, v128.load(x + r1 + off), a);
    a = madd4(w2, v128.load(x + r2 + off), a);
    a = madd4(w3, v128.load(x + r3 + off), a);
    v128.store(y + off, a);
  }
  for (; c < dh; c++) {
    const off = <usize>c << 2;
    let a = load<f32>(y + off);
    a += f32x4.extract_lane(w, 0) * load<f32>(x + off) + f32x4.extract_lane(w, 1) * load<f32>(x + r1 + off);
    a += f32x4.extract_lane(w, 2) * load<f32>(x + r2 + off) + f32x4.extract_lane(w, 3) * load<f32>(x + r3 + off);
    store<f32>(y + off, a);
  }
}

/** dq_r += Σ_jj dS[jj][r]·k_jj for the nr real rows (row r at dq + {0, r1, r2, r3}); k_jj at k + jj·kStep. */
@inline function accumulateDq(dq: usize, r1: usize, r2: usize, r3: usize, nr: i32, dS: usize, k: usize, kStep: usize, nj: i32, dh: i32): void {
  for (let c = 0; c < dh; c += 4) {
    const off = <usize>c << 2;
    const w = min(4, dh - c);
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let a2 = a0;
    let a3 = a0;
    for (let jj = 0; jj < nj; jj++) {
      const x = w == 4 ? v128.load(k + kStep * <usize>jj + off) : loadPartial4(k + kStep * <usize>jj + off, w);
      const p = dS + (<usize>jj << 4);
      a0 = madd4(v128.load32_splat(p), x, a0);
      a1 = madd4(v128.load32_splat(p + 4), x, a1);
      a2 = madd4(v128.load32_splat(p + 8), x, a2);
      a3 = madd4(v128.load32_splat(p + 12), x, a3);
    }
    addTo(dq + off, a0, w);
    if (nr > 1) addTo(dq + r1 + off, a1, w);
    if (nr > 2) addTo(dq + r2 + off, a2, w);
    if (nr > 3) addTo(dq + r3 + off, a3, w);
  }
}

@inline function addTo(p: usize, a: v128, w: i32): void {
  if (w == 4) v128.store(p, f32x4.add(v128.load(p), a));
  else storePartial4(p, f32x4.add(loadPartial4(p, w), a), w);
}
