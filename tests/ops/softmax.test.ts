// softmax and softmax_bwd through the op harness: every backend against the float64 reference, the gradient by
// finite differences; odd row lengths, batched leading dims, huge gaps (±1e4, −3e38) and all-equal rows.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, ShapeError } from '../../src/errors.js';
import { softmax, softmaxBwd, softmaxBwdOp, softmaxOp } from '../../src/ops/softmax.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

type NoParams = Record<string, never>;

/** One tolerance table for the family: outputs are probabilities in [0, 1] (float32 exp and row sums). */
const TOL: OpTolerances = { fwd: { atol: 1e-6, rtol: 1e-5 }, bwd: { atol: 1e-6, rtol: 1e-5 } };
const HAND = { atol: 1e-7, rtol: 1e-6 };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

/** fdStep: finite-difference step relative to |x|; 'none' where no step can stay linear (|x| ~ 3e38). */
function fwd(name: string, shape: number[], gen: Gen = 'normal', fdStep?: number | 'none'): OpCase<NoParams> {
  const fd = fdStep === 'none' ? { noGrad: [0] } : fdStep ? { fdStep } : {};
  return { name, op: softmaxOp, inputs: [{ shape, gen }], params: {}, tol: TOL, ...fd };
}

/** y drawn like a softmax output (rows sum to about 1), so Σ dy ⊙ y stays of the size of dy as in real use. */
function bwd(name: string, shape: number[]): OpCase<NoParams> {
  const D = shape[shape.length - 1]!;
  const inputs: InputSpec[] = [{ shape, gen: { uniform: [0, 2 / D] } }, { shape }];
  return { name, op: softmaxBwdOp, inputs, params: {}, tol: TOL };
}

describe('softmax', () => {
  it('matches hand-computed values on the reference', async () => {
    const y = softmax(tensor([1, 2, 3, 0, 0, 0], [2, 3], { backend: 'reference' }));
    expectClose(await y.dataF64(), [0.0900305731703805, 0.2447284710547976, 0.6652409557748219, 1 / 3, 1 / 3, 1 / 3], HAND, 'softmax');
    const dx = softmaxBwd(tensor([0.5, 0.5], [1, 2], { backend: 'reference' }), tensor([1, 0], [1, 2], { backend: 'reference' }));
    expectClose(await dx.dataF64(), [0.25, -0.25], HAND, 'softmax_bwd'); // dot = 0.5: dx = y ⊙ (dy − 0.5)
  });

  const cases: OpCase<NoParams>[] = [];
  for (const D of [...ODD_SIZES, 45, 257, 3000]) {
    cases.push(fwd(`one row of ${D}`, [1, D]));
    cases.push(fwd(`7 rows of ${D}`, [7, D]));
    cases.push(bwd(`bwd 5 rows of ${D}`, [5, D]));
  }
  cases.push(fwd('rank 1', [33]));
  cases.push(fwd('batched leading dims', [2, 3, 17]));
  cases.push(fwd('large (normal · 30)', [9, 33], 'large'));
  cases.push(fwd('huge gaps ±1e4', [6, 5], { values: [1e4, -1e4, 9999, 3, 1e4 - 0.5, -2, 7] }, 1e-9));
  cases.push(fwd('−3e38 entries', [4, 17], { values: [0.5, -3e38, 2, -1, 1.5, -3e38, 0] }, 1e-9));
  // The backends' gradients are still checked against the float64 analytic ones where finite differences cannot be.
  cases.push(fwd('±3e38 in one row', [4, 17], { values: [0.5, -3e38, 2, -1, 3e38, 1.5, -3e38, 0] }, 'none'));
  cases.push(fwd('all-equal rows', [3, 257], { values: [4.25] }));
  cases.push(fwd('all-equal huge rows', [3, 5], { values: [-3e38] }, 'none'));
  cases.push(bwd('bwd batched', [2, 3, 33]));

  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('names the op and the shapes when inputs do not fit', () => {
    const scalar = tensor([1], [], { backend: 'reference' });
    expect(() => softmax(scalar)).toThrow(ShapeError);
    expect(() => softmax(scalar)).toThrow(/softmax\(x \[\]\): x needs rank >= 1/);
    const ids = tensor(new Int32Array(6), [2, 3], { backend: 'reference', dtype: 'i32' });
    expect(() => softmax(ids)).toThrow(DTypeError);
    expect(() => softmax(ids)).toThrow(/softmax\(x \[2, 3\]\): x must be f32, got i32/);
    const y = tensor(new Float32Array(6), [2, 3], { backend: 'reference' });
    const dy = tensor(new Float32Array(6), [3, 2], { backend: 'reference' });
    expect(() => softmaxBwd(y, dy)).toThrow(/softmax_bwd\(y \[2, 3\], dy \[3, 2\]\): dy must have the shape of y, \[2, 3\]/);
  });
});
