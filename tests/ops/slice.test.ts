// slice and slice_bwd through the op harness: every axis (first, middle, last, negative), odd sizes, short rows
// (v128 moves) and long rows (memory.copy), empty slices, i32 ids and f32 bit patterns copied unchanged; split (one
// op, one output per piece) with its gradient, one concat, also where only some pieces receive a gradient.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { addOpListener, tensor } from '../../src/engine.js';
import { Tape } from '../../src/autograd/tape.js';
import { add, mul, sum } from '../../src/ops/api.js';
import { DTypeError, ShapeError } from '../../src/errors.js';
import { slice, sliceBwd, sliceBwdOp, sliceOp, split, splitOp, type SliceBwdParams, type SliceParams, type SplitParams } from '../../src/ops/slice.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';

/** One tolerance table: slices copy values, so every backend must match the reference exactly. */
const TOL: OpTolerances = { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function fwd(shape: number[], axis: number, start: number, size: number, input: Partial<InputSpec> = {}, noGrad?: number[]): OpCase<SliceParams> {
  const name = `[${shape}] axis ${axis} [${start}, ${start + size})${input.dtype ? ` ${input.dtype}` : ''}`;
  return { name, op: sliceOp, inputs: [{ shape, ...input }], params: { axis, start, size }, tol: TOL, ...(noGrad ? { noGrad } : {}) };
}

function bwd(shape: number[], p: SliceBwdParams): OpCase<SliceBwdParams> {
  return { name: `bwd [${shape}] axis ${p.axis} [${p.start}, ${p.start + p.size}) of ${p.dim}`, op: sliceBwdOp, inputs: [{ shape }], params: p, tol: TOL };
}

describe('slice', () => {
  it('matches hand-computed values on the reference', async () => {
    const r = { backend: 'reference' as const };
    const x = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 3, 2], r);
    expectClose(await slice(x, 1, 1, 2).dataF64(), [2, 3, 4, 5, 8, 9, 10, 11], TOL.fwd, 'x[:, 1:3, :]');
    expectClose(await slice(x, -1, 1, 1).dataF64(), [1, 3, 5, 7, 9, 11], TOL.fwd, 'x[..., 1:2]');
    expectClose(await slice(x, 0, 1, 1).dataF64(), [6, 7, 8, 9, 10, 11], TOL.fwd, 'x[1:2]');
    const dx = sliceBwd(tensor([1, 2, 3, 4], [2, 1, 2], r), { axis: 1, start: 2, size: 1, dim: 3 });
    expect(dx.shape).toEqual([2, 3, 2]);
    expectClose(await dx.dataF64(), [0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 4], TOL.fwd, 'slice_bwd');
  });

  const cases: OpCase<SliceParams>[] = [];
  for (const n of [...ODD_SIZES, 300]) {
    cases.push(fwd([n], 0, Math.floor(n / 3), n - Math.floor(n / 3))); // rank 1
    cases.push(fwd([3, n], -1, 0, Math.ceil(n / 2))); // last axis, short and long rows
    cases.push(fwd([n, 5], 0, n > 1 ? 1 : 0, n > 1 ? n - 1 : 1)); // first axis: one contiguous run
  }
  cases.push(fwd([1, 257], 1, 100, 157)); // batch 1, not a multiple of the workgroup size
  cases.push(fwd([7, 9, 5], 1, 2, 4)); // middle axis
  cases.push(fwd([7, 9, 5], -2, 8, 1));
  cases.push(fwd([2, 3, 4, 33], 2, 1, 3)); // long rows (3·33 floats) through memory.copy
  cases.push(fwd([5, 40, 3], 1, 0, 40)); // the whole axis
  cases.push(fwd([4, 6, 3], 1, 6, 0)); // an empty slice at the end
  cases.push(fwd([4, 6, 3], 1, 2, 0)); // an empty slice inside
  cases.push(fwd([3, 17], 1, 4, 9, { dtype: 'i32', gen: { int: [-2147483648, 2147483647] } })); // ids: every bit kept
  cases.push(fwd([4, 5], 1, 1, 3, { gen: { values: [NaN, Infinity, -0, 1e-40, -3e38, 1.5] } }, [0])); // NaN, ±0, subnormals kept
  cases.push(fwd([2, 300, 3], 1, 150, 149, { gen: 'large' }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  const bcases: OpCase<SliceBwdParams>[] = [];
  for (const n of [...ODD_SIZES, 300]) bcases.push(bwd([2, n], { axis: 1, start: 3, size: n, dim: n + 7 }));
  bcases.push(bwd([5, 3, 2], { axis: 0, start: 4, size: 5, dim: 9 }));
  bcases.push(bwd([5, 3, 2], { axis: -2, start: 0, size: 3, dim: 3 }));
  bcases.push(bwd([3, 0, 4], { axis: 1, start: 2, size: 0, dim: 5 })); // empty dy: dx all zeros
  bcases.push(bwd([1, 257], { axis: 0, start: 1, size: 1, dim: 3 }));
  bcases.push(bwd([3, 1, 40], { axis: 1, start: 1, size: 1, dim: 4 })); // zero fills of 160 and 320 bytes per row
  for (const c of bcases) it(c.name, () => checkOp(c, backends));

  const scases: OpCase<SplitParams>[] = [];
  const sp = (shape: number[], axis: number, sizes: number[], input: Partial<InputSpec> = {}, noGrad?: number[]): OpCase<SplitParams> => ({
    name: `split [${shape}] axis ${axis} into [${sizes}]${input.dtype ? ` ${input.dtype}` : ''}`, op: splitOp, inputs: [{ shape, ...input }], params: { axis, sizes }, tol: TOL, ...(noGrad ? { noGrad } : {}),
  });
  for (const n of ODD_SIZES) scases.push(sp([n, 3, 5], 0, new Array<number>(n).fill(1))); // time steps of a (T, B, d) tensor
  scases.push(sp([3, 33], -1, [11, 0, 17, 5])); // columns: short and long rows, an empty piece
  scases.push(sp([4, 9, 2], 1, [2, 7]));
  scases.push(sp([6], 0, [6])); // one piece: a copy
  scases.push(sp([2, 300, 3], 1, [150, 149, 1], { gen: 'large' }));
  scases.push(sp([5, 17], 1, [4, 13], { dtype: 'i32', gen: { int: [-2147483648, 2147483647] } })); // ids: every bit kept
  for (const c of scases) it(c.name, () => checkOp(c, backends));

  it("split's gradient is one concat, with zeros for the pieces that got none, on every backend", async () => {
    for (const backend of ['reference', ...backends] as BackendName[]) {
      const T = 6;
      const x = tensor(Float32Array.from({ length: T * 2 * 3 }, (_, i) => i / 7 - 2), [T, 2, 3], { backend });
      const w = tensor(Float32Array.from({ length: 2 * 3 }, (_, i) => i + 1), [2, 3], { backend });
      const names: string[] = [];
      const off = addOpListener((op) => void names.push(op.name));
      const tape = new Tape();
      // L = Σ w ⊙ x[1] + Σ x[4] ⊙ x[4]: pieces 0, 2, 3, 5 get no gradient.
      const loss = tape.record(() => {
        const ps = split(x, 0, new Array<number>(T).fill(1)).map((p) => p.reshape([6]));
        return add(sum(mul(ps[1]!, w.reshape([6])), 0), sum(mul(ps[4]!, ps[4]!), 0));
      });
      const [dx] = tape.backward(loss, [x]);
      off();
      expect(names.filter((n) => n === 'slice_bwd'), backend).toEqual([]);
      expect(names.filter((n) => n === 'concat'), backend).toHaveLength(1);
      const want = new Float64Array(T * 6);
      for (let i = 0; i < 6; i++) [want[6 + i], want[24 + i]] = [i + 1, 2 * Math.fround((24 + i) / 7 - 2)]; // x is stored as float32
      expectClose(await dx!.dataF64(), want, TOL.bwd, `d/dx on ${backend}`);
      [x, w, loss, dx!].forEach((t) => t.dispose());
    }
  });

  it('split cuts consecutive pieces on every backend', async () => {
    for (const backend of ['reference', ...backends] as BackendName[]) {
      const x = tensor(Float32Array.from({ length: 2 * 7 * 3 }, (_, i) => i), [2, 7, 3], { backend });
      const parts = split(x, -2, [2, 0, 5]);
      expect(parts.map((p) => p.shape)).toEqual([[2, 2, 3], [2, 0, 3], [2, 5, 3]]);
      expectClose(await parts[0]!.dataF64(), [0, 1, 2, 3, 4, 5, 21, 22, 23, 24, 25, 26], TOL.fwd, `split on ${backend}`);
      expectClose(await parts[2]!.dataF64(), [...Array(15).keys()].map((i) => i + 6).concat([...Array(15).keys()].map((i) => i + 27)), TOL.fwd, `split on ${backend}`);
      [x, ...parts].forEach((t) => t.dispose());
    }
  });

  it('names the op, the shape, the axis and the range when inputs do not fit', () => {
    const r = { backend: 'reference' as const };
    const x = tensor(new Float32Array(24), [2, 3, 4], r);
    expect(() => slice(x, 3, 0, 1)).toThrow(ShapeError);
    expect(() => slice(x, 3, 0, 1)).toThrow(/slice\(x \[2, 3, 4\]\): axis 3 is out of range for shape \[2, 3, 4\] \(rank 3: expected an integer in \[-3, 2\]\)/);
    expect(() => slice(x, -4, 0, 1)).toThrow(/axis -4 is out of range/);
    expect(() => slice(x, 1.5, 0, 1)).toThrow(/axis 1.5 is out of range/);
    expect(() => slice(x, 1, 2, 2)).toThrow(/slice\(x \[2, 3, 4\]\): range \[2, 2 \+ 2\) is out of bounds on axis 1 of shape \[2, 3, 4\] \(expected integers with 0 <= start, 0 <= size, start \+ size <= 3\)/);
    expect(() => slice(x, 1, -1, 1)).toThrow(/range \[-1, -1 \+ 1\) is out of bounds/);
    expect(() => slice(x, 1, 0, -1)).toThrow(/range \[0, 0 \+ -1\) is out of bounds/);
    expect(() => slice(x, 1, 0.5, 1)).toThrow(ShapeError);
    expect(() => slice(tensor([1], [], r), 0, 0, 1)).toThrow(/slice\(x \[\]\): axis 0 is out of range for shape \[\] \(rank 0/);
    const dy = tensor(new Float32Array(6), [2, 3], r);
    expect(() => sliceBwd(dy, { axis: 1, start: 0, size: 2, dim: 4 })).toThrow(/slice_bwd\(dy \[2, 3\]\): dy must have extent 2 \(the slice size\) on axis 1, got 3/);
    expect(() => sliceBwd(dy, { axis: 1, start: 2, size: 3, dim: 4 })).toThrow(/slice_bwd\(dy \[2, 3\]\): range \[2, 2 \+ 3\) is out of bounds on axis 1 of shape \[2, 4\]/);
    expect(() => sliceBwd(dy, { axis: 0, start: 0, size: 2, dim: -1 })).toThrow(/dim -1 must be a non-negative integer/);
    expect(() => split(x, 1, [1, 1])).toThrow(/split\(x \[2, 3, 4\]\): sizes \[1, 1\] must be non-negative integers adding up to 3 \(axis 1\), got a total of 2/);
    expect(() => split(x, 1, [4, -1])).toThrow(ShapeError);
    expect(() => split(x, 5, [3])).toThrow(/split\(x \[2, 3, 4\]\): axis 5 is out of range/);
    expect(() => sliceOp.shapes([{ shape: [2], dtype: 'bool' as 'f32' }], { axis: 0, start: 0, size: 1 })).toThrow(DTypeError);
    expect(() => sliceOp.shapes([{ shape: [2], dtype: 'bool' as 'f32' }], { axis: 0, start: 0, size: 1 })).toThrow(/slice\(x \[2\]\): x must be f32 or i32, got bool/);
  });
});
