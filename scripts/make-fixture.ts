// `npm run fixture`: trains a tiny minGRU (char vocabulary, d=24, 2 layers) on the start of the Brown corpus for
// 300 steps on wasm, saves it (weights only) to tests/runtimes/fixture/checkpoint/, and records what Node generates
// on wasm from it (tests/runtimes/fixture/expected.json): the tokens every runtime must reproduce, and logits rows.
import { writeFileSync } from 'node:fs';
import { charTokenizerFromText } from '../src/data/tokenizer.js';
import { splitByPosition } from '../src/data/split.js';
import { init } from '../src/index.js';
import { loadModel } from '../src/node/infer.js';
import { loadBrownCorpus } from '../src/node/corpus.js';
import { saveCheckpoint } from '../src/node/checkpoint_fs.js';
import { createLanguageModel, countParams } from '../src/models/lm.js';
import { AdamW } from '../src/optim/adamw.js';
import { warmupCosine } from '../src/optim/schedule.js';
import { setBackend } from '../src/scheduler/scheduler.js';
import { lmCheckpoint } from '../src/train/lm_checkpoint.js';
import { Trainer } from '../src/train/trainer.js';

const DIR = 'tests/runtimes/fixture';
const STEPS = 800;
/** The generation every runtime repeats: prompt, 64 tokens, seed and temperature; logits compared at every 4th position. */
const CASE = { prompt: 'the jury said ', tokens: 64, seed: 1234, temperature: 0.8 };

await init();
setBackend('wasm');
// Lower-case letters, digits, space, newline and a little punctuation keep the vocabulary (and the fixture) small.
const text = loadBrownCorpus().slice(0, 200_000).toLowerCase().replace(/[^a-z0-9 .,;'?!\n-]/g, ' ');
const tokenizer = charTokenizerFromText(text);
const split = splitByPosition(tokenizer.encode(text), 0.1);
const model = createLanguageModel({ model: 'mingru', vocabSize: tokenizer.vocabSize, dim: 24, layers: 2 }, { seed: 7, backend: 'wasm' });
const optimizer = new AdamW(model.params(), { lr: warmupCosine({ peakLr: 1e-2, warmupSteps: 30, totalSteps: STEPS, minLr: 1e-3 }), weightDecay: 0.01 });
const trainer = new Trainer({ model, optimizer, clip: 1, data: split, batchSize: 8, seqLen: 64, seed: 7 });
let first = 0;
let last = 0;
while (trainer.step < STEPS) {
  const info = await trainer.trainStep();
  if (info.step === 1) first = info.loss;
  last = info.loss;
}
console.log(`fixture: ${countParams(model)} parameters, vocabulary ${tokenizer.vocabSize}; loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${STEPS} steps`);
await saveCheckpoint(`${DIR}/checkpoint`, await lmCheckpoint({ model, tokenizer: tokenizer.toJSON(), extra: { fixture: 'tests/runtimes: see scripts/make-fixture.ts' } }));
model.dispose();

// The reference: what the Node build of recur/infer generates on wasm from the saved files.
const m = await loadModel(`${DIR}/checkpoint`, { backend: 'wasm' });
const prompt = m.tokenizer.encode(CASE.prompt);
const tokens = await m.generate({ prompt, tokens: CASE.tokens, seed: CASE.seed, temperature: CASE.temperature });
const seq = [...Array.from(prompt), ...tokens];
const logits = await m.logits(seq);
const V = m.config.vocabSize;
const rows = seq.map((_, t) => t).filter((t) => t % 4 === 3);
const expected = {
  ...CASE,
  promptIds: Array.from(prompt),
  expectedTokens: tokens,
  text: m.tokenizer.decode(tokens),
  logitRows: rows,
  logits: rows.map((t) => Array.from(logits.subarray(t * V, (t + 1) * V), (x) => Number(x.toPrecision(7)))),
};
writeFileSync(`${DIR}/expected.json`, `${JSON.stringify(expected)}\n`);
console.log(`fixture: generated ${JSON.stringify(CASE.prompt + expected.text)}`);
m.dispose();
