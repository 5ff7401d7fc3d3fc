// attention through the op harness: every backend against the float64 reference and FD gradients (q, kv; both
// outputs weighted), on odd dh, L and Lm, multi-head, memory, sameLength, padding and large logits. Masks and the
// G.11 visible-key counts are in attention_mask.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { attention, attentionBwd, attentionOp, type AttentionParams } from '../../src/ops/attention.js';
import type { Tensor } from '../../src/tensor.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import { Rng, type Gen } from '../helpers/rng.js';

/**
 * The tolerance table. unit: unit-normal q, K, V (float32 dot products over dh, sums over up to ~100 keys).
 * large: |logits| up to a few thousand and |v| up to ~100. A float32 logit or saved lse is off by about
 * |logit|·2^-24 ≈ 2e-4 at 3000, which scales P by that relative amount; outputs and gradients (of size ~|v|, and
 * |v|·|logit|·|q| for dq) inherit it. The data are exact multiples of 1.5 so that the logits themselves are exact.
 */
const TOL: Record<'unit' | 'large', OpTolerances> = {
  unit: { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 5e-5, rtol: 1e-4 } },
  large: { fwd: { atol: 1e-4, rtol: 1e-5 }, bwd: { atol: 1e-3, rtol: 1e-3 } },
};
const HAND = { atol: 1e-12, rtol: 1e-12 };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

interface Sizes { L: number; Lm: number; B: number; H: number; dh: number }

/** A case: q (L, B, H·dh), kv (Lm+L, B, 2·H·dh), and a padding mask (Lm+L, B) when `pad` gives its 0/1 values. */
function attnCase(name: string, s: Sizes, p: Partial<AttentionParams>, opts: { gen?: Gen; pad?: number[]; noGrad?: number[]; seed?: number } = {}): OpCase<AttentionParams> {
  const HD = s.H * s.dh;
  const inputs: InputSpec[] = [{ shape: [s.L, s.B, HD], gen: opts.gen ?? 'normal' }, { shape: [s.Lm + s.L, s.B, 2 * HD], gen: opts.gen ?? 'normal' }];
  if (opts.pad) inputs.push({ shape: [s.Lm + s.L, s.B], gen: { values: opts.pad } });
  const params: AttentionParams = { heads: s.H, causal: true, memLen: s.Lm, ...p };
  const noGrad = [...(opts.noGrad ?? []), ...(opts.pad ? [2] : [])];
  return { name, op: attentionOp, inputs, params, tol: opts.gen ? TOL.large : TOL.unit, noGrad, seed: opts.seed, fdSamples: 24 };
}

describe('attention', () => {
  it('matches a hand-computed causal case with memory', async () => {
    // dh = 1, scale 1, Lm = 1, L = 2: keys k = (1, 0, −1), values v = (10, 20, 30); q = (1, 2).
    const q = tensor([1, 2], [2, 1, 1], { backend: 'reference' });
    const kv = tensor([1, 10, 0, 20, -1, 30], [3, 1, 2], { backend: 'reference' });
    const [o, lse] = attention(q, kv, { memLen: 1, scale: 1 });
    const e = Math.E;
    const o0 = (10 * e + 20) / (e + 1); // query 0 sees keys 0, 1 (logits 1, 0)
    const o1 = (10 * e * e + 20 + 30 / (e * e)) / (e * e + 1 + 1 / (e * e)); // query 1 sees all three (2, 0, −2)
    expectClose(await o!.dataF64(), [o0, o1], HAND, 'attention o');
    expectClose(await lse!.dataF64(), [Math.log(e + 1), Math.log(e * e + 1 + 1 / (e * e))], HAND, 'attention lse');
  });

  const cases: OpCase<AttentionParams>[] = [];
  for (const dh of ODD_SIZES) cases.push(attnCase(`dh ${dh}, memory`, { L: 5, Lm: 3, B: 2, H: 1, dh }, {}));
  for (const L of ODD_SIZES) cases.push(attnCase(`L ${L}, no memory`, { L, Lm: 0, B: 1, H: 1, dh: 5 }, {}, { seed: L }));
  for (const Lm of [1, 5, 17]) cases.push(attnCase(`Lm ${Lm}`, { L: 3, Lm, B: 2, H: 2, dh: 3 }, {}));
  cases.push(attnCase('not causal', { L: 5, Lm: 3, B: 2, H: 1, dh: 17 }, { causal: false }));
  cases.push(attnCase('sameLength', { L: 17, Lm: 5, B: 2, H: 1, dh: 5 }, { sameLength: true }));
  cases.push(attnCase('sameLength, L > Lm', { L: 33, Lm: 17, B: 1, H: 1, dh: 4 }, { sameLength: true }));
  cases.push(attnCase('multi-head', { L: 5, Lm: 5, B: 3, H: 4, dh: 5 }, {}));
  cases.push(attnCase('multi-head dh 33', { L: 17, Lm: 1, B: 1, H: 3, dh: 33 }, {}));
  cases.push(attnCase('scale 0.3', { L: 5, Lm: 1, B: 1, H: 1, dh: 3 }, { scale: 0.3 }));
  cases.push(attnCase('padding', { L: 5, Lm: 3, B: 2, H: 2, dh: 5 }, {}, { pad: [0, 1, 0, 0, 1, 1, 0] }));
  // Batch 1 pads keys 0-3: with Lm = 0 its queries 0-3 see no key (o = 0, lse = 0, no gradient).
  cases.push(attnCase('padding, fully masked rows', { L: 6, Lm: 0, B: 2, H: 1, dh: 3 }, {}, { pad: [0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0] }));
  cases.push(attnCase('padding, sameLength', { L: 17, Lm: 5, B: 1, H: 1, dh: 3 }, { sameLength: true }, { pad: [0, 0, 1, 0, 1, 1, 0] }));
  // Logits in the thousands (exp would overflow float32 past 88) with multiples of 1.5 that keep them exact (scale 1).
  // Finite differences cannot stay linear at such gaps; the backends' gradients are still checked.
  const big: Gen = { values: [3, -6, 9, -3, 6, 0, -9, 12, -12, 4.5] };
  cases.push(attnCase('large logits', { L: 5, Lm: 3, B: 2, H: 1, dh: 17 }, { scale: 1 }, { gen: big, noGrad: [0, 1] }));
  cases.push(attnCase('large logits, multi-head, ties', { L: 17, Lm: 5, B: 1, H: 2, dh: 3 }, { causal: false, scale: 1 }, { gen: big, noGrad: [0, 1] }));
  cases.push(attnCase('long: L 70, Lm 33, dh 65', { L: 70, Lm: 33, B: 1, H: 1, dh: 65 }, {}));
  cases.push(attnCase('L 33, Lm 70, multi-head', { L: 33, Lm: 70, B: 2, H: 2, dh: 17 }, {}));
  cases.push(attnCase('dh 130 (three staged chunks), padding, not causal', { L: 20, Lm: 19, B: 2, H: 1, dh: 130 }, { causal: false }, { pad: [0, 0, 0, 1, 0] }));

  for (const c of cases) it(c.name, () => checkOp(c, backends), 120_000);

  it('attentionBwd (dlse defaults to 0) matches the reference on every backend', async () => {
    const rng = new Rng(5);
    const [L, Lm, B, HD] = [7, 4, 2, 6];
    const data = [L * B * HD, (Lm + L) * B * 2 * HD, L * B * HD].map((n) => Float32Array.from({ length: n }, () => rng.normal()));
    const run = async (backend: BackendName) => {
      const [q, kv, dO] = [[L, B, HD], [Lm + L, B, 2 * HD], [L, B, HD]].map((s, i) => tensor(data[i]!, s, { backend })) as [Tensor, Tensor, Tensor];
      const opts = { heads: 2, memLen: Lm, sameLength: true, backend };
      const [o, lse] = attention(q, kv, opts) as [Tensor, Tensor];
      const grads = attentionBwd(q, kv, o, lse, dO, opts);
      const out = await Promise.all(grads.map((g) => g.dataF64()));
      [q, kv, dO, o, lse, ...grads].forEach((t) => t.dispose());
      return out;
    };
    const want = await run('reference');
    for (const b of backends) (await run(b)).forEach((g, i) => expectClose(g, want[i]!, TOL.unit.bwd, `attentionBwd on ${b}: output ${i}`));
  });

  it('names the op and the shapes when inputs do not fit', () => {
    const r = { backend: 'reference' as const };
    const q = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4], r);
    const kv = tensor(new Float32Array(5 * 3 * 8), [5, 3, 8], r);
    expect(() => attention(q, kv, { memLen: 2 })).toThrow(ShapeError);
    expect(() => attention(q, kv, { memLen: 2 })).toThrow(/attention\(q \[2, 3, 4\], kv \[5, 3, 8\]\): kv \(memLen \+ L, B, 2·heads·dh\) must have shape \[4, 3, 8\], got \[5, 3, 8\]/);
    expect(() => attention(q, kv, { memLen: 3, heads: 3 })).toThrow(/q's last dim 4 is not a multiple of heads 3/);
    expect(() => attention(q, kv, { memLen: 3, causal: false, sameLength: true })).toThrow(OptionError);
    const mask = tensor(new Float32Array(4), [4, 1], r);
    expect(() => attention(q, kv, { memLen: 3, mask })).toThrow(/mask \(memLen \+ L, B\) must have shape \[5, 3\], got \[4, 1\]/);
    const qi = tensor(new Int32Array(24), [2, 3, 4], { ...r, dtype: 'i32' });
    expect(() => attention(qi, kv, { memLen: 3 })).toThrow(DTypeError);
    expect(() => attention(tensor(new Float32Array(4), [4], r), kv, { memLen: 3 })).toThrow(/q must be \(L, B, heads·dh\), got rank 1/);
  });
});
