// SRU recurrence (models.md §A.3) and backward (§A.9) on f32x4 lanes of 4 consecutive units j. Loops b → t → (dir, j):
// each step sweeps all n columns of one b, so independent blocks fill the pipeline, and c_{t−1}, the carried gradient
// and the dv/db partials of that b stay in L1. U's k-interleaved columns are de-interleaved with shuffles of k contiguous v128 loads. Byte pointers; 0 = absent.
import { madd4 } from '../lib/simd';
import { loadPartial4, storePartial4, vdtanh4, vsigmoid4, vtanh4 } from '../lib/vmath';

const F_SKIP = 2;
const F_TANH = 4;
const F_DCL = 64;

@inline function ld(p: usize, cnt: i32): v128 {
  return cnt == 4 ? v128.load(p) : loadPartial4(p, cnt);
}
@inline function st(p: usize, v: v128, cnt: i32): void {
  if (cnt == 4) v128.store(p, v);
  else storePartial4(p, v, cnt);
}
/** Lanes p, p + s, p + 2s (count 1..3), the rest 0. */
@inline function gather(p: usize, s: usize, cnt: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (cnt > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + s));
  if (cnt > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * s));
  return v;
}
@inline function scatter(p: usize, s: usize, v: v128, cnt: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (cnt > 1) store<f32>(p + s, f32x4.extract_lane(v, 1));
  if (cnt > 2) store<f32>(p + 2 * s, f32x4.extract_lane(v, 2));
}

// De-interleaved U lanes of the current block (set by loadU).
let u0: v128 = f32x4.splat(0);
let u1: v128 = f32x4.splat(0);
let u2: v128 = f32x4.splat(0);
let u3: v128 = f32x4.splat(0);

/** u_m = U[p + (4i + m)·4 bytes... ] for lanes i < cnt: k = 3 from 3 loads + 6 shuffles, k = 4 by a 4x4 transpose. */
@inline function loadU(p: usize, k: i32, cnt: i32): void {
  if (cnt == 4 && k == 3) {
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    u0 = i32x4.shuffle(i32x4.shuffle(v0, v1, 0, 3, 6, 0), v2, 0, 1, 2, 5);
    u1 = i32x4.shuffle(i32x4.shuffle(v0, v1, 1, 4, 7, 0), v2, 0, 1, 2, 6);
    u2 = i32x4.shuffle(i32x4.shuffle(v0, v1, 2, 5, 0, 0), v2, 0, 1, 4, 7);
  } else if (cnt == 4) {
    const t0 = i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 4, 1, 5);
    const t1 = i32x4.shuffle(v128.load(p), v128.load(p, 16), 2, 6, 3, 7);
    const t2 = i32x4.shuffle(v128.load(p, 32), v128.load(p, 48), 0, 4, 1, 5);
    const t3 = i32x4.shuffle(v128.load(p, 32), v128.load(p, 48), 2, 6, 3, 7);
    u0 = i32x4.shuffle(t0, t2, 0, 1, 4, 5);
    u1 = i32x4.shuffle(t0, t2, 2, 3, 6, 7);
    u2 = i32x4.shuffle(t1, t3, 0, 1, 4, 5);
    u3 = i32x4.shuffle(t1, t3, 2, 3, 6, 7);
  } else {
    const s = <usize>k << 2;
    u0 = gather(p, s, cnt);
    u1 = gather(p + 4, s, cnt);
    u2 = gather(p + 8, s, cnt);
    if (k == 4) u3 = gather(p + 12, s, cnt);
  }
}

/** The inverse of loadU: writes d0..d3 interleaved with stride k. */
@inline function storeU(p: usize, k: i32, cnt: i32, d0: v128, d1: v128, d2: v128, d3: v128): void {
  if (cnt == 4 && k == 3) {
    v128.store(p, i32x4.shuffle(i32x4.shuffle(d0, d1, 0, 4, 0, 1), d2, 0, 1, 4, 3));
    v128.store(p, i32x4.shuffle(i32x4.shuffle(d1, d2, 1, 5, 1, 2), d0, 0, 1, 6, 3), 16);
    v128.store(p, i32x4.shuffle(i32x4.shuffle(d2, d0, 2, 7, 2, 3), d1, 0, 1, 7, 3), 32);
  } else if (cnt == 4) {
    const t0 = i32x4.shuffle(d0, d1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(d0, d1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(d2, d3, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(d2, d3, 2, 6, 3, 7);
    v128.store(p, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    v128.store(p, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
    v128.store(p, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
    v128.store(p, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
  } else {
    const s = <usize>k << 2;
    scatter(p, s, d0, cnt);
    scatter(p + 4, s, d1, cnt);
    scatter(p + 8, s, d2, cnt);
    if (k == 4) scatter(p + 12, s, d3, cnt);
  }
}

/**
 * h, C (T, B, n), cLast (B, n), n = nd·H; U (T, B, n·k); x (T, B, n) when k = 3 with skip; weight_c, bias (2n) =
 * [v_f; v_r], [b_f; b_r]; c0, mask (B, n), pad (T, B) optional (0 = absent). Columns dir·H + j; dir 1 runs t = T−1 … 0.
 */
export function sru_scan_fwd_f32(
  U: usize, x: usize, wc: usize, bias: usize, c0: usize, mask: usize, pad: usize, h: usize, cLast: usize, C: usize,
  T: i32, B: i32, H: i32, nd: i32, k: i32, flags: i32, scaleX: f32,
): void {
  const n = H * nd;
  const BN = <usize>B * <usize>n;
  const skip = (flags & F_SKIP) != 0;
  const tanh = (flags & F_TANH) != 0;
  const sx = f32x4.splat(scaleX);
  const zero = f32x4.splat(0);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < T; s++) {
      for (let dir = 0; dir < nd; dir++) {
        const t = dir ? T - 1 - s : s;
        const wcol = <usize>(dir * H);
        const e = (<usize>t * <usize>B + <usize>b) * <usize>n + wcol; // element of (t, b, dir·H)
        const bo = <usize>b * <usize>n + wcol; // element of (b, dir·H)
        const prev: usize = s == 0 ? (c0 ? c0 + (bo << 2) : 0) : C + ((dir ? e + BN : e - BN) << 2);
        if (pad && load<f32>(pad + ((<usize>t * <usize>B + <usize>b) << 2)) != 0) {
          if (prev) memory.copy(C + (e << 2), prev, <usize>H << 2);
          else memory.fill(C + (e << 2), 0, <usize>H << 2);
          memory.fill(h + (e << 2), 0, <usize>H << 2);
          continue;
        }
        for (let j = 0; j < H; j += 4) {
          const cnt = min(4, H - j);
          const jb = <usize>j << 2;
          loadU(U + ((e + <usize>j) * <usize>k << 2), k, cnt);
          const cp = prev ? ld(prev + jb, cnt) : zero;
          const wp = wc + (wcol << 2) + jb;
          const bp = bias + (wcol << 2) + jb;
          const f = vsigmoid4(madd4(ld(wp, cnt), cp, f32x4.add(u1, ld(bp, cnt))));
          const r = vsigmoid4(madd4(ld(wp + (<usize>n << 2), cnt), cp, f32x4.add(u2, ld(bp + (<usize>n << 2), cnt))));
          const c = madd4(f32x4.sub(cp, u0), f, u0);
          const gc = tanh ? vtanh4(c) : c;
          const mr = mask ? f32x4.mul(ld(mask + (bo << 2) + jb, cnt), r) : r;
          let hv = f32x4.mul(gc, mr);
          if (skip) {
            const xp = k == 4 ? u3 : f32x4.mul(sx, ld(x + (e << 2) + jb, cnt));
            hv = madd4(f32x4.sub(gc, xp), mr, xp);
          }
          st(C + (e << 2) + jb, c, cnt);
          st(h + (e << 2) + jb, hv, cnt);
        }
      }
    }
  }
  if (T == 0) {
    if (c0) memory.copy(cLast, c0, BN << 2);
    else memory.fill(cLast, 0, BN << 2);
    return;
  }
  for (let dir = 0; dir < nd; dir++) {
    const t = dir ? 0 : T - 1;
    for (let b = 0; b < B; b++) {
      const bo = <usize>b * <usize>n + <usize>(dir * H);
      memory.copy(cLast + (bo << 2), C + ((<usize>t * BN + bo) << 2), <usize>H << 2);
    }
  }
}

/**
 * §A.9 reverse loop, time outermost. C (T, B, n) from the forward; dh, dC (T, B, n) and dcLast (B, n) optional.
 * Writes dU (like U), dx (like x, when given), the carried dL/dc into gam (B, n) (it ends as dc0) and per-(b, col)
 * partials into part (4, B, n) = dv_f, dv_r, db_f, db_r; sru_scan_bwd_reduce_f32 then sums them over b.
 */
export function sru_scan_bwd_f32(
  U: usize, x: usize, wc: usize, bias: usize, c0: usize, mask: usize, pad: usize, C: usize, dh: usize, dcl: usize, dC: usize,
  dU: usize, dx: usize, part: usize, gam: usize, T: i32, B: i32, H: i32, nd: i32, k: i32, flags: i32, scaleX: f32,
): void {
  const n = H * nd;
  const BN = <usize>B * <usize>n;
  const skip = (flags & F_SKIP) != 0;
  const tanh = (flags & F_TANH) != 0;
  const sx = f32x4.splat(scaleX);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  if (flags & F_DCL) memory.copy(gam, dcl, BN << 2);
  else memory.fill(gam, 0, BN << 2);
  memory.fill(part, 0, BN << 4);
  const P1 = BN << 2; // byte offsets of the part planes
  for (let b = 0; b < B; b++) {
    for (let q = 0; q < T; q++) {
      const s = T - 1 - q; // step in the direction's forward order
      for (let dir = 0; dir < nd; dir++) {
        const t = dir ? T - 1 - s : s;
        const wcol = <usize>(dir * H);
        const e = (<usize>t * <usize>B + <usize>b) * <usize>n + wcol;
        const bo = <usize>b * <usize>n + wcol;
        const gp = gam + (bo << 2);
        if (dC) {
          for (let j = 0; j < H; j += 4) {
            const cnt = min(4, H - j);
            const jb = <usize>j << 2;
            st(gp + jb, f32x4.add(ld(gp + jb, cnt), ld(dC + (e << 2) + jb, cnt)), cnt);
          }
        }
        if (pad && load<f32>(pad + ((<usize>t * <usize>B + <usize>b) << 2)) != 0) {
          memory.fill(dU + ((e * <usize>k) << 2), 0, <usize>(H * k) << 2);
          if (x) memory.fill(dx + (e << 2), 0, <usize>H << 2);
          continue;
        }
        const prev: usize = s == 0 ? (c0 ? c0 + (bo << 2) : 0) : C + ((dir ? e + BN : e - BN) << 2);
        for (let j = 0; j < H; j += 4) {
          const cnt = min(4, H - j);
          const jb = <usize>j << 2;
          const up = U + ((e + <usize>j) * <usize>k << 2);
          loadU(up, k, cnt);
          const cp = prev ? ld(prev + jb, cnt) : zero;
          const wp = wc + (wcol << 2) + jb;
          const bp = bias + (wcol << 2) + jb;
          const vf = ld(wp, cnt);
          const vr = ld(wp + (<usize>n << 2), cnt);
          const f = vsigmoid4(madd4(vf, cp, f32x4.add(u1, ld(bp, cnt))));
          const r = vsigmoid4(madd4(vr, cp, f32x4.add(u2, ld(bp + (<usize>n << 2), cnt))));
          const c = ld(C + (e << 2) + jb, cnt);
          const gc = tanh ? vtanh4(c) : c;
          const gh = dh ? ld(dh + (e << 2) + jb, cnt) : zero;
          const mr = mask ? f32x4.mul(ld(mask + (bo << 2) + jb, cnt), r) : r;
          let hg = gc;
          let xp = zero;
          if (skip) {
            xp = k == 4 ? u3 : f32x4.mul(sx, ld(x + (e << 2) + jb, cnt));
            hg = f32x4.sub(gc, xp);
          }
          const ghmr = f32x4.mul(gh, mr);
          const dr = f32x4.mul(f32x4.mul(ghmr, hg), f32x4.sub(one, r));
          const gt = madd4(ghmr, tanh ? vdtanh4(c) : one, ld(gp + jb, cnt));
          const df = f32x4.mul(f32x4.mul(gt, f32x4.sub(cp, u0)), f32x4.sub(f, f32x4.mul(f, f)));
          const dhw = f32x4.sub(gh, ghmr); // gh·(1 − m·r)
          storeU(dU + ((e + <usize>j) * <usize>k << 2), k, cnt, f32x4.sub(gt, f32x4.mul(gt, f)), df, dr, dhw);
          if (x) st(dx + (e << 2) + jb, f32x4.mul(sx, dhw), cnt);
          const pp = part + (bo << 2) + jb;
          st(pp, madd4(df, cp, ld(pp, cnt)), cnt);
          st(pp + P1, madd4(dr, cp, ld(pp + P1, cnt)), cnt);
          st(pp + 2 * P1, f32x4.add(df, ld(pp + 2 * P1, cnt)), cnt);
          st(pp + 3 * P1, f32x4.add(dr, ld(pp + 3 * P1, cnt)), cnt);
          st(gp + jb, madd4(dr, vr, madd4(df, vf, f32x4.mul(gt, f))), cnt);
        }
      }
    }
  }
}

/** dwc = [Σ_b dv_f; Σ_b dv_r], dbias = [Σ_b db_f; Σ_b db_r] from part (4, B, n). */
export function sru_scan_bwd_reduce_f32(part: usize, dwc: usize, dbias: usize, B: i32, n: i32): void {
  const BN = <usize>B * <usize>n;
  for (let q = 0; q < 4; q++) {
    const src = part + ((<usize>q * BN) << 2);
    const dst = (q < 2 ? dwc : dbias) + ((<usize>(q & 1) * <usize>n) << 2);
    for (let j = 0; j < n; j += 4) {
      const cnt = min(4, n - j);
      const jb = <usize>j << 2;
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) acc = f32x4.add(acc, ld(src + ((<usize>b * <usize>n) << 2) + jb, cnt));
      st(dst + jb, acc, cnt);
    }
  }
}
