// The README's "train a language model" snippet, executed as written except for its sizes (scaled down by
// exact text substitutions, each of which must match), so the README cannot drift from the API.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as recur from '../src/index.js';

/** [as the README writes it, what the test runs instead]: sizes small enough for a unit test. */
const SCALE_DOWN: [string, string][] = [
  ['dim: 128, layers: 2', 'dim: 16, layers: 1'],
  ['peakLr: 6e-3, warmupSteps: 100, totalSteps: 1000', 'peakLr: 1e-2, warmupSteps: 5, totalSteps: 60'],
  ['batchSize: 16, seqLen: 128', 'batchSize: 4, seqLen: 16'],
  ['steps: 1000, evalEvery: 250, onEval: (e) => console.log(e)', 'steps: 60, evalEvery: 30, onEval: (e) => void evals.push(e.bpc)'],
  ['tokens: 200', 'tokens: 20'],
  ['console.log(tok.decode(sample));', 'return { run, sample, decoded: tok.decode(sample), model };'],
];

describe('README example', () => {
  it('the training snippet runs and the loss falls', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = readme.match(/```ts\n(import \{ init, createLanguageModel[\s\S]*?)```/)?.[1];
    expect(block, 'README lost its training example').toBeTruthy();
    const importLine = block!.match(/^import \{([^}]*)\} from 'recur';\n/)!;
    // Every name the snippet imports must be exported by the package entry.
    const names = importLine[1]!.split(',').map((n) => n.trim());
    for (const n of names) expect(recur, `recur does not export ${n}`).toHaveProperty(n);

    let body = block!.slice(importLine[0].length);
    for (const [readmeText, testText] of SCALE_DOWN) {
      expect(body.includes(readmeText), `the README snippet no longer contains '${readmeText}'`).toBe(true);
      body = body.replace(readmeText, testText);
    }
    const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
    const evals: number[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
    const snippet = new AsyncFunction(...names, 'text', 'evals', body);
    const out = (await snippet(...names.map((n) => (recur as Record<string, unknown>)[n]), text, evals)) as {
      run: { losses: number[] };
      sample: number[];
      decoded: string;
      model: { dispose(): void };
    };
    const { losses } = out.run;
    expect(losses.length).toBe(60);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5 - 1);
    expect(evals.length).toBe(2);
    expect(out.sample.length).toBe(20);
    expect(typeof out.decoded).toBe('string');
    out.model.dispose();
  });
});
