// matmul through the op harness: every backend against the float64 reference, gradients by finite differences.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { ShapeError, DTypeError } from '../../src/errors.js';
import { tensor } from '../../src/engine.js';
import { matmul, matmulOp, type MatmulParams } from '../../src/ops/matmul.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';

/** One tolerance table for the op (float32 accumulation over K terms of unit-variance products). */
const TOL: OpTolerances = { fwd: { atol: 2e-5, rtol: 2e-5 }, bwd: { atol: 5e-5, rtol: 5e-5 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function mm(name: string, a: number[], b: number[], params: MatmulParams, bias?: number): OpCase<MatmulParams> {
  const inputs = [{ shape: a }, { shape: b }];
  if (bias !== undefined) inputs.push({ shape: [bias] });
  return { name, op: matmulOp, inputs, params, tol: TOL };
}

describe('matmul', () => {
  it('matches a hand-computed 2x2 product on the reference', () => {
    const a = tensor([1, 2, 3, 4], [2, 2], { backend: 'reference' });
    const b = tensor([5, 6, 7, 8], [2, 2], { backend: 'reference' });
    const bias = tensor([0.5, -1], [2], { backend: 'reference' });
    expect(Array.from(matmul(a, b, { bias }).dataSync())).toEqual([19.5, 21, 43.5, 49]);
    expect(Array.from(matmul(a, b, { transA: true }).dataSync())).toEqual([26, 30, 38, 44]);
    expect(Array.from(matmul(a, b, { transB: true }).dataSync())).toEqual([17, 23, 39, 53]);
  });

  const cases: OpCase<MatmulParams>[] = [];
  for (const n of ODD_SIZES) cases.push(mm(`square ${n}`, [n, n], [n, n], {}));
  for (const [m, k, n] of [[1, 17, 33], [33, 5, 3], [17, 33, 5], [1, 64, 70], [70, 9, 66]] as const) {
    cases.push(mm(`${m}x${k}x${n}`, [m, k], [k, n], {}));
    cases.push(mm(`${m}x${k}x${n} transA`, [k, m], [k, n], { transA: true }));
    cases.push(mm(`${m}x${k}x${n} transB + bias`, [m, k], [n, k], { transB: true }, n));
    cases.push(mm(`${m}x${k}x${n} both`, [k, m], [n, k], { transA: true, transB: true }, n));
  }
  cases.push(mm('batched', [3, 5, 7], [3, 7, 4], {}, 4));
  cases.push(mm('batched, shared weight', [2, 3, 5, 17], [17, 9], {}, 9));
  cases.push(mm('batched, shared weight transposed', [33, 4], [2, 33, 5], { transA: true }));
  cases.push(mm('batched transB', [2, 5, 7], [2, 3, 7], { transB: true }));
  cases.push(mm('long K', [3, 1031], [1031, 5], {}));

  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('names the op and the shapes when they do not fit', () => {
    const a = tensor(new Float32Array(6), [2, 3], { backend: 'reference' });
    const b = tensor(new Float32Array(8), [4, 2], { backend: 'reference' });
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(/matmul\(A \[2, 3\], B \[4, 2\]\): inner dims differ \(A gives K=3, B gives K=4\)/);
    const ids = tensor(new Int32Array(6), [3, 2], { backend: 'reference', dtype: 'i32' });
    expect(() => matmul(a, ids)).toThrow(DTypeError);
    const bias = tensor(new Float32Array(3), [3], { backend: 'reference' });
    expect(() => matmul(a, tensor(new Float32Array(6), [3, 2], { backend: 'reference' }), { bias })).toThrow(/bias must have shape \[2\], got \[3\]/);
  });

  it('refuses a tensor used after dispose, naming the op and input', () => {
    const a = tensor(new Float32Array(4), [2, 2], { backend: 'reference' });
    a.dispose();
    expect(() => matmul(a, a)).toThrow(/matmul \(input 'A'\): tensor #\d+ \[2, 2\] f32 was used after dispose\(\)/);
  });
});
