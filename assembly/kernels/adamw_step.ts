// One AdamW step in place over n elements: p ← p·decay − stepSize·m / (√v·invSqrtBc2 + ε) after the moment
// updates m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g². decay = 1 − lr·wd, stepSize = lr/(1−β1^t), invSqrtBc2 = 1/√(1−β2^t).
// adaptive = 0: the un-adapted momentum step p ← p·decay − stepSize·m (RAdam before rectification; v still updated).
import { assertCount, assertPtr } from '../lib/check';

export function adamw_step_f32(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  decay: f32, beta1: f32, beta2: f32, stepSize: f32, invSqrtBc2: f32, eps: f32, adaptive: i32,
): void {
  assertPtr(p, 'adamw_step_f32: p must be 4-byte aligned');
  assertPtr(g, 'adamw_step_f32: g must be 4-byte aligned');
  assertPtr(m, 'adamw_step_f32: m must be 4-byte aligned');
  assertPtr(v, 'adamw_step_f32: v must be 4-byte aligned');
  assertCount(n, 'adamw_step_f32: n must be >= 0');
  const c1: f32 = 1 - beta1;
  const c2: f32 = 1 - beta2;
  const decay4 = f32x4.splat(decay);
  const b14 = f32x4.splat(beta1);
  const b24 = f32x4.splat(beta2);
  const c14 = f32x4.splat(c1);
  const c24 = f32x4.splat(c2);
  const step4 = f32x4.splat(stepSize);
  const ibc4 = f32x4.splat(invSqrtBc2);
  const eps4 = f32x4.splat(eps);
  let i = 0;
  if (adaptive == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gi = v128.load(g + o);
      const mi = f32x4.add(f32x4.mul(b14, v128.load(m + o)), f32x4.mul(c14, gi));
      const vi = f32x4.add(f32x4.mul(b24, v128.load(v + o)), f32x4.mul(c24, f32x4.mul(gi, gi)));
      v128.store(m + o, mi);
      v128.store(v + o, vi);
      v128.store(p + o, f32x4.sub(f32x4.mul(v128.load(p + o), decay4), f32x4.mul(step4, mi)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const gi = load<f32>(g + o);
      const mi = beta1 * load<f32>(m + o) + c1 * gi;
      store<f32>(m + o, mi);
      store<f32>(v + o, beta2 * load<f32>(v + o) + c2 * gi * gi);
      store<f32>(p + o, load<f32>(p + o) * decay - stepSize * mi);
    }
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(b14, v128.load(m + o)), f32x4.mul(c14, gi));
    const vi = f32x4.add(f32x4.mul(b24, v128.load(v + o)), f32x4.mul(c24, f32x4.mul(gi, gi)));
    const den = f32x4.add(f32x4.mul(f32x4.sqrt(vi), ibc4), eps4);
    const pi = f32x4.sub(f32x4.mul(v128.load(p + o), decay4), f32x4.div(f32x4.mul(step4, mi), den));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    v128.store(p + o, pi);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = beta1 * load<f32>(m + o) + c1 * gi;
    const vi = beta2 * load<f32>(v + o) + c2 * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) * decay - (stepSize * mi) / (Mathf.sqrt(vi) * invSqrtBc2 + eps));
  }
}
