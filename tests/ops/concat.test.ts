// concat through the op harness: 1, 2 and 3 inputs on every axis (first, middle, last, negative), odd and unequal
// extents, empty inputs, i32 ids copied bit for bit; the gradient (slices of dy) by finite differences.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, ShapeError } from '../../src/errors.js';
import { concat, concatOp, type ConcatParams } from '../../src/ops/concat.js';
import { split } from '../../src/ops/slice.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';

/** One tolerance table: concat copies values, so every backend must match the reference exactly. */
const TOL: OpTolerances = { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function cat(shapes: number[][], axis: number, input: Partial<InputSpec> = {}): OpCase<ConcatParams> {
  const name = `${shapes.map((s) => `[${s}]`).join(' | ')} axis ${axis}${input.dtype ? ` ${input.dtype}` : ''}`;
  return { name, op: concatOp, inputs: shapes.map((shape) => ({ shape, ...input })), params: { axis }, tol: TOL };
}

describe('concat', () => {
  it('matches hand-computed values on the reference', async () => {
    const r = { backend: 'reference' as const };
    const a = tensor([1, 2, 3, 4], [2, 2], r);
    const b = tensor([5, 6], [2, 1], r);
    expectClose(await concat([a, b], 1).dataF64(), [1, 2, 5, 3, 4, 6], TOL.fwd, 'concat axis 1');
    expectClose(await concat([a, tensor([7, 8], [1, 2], r)], 0).dataF64(), [1, 2, 3, 4, 7, 8], TOL.fwd, 'concat axis 0');
  });

  const cases: OpCase<ConcatParams>[] = [];
  for (const n of [...ODD_SIZES, 300]) {
    cases.push(cat([[n], [n + 2]], 0)); // rank 1
    cases.push(cat([[3, n], [3, 5]], -1)); // last axis: short and long rows
    cases.push(cat([[n, 4], [1, 4]], 0)); // first axis: one contiguous run each
  }
  cases.push(cat([[1, 257], [1, 43]], 1)); // batch 1, not a multiple of the workgroup size
  cases.push(cat([[4, 3, 5], [4, 7, 5], [4, 1, 5]], 1)); // three inputs, middle axis
  cases.push(cat([[4, 3, 5], [4, 7, 5], [4, 1, 5]], -2));
  cases.push(cat([[2, 3, 33], [2, 3, 40]], 2)); // long rows through memory.copy
  cases.push(cat([[6, 17]], 1)); // one input: a copy
  cases.push(cat([[3, 0, 2], [3, 4, 2], [3, 0, 2]], 1)); // empty inputs
  cases.push(cat([[0, 5], [0, 5]], 0)); // empty output
  cases.push(cat([[2, 17], [2, 9]], 1, { dtype: 'i32', gen: { int: [-2147483648, 2147483647] } })); // ids: every bit kept
  cases.push(cat([[5, 33], [5, 33]], 0, { gen: 'large' }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('undoes split on every backend', async () => {
    for (const backend of ['reference', ...backends] as BackendName[]) {
      const data = Float32Array.from({ length: 3 * 10 * 2 }, (_, i) => i * 0.5 - 7);
      const x = tensor(data, [3, 10, 2], { backend });
      const parts = split(x, 1, [4, 1, 5]);
      const y = concat(parts, 1);
      expectClose(await y.dataF64(), data, TOL.fwd, `concat(split(x)) on ${backend}`);
      [x, y, ...parts].forEach((t) => t.dispose());
    }
  });

  it('names the op, the shapes and what was expected when inputs do not fit', () => {
    const r = { backend: 'reference' as const };
    const a = tensor(new Float32Array(6), [2, 3], r);
    const b = tensor(new Float32Array(8), [2, 4], r);
    expect(() => concat([a, b], 0)).toThrow(ShapeError);
    expect(() => concat([a, b], 0)).toThrow(/concat\(x0 \[2, 3\], x1 \[2, 4\]\): x1 \[2, 4\] must match x0 \[2, 3\] on every axis but the concat axis 0/);
    expect(() => concat([a, tensor(new Float32Array(6), [2, 3, 1], r)], 1)).toThrow(/x1 \[2, 3, 1\] must match x0 \[2, 3\]/);
    expect(() => concat([a, b], 2)).toThrow(/concat\(x0 \[2, 3\], x1 \[2, 4\]\): axis 2 is out of range for shape \[2, 3\] \(rank 2: expected an integer in \[-2, 1\]\)/);
    expect(() => concat([a, b], -3)).toThrow(/axis -3 is out of range/);
    expect(() => concat([], 0)).toThrow(/concat\(\): expected at least one input/);
    const ids = tensor(new Int32Array(6), [2, 3], { ...r, dtype: 'i32' });
    expect(() => concat([a, ids], 0)).toThrow(DTypeError);
    expect(() => concat([a, ids], 0)).toThrow(/concat\(x0 \[2, 3\], x1 \[2, 3\]\): every input must have the dtype of x0 \(f32\), x1 is i32/);
    expect(() => concatOp.shapes([{ shape: [2], dtype: 'bool' as 'f32' }], { axis: 0 })).toThrow(/concat\(x0 \[2\]\): x0 must be f32 or i32, got bool/);
  });
});
