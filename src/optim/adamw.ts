// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, one in-place adamw_step op per parameter, so it
// runs on whichever backend holds the parameter. Defaults as PyTorch's AdamW except weightDecay (0 unless given).
import { adamwStep } from '../ops/adamw_step.js';
import type { Tensor } from '../tensor.js';
import type { Parameter } from '../autograd/parameter.js';
import { MomentOptimizer, type MomentOptimizerOptions } from './optimizer.js';

export type AdamWConfig = MomentOptimizerOptions;

/**
 *     const opt = new AdamW(params, { lr: warmupCosine({ peakLr: 3e-3, warmupSteps: 100, totalSteps: 5000 }), weightDecay: 0.1 });
 *     const { loss, grads } = valueAndGrad(() => model.loss(batch), params);
 *     opt.step(grads);
 */
export class AdamW extends MomentOptimizer {
  readonly kind = 'adamw';

  constructor(params: readonly Parameter[], opts: AdamWConfig) {
    super(params, opts, 'AdamW');
  }

  protected update(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: number, lr: number): void {
    adamwStep(param, grad, m, v, { lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, step: t });
  }
}
