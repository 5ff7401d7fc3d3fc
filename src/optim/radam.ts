// RAdam (Liu et al. 2019, "On the Variance of the Adaptive Learning Rate and Beyond") with AdamW's decoupled weight
// decay, as SRU++ trained. While the variance of the adaptive rate is intractable (ρ_t ≤ 5) it takes un-adapted
// momentum steps p ← p − lr·m̂; after that the rectified step p ← p − lr·r_t·m̂/(√v̂ + ε). One adamw_step op each.
import { adamwStep } from '../ops/adamw_step.js';
import type { Tensor } from '../tensor.js';
import type { Parameter } from '../autograd/parameter.js';
import { MomentOptimizer, type MomentOptimizerOptions } from './optimizer.js';

export type RAdamConfig = MomentOptimizerOptions;

/** ρ∞ = 2/(1−β2) − 1, ρ_t = ρ∞ − 2tβ2^t/(1−β2^t); r_t = √(((ρ_t−4)(ρ_t−2)ρ∞)/((ρ∞−4)(ρ∞−2)ρ_t)) when ρ_t > 5, else null. */
export function radamRectification(t: number, beta2: number): { rho: number; r: number | null } {
  const rhoInf = 2 / (1 - beta2) - 1;
  const b2t = Math.pow(beta2, t);
  const rho = rhoInf - (2 * t * b2t) / (1 - b2t);
  if (!(rho > 5)) return { rho, r: null };
  return { rho, r: Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho)) };
}

export class RAdam extends MomentOptimizer {
  readonly kind = 'radam';

  constructor(params: readonly Parameter[], opts: RAdamConfig) {
    super(params, opts, 'RAdam');
  }

  protected update(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: number, lr: number): void {
    const base = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, step: t };
    const { r } = radamRectification(t, this.beta2);
    if (r === null) {
      adamwStep(param, grad, m, v, { ...base, lr, weightDecay: this.weightDecay, adaptive: false });
    } else {
      // The op scales its adaptive step by lr and decays by lr·wd: pass lr·r_t and wd/r_t so the decay stays lr·wd.
      adamwStep(param, grad, m, v, { ...base, lr: lr * r, weightDecay: this.weightDecay / r });
    }
  }
}
