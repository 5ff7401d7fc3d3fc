// embedding and embedding_bwd through the op harness: lookups, repeated ids accumulating, out-of-range ids.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { embedding, embeddingBwd, embeddingBwdOp, embeddingOp, type EmbeddingBwdParams } from '../../src/ops/embedding.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/** One tolerance table. The forward copies exactly; its gradient and embedding_bwd sum up to ~300 unit-normal
 *  float32 rows per table row (error ~ √k·ε·|partial sums| ≈ 1e-5 for k = 257 with partial sums near 30). */
const TOL: OpTolerances = { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 5e-5, rtol: 1e-5 } };
const BWD_TOL: OpTolerances = { fwd: TOL.bwd, bwd: TOL.bwd };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

type NoParams = Record<string, never>;

function fwd(name: string, ids: number[], V: number, D: number, gen?: Gen): OpCase<NoParams> {
  return { name, op: embeddingOp, inputs: [{ shape: ids, dtype: 'i32', gen: gen ?? { int: [0, V] } }, { shape: [V, D] }], params: {}, tol: TOL };
}
function bwd(name: string, ids: number[], V: number, D: number, gen?: Gen): OpCase<EmbeddingBwdParams> {
  return { name, op: embeddingBwdOp, inputs: [{ shape: ids, dtype: 'i32', gen: gen ?? { int: [0, V] } }, { shape: [...ids, D] }], params: { vocab: V }, tol: BWD_TOL };
}

describe('embedding', () => {
  it('matches a hand-computed lookup and scatter-add on the reference', () => {
    const ids = tensor(Int32Array.from([2, 0, 2]), [3], { backend: 'reference' });
    const table = tensor([1, 2, 3, 4, 5, 6], [3, 2], { backend: 'reference' });
    expect(Array.from(embedding(ids, table).dataSync())).toEqual([5, 6, 1, 2, 5, 6]);
    const dy = tensor([1, 10, 100, 1000, 0.5, 0.25], [3, 2], { backend: 'reference' });
    expect(Array.from(embeddingBwd(ids, dy, { vocab: 3 }).dataSync())).toEqual([100, 1000, 0, 0, 1.5, 10.25]);
  });

  const cases: OpCase<NoParams>[] = [];
  for (const n of ODD_SIZES) cases.push(fwd(`N ${n}, V 7, D ${n}`, [n], 7, n));
  cases.push(fwd('2-D ids (B 3, T 5), D 17', [3, 5], 11, 17));
  cases.push(fwd('scalar id', [], 4, 5));
  cases.push(fwd('batch 1, V 1', [1, 9], 1, 3));
  cases.push(fwd('D 300 (not a multiple of the workgroup)', [4, 6], 33, 300));
  cases.push(fwd('many positions, V 5000', [257], 5000, 8, { int: [0, 5000] }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  const bcases: OpCase<EmbeddingBwdParams>[] = [];
  for (const n of ODD_SIZES) bcases.push(bwd(`bwd N ${n}, V 5, D ${n}`, [n], 5, n));
  bcases.push(bwd('bwd repeated ids (V 3, N 300)', [3, 100], 3, 17));
  bcases.push(bwd('bwd all ids equal (N 257)', [257], 4, 33, { values: [2] }));
  bcases.push(bwd('bwd V 1000 sparse, D 300', [2, 33], 1000, 300, { int: [0, 1000] }));
  bcases.push(bwd('bwd unused rows (V 64, N 5)', [5], 64, 6, { int: [0, 64] }));
  for (const c of bcases) it(c.name, () => checkOp(c, backends));

  // The kernels (what GPU-resident ids reach) clamp: an id outside [0, V) gives a zero row and no gradient.
  it('gives zero rows and no gradient for out-of-range ids in every kernel', async () => {
    const gen: Gen = { values: [0, -1, 3, 7, 2, 1000, -2147483648, 6] };
    await checkOp(fwd('out of range', [2, 8], 7, 5, gen), backends);
    await checkOp(bwd('bwd out of range', [2, 8], 7, 5, gen), backends);
  });

  it('throws naming the bad id, its position and V when the ids live on the CPU', () => {
    for (const b of ['reference', ...backends.filter((x) => x === 'wasm')] as BackendName[]) {
      const ids = tensor(Int32Array.from([0, 1, 2, 9, 0, 1]), [2, 3], { backend: b });
      const table = tensor(new Float32Array(12), [4, 3], { backend: b });
      expect(() => embedding(ids, table)).toThrow(OptionError);
      expect(() => embedding(ids, table)).toThrow(/embedding: id 9 at position \[1, 0\] of \[2, 3\] is out of range \[0, 4\)/);
      const neg = tensor(Int32Array.from([-1]), [1], { backend: b });
      expect(() => embedding(neg, table)).toThrow(/id -1 at position \[0\]/);
      [ids, table, neg].forEach((t) => t.dispose());
    }
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const ids = tensor(Int32Array.from([0, 1]), [2], { backend: 'reference' });
    const fids = tensor([0, 1], [2], { backend: 'reference' });
    const table = tensor(new Float32Array(6), [3, 2], { backend: 'reference' });
    const flat = tensor(new Float32Array(6), [6], { backend: 'reference' });
    expect(() => embedding(fids, table)).toThrow(DTypeError);
    expect(() => embedding(fids, table)).toThrow(/embedding\(ids \[2\] f32, table \[3, 2\]\): ids must be i32, got f32/);
    expect(() => embedding(ids, flat)).toThrow(ShapeError);
    expect(() => embedding(ids, flat)).toThrow(/table must be 2-D \(V, D\), got rank 1/);
    const dy = tensor(new Float32Array(6), [3, 2], { backend: 'reference' });
    expect(() => embeddingBwd(ids, dy, { vocab: 3 })).toThrow(/embedding_bwd\(ids \[2\] i32, dy \[3, 2\], vocab 3\): dy must have shape \[...ids.shape, D\] = \[2, D\]/);
    expect(() => embeddingBwd(ids, tensor(new Float32Array(4), [2, 2], { backend: 'reference' }), { vocab: -1 })).toThrow(OptionError);
  });
});
