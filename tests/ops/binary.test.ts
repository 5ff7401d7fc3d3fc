// binary (add, sub, mul, div) through the op harness: same shapes on odd sizes, NumPy broadcasting (bias rows,
// scalars, outer products, alternating axes up to rank 6), gradients summed back over broadcast axes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { add, binary, binaryGeometry, binaryOp, div, mul, sub, type BinaryFn, type BinaryParams } from '../../src/ops/binary.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/** One tolerance table: one rounding forward (WGSL division may take 2.5 ulp); gradients add f32 sums over
 *  broadcast axes. */
const TOL: Record<'op' | 'hand', OpTolerances> = {
  op: { fwd: { atol: 1e-30, rtol: 3e-7 }, bwd: { atol: 1e-6, rtol: 1e-5 } },
  hand: { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } },
};
const FNS: BinaryFn[] = ['add', 'sub', 'mul', 'div'];

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function bc(fn: BinaryFn, a: number[], b: number[], genA: Gen = 'normal'): OpCase<BinaryParams> {
  const genB: Gen = fn === 'div' ? 'positive' : 'normal';
  return { name: `${fn} [${a}] ∘ [${b}]`, op: binaryOp, inputs: [{ shape: a, gen: genA }, { shape: b, gen: genB }], params: { fn }, tol: TOL.op };
}

describe('binary', () => {
  it('matches hand-computed values on the reference', async () => {
    const r = { backend: 'reference' as const };
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], r);
    const row = tensor([10, 20, 40], [3], r);
    const col = tensor([1, 2], [2, 1], r);
    expectClose(await add(a, row).dataF64(), [11, 22, 43, 14, 25, 46], TOL.hand.fwd, 'a + row');
    expectClose(await sub(a, col).dataF64(), [0, 1, 2, 2, 3, 4], TOL.hand.fwd, 'a - col');
    expectClose(await mul(col, row).dataF64(), [10, 20, 40, 20, 40, 80], TOL.hand.fwd, 'col · row (outer)');
    expectClose(await div(row, tensor([4], [], r)).dataF64(), [2.5, 5, 10], TOL.hand.fwd, 'row / scalar');
  });

  it('collapses axes contiguous in both operands', () => {
    expect(binaryGeometry([2, 3, 4], [2, 3, 4], [2, 3, 4])).toEqual({ dims: [24], sa: [1], sb: [1] });
    expect(binaryGeometry([2, 3, 4], [4], [2, 3, 4])).toEqual({ dims: [6, 4], sa: [4, 1], sb: [0, 1] });
    expect(binaryGeometry([5, 1], [1, 7], [5, 7])).toEqual({ dims: [5, 7], sa: [1, 0], sb: [0, 1] });
    expect(binaryGeometry([], [1, 1], [1, 1])).toEqual({ dims: [1], sa: [0], sb: [0] });
  });

  const cases: OpCase<BinaryParams>[] = [];
  for (const fn of FNS) {
    for (const n of [...ODD_SIZES, 300]) cases.push(bc(fn, [n], [n]));
    cases.push(bc(fn, [3, 257], [257])); // bias row
    cases.push(bc(fn, [5, 17], [5, 1])); // per-row scalar
    cases.push(bc(fn, [33], [])); // scalar b
    cases.push(bc(fn, [], [2, 5])); // scalar a
    cases.push(bc(fn, [4, 1, 6], [1, 5, 1])); // both broadcast
    cases.push(bc(fn, [2, 1, 3, 1, 5, 1], [1, 4, 1, 2, 1, 3])); // six alternating axes
    cases.push(bc(fn, [2, 3, 1, 33], [3, 17, 1])); // rank differs
  }
  cases.push(bc('mul', [7, 33], [33], 'large'));
  cases.push(bc('add', [1, 1], [1]));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('seven alternating axes: any rank on wasm; WebGPU (at most 6 collapsed dims) says so', async () => {
    const c = bc('mul', [2, 1, 2, 1, 2, 1, 2], [1, 3, 1, 2, 1, 3, 1]);
    await checkOp(c, backends.filter((b) => b !== 'webgpu'));
    if (!backends.includes('webgpu')) return;
    const a = tensor(new Float32Array(16), [2, 1, 2, 1, 2, 1, 2], { backend: 'webgpu' });
    const b = tensor(new Float32Array(18), [1, 3, 1, 2, 1, 3, 1], { backend: 'webgpu' });
    expect(() => mul(a, b)).toThrow(/binary\(mul, a \[2, 1, 2, 1, 2, 1, 2\], b \[1, 3, 1, 2, 1, 3, 1\]\): the broadcast needs 7 collapsed dims; the WebGPU kernel takes at most 6/);
    a.dispose();
    b.dispose();
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const r = { backend: 'reference' as const };
    const a = tensor(new Float32Array(6), [2, 3], r);
    const b = tensor(new Float32Array(4), [4], r);
    expect(() => add(a, b)).toThrow(ShapeError);
    expect(() => add(a, b)).toThrow(/binary\(add, a \[2, 3\], b \[4\]\): shapes \[2, 3\] and \[4\] do not broadcast \(axis 1: 3 vs 4\)/);
    const ids = tensor(new Int32Array(6), [2, 3], { ...r, dtype: 'i32' });
    expect(() => mul(a, ids)).toThrow(DTypeError);
    expect(() => mul(a, ids)).toThrow(/binary\(mul, a \[2, 3\], b \[2, 3\]\): input b must be f32, got i32/);
    expect(() => binary(a, a, 'pow' as BinaryFn)).toThrow(OptionError);
  });
});
