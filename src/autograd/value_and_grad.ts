// valueAndGrad: one training step's forward and backward in a scope. Everything the step makes is freed when it
// returns, except what fn returned (the loss, and any state to carry) and the gradients.
import { tidy } from '../engine.js';
import { AutogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { tensorOf, type Parameter } from './parameter.js';
import { Tape } from './tape.js';

/** What fn may return: the loss, or an object with the loss and anything else to keep (e.g. carried state). */
export type LossResult = Tensor | { loss: Tensor };

export interface ValueAndGrad<T> {
  /** What fn returned (its tensors survive; they carry no gradient history). */
  value: T;
  /** The loss tensor (the one inside `value`). */
  loss: Tensor;
  /** One entry per param, in order: the gradient of the loss (summed over its elements), or null where the loss
   *  does not depend on that param (no zero tensor is allocated; optimizers skip it). */
  grads: (Tensor | null)[];
}

/**
 * Runs fn on a fresh tape and differentiates its loss with respect to `params`. Synchronous (fn must be).
 * Forward activations, views, backward temporaries and constants fn made with tensor() are freed before it
 * returns; the caller owns `value`'s tensors and `grads` (dispose them, or run the step inside tidy()).
 * State returned from fn for the next segment (truncated BPTT) is cut from this step's graph by construction.
 */
export function valueAndGrad<T extends LossResult>(fn: () => T, params: readonly (Parameter | Tensor)[]): ValueAndGrad<T> {
  const wrt = params.map(tensorOf);
  return tidy(() => {
    const tape = new Tape();
    try {
      const value = tape.record(fn);
      const loss = lossOf(value);
      const grads = tape.backward(loss, wrt);
      return { value, loss, grads };
    } finally {
      tape.dispose();
    }
  });
}

function lossOf(v: LossResult): Tensor {
  if (v instanceof Tensor) return v;
  if (v && typeof v === 'object' && (v as { loss?: unknown }).loss instanceof Tensor) return v.loss;
  throw new AutogradError('valueAndGrad: fn must return the loss Tensor, or an object { loss: Tensor, ... }');
}
