// layer_norm and layer_norm_bwd through the op harness: every backend against the float64 reference, gradients by
// finite differences; odd row lengths, batched leading dims, large offsets and spreads, constant rows.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { layerNorm, layerNormBwd, layerNormBwdOp, layerNormOp, type LayerNormParams } from '../../src/ops/layer_norm.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/** One tolerance table for the family (float32 row sums over D terms; dγ, dβ sum over rows too). */
const TOL: OpTolerances = { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 2e-5, rtol: 1e-4 } };
const HAND = { atol: 1e-7, rtol: 1e-6 };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

interface Extra { eps?: number; noGrad?: number[] }

function fwd(name: string, xShape: number[], xGen: Gen = 'normal', { eps = 1e-5, noGrad }: Extra = {}): OpCase<LayerNormParams> {
  const D = xShape[xShape.length - 1]!;
  const inputs = [{ shape: xShape, gen: xGen }, { shape: [D] }, { shape: [D] }];
  return { name, op: layerNormOp, inputs, params: { eps }, tol: TOL, ...(noGrad ? { noGrad } : {}) };
}

function bwd(name: string, xShape: number[], xGen: Gen = 'normal'): OpCase<LayerNormParams> {
  const D = xShape[xShape.length - 1]!;
  return { name, op: layerNormBwdOp, inputs: [{ shape: xShape, gen: xGen }, { shape: [D] }, { shape: xShape }], params: { eps: 1e-5 }, tol: TOL };
}

describe('layer_norm', () => {
  it('matches hand-computed values on the reference', async () => {
    const ref = { backend: 'reference' as const };
    // μ = 2, var = 2/3, rstd = √1.5: x̂ = (−√1.5, 0, √1.5).
    const x = tensor([1, 2, 3], [1, 3], ref);
    const y = layerNorm(x, tensor([2, 1, 1], [3], ref), tensor([0.5, 0, -1], [3], ref), { eps: 0 });
    const s = Math.sqrt(1.5);
    expectClose(await y.dataF64(), [0.5 - 2 * s, 0, s - 1], HAND, 'layer_norm');
    // dy = 1 with γ = 1: g is constant, so dx = 0; dγ = x̂, dβ = 1.
    const [dx, dg, db] = layerNormBwd(x, tensor([1, 1, 1], [3], ref), tensor([1, 1, 1], [1, 3], ref), { eps: 0 });
    expectClose(await dx!.dataF64(), [0, 0, 0], HAND, 'layer_norm_bwd dx');
    expectClose(await dg!.dataF64(), [-s, 0, s], HAND, 'layer_norm_bwd dgamma');
    expectClose(await db!.dataF64(), [1, 1, 1], HAND, 'layer_norm_bwd dbeta');
  });

  const cases: OpCase<LayerNormParams>[] = [];
  for (const D of [...ODD_SIZES, 45, 257, 3000]) {
    cases.push(fwd(`one row of ${D}`, [1, D]));
    cases.push(fwd(`7 rows of ${D}`, [7, D]));
    cases.push(bwd(`bwd 5 rows of ${D}`, [5, D]));
  }
  cases.push(fwd('rank 1', [17]));
  cases.push(fwd('batched leading dims', [2, 3, 33]));
  cases.push(fwd('eps 0.1', [4, 5], 'normal', { eps: 0.1 }));
  cases.push(fwd('large (normal · 30)', [9, 33], 'large'));
  cases.push(fwd('offset 1e3', [6, 17], { uniform: [999, 1001] }));
  cases.push(fwd('constant rows', [3, 17], { values: [5] }));
  // Spreads whose squares overflow float32; finite differences need steps far below these magnitudes to stay
  // linear, so only the backends' gradients are checked there (against the float64 analytic ones).
  cases.push(fwd('huge spread (x² overflows f32)', [4, 5], { values: [3e38, -3e38, 1e38, 0, -2e38, 7e37, 1e20] }, { noGrad: [0] }));
  cases.push(fwd('huge constant rows', [3, 17], { values: [1e30] }, { noGrad: [0] }));
  cases.push(bwd('bwd batched, many rows (several column chunks)', [3, 700, 5]));
  cases.push(bwd('bwd large', [9, 33], 'large'));

  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('names the op and the shapes when inputs do not fit', () => {
    const ref = { backend: 'reference' as const };
    const x = tensor(new Float32Array(6), [2, 3], ref);
    const g3 = tensor(new Float32Array(3), [3], ref);
    const g2 = tensor(new Float32Array(2), [2], ref);
    expect(() => layerNorm(x, g2, g3)).toThrow(ShapeError);
    expect(() => layerNorm(x, g2, g3)).toThrow(/layer_norm\(x \[2, 3\], gamma \[2\], beta \[3\], eps 0.00001\): gamma must have shape \[3\], got \[2\]/);
    expect(() => layerNorm(x, g3, g2)).toThrow(/beta must have shape \[3\], got \[2\]/);
    expect(() => layerNorm(tensor([1], [], ref), g3, g3)).toThrow(/x needs rank >= 1/);
    const ids = tensor(new Int32Array(3), [3], { ...ref, dtype: 'i32' });
    expect(() => layerNorm(x, ids, g3)).toThrow(DTypeError);
    expect(() => layerNorm(x, ids, g3)).toThrow(/gamma must be f32, got i32/);
    expect(() => layerNorm(x, g3, g3, { eps: -1 })).toThrow(OptionError);
    expect(() => layerNormBwd(x, g3, tensor(new Float32Array(6), [3, 2], ref))).toThrow(/layer_norm_bwd\(.*\): dy must have shape \[2, 3\], got \[3, 2\]/);
  });
});
