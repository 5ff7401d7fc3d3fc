// evaluate(): bits per character on a known distribution, and the same answer for any segment length (the carried
// state joins the segments). generate(): temperature / top-k semantics of sampleLogits, seeded reproducibility, and
// greedy decoding that agrees with a parallel forward over the generated text (prefill + step mode carry state).
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor, tidy } from '../../src/engine.js';
import { evaluate } from '../../src/train/evaluate.js';
import { generate, sampleLogits } from '../../src/train/generate.js';
import { setupBackends } from '../helpers/backends.js';
import { BigramLM } from '../helpers/bigram_lm.js';
import { Rng } from '../helpers/rng.js';

/** float32 logits and sums: relative tolerance for losses. */
const RTOL = 1e-5;
const V = 8;

beforeAll(async () => {
  await setupBackends();
});

function randomIds(n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(0, V));
}

describe('evaluate', () => {
  it('gives -mean log p(target) in nats and bits for a model whose logits are log p', async () => {
    const p = [0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05];
    const model = new BigramLM({ vocab: V, dim: 4, backend: 'wasm' });
    const E = new Float32Array(V * 4);
    for (let v = 0; v < V; v++) E[v * 4] = 1;
    const W = new Float32Array(4 * V);
    p.forEach((q, j) => (W[j] = Math.log(q)));
    model.E.assign(tensor(E, [V, 4], { backend: 'wasm' }));
    model.W.assign(tensor(W, [4, V], { backend: 'wasm' }));
    model.U.assign(tensor(new Float32Array(4 * V), [4, V], { backend: 'wasm' }));
    const ids = randomIds(1001, 3);
    const B = 4;
    const L = Math.floor((ids.length - 1) / B);
    let nll = 0;
    for (let b = 0; b < B; b++) for (let s = 0; s < L; s++) nll -= Math.log(p[ids[b * L + s + 1]!]!);
    const r = await evaluate(model, ids, { batchSize: B, seqLen: 32 });
    expect(r.tokens).toBe(B * L);
    expect(r.loss).toBeCloseTo(nll / (B * L), 5);
    expect(Math.abs(r.bpc - nll / (B * L) / Math.LN2) / r.bpc).toBeLessThan(RTOL);
    model.dispose();
  });

  it('does not depend on the segment length: the state is carried across segments', async () => {
    const model = new BigramLM({ vocab: V, dim: 8, seed: 9, backend: 'wasm' });
    const ids = randomIds(503, 4);
    const whole = await evaluate(model, ids, { batchSize: 3, seqLen: 1000 });
    for (const T of [1, 5, 64]) {
      const r = await evaluate(model, ids, { batchSize: 3, seqLen: T });
      expect(r.tokens).toBe(whole.tokens);
      expect(Math.abs(r.loss - whole.loss) / whole.loss, `seqLen ${T}`).toBeLessThan(RTOL);
    }
    const capped = await evaluate(model, ids, { batchSize: 3, seqLen: 16, maxTokens: 100 });
    expect(capped.tokens).toBe(3 * 33);
    await expect(evaluate(model, ids.subarray(0, 1))).rejects.toThrow(/too few/);
    model.dispose();
  });
});

describe('sampleLogits', () => {
  const logits = [0.5, 2, -1, 2, 1];
  const grid = (n: number) => Array.from({ length: n }, (_, i) => (i + 0.5) / n);
  const counts = (opts: { temperature?: number; topK?: number }, n = 10000) => {
    const c = new Array<number>(logits.length).fill(0);
    for (const u of grid(n)) c[sampleLogits(logits, opts, u)]!++;
    return c.map((x) => x / n);
  };
  const softmax = (xs: number[], t: number) => {
    const e = xs.map((x) => Math.exp(x / t));
    const s = e.reduce((a, x) => a + x, 0);
    return e.map((x) => x / s);
  };

  it('temperature 0 and top-k 1 pick the most likely token, the lower id on a tie', () => {
    for (const u of grid(50)) {
      expect(sampleLogits(logits, { temperature: 0 }, u)).toBe(1);
      expect(sampleLogits(logits, { topK: 1, temperature: 2 }, u)).toBe(1);
    }
  });

  it('temperature 1 draws the softmax distribution; top-k renormalises over the k most likely', () => {
    const c = counts({});
    softmax(logits, 1).forEach((q, i) => expect(Math.abs(c[i]! - q)).toBeLessThan(1e-3));
    const k2 = counts({ topK: 2 });
    expect(k2[1]).toBeCloseTo(0.5, 3);
    expect(k2[3]).toBeCloseTo(0.5, 3);
    expect(k2[0]! + k2[2]! + k2[4]!).toBe(0);
    const k3 = counts({ topK: 3, temperature: 0.5 });
    const q = softmax([2, 2, 1], 0.5);
    expect(Math.abs(k3[1]! - q[0]!)).toBeLessThan(1e-3);
    expect(Math.abs(k3[4]! - q[2]!)).toBeLessThan(1e-3);
  });

  it('a higher temperature flattens the distribution', () => {
    const hot = counts({ temperature: 100 });
    for (const x of hot) expect(Math.abs(x - 0.2)).toBeLessThan(0.01);
    const cold = counts({ temperature: 0.1 });
    expect(cold[1]! + cold[3]!).toBeGreaterThan(0.99);
  });
});

describe('generate', () => {
  it('is reproducible with a seed, streams every token, and differs with another seed', async () => {
    const model = new BigramLM({ vocab: V, dim: 8, seed: 2, backend: 'wasm' });
    model.W.assign(tidy(() => tensor(Float32Array.from({ length: 8 * V }, (_, i) => Math.sin(i) * 3), [8, V], { backend: 'wasm' })));
    const streamed: [number, number][] = [];
    const a = await generate(model, { prompt: [1, 2, 3], tokens: 40, seed: 7, topK: 4, onToken: (id, i) => void streamed.push([id, i]) });
    expect(a).toHaveLength(40);
    expect(streamed).toEqual(a.map((id, i) => [id, i]));
    expect(await generate(model, { prompt: [1, 2, 3], tokens: 40, seed: 7, topK: 4 })).toEqual(a);
    expect(await generate(model, { prompt: [1, 2, 3], tokens: 40, seed: 8, topK: 4 })).not.toEqual(a);
    expect(await generate(model, { prompt: [1], tokens: 0 })).toEqual([]);
    await expect(generate(model, { prompt: [], tokens: 3 })).rejects.toThrow(/at least one token/);
    await expect(generate(model, { prompt: [V], tokens: 3 })).rejects.toThrow(/outside the vocabulary/);
    await expect(generate(model, { prompt: [1], tokens: 3, topK: 0 })).rejects.toThrow(/topK 0/);
    model.dispose();
  });

  it('greedy decoding (prefill, then step mode) agrees with a parallel forward over the generated text', async () => {
    const model = new BigramLM({ vocab: V, dim: 8, seed: 5, backend: 'wasm' });
    const prompt = [4, 0, 6];
    const out = await generate(model, { prompt, tokens: 12, temperature: 0 });
    const all = [...prompt, ...out];
    const logits = tidy(() => model.forward(tensor(Int32Array.from(all), [all.length, 1], { dtype: 'i32', backend: 'wasm' }), null, { training: false }).logits);
    const rows = await logits.data();
    logits.dispose();
    for (let i = 0; i < out.length; i++) {
      const t = prompt.length - 1 + i;
      const row = Array.from(rows.slice(t * V, (t + 1) * V));
      expect(out[i], `token ${i}`).toBe(row.indexOf(Math.max(...row)));
    }
    model.dispose();
  });
});
