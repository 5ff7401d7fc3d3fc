// The README's "train a language model" snippet, run as written (with tiny sizes), so the README cannot drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as recur from '../src/index.js';

describe('README example', () => {
  it('the training snippet runs and the loss falls', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = readme.match(/```ts\nimport \{ init, createLanguageModel[\s\S]*?```/)?.[0];
    expect(block, 'README lost its training example').toBeTruthy();
    // Every name the snippet imports must be exported by the package entry.
    const names = block!.match(/import \{([^}]*)\} from 'recur'/)![1]!.split(',').map((n) => n.trim());
    for (const n of names) expect(recur, `recur does not export ${n}`).toHaveProperty(n);

    const { init, createLanguageModel, byteTokenizer, splitByPosition, AdamW, warmupCosine, train, generate } = recur;
    await init();
    const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
    const tok = byteTokenizer();
    const { train: ids, validation } = splitByPosition(tok.encode(text), 0.1);
    const model = createLanguageModel({ model: 'mingru', vocabSize: 256, dim: 16, layers: 1 }, { seed: 1 });
    const optimizer = new AdamW(model.params(), { lr: warmupCosine({ peakLr: 1e-2, warmupSteps: 5, totalSteps: 60 }) });
    const evals: number[] = [];
    const run = await train({ model, optimizer, clip: 1, data: { train: ids, validation }, batchSize: 4, seqLen: 16,
                              steps: 60, evalEvery: 30, onEval: (e) => void evals.push(e.bpc) });
    expect(run.losses.length).toBe(60);
    expect(run.losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(run.losses.slice(0, 5).reduce((a, b) => a + b) / 5 - 1);
    expect(evals.length).toBe(2);
    const sample = await generate(model, { prompt: tok.encode('The '), tokens: 20, temperature: 0.8, topK: 20, seed: 1 });
    expect(sample.length).toBe(20);
    expect(typeof tok.decode(sample)).toBe('string');
    model.dispose();
  });
});
