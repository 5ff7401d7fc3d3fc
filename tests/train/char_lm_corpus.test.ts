// A char-level LM learns the built-in corpus: a character vocabulary from a slice of the Brown Corpus, split by
// position, a tiny minGRU trained for a short run on wasm; its validation loss ends clearly below the loss at
// initialisation (about ln V: uniform guessing) and below the unigram entropy of the training text.
import { beforeAll, describe, expect, it } from 'vitest';
import { charTokenizerFromText } from '../../src/data/tokenizer.js';
import { splitByPosition } from '../../src/data/split.js';
import { createLanguageModel } from '../../src/models/lm.js';
import { loadBrownCorpus } from '../../src/node/corpus.js';
import { AdamW } from '../../src/optim/adamw.js';
import { warmupCosine } from '../../src/optim/schedule.js';
import { evaluate } from '../../src/train/evaluate.js';
import { train } from '../../src/train/trainer.js';
import { setupBackends } from '../helpers/backends.js';

/** Nats the validation loss must fall by (ln V ≈ 4.3 at initialisation for this vocabulary). */
const MIN_DROP = 1;
const STEPS = 150;

/** Entropy in nats of the character frequencies of ids (what a model that ignores context can reach). */
function unigramEntropy(ids: Int32Array, V: number): number {
  const n = new Float64Array(V);
  for (const id of ids) n[id]!++;
  let h = 0;
  for (const c of n) if (c > 0) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}

beforeAll(async () => {
  await setupBackends();
});

describe('char-level LM on the built-in corpus', () => {
  it("a tiny minGRU's validation loss falls well below its value at initialisation", async () => {
    const text = loadBrownCorpus().slice(0, 120_000);
    const tok = charTokenizerFromText(text);
    const { train: trainIds, validation } = splitByPosition(tok.encode(text), 0.1);
    const model = createLanguageModel({ model: 'mingru', vocabSize: tok.vocabSize, dim: 32, layers: 1, options: { ffMult: 2 } }, { seed: 3, backend: 'wasm', pin: 'wasm' });
    const optimizer = new AdamW(model.params(), { lr: warmupCosine({ peakLr: 1e-2, warmupSteps: 10, totalSteps: STEPS, minLr: 1e-3 }) });
    const evalOpts = { batchSize: 8, seqLen: 64, maxTokens: 6000 };
    try {
      const before = await evaluate(model, validation, evalOpts);
      const r = await train({ model, optimizer, clip: 1, data: { train: trainIds, validation }, batchSize: 16, seqLen: 64, steps: STEPS, seed: 1 });
      const after = await evaluate(model, validation, evalOpts);
      expect(r.losses).toHaveLength(STEPS);
      expect(before.loss).toBeGreaterThan(Math.log(tok.vocabSize) - 0.5);
      expect(after.loss).toBeLessThan(before.loss - MIN_DROP);
      expect(after.loss).toBeLessThan(unigramEntropy(trainIds, tok.vocabSize));
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }, 60_000);
});
