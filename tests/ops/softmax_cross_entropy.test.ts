// softmax_cross_entropy (+ _bwd) through the op harness: odd and long vocabularies, huge logits, ignored rows.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { softmaxCrossEntropy, softmaxCrossEntropyBwdOp, softmaxCrossEntropyOp } from '../../src/ops/softmax_cross_entropy.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/**
 * One tolerance table. Losses are (max − x_t) + log Σ: with logits up to ±1e4 the first term is exact in float32
 * and the error is relative (rtol); exp is accurate to a few ulp, so sums over V = 5000 stay within 1e-5.
 * Gradients are probabilities in [−1, 1] times dloss: absolute error a few float32 ulp of 1.
 */
const TOL: OpTolerances = { fwd: { atol: 2e-6, rtol: 2e-6 }, bwd: { atol: 2e-6, rtol: 1e-5 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

type NoParams = Record<string, never>;

function fwd(name: string, N: number, V: number, logits: Gen = 'normal', targets: Gen = { int: [0, V] }): OpCase<NoParams> {
  return { name, op: softmaxCrossEntropyOp, inputs: [{ shape: [N, V], gen: logits }, { shape: [N], dtype: 'i32', gen: targets }], params: {}, tol: TOL, fdSamples: 48 };
}
function bwd(name: string, N: number, V: number, logits: Gen = 'normal', targets: Gen = { int: [0, V] }): OpCase<NoParams> {
  const inputs = [{ shape: [N, V], gen: logits }, { shape: [N], dtype: 'i32' as const, gen: targets }, { shape: [N] }];
  return { name, op: softmaxCrossEntropyBwdOp, inputs, params: {}, tol: TOL };
}

describe('softmax_cross_entropy', () => {
  it('matches hand-computed values on the reference', () => {
    const logits = tensor([1, 2, 3, 1, 2, 3, 5, 5, 5], [3, 3], { backend: 'reference' });
    const targets = tensor(Int32Array.from([2, -1, 0]), [3], { backend: 'reference' });
    const loss = Array.from(softmaxCrossEntropy(logits, targets).dataSync());
    const e = Math.E;
    expect(loss[0]).toBeCloseTo(Math.log(e + e * e + e ** 3) - 3, 6);
    expect(loss[1]).toBe(0);
    expect(loss[2]).toBeCloseTo(Math.log(3), 6);
    const dl = tensor([1, 1, 2], [3], { backend: 'reference' });
    const [dx] = softmaxCrossEntropyOp.grad!({ inputs: [logits, targets], outputs: [], dOutputs: [dl], params: {} });
    const g = Array.from(dx!.dataSync());
    const z = e + e * e + e ** 3;
    [e / z, (e * e) / z, e ** 3 / z - 1, 0, 0, 0, 2 / 3 - 2, 2 / 3, 2 / 3].forEach((want, i) => expect(g[i]).toBeCloseTo(want, 6));
  });

  const cases: OpCase<NoParams>[] = [];
  for (const v of [...ODD_SIZES, 257]) cases.push(fwd(`N 5, V ${v}`, 5, v));
  for (const n of ODD_SIZES) cases.push(fwd(`N ${n}, V 9`, n, 9));
  cases.push(fwd('batch 1, V 300', 1, 300));
  cases.push(fwd('long vocabulary V 5000', 3, 5000));
  cases.push(fwd('large logits (normal·30), V 33', 7, 33, 'large'));
  cases.push(fwd('huge logits ±1e4, V 17', 6, 17, { uniform: [-1e4, 1e4] }));
  cases.push(fwd('huge logits ±1e4, V 257', 4, 257, { values: [1e4, -1e4, 3, -9999, 9999.5, 0, -3] }));
  // Finite differences step by 1e-6·|x| = 3e32 here, far past the curvature of the tied maxima: skip them only.
  cases.push({ ...fwd('rows at −FLT_MAX and −3e38, V 17', 4, 17, { values: [-3.4028234663852886e38, -3e38] }), noGrad: [0] });
  cases.push(fwd('ignored rows (targets −1)', 9, 17, 'normal', { int: [-1, 17] }));
  cases.push(fwd('all rows ignored', 3, 5, 'normal', { values: [-1] }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  const bcases: OpCase<NoParams>[] = [];
  for (const v of [...ODD_SIZES, 257]) bcases.push(bwd(`bwd N 3, V ${v}`, 3, v));
  bcases.push(bwd('bwd long vocabulary V 5000', 2, 5000));
  bcases.push(bwd('bwd huge logits ±1e4, V 33', 5, 33, { uniform: [-1e4, 1e4] }));
  bcases.push(bwd('bwd rows at −FLT_MAX, V 5', 3, 5, { values: [-3.4028234663852886e38] }));
  bcases.push(bwd('bwd ignored rows', 17, 5, 'large', { int: [-1, 5] }));
  for (const c of bcases) it(c.name, () => checkOp(c, backends));

  it('gives loss 0 and gradient 0 for out-of-range targets in every kernel', async () => {
    await checkOp(fwd('targets out of range', 6, 5, 'normal', { values: [0, 5, -2, 4, 1000, -1] }), backends);
    await checkOp(bwd('bwd targets out of range', 6, 5, 'normal', { values: [0, 5, -2, 4, 1000, -1] }), backends);
  });

  it('gives NaN for a row holding NaN on the CPU backends (the wasm max may skip it; the exp sum does not)', () => {
    for (const b of ['reference', ...backends.filter((x) => x === 'wasm')] as BackendName[]) {
      const logits = tensor([NaN, 1, 2, 3, 4, 5, 1, 2, 3, 4, NaN, 5], [2, 6], { backend: b });
      const targets = tensor(Int32Array.from([1, 0]), [2], { backend: b });
      const loss = softmaxCrossEntropy(logits, targets);
      expect(Array.from(loss.dataSync()).map(Number.isNaN)).toEqual([true, true]);
      [logits, targets, loss].forEach((t) => t.dispose());
    }
  });

  it('throws naming the bad target, its row and V when the targets live on the CPU', () => {
    for (const b of ['reference', ...backends.filter((x) => x === 'wasm')] as BackendName[]) {
      const logits = tensor(new Float32Array(12), [3, 4], { backend: b });
      const targets = tensor(Int32Array.from([0, -1, 4]), [3], { backend: b });
      expect(() => softmaxCrossEntropy(logits, targets)).toThrow(OptionError);
      expect(() => softmaxCrossEntropy(logits, targets)).toThrow(/softmax_cross_entropy: target 4 at position \[2\] of \[3\] is out of range \[0, 4\) \(-1 means ignore\)/);
      [logits, targets].forEach((t) => t.dispose());
    }
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const logits = tensor(new Float32Array(6), [2, 3], { backend: 'reference' });
    const t2 = tensor(Int32Array.from([0, 1]), [2], { backend: 'reference' });
    const t3 = tensor(Int32Array.from([0, 1, 2]), [3], { backend: 'reference' });
    const tf = tensor([0, 1], [2], { backend: 'reference' });
    expect(() => softmaxCrossEntropy(logits, t3)).toThrow(ShapeError);
    expect(() => softmaxCrossEntropy(logits, t3)).toThrow(/softmax_cross_entropy\(logits \[2, 3\], targets \[3\] i32\): targets must have shape \[2\]/);
    expect(() => softmaxCrossEntropy(logits, tf)).toThrow(DTypeError);
    expect(() => softmaxCrossEntropy(logits.reshape([6]), t2)).toThrow(/logits must be 2-D \(N, V\)/);
    const dl = tensor(new Float32Array(3), [3], { backend: 'reference' });
    expect(() => softmaxCrossEntropyOp.shapes([logits, t2, dl], {})).toThrow(/expected inputs \(logits, targets\), got 3/);
    expect(() => softmaxCrossEntropyBwdOp.shapes([logits, t2, dl], {})).toThrow(/softmax_cross_entropy_bwd\(.*dloss \[3\]\): dloss must have shape \[2\]/);
  });
});
