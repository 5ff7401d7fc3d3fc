// causal_conv1d through the op harness (reference, wasm, webgpu): tap order by a hand-computed case, odd sizes, the
// carried state (streaming equals the parallel forward), the fused backward, and shape errors.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, ShapeError } from '../../src/errors.js';
import { causalConv1d, causalConv1dBwd, causalConv1dBwdOp, causalConv1dOp, type CausalConv1dParams } from '../../src/ops/causal_conv1d.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import { Rng } from '../helpers/rng.js';

/** One tolerance table: K-term float32 sums (forward, dx) and T·B-term sums (dw, dbias). */
const TOL: OpTolerances = { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 5e-5, rtol: 5e-5 } };
const STREAM: { atol: number; rtol: number } = { atol: 1e-6, rtol: 1e-6 }; // streamed vs parallel, same backend

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function conv(name: string, T: number, B: number, D: number, K: number, opt: { bias?: boolean; state?: boolean } = {}): OpCase<CausalConv1dParams> {
  const inputs: InputSpec[] = [{ shape: [T, B, D] }, { shape: [K, D] }];
  if (opt.bias) inputs.push({ shape: [D] });
  if (opt.state) inputs.push({ shape: [K - 1, B, D] });
  return { name, op: causalConv1dOp, inputs, params: {}, tol: TOL };
}

describe('causal_conv1d', () => {
  it('matches a hand-computed conv: w[K−1] weighs the current step, zeros (or the state) before t = 0', () => {
    const r = { backend: 'reference' as const };
    const x = tensor([1, 2, 3], [3, 1, 1], r);
    const w = tensor([0.5, 2], [2, 1], r); // y_t = 0.5·x_{t−1} + 2·x_t + 1
    const bias = tensor([1], [1], r);
    expect(Array.from(causalConv1d(x, w, { bias })[0]!.dataSync())).toEqual([3, 5.5, 8]);
    const [y, st] = causalConv1d(x, w, { bias, state: tensor([10], [1, 1, 1], r) });
    expect(Array.from(y!.dataSync())).toEqual([8, 5.5, 8]);
    expect(Array.from(st!.dataSync())).toEqual([3]);
    // dy = [1, 0, 0]: dx_0 = w[1] = 2, dw = [x_{−1}, x_0] = [0, 1], dbias = 1.
    const [dx, dw, db] = causalConv1dBwd(x, w, tensor([1, 0, 0], [3, 1, 1], r));
    expect(Array.from(dx!.dataSync())).toEqual([2, 0, 0]);
    expect(Array.from(dw!.dataSync())).toEqual([0, 1]);
    expect(Array.from(db!.dataSync())).toEqual([1]);
  });

  const cases: OpCase<CausalConv1dParams>[] = [];
  for (const D of ODD_SIZES) {
    cases.push(conv(`D=${D} K=3 bias`, 7, 2, D, 3, { bias: true }));
    cases.push(conv(`D=${D} K=4 state`, 6, 3, D, 4, { state: true }));
  }
  cases.push(conv('K=1', 5, 2, 3, 1, { bias: true }));
  cases.push(conv('K=2 bias + state', 5, 2, 5, 2, { bias: true, state: true }));
  cases.push(conv('T=1 K=4 state (the new state is mostly the old one)', 1, 2, 3, 4, { state: true, bias: true }));
  cases.push(conv('T=1 no bias', 1, 1, 5, 3));
  cases.push(conv('T=0 with state (the state passes through)', 0, 2, 3, 3, { state: true }));
  cases.push(conv('T < K−1 without state', 2, 2, 3, 5));
  cases.push(conv('B=1 D=300', 9, 1, 300, 4, { bias: true }));
  cases.push(conv('long T (dw reduction over several chunks)', 300, 3, 17, 3, { bias: true }));
  const bwd = (name: string, T: number, B: number, D: number, K: number, state: boolean): OpCase<CausalConv1dParams> => ({
    name, op: causalConv1dBwdOp, params: {}, tol: TOL,
    inputs: [{ shape: [T, B, D] }, { shape: [K, D] }, { shape: [T, B, D] }, ...(state ? [{ shape: [K - 1, B, D] }, { shape: [K - 1, B, D] }] : [])],
  });
  cases.push(bwd('bwd', 9, 2, 5, 3, false), bwd('bwd with state', 4, 2, 33, 4, true), bwd('bwd T < K−1 with state', 2, 1, 3, 5, true));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('streams: one call over [x1; x2] equals x1 then x2 with x1 as the carried state, on every backend', async () => {
    const [T1, T2, B, D, K] = [5, 1, 2, 7, 4];
    const rng = new Rng(3);
    const rnd = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const [x, w, bias] = [rnd((T1 + T2) * B * D), rnd(K * D), rnd(D)];
    const N = B * D;
    for (const be of ['reference' as const, ...backends]) {
      const o = { backend: be };
      const wt = tensor(w, [K, D], o);
      const bt = tensor(bias, [D], o);
      const [whole] = causalConv1d(tensor(x, [T1 + T2, B, D], o), wt, { bias: bt });
      const [y1, s1] = causalConv1d(tensor(x.subarray(0, T1 * N), [T1, B, D], o), wt, { bias: bt, state: tensor(new Float32Array((K - 1) * N), [K - 1, B, D], o) });
      const [y2, s2] = causalConv1d(tensor(x.subarray(T1 * N), [T2, B, D], o), wt, { bias: bt, state: s1 });
      const all = await whole!.data();
      const [a1, a2] = [await y1!.data(), await y2!.data()];
      for (let i = 0; i < all.length; i++) {
        const got = i < T1 * N ? a1[i]! : a2[i - T1 * N]!;
        expect(Math.abs(got - all[i]!), `${be} y[${i}]`).toBeLessThanOrEqual(STREAM.atol + STREAM.rtol * Math.abs(all[i]!));
      }
      // The carried state is the last K−1 inputs of everything seen so far.
      expect(Array.from(await s2!.data()), `${be} state`).toEqual(Array.from(x.subarray((T1 + T2 - (K - 1)) * N)));
    }
  });

  it('names the op and the shapes when they do not fit', () => {
    const r = { backend: 'reference' as const };
    const x = tensor(new Float32Array(12), [3, 2, 2], r);
    expect(() => causalConv1d(x, tensor(new Float32Array(6), [3, 2], r), { bias: tensor(new Float32Array(3), [3], r) })).toThrow(/causal_conv1d\(x \[3, 2, 2\], w \[3, 2\], bias \[3\]\): bias must have shape \[2\], got \[3\]/);
    expect(() => causalConv1d(x, tensor(new Float32Array(6), [2, 3], r))).toThrow(/w must have shape \[K, 2\] with K >= 1/);
    expect(() => causalConv1d(x, tensor(new Float32Array(6), [3, 2], r), { state: tensor(new Float32Array(8), [2, 2, 2], { backend: 'reference' }).reshape([1, 4, 2]) })).toThrow(/state must have shape \[2, 2, 2\], got \[1, 4, 2\]/);
    expect(() => causalConv1d(tensor(new Float32Array(4), [2, 2], r), tensor(new Float32Array(2), [1, 2], r))).toThrow(ShapeError);
    expect(() => causalConv1d(x, tensor(new Int32Array(4), [2, 2], { ...r, dtype: 'i32' }))).toThrow(DTypeError);
    expect(() => causalConv1dBwd(x, tensor(new Float32Array(4), [2, 2], r), tensor(new Float32Array(4), [2, 2], r))).toThrow(/causal_conv1d_bwd\(.*\): dy must have shape \[3, 2, 2\]/);
  });
});
