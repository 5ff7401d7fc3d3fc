// The data side of --resume: tokenizer and batch position saved in a checkpoint's config, loaded back,
// continue with exactly the batches an uninterrupted run would have seen.
import { describe, expect, it } from 'vitest';
import { StreamBatcher, type BatchPosition } from '../../src/data/batches.js';
import { splitByPosition } from '../../src/data/split.js';
import { charTokenizerFromText, tokenizerFromJSON } from '../../src/data/tokenizer.js';
import { checkpointFromBytes, checkpointToBytes } from '../../src/io/checkpoint.js';
import { loadBrownCorpus } from '../../src/node/corpus.js';

describe('resuming the data stream from a checkpoint', () => {
  it('restores vocabulary and position so the next batches equal the uninterrupted run', () => {
    const text = loadBrownCorpus().slice(0, 200_000);
    const tok = charTokenizerFromText(text);
    const { train } = splitByPosition(tok.encode(text), 0.05);
    const opts = { batchSize: 8, seqLen: 64 };
    const straight = new StreamBatcher(train, opts);
    const expected = Array.from({ length: 40 }, () => straight.next());

    const first = new StreamBatcher(train, opts);
    for (let s = 0; s < 25; s++) first.next();
    const bytes = checkpointToBytes({
      config: {
        architecture: { kind: 'test' },
        vocabulary: tok.toJSON(),
        optimizer: { name: 'adamw', step: 25 },
        step: 25,
        dataPosition: first.position,
        rng: {},
      },
      weights: { w: { shape: [1], data: Float32Array.of(0) } },
    });

    const loaded = checkpointFromBytes(bytes);
    const tok2 = tokenizerFromJSON(loaded.config.vocabulary);
    const { train: train2 } = splitByPosition(tok2.encode(text), 0.05);
    const resumed = new StreamBatcher(train2, opts);
    resumed.restore(loaded.config.dataPosition as BatchPosition);
    for (let s = 25; s < 40; s++) expect(resumed.next(), `step ${s}`).toEqual(expected[s]);
  });
});
