// reduce (sum, mean, max over one axis) and reduce_bwd through the op harness: the (outer, n, inner) view on odd
// sizes, keepDims and negative axes, ties in max (first index wins), and long sums (n = 100k) that stay accurate.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { runOp, tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { max, mean, reduce, reduceBwdOp, reduceOp, sum, type ReduceParams } from '../../src/ops/reduce.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import { generate, Rng, type Gen } from '../helpers/rng.js';

/** One tolerance table: sums of up to a few thousand unit-variance terms in f32 (blocked on wasm, a workgroup
 *  tree on WebGPU); 'long' is 100k positive terms, where a plain running f32 sum would be off by ~1e-4. */
const TOL: Record<'op' | 'long' | 'hand', OpTolerances> = {
  op: { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 1e-6, rtol: 1e-6 } },
  long: { fwd: { atol: 0, rtol: 1e-6 }, bwd: { atol: 0, rtol: 1e-6 } },
  hand: { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } },
};

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function rc(p: ReduceParams, shape: number[], gen: Gen = 'normal', extra: Partial<OpCase<ReduceParams>> = {}): OpCase<ReduceParams> {
  const name = `${p.op} axis ${p.axis}${p.keepDims ? ' keepDims' : ''} [${shape}]${typeof gen === 'object' && 'values' in gen ? (gen.values.some(Number.isNaN) ? ' NaN' : ' ties') : ''}`;
  return { name, op: reduceOp, inputs: [{ shape, gen }], params: p, tol: TOL.op, ...extra };
}

describe('reduce', () => {
  it('matches hand-computed values on the reference', async () => {
    const x = tensor([1, 5, 3, 4, 2, 6], [2, 3], { backend: 'reference' });
    expectClose(await sum(x, 0).dataF64(), [5, 7, 9], TOL.hand.fwd, 'sum axis 0');
    expectClose(await mean(x, -1).dataF64(), [3, 4], TOL.hand.fwd, 'mean axis -1');
    expectClose(await max(x, 1, true).dataF64(), [5, 6], TOL.hand.fwd, 'max axis 1');
    expect(max(x, 1, true).shape).toEqual([2, 1]);
    // ties: the gradient goes to the first maximal element only
    const t = tensor([3, 1, 3, 3], [4], { backend: 'reference' });
    const y = max(t, 0);
    const dx = runOp(reduceBwdOp, [t, y, tensor([2], [], { backend: 'reference' })], { op: 'max', axis: 0 })[0]!;
    expectClose(await dx.dataF64(), [2, 0, 0, 0], TOL.hand.bwd, 'max tie rule');
  });

  const cases: OpCase<ReduceParams>[] = [];
  for (const op of ['sum', 'mean', 'max'] as const) {
    for (const n of [...ODD_SIZES, 300]) {
      cases.push(rc({ op, axis: 0 }, [n])); // rank 1 -> scalar
      cases.push(rc({ op, axis: 1 }, [3, n])); // rows (inner = 1)
      cases.push(rc({ op, axis: 0 }, [n, 5])); // columns (inner = 5: one f32x4 chunk + 1)
    }
    cases.push(rc({ op, axis: 1, keepDims: true }, [2, 257, 17]));
    cases.push(rc({ op, axis: -2 }, [5, 33, 3]));
    cases.push(rc({ op, axis: -1, keepDims: true }, [2, 3, 1]));
    cases.push(rc({ op, axis: 1 }, [1, 700, 33]));
    cases.push(rc({ op, axis: 0 }, [260, 1]));
    cases.push(rc({ op, axis: 0 }, [17, 33], 'large'));
  }
  // ties (and repeated values) in max: finite differences are undefined at a tie, so only backends vs reference.
  const ties: Gen = { values: [2, -1, 2, 0.5, 2, 2, -3] };
  cases.push(rc({ op: 'max', axis: 1 }, [3, 7], ties, { noGrad: [0] }));
  cases.push(rc({ op: 'max', axis: 0 }, [7, 9], ties, { noGrad: [0] }));
  cases.push(rc({ op: 'max', axis: 0 }, [5, 3], { values: [-2.5] }, { noGrad: [0] }));
  cases.push(rc({ op: 'sum', axis: 1 }, [3, 0]));
  // wide rows (inner ≥ 256: streamed column sums on wasm)
  for (const op of ['sum', 'mean', 'max'] as const) {
    cases.push(rc({ op, axis: 0 }, [5, 300]));
    cases.push(rc({ op, axis: 1 }, [2, 40, 257]));
  }
  // NaN propagates through max (and its gradient goes to the first NaN)
  const nans: Gen = { values: [1, NaN, 3, -2, 0.5, 7, -1, 2, 4, 1.5, -3] };
  cases.push(rc({ op: 'max', axis: 1 }, [3, 37], nans, { noGrad: [0] }));
  cases.push(rc({ op: 'max', axis: 0 }, [37, 11], nans, { noGrad: [0] }));
  cases.push(rc({ op: 'sum', axis: 1 }, [3, 37], nans, { noGrad: [0] }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('long reductions (n = 100k) stay accurate in f32', async () => {
    const rng = new Rng(99);
    const data = generate(rng, { uniform: [0, 1] }, 100_000);
    // column sums: 7 columns (a workgroup per column on WebGPU) and 33 (a thread per column)
    const colCases = [[20_000, 7], [5_000, 33]].map(([n, d]) => ({ n: n!, d: d!, data: generate(rng, { uniform: [0, 1] }, n! * d!) }));
    for (const b of ['reference', ...backends] as BackendName[]) {
      const x = tensor(Float32Array.from(data), [100_000], { backend: b });
      const y = sum(x, 0);
      const m = mean(x, 0);
      expectClose(await y.dataF64(), [data.reduce((s, v) => s + v, 0)], TOL.long.fwd, `sum of 100k on ${b}`);
      expectClose(await m.dataF64(), [data.reduce((s, v) => s + v, 0) / 1e5], TOL.long.fwd, `mean of 100k on ${b}`);
      [x, y, m].forEach((t) => t.dispose());
      for (const { n, d, data: cols } of colCases) {
        const c = tensor(Float32Array.from(cols), [n, d], { backend: b });
        const cs = sum(c, 0);
        const want = Array.from({ length: d }, (_, j) => cols.filter((_, i) => i % d === j).reduce((s, v) => s + v, 0));
        expectClose(await cs.dataF64(), want, TOL.long.fwd, `column sums of [${n}, ${d}] on ${b}`);
        [c, cs].forEach((t) => t.dispose());
      }
    }
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const r = { backend: 'reference' as const };
    const x = tensor(new Float32Array(6), [2, 3], r);
    expect(() => sum(x, 2)).toThrow(ShapeError);
    expect(() => sum(x, 2)).toThrow(/reduce\(sum, axis 2; x \[2, 3\]\): axis 2 is out of range for rank 2/);
    expect(() => max(tensor([], [2, 0], r), 1)).toThrow(/reduce\(max, axis 1; x \[2, 0\]\): max over an empty axis/);
    expect(() => sum(tensor([1], [], r), 0)).toThrow(/x must have rank >= 1/);
    const ids = tensor(new Int32Array(6), [2, 3], { ...r, dtype: 'i32' });
    expect(() => sum(ids, 0)).toThrow(DTypeError);
    expect(() => reduce(x, { op: 'min' as 'max', axis: 0 })).toThrow(OptionError);
    const y = tensor(new Float32Array(3), [3], r);
    const dy = tensor(new Float32Array(2), [2], r);
    expect(() => runOp(reduceBwdOp, [x, y, dy], { op: 'sum', axis: 0 })).toThrow(/reduce_bwd\(sum, axis 0; x \[2, 3\], y \[3\], dy \[2\]\): y and dy must have shape \[3\]/);
  });
});
