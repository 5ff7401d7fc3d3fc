// rms_norm and rms_norm_bwd through the op harness: every backend against the float64 reference, gradients by
// finite differences; odd row lengths, batched leading dims, huge and tiny magnitudes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { rmsNorm, rmsNormBwd, rmsNormBwdOp, rmsNormOp, type RmsNormParams } from '../../src/ops/rms_norm.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/** One tolerance table for the family (float32 row sums over D terms; dw sums over rows too). */
const TOL: OpTolerances = { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 2e-5, rtol: 1e-4 } };
const HAND = { atol: 1e-7, rtol: 1e-6 };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

interface Extra { eps?: number; noGrad?: number[] }

function fwd(name: string, xShape: number[], xGen: Gen = 'normal', { eps = 1e-6, noGrad }: Extra = {}): OpCase<RmsNormParams> {
  const inputs = [{ shape: xShape, gen: xGen }, { shape: [xShape[xShape.length - 1]!] }];
  return { name, op: rmsNormOp, inputs, params: { eps }, tol: TOL, ...(noGrad ? { noGrad } : {}) };
}

function bwd(name: string, xShape: number[], xGen: Gen = 'normal'): OpCase<RmsNormParams> {
  const D = xShape[xShape.length - 1]!;
  return { name, op: rmsNormBwdOp, inputs: [{ shape: xShape, gen: xGen }, { shape: [D] }, { shape: xShape }], params: { eps: 1e-6 }, tol: TOL };
}

describe('rms_norm', () => {
  it('matches hand-computed values on the reference', async () => {
    const ref = { backend: 'reference' as const };
    // mean x² = 12.5, rms = √12.5: y = (3, 4)/√12.5 ⊙ (1, 2).
    const x = tensor([3, 4], [1, 2], ref);
    const w = tensor([1, 2], [2], ref);
    const r = Math.sqrt(12.5);
    expectClose(await rmsNorm(x, w, { eps: 0 }).dataF64(), [3 / r, 8 / r], HAND, 'rms_norm');
    // dy = (1, 0): mean(x⊙w⊙dy) = 1.5; dx = (w⊙dy)/rms − x·1.5/rms³; dw = dy⊙x/rms.
    const [dx, dw] = rmsNormBwd(x, w, tensor([1, 0], [1, 2], ref), { eps: 0 });
    expectClose(await dx!.dataF64(), [1 / r - 4.5 / r ** 3, -6 / r ** 3], HAND, 'rms_norm_bwd dx');
    expectClose(await dw!.dataF64(), [3 / r, 0], HAND, 'rms_norm_bwd dw');
  });

  const cases: OpCase<RmsNormParams>[] = [];
  for (const D of [...ODD_SIZES, 45, 257, 3000]) {
    cases.push(fwd(`one row of ${D}`, [1, D]));
    cases.push(fwd(`7 rows of ${D}`, [7, D]));
    cases.push(bwd(`bwd 5 rows of ${D}`, [5, D]));
  }
  cases.push(fwd('rank 1', [17]));
  cases.push(fwd('batched leading dims', [2, 3, 33]));
  cases.push(fwd('eps 0.1', [4, 5], 'normal', { eps: 0.1 }));
  cases.push(fwd('large (normal · 30)', [9, 33], 'large'));
  cases.push(fwd('zero rows', [2, 5], { values: [0] }));
  cases.push(fwd('tiny values (mean x² underflows f32)', [3, 5], { values: [1e-30, -2e-30, 3e-30, 0] }));
  // Squares overflow float32; finite differences need steps far below these magnitudes to stay linear, so only
  // the backends' gradients are checked there (against the float64 analytic ones).
  cases.push(fwd('huge values (x² overflows f32)', [4, 5], { values: [3e38, -3e38, 1e38, 0, -2e38, 7e37, 1e20] }, { noGrad: [0] }));
  cases.push(fwd('huge 1e20 rows', [3, 17], { values: [1e20, -3e19, 2e20] }, { noGrad: [0] }));
  cases.push(bwd('bwd batched, many rows (several column chunks)', [3, 700, 5]));
  cases.push(bwd('bwd large', [9, 33], 'large'));

  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('names the op and the shapes when inputs do not fit', () => {
    const ref = { backend: 'reference' as const };
    const x = tensor(new Float32Array(6), [2, 3], ref);
    const w2 = tensor(new Float32Array(2), [2], ref);
    expect(() => rmsNorm(x, w2)).toThrow(ShapeError);
    expect(() => rmsNorm(x, w2)).toThrow(/rms_norm\(x \[2, 3\], w \[2\], eps 0.000001\): w must have shape \[3\], got \[2\]/);
    expect(() => rmsNorm(tensor([1], [], ref), w2)).toThrow(/x needs rank >= 1/);
    const ids = tensor(new Int32Array(6), [2, 3], { ...ref, dtype: 'i32' });
    expect(() => rmsNorm(ids, tensor(new Float32Array(3), [3], ref))).toThrow(DTypeError);
    expect(() => rmsNorm(x, tensor(new Float32Array(3), [3], ref), { eps: Number.NaN })).toThrow(OptionError);
    expect(() => rmsNormBwd(x, tensor(new Float32Array(3), [3], ref), tensor(new Float32Array(6), [6], ref))).toThrow(/rms_norm_bwd\(.*\): dy must have shape \[2, 3\], got \[6\]/);
  });
});
