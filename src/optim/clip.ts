// Gradient-norm clipping: the global L2 norm over every gradient (mul + reduce ops on the gradients' backends,
// one scalar read per backend); when it exceeds maxNorm every gradient is scaled by maxNorm / (norm + 1e-6).
import type { BackendName } from '../backends/backend.js';
import { tensor, tidy } from '../engine.js';
import { OptionError, RecurError } from '../errors.js';
import { add, mul } from '../ops/binary.js';
import { reduce } from '../ops/reduce.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Added to the norm before dividing, as PyTorch's clip_grad_norm_ (a zero norm never divides by zero). */
const EPS = 1e-6;

/**
 * Clips `grads` in place in the array: when the global norm exceeds maxNorm, each entry is replaced by a scaled
 * copy and the old tensor is disposed. Returns the norm before clipping. null entries are skipped. A NaN or
 * infinite norm throws, naming the first gradient and element that is not finite (nothing is scaled then).
 */
export async function clipGradNorm(grads: (Tensor | null)[], maxNorm: number): Promise<number> {
  checkMaxNorm(maxNorm);
  const totals = squaredSums(grads);
  let sum = 0;
  try {
    for (const t of totals) sum += (await t.data())[0]!;
  } finally {
    totals.forEach((t) => t.dispose());
  }
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm)) throw nonFinite(norm, await Promise.all(grads.map((g) => (g ? g.data() : null))), grads);
  scale(grads, norm, maxNorm);
  return norm;
}

/** clipGradNorm for gradients on backends that read synchronously (reference, wasm). */
export function clipGradNormSync(grads: (Tensor | null)[], maxNorm: number): number {
  checkMaxNorm(maxNorm);
  const gpu = grads.find((g) => g && !g.backend.readSync);
  if (gpu) throw new OptionError(`clipGradNormSync: a gradient ${fmtShape(gpu.shape)} lives on ${gpu.backend.name}, which reads asynchronously; use await clipGradNorm()`);
  const totals = squaredSums(grads);
  let sum = 0;
  for (const t of totals) {
    sum += t.dataSync()[0]!;
    t.dispose();
  }
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm)) throw nonFinite(norm, grads.map((g) => (g ? g.dataSync() : null)), grads);
  scale(grads, norm, maxNorm);
  return norm;
}

function checkMaxNorm(maxNorm: number): void {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new OptionError(`clipGradNorm: maxNorm must be a finite number > 0 (got ${maxNorm})`);
}

/** Σ g² over all gradients, one scalar tensor per backend they live on. */
function squaredSums(grads: readonly (Tensor | null)[]): Tensor[] {
  return tidy(() => {
    const totals = new Map<BackendName, Tensor>();
    for (const g of grads) {
      if (!g || g.size === 0) continue;
      const flat = g.reshape([-1]);
      const s = reduce(mul(flat, flat), { op: 'sum', axis: 0 });
      const prev = totals.get(g.backend.name);
      totals.set(g.backend.name, prev ? add(prev, s) : s);
    }
    return [...totals.values()];
  });
}

function scale(grads: (Tensor | null)[], norm: number, maxNorm: number): void {
  const coef = maxNorm / (norm + EPS);
  if (coef >= 1) return;
  grads.forEach((g, i) => {
    if (!g) return;
    const c = tensor([coef], [], { backend: g.backend.name });
    grads[i] = mul(g, c);
    c.dispose();
    g.dispose();
  });
}

function nonFinite(norm: number, data: readonly (ArrayLike<number> | null)[], grads: readonly (Tensor | null)[]): RecurError {
  for (const [i, d] of data.entries()) {
    if (!d) continue;
    for (let k = 0; k < d.length; k++) {
      if (!Number.isFinite(d[k]!)) return new RecurError(`clipGradNorm: the gradient norm is ${norm}: gradient ${i} ${fmtShape(grads[i]!.shape)} holds ${d[k]} at element ${k}`);
    }
  }
  return new RecurError(`clipGradNorm: the gradient norm is ${norm} (the sum of squares overflowed float32; every element is finite)`);
}
