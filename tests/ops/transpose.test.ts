// transpose through the op harness: (B, T, D) <-> (T, B, D) row copies, the last axis (4×4 SIMD tiles with odd
// tails), middle and negative axes, equal axes (a copy), empty tensors, i32 ids copied bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, ShapeError } from '../../src/errors.js';
import { transpose, transposeOp, type TransposeParams } from '../../src/ops/transpose.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';

/** One tolerance table: transpose moves values, so every backend must match the reference exactly. */
const TOL: OpTolerances = { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function tr(shape: number[], axis0: number, axis1: number, input: Partial<InputSpec> = {}): OpCase<TransposeParams> {
  const name = `[${shape}] axes ${axis0}, ${axis1}${input.dtype ? ` ${input.dtype}` : ''}`;
  return { name, op: transposeOp, inputs: [{ shape, ...input }], params: { axis0, axis1 }, tol: TOL };
}

describe('transpose', () => {
  it('matches hand-computed values on the reference', async () => {
    const r = { backend: 'reference' as const };
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], r);
    const y = transpose(x, 0, 1);
    expect(y.shape).toEqual([3, 2]);
    expectClose(await y.dataF64(), [1, 4, 2, 5, 3, 6], TOL.fwd, 'transpose 2x3');
    // (B=2, T=2, D=2) -> (T, B, D): rows of D move as blocks.
    const z = transpose(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], r), 0, 1);
    expectClose(await z.dataF64(), [1, 2, 5, 6, 3, 4, 7, 8], TOL.fwd, 'transpose (B, T, D) -> (T, B, D)');
  });

  const cases: OpCase<TransposeParams>[] = [];
  for (const n of [...ODD_SIZES, 300]) {
    cases.push(tr([n, 3], 0, 1)); // the last axis: tiles and tails
    cases.push(tr([4, n, 7], 1, 0)); // (B, T, D) -> (T, B, D): runs of D
    cases.push(tr([2, n, 33], -1, -2)); // last two axes of a batch
  }
  cases.push(tr([1, 257, 5], 0, 1)); // batch 1
  cases.push(tr([37, 45], 0, 1)); // one partial block
  cases.push(tr([70, 131], 0, 1)); // several 64×64 blocks with tails
  cases.push(tr([2, 67, 130], -1, 1));
  cases.push(tr([3, 5, 7, 2], 1, 3)); // axes with one between: M = 7, I = 1
  cases.push(tr([2, 3, 5, 7, 3], 0, 3)); // M = 15, I = 3
  cases.push(tr([5, 17, 40], 0, 1)); // long runs through memory.copy
  cases.push(tr([6, 9], 1, 1)); // equal axes: a copy
  cases.push(tr([3, 0, 4], 0, 1)); // empty
  cases.push(tr([9, 17], 0, 1, { dtype: 'i32', gen: { int: [-2147483648, 2147483647] } })); // ids: every bit kept
  cases.push(tr([4, 3, 6], 2, 0, { gen: 'large' }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('names the op, the shape and the axis when inputs do not fit', () => {
    const r = { backend: 'reference' as const };
    const x = tensor(new Float32Array(6), [2, 3], r);
    expect(() => transpose(x, 0, 2)).toThrow(ShapeError);
    expect(() => transpose(x, 0, 2)).toThrow(/transpose\(x \[2, 3\]\): axis 2 is out of range for shape \[2, 3\] \(rank 2: expected an integer in \[-2, 1\]\)/);
    expect(() => transpose(x, -3, 0)).toThrow(/axis -3 is out of range/);
    expect(() => transpose(tensor([1], [], r), 0, 0)).toThrow(/transpose\(x \[\]\): axis 0 is out of range for shape \[\] \(rank 0/);
    expect(() => transposeOp.shapes([{ shape: [2], dtype: 'bool' as 'f32' }], { axis0: 0, axis1: 0 })).toThrow(DTypeError);
    expect(() => transposeOp.shapes([{ shape: [2], dtype: 'f32' }, { shape: [2], dtype: 'f32' }], { axis0: 0, axis1: 0 })).toThrow(/transpose\(x \[2\], input 1 \[2\]\): expected one input \(x\), got 2/);
  });
});
