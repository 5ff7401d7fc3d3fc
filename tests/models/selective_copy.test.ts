// Selective copying (models.md §C.7.2, Mamba's task) scaled down for CI: a 3-layer minGRU LM learns to emit the
// data tokens scattered in a noise sequence, in order, at the marker positions; a 1-layer one does worse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import { tensor, tidy } from '../../src/engine.js';
import { init } from '../../src/index.js';
import { createLanguageModel } from '../../src/models/lm.js';
import type { LanguageModel } from '../../src/models/types.js';
import { mean, slice, softmaxCrossEntropy } from '../../src/ops/api.js';
import { AdamW } from '../../src/optim/adamw.js';
import { clipGradNormSync } from '../../src/optim/clip.js';
import { warmupCosine } from '../../src/optim/schedule.js';
import { Rng } from '../helpers/rng.js';

/** The task: L noise positions holding N data tokens (values 1..DATA), then N markers; vocab DATA + 2. */
const TASK = { L: 64, N: 4, DATA: 8 } as const;
const PRED = 0;
const EMPTY = TASK.DATA + 1;
const V = TASK.DATA + 2;
const T = TASK.L + TASK.N;
/** Training budget, fixed: steps × batch, AdamW with warm-up + cosine, clip 1 (as the official config). */
const TRAIN = { steps: 1500, batch: 32, lr: 5e-3 };
/** The official config's layer (no FF, no conv, RMSNorm, learned h0, biases), narrower: d 32, expansion 2. */
const MODEL = { dim: 32, expansion: 2 };
/** Accuracy over EVAL_BATCHES fresh batches (a seed never used in training). */
const EVAL_BATCHES = 8;
const PASS_ACCURACY = 0.95;

/** A batch, time-major: inputs (T, B) and the targets of the last N steps (N, B). */
function batch(rng: Rng, B: number): { x: Int32Array; y: Int32Array } {
  const x = new Int32Array(T * B).fill(EMPTY);
  const y = new Int32Array(TASK.N * B);
  for (let b = 0; b < B; b++) {
    // N distinct positions in order, each with a random data token.
    const pos = new Set<number>();
    while (pos.size < TASK.N) pos.add(rng.int(0, TASK.L));
    [...pos].sort((a, c) => a - c).forEach((p, i) => {
      const tok = rng.int(1, TASK.DATA + 1);
      x[p * B + b] = tok;
      y[i * B + b] = tok;
    });
    for (let i = 0; i < TASK.N; i++) x[(TASK.L + i) * B + b] = PRED;
  }
  return { x, y };
}

/** Logits of the last N steps: rows (t·B + b) for t ≥ L, which are contiguous. */
function lastLogits(lm: LanguageModel, x: Int32Array, B: number) {
  const { logits } = lm.forward(tensor(x, [T, B], { backend: 'wasm' }), null, { training: true });
  return slice(logits, 0, TASK.L * B, TASK.N * B);
}

function train(layers: number, seed: number): { model: LanguageModel; losses: number[] } {
  const model = createLanguageModel(
    { model: 'mingru', vocabSize: V, dim: MODEL.dim, layers, options: { expansion: MODEL.expansion, ffMult: 0, convKernel: 0, h0: 'learned', bias: true } },
    { seed, backend: 'wasm' },
  );
  const params = model.params();
  const opt = new AdamW(params, { lr: warmupCosine({ peakLr: TRAIN.lr, warmupSteps: 20, totalSteps: TRAIN.steps }), weightDecay: 0.01 });
  const rng = new Rng(seed + 1000);
  const losses: number[] = [];
  for (let s = 0; s < TRAIN.steps; s++) {
    const { x, y } = batch(rng, TRAIN.batch);
    tidy(() => {
      const r = valueAndGrad(() => mean(softmaxCrossEntropy(lastLogits(model, x, TRAIN.batch), tensor(y, [TASK.N * TRAIN.batch], { backend: 'wasm' })), 0), params);
      clipGradNormSync(r.grads, 1);
      opt.step(r.grads);
      if (s % 50 === 0 || s === TRAIN.steps - 1) losses.push(r.loss.dataSync()[0]!);
    });
  }
  return { model, losses };
}

function accuracy(model: LanguageModel): number {
  const rng = new Rng(424242);
  let right = 0;
  let n = 0;
  for (let i = 0; i < EVAL_BATCHES; i++) {
    const B = 64;
    const { x, y } = batch(rng, B);
    const l = tidy(() => lastLogits(model, x, B).dataSync());
    for (let r = 0; r < TASK.N * B; r++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (l[r * V + v]! > l[r * V + best]!) best = v;
      right += best === y[r] ? 1 : 0;
      n++;
    }
  }
  return right / n;
}

const results = new Map<number, number>();
beforeAll(async () => {
  await init();
});
afterAll(() => {
  console.log(`selective copy (L ${TASK.L}, ${TASK.N} tokens, ${TRAIN.steps} steps × ${TRAIN.batch}): accuracy by layers ${JSON.stringify(Object.fromEntries(results))}`);
});

describe(`selective copying (L ${TASK.L}, ${TASK.N} tokens to copy, ${TRAIN.steps} steps of ${TRAIN.batch})`, () => {
  for (const layers of [3, 1]) {
    it(`${layers}-layer minGRU`, () => {
      const t0 = performance.now();
      const { model, losses } = train(layers, 1);
      const acc = accuracy(model);
      results.set(layers, acc);
      console.log(`${layers} layers: accuracy ${acc.toFixed(4)}, losses ${losses.map((v) => v.toFixed(3)).join(' ')}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      model.dispose();
      if (layers === 3) expect(acc).toBeGreaterThanOrEqual(PASS_ACCURACY);
      else {
        // One layer cannot do it in the same budget (P3's ablation: ~37% at full scale): below the bar and the 3-layer.
        expect(acc).toBeLessThan(PASS_ACCURACY);
        if (results.has(3)) expect(acc).toBeLessThan(results.get(3)!);
      }
    });
  }
});
