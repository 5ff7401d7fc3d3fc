// LayerNorm over rows: y = (x − μ)·rstd ⊙ γ + β, rstd = 1/√(var + ε) (biased var); backward per models.md §B.11.
// x, y, dy, dx (N, D), γ, β, dγ, dβ (D), byte pointers, D >= 1. Statistics are taken on c = x·2^−e − x₀·2^−e
// (2^e ≤ max|x|, a power of two: exact) so huge values neither overflow nor lose the spread to the offset.
import { absMax, invScale } from '../lib/rows';
import { hsum4, madd4 } from '../lib/simd';

// Row statistics, set by rowStats: x̂ = ((x·is − k) − m)·r and rstd = 1/√(var + ε).
let is: f32 = 1;
let k: f32 = 0;
let m: f32 = 0;
let r: f32 = 0;
let rstd: f32 = 0;

function rowStats(row: usize, D: i32, eps: f32): void {
  is = invScale(absMax(row, D));
  k = load<f32>(row) * is;
  const is4 = f32x4.splat(is);
  const k4 = f32x4.splat(k);
  // Σ c and then Σ (c − m)², each with four accumulators.
  let acc = f32x4.splat(0);
  let acc1 = acc;
  let acc2 = acc;
  let acc3 = acc;
  let j = 0;
  for (; j + 16 <= D; j += 16) {
    const p = row + (<usize>j << 2);
    acc = f32x4.add(acc, f32x4.sub(f32x4.mul(v128.load(p), is4), k4));
    acc1 = f32x4.add(acc1, f32x4.sub(f32x4.mul(v128.load(p, 16), is4), k4));
    acc2 = f32x4.add(acc2, f32x4.sub(f32x4.mul(v128.load(p, 32), is4), k4));
    acc3 = f32x4.add(acc3, f32x4.sub(f32x4.mul(v128.load(p, 48), is4), k4));
  }
  for (; j + 4 <= D; j += 4) acc = f32x4.add(acc, f32x4.sub(f32x4.mul(v128.load(row + (<usize>j << 2)), is4), k4));
  let s = hsum4(f32x4.add(f32x4.add(acc, acc1), f32x4.add(acc2, acc3)));
  for (; j < D; j++) s += load<f32>(row + (<usize>j << 2)) * is - k;
  m = s / <f32>D;
  const m4 = f32x4.splat(m);
  acc = acc1 = acc2 = acc3 = f32x4.splat(0);
  for (j = 0; j + 16 <= D; j += 16) {
    const p = row + (<usize>j << 2);
    const c0 = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(p), is4), k4), m4);
    const c1 = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(p, 16), is4), k4), m4);
    const c2 = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(p, 32), is4), k4), m4);
    const c3 = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(p, 48), is4), k4), m4);
    acc = madd4(c0, c0, acc);
    acc1 = madd4(c1, c1, acc1);
    acc2 = madd4(c2, c2, acc2);
    acc3 = madd4(c3, c3, acc3);
  }
  for (; j + 4 <= D; j += 4) {
    const c = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(row + (<usize>j << 2)), is4), k4), m4);
    acc = madd4(c, c, acc);
  }
  s = hsum4(f32x4.add(f32x4.add(acc, acc1), f32x4.add(acc2, acc3)));
  for (; j < D; j++) {
    const c = (load<f32>(row + (<usize>j << 2)) * is - k) - m;
    s += c * c;
  }
  const v = s / <f32>D; // var·is²
  const t = v + eps * is * is;
  r = t > 0 ? 1 / Mathf.sqrt(t) : 0;
  // A constant row (v = 0) has var = 0 exactly, whatever its scale.
  rstd = v > 0 ? r * is : 1 / Mathf.sqrt(eps);
}

/** x̂ = ((x·is − k) − m)·r on four lanes. */
@inline function xhat4(x: v128, is4: v128, k4: v128, m4: v128, r4: v128): v128 {
  return f32x4.mul(f32x4.sub(f32x4.sub(f32x4.mul(x, is4), k4), m4), r4);
}

export function layer_norm_fwd_f32(x: usize, gamma: usize, beta: usize, y: usize, N: i32, D: i32, eps: f32): void {
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>D << 2;
    const row = x + off;
    const out = y + off;
    rowStats(row, D, eps);
    const is4 = f32x4.splat(is);
    const k4 = f32x4.splat(k);
    const m4 = f32x4.splat(m);
    const r4 = f32x4.splat(r);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      const xh = xhat4(v128.load(row + o), is4, k4, m4, r4);
      v128.store(out + o, madd4(xh, v128.load(gamma + o), v128.load(beta + o)));
    }
    for (; j < D; j++) {
      const o = <usize>j << 2;
      const xh = ((load<f32>(row + o) * is - k) - m) * r;
      store<f32>(out + o, xh * load<f32>(gamma + o) + load<f32>(beta + o));
    }
  }
}

// Row means for the backward, set by gradMeans: mean(g) and mean(g⊙x̂), g = dy⊙γ.
let mg: f32 = 0;
let mgx: f32 = 0;

function gradMeans(row: usize, grow: usize, gamma: usize, D: i32): void {
  const is4 = f32x4.splat(is);
  const k4 = f32x4.splat(k);
  const m4 = f32x4.splat(m);
  const r4 = f32x4.splat(r);
  let sg = f32x4.splat(0); // two accumulators for each sum
  let sgx = sg;
  let sg1 = sg;
  let sgx1 = sg;
  let j = 0;
  for (; j + 8 <= D; j += 8) {
    const o = <usize>j << 2;
    const g0 = f32x4.mul(v128.load(grow + o), v128.load(gamma + o));
    const g1 = f32x4.mul(v128.load(grow + o, 16), v128.load(gamma + o, 16));
    sg = f32x4.add(sg, g0);
    sg1 = f32x4.add(sg1, g1);
    sgx = madd4(g0, xhat4(v128.load(row + o), is4, k4, m4, r4), sgx);
    sgx1 = madd4(g1, xhat4(v128.load(row + o, 16), is4, k4, m4, r4), sgx1);
  }
  for (; j + 4 <= D; j += 4) {
    const o = <usize>j << 2;
    const g = f32x4.mul(v128.load(grow + o), v128.load(gamma + o));
    sg = f32x4.add(sg, g);
    sgx = madd4(g, xhat4(v128.load(row + o), is4, k4, m4, r4), sgx);
  }
  let s = hsum4(f32x4.add(sg, sg1));
  let sx = hsum4(f32x4.add(sgx, sgx1));
  for (; j < D; j++) {
    const o = <usize>j << 2;
    const g = load<f32>(grow + o) * load<f32>(gamma + o);
    s += g;
    sx += g * (((load<f32>(row + o) * is - k) - m) * r);
  }
  mg = s / <f32>D;
  mgx = sx / <f32>D;
}

/** dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂)), g = dy⊙γ; dγ = Σ_rows dy⊙x̂; dβ = Σ_rows dy. */
export function layer_norm_bwd_f32(
  x: usize, gamma: usize, dy: usize, dx: usize, dgamma: usize, dbeta: usize, N: i32, D: i32, eps: f32,
): void {
  memory.fill(dgamma, 0, <usize>D << 2);
  memory.fill(dbeta, 0, <usize>D << 2);
  for (let n = 0; n < N; n++) {
    const off = <usize>n * <usize>D << 2;
    const row = x + off;
    const grow = dy + off;
    const out = dx + off;
    rowStats(row, D, eps);
    gradMeans(row, grow, gamma, D);
    const is4 = f32x4.splat(is);
    const k4 = f32x4.splat(k);
    const m4 = f32x4.splat(m);
    const r4 = f32x4.splat(r);
    const mg4 = f32x4.splat(mg);
    const mgx4 = f32x4.splat(mgx);
    const rs4 = f32x4.splat(rstd);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      const xh = xhat4(v128.load(row + o), is4, k4, m4, r4);
      const d = v128.load(grow + o);
      const g = f32x4.mul(d, v128.load(gamma + o));
      v128.store(out + o, f32x4.mul(rs4, f32x4.sub(f32x4.sub(g, mg4), f32x4.mul(xh, mgx4))));
      v128.store(dgamma + o, madd4(d, xh, v128.load(dgamma + o)));
      v128.store(dbeta + o, f32x4.add(d, v128.load(dbeta + o)));
    }
    for (; j < D; j++) {
      const o = <usize>j << 2;
      const xh = ((load<f32>(row + o) * is - k) - m) * r;
      const d = load<f32>(grow + o);
      const g = d * load<f32>(gamma + o);
      store<f32>(out + o, rstd * ((g - mg) - xh * mgx));
      store<f32>(dgamma + o, d * xh + load<f32>(dgamma + o));
      store<f32>(dbeta + o, d + load<f32>(dbeta + o));
    }
  }
}
