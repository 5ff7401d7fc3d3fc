// attention masks, exactly (models.md §B.5, Part G.11): with V the identity, o is the row of attention weights, so
// the keys with nonzero weight can be read off on every backend and compared with the §B.5 mask matrices.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { attention } from '../../src/ops/attention.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { Rng } from '../helpers/rng.js';

/** The tolerance table: weights are float32 probabilities (row sums within a few ulp of 1). */
const TOL = { rowSum: { atol: 1e-6, rtol: 0 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = ['reference', ...(await setupBackends())];
});

/**
 * §B.5 as SRUPP-X builds it: triu(ones(2m, 2m), 1)·(−10000) (+ tril(ones, −1−m)·(−10000) when sameLength), rows
 * [Lm, Lm+L) and columns [0, Lm+L). true = visible (the entry is 0).
 */
function b5Mask(m: number, Lm: number, L: number, sameLength: boolean): boolean[][] {
  const rows: boolean[][] = [];
  for (let r = Lm; r < Lm + L; r++) {
    const row: boolean[] = [];
    for (let c = 0; c < Lm + L; c++) {
      let add = c - r >= 1 ? -10000 : 0;
      if (sameLength && c - r <= -1 - m) add += -10000;
      row.push(add === 0);
    }
    rows.push(row);
  }
  return rows;
}

/** Attention weights (L, B, Lm+L) per backend: q random, K random, V = identity (dh = Lm + L, one head). */
async function weights(backend: BackendName, Lm: number, L: number, B: number, opts: { sameLength?: boolean; pad?: number[]; seed?: number }): Promise<Float64Array> {
  const Lk = Lm + L;
  const rng = new Rng(opts.seed ?? 7);
  const q = Float32Array.from({ length: L * B * Lk }, () => rng.normal());
  const kv = new Float32Array(Lk * B * 2 * Lk);
  for (let j = 0; j < Lk; j++) {
    for (let b = 0; b < B; b++) {
      const row = (j * B + b) * 2 * Lk;
      for (let c = 0; c < Lk; c++) kv[row + c] = rng.normal();
      kv[row + Lk + j] = 1;
    }
  }
  const r = { backend };
  const mask = opts.pad ? tensor(Float32Array.from(opts.pad), [Lk, B], r) : undefined;
  const [o, lse] = attention(tensor(q, [L, B, Lk], r), tensor(kv, [Lk, B, 2 * Lk], r), { memLen: Lm, sameLength: !!opts.sameLength, mask, backend });
  const w = await o!.dataF64();
  lse!.dispose();
  o!.dispose();
  return w;
}

/** Checks that row (i, b) has nonzero weight exactly on `visible` and sums to 1 (or is all 0 when nothing is). */
function expectPattern(w: Float64Array, i: number, b: number, B: number, Lk: number, visible: boolean[], what: string): void {
  const row = w.subarray((i * B + b) * Lk, (i * B + b + 1) * Lk);
  const got = Array.from(row, (x) => x !== 0);
  expect(got, `${what}: query ${i}, batch ${b}: keys with nonzero weight`).toEqual(visible);
  const n = visible.filter(Boolean).length;
  expectClose([row.reduce((s, x) => s + x, 0)], [n ? 1 : 0], TOL.rowSum, `${what}: query ${i}, batch ${b}: row sum`);
}

describe('attention masks (§B.5, G.11)', () => {
  for (const [m, L] of [[5, 5], [5, 3], [17, 17], [1, 4]] as const) {
    it(`training: query i sees exactly Lm + i + 1 keys (Lm ${m}, L ${L})`, async () => {
      const mask = b5Mask(m, m, L, false);
      for (const be of backends) {
        const w = await weights(be, m, L, 2, {});
        for (let i = 0; i < L; i++) {
          expect(mask[i]!.filter(Boolean).length).toBe(m + i + 1); // G.11 on the §B.5 matrix itself
          for (let b = 0; b < 2; b++) expectPattern(w, i, b, 2, m + L, mask[i]!, `${be} training`);
        }
      }
    });

    it(`sameLength: every query sees exactly m + 1 keys (m ${m}, L ${L})`, async () => {
      const mask = b5Mask(m, m, L, true);
      for (const be of backends) {
        const w = await weights(be, m, L, 2, { sameLength: true });
        for (let i = 0; i < L; i++) {
          expect(mask[i]!.filter(Boolean).length).toBe(m + 1);
          for (let b = 0; b < 2; b++) expectPattern(w, i, b, 2, m + L, mask[i]!, `${be} sameLength`);
        }
      }
    });
  }

  it('no memory: query i sees keys 0..i', async () => {
    for (const be of backends) {
      const w = await weights(be, 0, 6, 1, {});
      for (let i = 0; i < 6; i++) expectPattern(w, i, 0, 1, 6, Array.from({ length: 6 }, (_, j) => j <= i), `${be} Lm 0`);
    }
  });

  it('padding removes keys from the window; rows with no visible key are 0 (no NaN)', async () => {
    const [Lm, L, B] = [3, 5, 2];
    const Lk = Lm + L;
    // Batch 0 pads keys 1 and 4; batch 1 pads keys 0-4, so its queries 0 and 1 (keys 0..4 and 0..5 minus pads) differ.
    const pad = new Array<number>(Lk * B).fill(0);
    for (const j of [1, 4]) pad[j * B] = 1;
    for (let j = 0; j <= 4; j++) pad[j * B + 1] = 1;
    const mask = b5Mask(Lm, Lm, L, false);
    for (const be of backends) {
      const w = await weights(be, Lm, L, B, { pad });
      expect(w.every((x) => Number.isFinite(x)), `${be}: finite`).toBe(true);
      for (let i = 0; i < L; i++) {
        for (let b = 0; b < B; b++) expectPattern(w, i, b, B, Lk, mask[i]!.map((v, j) => v && pad[j * B + b] === 0), `${be} padding`);
      }
      // Batch 1 with every key padded: the whole output is 0 there.
      const all = await weights(be, Lm, L, B, { pad: new Array<number>(Lk * B).fill(0).map((_, k) => k % B) });
      for (let i = 0; i < L; i++) expectPattern(all, i, 1, B, Lk, new Array<boolean>(Lk).fill(false), `${be} all padded`);
    }
  });
});
