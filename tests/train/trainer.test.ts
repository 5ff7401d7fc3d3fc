// The training loop with a stand-in model (tests/helpers/bigram_lm.ts) on wasm: the loss falls on text with
// structure; N straight steps equal N/2 + checkpoint on disk + load + N/2 exactly (weights, optimizer moments,
// data position, RNG and carried state restored), also with the real LM of every kind (with dropout, and SRU++'s
// carried memory); 200 steps leave the wasm heap and live allocations flat.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, zeros } from '../../src/engine.js';
import { checkpointFromBytes, checkpointToBytes } from '../../src/io/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint_fs.js';
import { createLanguageModel } from '../../src/models/lm.js';
import { AdamW } from '../../src/optim/adamw.js';
import { RAdam } from '../../src/optim/radam.js';
import { warmupCosine } from '../../src/optim/schedule.js';
import { lmCheckpoint, loadWeights, optimizerStateOf, trainerSnapshotOf } from '../../src/train/lm_checkpoint.js';
import { train, Trainer } from '../../src/train/trainer.js';
import { setupBackends } from '../helpers/backends.js';
import { BigramLM } from '../helpers/bigram_lm.js';
import { Rng } from '../helpers/rng.js';

const V = 12;
let tmp = '';

/** A first-order pattern with 10% noise: mostly (5a + 1) mod V after a. */
function patternText(n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const ids = new Int32Array(n);
  ids[0] = 1;
  ids[1] = 2;
  for (let i = 2; i < n; i++) ids[i] = rng.next() < 0.9 ? (5 * ids[i - 1]! + 1) % V : rng.int(0, V);
  return ids;
}

const text = patternText(6000, 7);
const data = { train: text.subarray(0, 5000), validation: text.subarray(5000) };

function setup(total: number, kind: 'adamw' | 'radam' = 'adamw') {
  const model = new BigramLM({ vocab: V, dim: 16, seed: 3, backend: 'wasm' });
  const lr = warmupCosine({ peakLr: 3e-2, warmupSteps: 5, totalSteps: total, minLr: 3e-3 });
  const optimizer = kind === 'adamw' ? new AdamW(model.params(), { lr, weightDecay: 0.01 }) : new RAdam(model.params(), { lr });
  return { model, optimizer };
}

beforeAll(async () => {
  await setupBackends();
  tmp = mkdtempSync(join(tmpdir(), 'recur-train-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('train', () => {
  it('the loss falls and validation bpc ends well below the uniform log2(V)', async () => {
    const { model, optimizer } = setup(150);
    const evals: number[] = [];
    const r = await train({ model, optimizer, clip: 1, data, batchSize: 4, seqLen: 16, steps: 150, seed: 5, evalEvery: 50, onEval: (e) => void evals.push(e.bpc) });
    const avg = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    expect(r.losses).toHaveLength(150);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(avg(r.losses.slice(-10))).toBeLessThan(0.6 * avg(r.losses.slice(0, 10)));
    expect(evals).toHaveLength(3);
    expect(r.lastEval!.bpc).toBe(evals[2]);
    expect(r.lastEval!.bpc).toBeLessThan(0.6 * Math.log2(V));
    optimizer.dispose();
    model.dispose();
  });

  it.each(['adamw', 'radam'] as const)('%s: N steps straight equal N/2 + checkpoint + load + N/2, loss for loss', async (kind) => {
    // batch 4 x seq 16 over 5000 ids: 78 steps per epoch, so 100 steps cross an epoch boundary (state reset).
    const N = 100;
    const cfg = { clip: 0.5, data, batchSize: 4, seqLen: 16, seed: 11 };
    const a = setup(N, kind);
    const straight = await train({ ...a, ...cfg, steps: N });
    const weightsA = await Promise.all(a.model.params().map(async (p) => Array.from(await p.value.data())));
    a.optimizer.dispose();
    a.model.dispose();

    const b = setup(N, kind);
    const first = await train({ ...b, ...cfg, steps: N / 2 + 3 }); // resume mid-epoch, with carried state
    const dir = join(tmp, `ckpt-${kind}`);
    await saveCheckpoint(dir, await lmCheckpoint({ model: b.model, optimizer: b.optimizer, tokenizer: { kind: 'byte' }, trainer: first.snapshot }));
    b.optimizer.dispose();
    b.model.dispose();

    const ckpt = await loadCheckpoint(dir);
    const c = setup(N, kind);
    // A freshly initialised model with another seed: everything must come from the checkpoint.
    c.model.E.assign(zeros(c.model.E.shape, { backend: 'wasm' }));
    loadWeights(c.model, ckpt, dir);
    c.optimizer.loadState(optimizerStateOf(ckpt));
    const snap = trainerSnapshotOf(ckpt);
    expect(snap.carry).not.toBeNull();
    const second = await train({ ...c, ...cfg, seed: 999, resume: snap, steps: N });
    expect([...first.losses, ...second.losses]).toEqual(straight.losses);
    const weightsC = await Promise.all(c.model.params().map(async (p) => Array.from(await p.value.data())));
    expect(weightsC).toEqual(weightsA);
    c.optimizer.dispose();
    c.model.dispose();
  });

  it.each([
    ['mingru', { dropout: 0.1 }],
    ['minlstm', { dropout: 0.1, convKernel: 3 }],
    ['sru', { dropout: 0.1, layerNorm: 'post' }],
    ['srupp', { dropout: 0.1, attentionEvery: 2, memLen: 16, attnDim: 8 }],
    ['gru', { dropout: 0.1 }],
    ['lstm', { dropout: 0.1 }],
  ] as const)('with the real %s language model (dropout, carried state): the loss falls and a resumed run equals a straight one', async (kind, options) => {
    const make = () => {
      const model = createLanguageModel({ model: kind, vocabSize: V, dim: 16, layers: 2, options: { ...options } }, { seed: 4, backend: 'wasm' });
      return { model, optimizer: new AdamW(model.params(), { lr: warmupCosine({ peakLr: 1e-2, warmupSteps: 4, totalSteps: 40, minLr: 1e-3 }) }) };
    };
    const cfg = { clip: 1, data, batchSize: 4, seqLen: 16, seed: 2 };
    const a = make();
    const straight = await train({ ...a, ...cfg, steps: 40 });
    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(avg(straight.losses.slice(-5))).toBeLessThan(0.7 * avg(straight.losses.slice(0, 5)));
    a.optimizer.dispose();
    a.model.dispose();
    const b = make();
    const first = await train({ ...b, ...cfg, steps: 17 });
    const bytes = checkpointToBytes(await lmCheckpoint({ model: b.model, optimizer: b.optimizer, tokenizer: { kind: 'byte' }, trainer: first.snapshot }));
    b.optimizer.dispose();
    b.model.dispose();
    const ckpt = checkpointFromBytes(bytes, { copy: true });
    const c = make();
    loadWeights(c.model, ckpt, 'memory');
    c.optimizer.loadState(optimizerStateOf(ckpt));
    const second = await train({ ...c, ...cfg, resume: trainerSnapshotOf(ckpt), steps: 40 });
    expect([...first.losses, ...second.losses]).toEqual(straight.losses);
    c.optimizer.dispose();
    c.model.dispose();
  });

  it('200 steps leave the wasm heap and live allocations flat', async () => {
    const wasm = getBackend('wasm');
    const before = wasm.liveCount();
    const { model, optimizer } = setup(200);
    const trainer = new Trainer({ model, optimizer, clip: 1, data, batchSize: 4, seqLen: 16, seed: 1 });
    const live: number[] = [];
    const heap: number[] = [];
    for (let s = 0; s < 200; s++) {
      await trainer.trainStep();
      live.push(wasm.liveCount());
      heap.push(wasm.info()['memoryBytes'] as number);
    }
    expect(new Set(live.slice(5)), 'live allocations: params + moments + carried state').toEqual(new Set([live[5]]));
    expect(new Set(heap.slice(20)), 'wasm memory bytes').toEqual(new Set([heap[20]]));
    trainer.dispose();
    optimizer.dispose();
    model.dispose();
    expect(wasm.liveCount(), 'everything freed after dispose').toBe(before);
  });
});
