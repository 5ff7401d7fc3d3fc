// adamw_step through the op harness (in-place param, m, v compared across backends), a hand-computed first
// step and an un-adapted one (RAdam's early steps), and a 12-step trajectory (4 un-adapted, 8 adaptive) on each backend
// against the float64 reference.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, RecurError, ShapeError } from '../../src/errors.js';
import { adamwStep, adamwStepOp, type AdamWParams } from '../../src/ops/adamw_step.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import { generate, Rng } from '../helpers/rng.js';

/** One tolerance table: a step is a few float32 roundings per element; 12 steps accumulate about 12 of them. */
const TOL: OpTolerances = { fwd: { atol: 1e-6, rtol: 2e-6 }, bwd: { atol: 0, rtol: 0 } };
const TRAJECTORY_TOL = { atol: 1e-5, rtol: 2e-5 };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

const P: AdamWParams = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, step: 1 };

function step(name: string, shape: number[], p: Partial<AdamWParams> = {}): OpCase<AdamWParams> {
  return {
    name, op: adamwStepOp, params: { ...P, ...p }, tol: TOL,
    inputs: [{ shape }, { shape }, { shape, gen: { uniform: [-0.1, 0.1] } }, { shape, gen: { uniform: [0, 0.02] } }],
  };
}

describe('adamw_step', () => {
  it('matches a hand-computed first step on the reference', () => {
    const param = tensor([1, -2], [2], { backend: 'reference' });
    const grad = tensor([0.5, -0.25], [2], { backend: 'reference' });
    const m = tensor([0, 0], [2], { backend: 'reference' });
    const v = tensor([0, 0], [2], { backend: 'reference' });
    const p = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    adamwStep(param, grad, m, v, p);
    // Step 1: m̂ = g and v̂ = g², so p ← p(1 − lr·wd) − lr·g/(|g| + ε).
    const want = [1 * 0.999 - (0.1 * 0.5) / (0.5 + 1e-8), -2 * 0.999 + (0.1 * 0.25) / (0.25 + 1e-8)];
    Array.from(param.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    Array.from(m.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([0.05, -0.025][i]!, 7));
    Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([0.00025, 0.0000625][i]!, 9));
  });

  const cases: OpCase<AdamWParams>[] = [];
  for (const n of ODD_SIZES) cases.push(step(`n ${n}`, [n]));
  cases.push(step('n 300 (not a multiple of the workgroup)', [300]));
  cases.push(step('2-D (17, 33), step 7', [17, 33], { step: 7 }));
  cases.push(step('no weight decay, step 1000', [5, 3], { weightDecay: 0, step: 1000 }));
  cases.push(step('β2 0.99, lr 1e-3, step 2', [65], { beta2: 0.99, lr: 1e-3, step: 2 }));
  for (const n of ODD_SIZES) cases.push(step(`un-adapted (adaptive false), n ${n}`, [n], { adaptive: false, step: 3 }));
  cases.push(step('un-adapted, 2-D (17, 33), no weight decay, step 1', [17, 33], { adaptive: false, weightDecay: 0, step: 1 }));
  cases.push(step('adaptive true given explicitly, n 300', [300], { adaptive: true, step: 4 }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('takes the un-adapted step p ← p(1 − lr·wd) − lr·m̂ and still updates v (hand-computed, reference)', () => {
    const [param, grad, m, v] = [[1, -2], [0.5, -0.25], [0.1, 0], [0.01, 0]].map((d) => tensor(d, [2], { backend: 'reference' }));
    adamwStep(param!, grad!, m!, v!, { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, step: 2, adaptive: false });
    const mNew = [0.9 * 0.1 + 0.1 * 0.5, 0.1 * -0.25];
    const mHat = mNew.map((x) => x / (1 - 0.9 ** 2));
    const want = [1 * 0.999 - 0.1 * mHat[0]!, -2 * 0.999 - 0.1 * mHat[1]!];
    Array.from(param!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    Array.from(m!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(mNew[i]!, 7));
    Array.from(v!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([0.99 * 0.01 + 0.01 * 0.25, 0.01 * 0.0625][i]!, 9));
    [param, grad, m, v].forEach((t) => t!.dispose());
  });

  it('follows the reference over a 12-step trajectory on every backend', async () => {
    const n = 37;
    const rng = new Rng(77);
    const p0 = generate(rng, 'normal', n);
    const grads = Array.from({ length: 12 }, () => generate(rng, 'normal', n));
    const run = async (b: BackendName) => {
      const [param, m, v] = [p0, new Float64Array(n), new Float64Array(n)].map((d) => tensor(Float32Array.from(d), [n], { backend: b }));
      grads.forEach((g, t) => {
        const grad = tensor(Float32Array.from(g), [n], { backend: b });
        // Steps 1-4 un-adapted (as RAdam starts), then adaptive.
        adamwStep(param!, grad, m!, v!, { ...P, step: t + 1, adaptive: t >= 4 }, { backend: b });
        grad.dispose();
      });
      const out = await Promise.all([param!, m!, v!].map((x) => x.dataF64()));
      [param, m, v].forEach((x) => x!.dispose());
      return out;
    };
    const want = await run('reference');
    for (const b of backends) {
      const got = await run(b);
      ['param', 'm', 'v'].forEach((what, i) => expectClose(got[i]!, want[i]!, TRAJECTORY_TOL, `adamw_step 12 steps on ${b}: ${what}`));
    }
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const mk = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { backend: 'reference' });
    const [a, b, c] = [mk([3]), mk([3]), mk([3])];
    expect(() => adamwStep(a, mk([4]), b, c, P)).toThrow(ShapeError);
    expect(() => adamwStep(a, mk([4]), b, c, P)).toThrow(/adamw_step\(param \[3\], grad \[4\], m \[3\], v \[3\]\): grad must have the shape of param, \[3\]/);
    const ids = tensor(Int32Array.from([1, 2, 3]), [3], { backend: 'reference' });
    expect(() => adamwStep(a, ids, b, c, P)).toThrow(DTypeError);
    expect(() => adamwStep(a, b, b, c, { ...P, step: 0 })).toThrow(OptionError);
    expect(() => adamwStep(a, b, c, c, P)).toThrow(/m and v share storage/);
    expect(() => adamwStep(a, b, c, mk([3]), { ...P, step: 1.5 })).toThrow(/step must be an integer >= 1/);
    expect(() => adamwStep(a, b, c, mk([3]), { ...P, beta1: 1 })).toThrow(/beta1 and beta2 must lie in \[0, 1\)/);
    expect(() => adamwStep(a, b, c, mk([3]), { ...P, adaptive: 1 as unknown as boolean })).toThrow(/adaptive must be a boolean \(got 1\)/);
  });

  it('refuses state that lives on another backend', () => {
    if (!backends.includes('wasm')) return;
    const [a, g, m] = [0, 1, 2].map(() => tensor(new Float32Array(3), [3], { backend: 'wasm' }));
    const v = tensor(new Float32Array(3), [3], { backend: 'reference' });
    expect(() => adamwStep(a!, g!, m!, v, P, { backend: 'wasm' })).toThrow(RecurError);
    expect(() => adamwStep(a!, g!, m!, v, P, { backend: 'wasm' })).toThrow(/adamw_step: in-place input 'v' lives on reference, not wasm/);
    [a, g, m, v].forEach((t) => t!.dispose());
  });
});
