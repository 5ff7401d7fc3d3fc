// Dropout in the minGRU / minLSTM LM block (on the minRNN and FF residual branches) and on GRU / LSTM outputs:
// inverted dropout in training only (each element of a branch is 0 or its eval value / (1 − p)), none in step mode
// or evaluation, whole-layer gradients through a fixed mask by finite differences (float64), every backend against
// the reference, and the language models' options (none in the last GRU / LSTM layer, as PyTorch).
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { OptionError } from '../../src/errors.js';
import { createGruLayer, createLstmLayer, GruLayer, LstmLayer } from '../../src/models/gru_lstm.js';
import { Init, InitRng } from '../../src/models/init.js';
import { createLanguageModel } from '../../src/models/lm.js';
import { createMinRnnBlock, type MinRnnKind } from '../../src/models/min_rnn.js';
import type { ForwardOptions, ModelConfig, SequenceLayer } from '../../src/models/types.js';
import { setupBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/allclose.js';
import { checkBackendsAgainstReference, checkLayerGradsFd, randomInputs } from '../helpers/layers.js';

const TOL_BACKEND = { fwd: { atol: 2e-5, rtol: 2e-4 }, grad: { atol: 5e-5, rtol: 1e-3 } };
const P = 0.4;

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

/** Training mode with a fresh seeded stream per call, so every run samples the same dropout masks. */
const train = () => {
  const rng = new InitRng(77);
  return { training: true, random: () => rng.next() };
};
const evalMode = () => ({ training: false });

const blockCfg = (kind: MinRnnKind, options: ModelConfig['options']): ModelConfig => ({ model: kind, vocabSize: 5, dim: 4, layers: 1, options });

/** y − x of a layer whose output is x + branch (a residual block), elementwise, float64 on the reference. */
async function branch(layer: SequenceLayer, x: Float64Array, shape: number[], opts: ForwardOptions): Promise<Float64Array> {
  const xt = tensor(x, shape, { backend: 'reference' });
  const { y, state } = layer.forward(xt, null, opts);
  const out = (await y.dataF64()).map((v, i) => v - x[i]!);
  [xt, y, ...Object.values(state)].forEach((t) => t.dispose());
  return out;
}

/** Each element of `dropped` is 0 or kept · 1/(1 − p) (the mask holds that factor in float32); both kinds occur. */
function expectInvertedDropout(dropped: Float64Array, kept: Float64Array, p: number, what: string): void {
  let zeros = 0;
  const scale = Math.fround(1 / (1 - p));
  dropped.forEach((v, i) => {
    if (v === 0) zeros++;
    else expectClose([v], [kept[i]! * scale], { atol: 1e-12, rtol: 1e-12 }, `${what}: element ${i}`);
  });
  expect(zeros, `${what}: dropped elements of ${dropped.length}`).toBeGreaterThan(0);
  expect(zeros, `${what}: dropped elements of ${dropped.length}`).toBeLessThan(dropped.length);
}

describe.each(['mingru', 'minlstm'] as const)('%s block dropout', (kind) => {
  it('training: the minRNN branch is 0 or its eval value / (1 − p); eval and step() have none', async () => {
    const shape = [6, 3, 4];
    const { x } = randomInputs(3, shape);
    const layer = createMinRnnBlock(kind, blockCfg(kind, { ffMult: 0, dropout: P }), 0, Init.create(5, 'reference'));
    const plain = createMinRnnBlock(kind, blockCfg(kind, { ffMult: 0 }), 0, Init.create(5, 'reference'));
    const kept = await branch(layer, x.data, shape, evalMode());
    expect(await branch(plain, x.data, shape, evalMode()), 'eval: the same as without dropout').toEqual(kept);
    expect(await branch(plain, x.data, shape, train()), 'dropout 0 in training: no mask').toEqual(kept);
    expectInvertedDropout(await branch(layer, x.data, shape, train()), kept, P, kind);
    // step() never drops: a one-token step equals the first row of the eval forward.
    const x1 = tensor(x.data.subarray(0, 12), [1, 3, 4], { backend: 'reference' });
    const s = layer.step(x1, null);
    expectClose((await s.y.dataF64()).map((v, i) => v - x.data[i]!), kept.subarray(0, 12), { atol: 1e-12, rtol: 0 }, `${kind} step`);
    [x1, s.y, ...Object.values(s.state)].forEach((t) => t.dispose());
    [...layer.params(), ...plain.params()].forEach((p) => p.dispose());
  });

  it('gradients through a fixed mask (conv, FF, e = 1.5) by finite differences (float64), and every backend', async () => {
    const cfg = blockCfg(kind, { expansion: 1.5, ffMult: 2, convKernel: 3, bias: true, h0: 'learned', dropout: 0.3 });
    const layer = createMinRnnBlock(kind, cfg, 0, Init.create(7, 'reference'));
    await checkLayerGradsFd(layer, randomInputs(8, [5, 2, 4], { h: [2, 6], conv: [2, 2, 4] }), train, `${kind} + dropout`);
    layer.params().forEach((p) => p.dispose());
    await checkBackendsAgainstReference((b) => createMinRnnBlock(kind, cfg, 0, Init.create(7, b)), randomInputs(9, [5, 2, 4]), train, backends, TOL_BACKEND, `${kind} + dropout`);
  });

  it('needs the seeded random source in training; rejects p outside [0, 0.99]', () => {
    const layer = createMinRnnBlock(kind, blockCfg(kind, { dropout: P }), 0, Init.create(5, 'reference'));
    const x = tensor(new Float32Array(2 * 1 * 4), [2, 1, 4], { backend: 'reference' });
    expect(() => layer.forward(x, null, { training: true })).toThrow(/dropout 0.4 in training needs ForwardOptions.random/);
    x.dispose();
    layer.params().forEach((p) => p.dispose());
    for (const bad of [1, -0.1, 'half'] as const) {
      expect(() => createMinRnnBlock(kind, blockCfg(kind, { dropout: bad }), 0, Init.create(5, 'reference'))).toThrow(OptionError);
    }
    expect(() => createMinRnnBlock(kind, blockCfg(kind, { dropout: 1 }), 0, Init.create(5, 'reference'))).toThrow(/option 'dropout' must be a finite number >= 0 <= 0.99, got 1/);
  });
});

describe.each([
  ['GRU', (o: { dropout: number; seed: number; backend: BackendName }) => new GruLayer({ inputSize: 4, hiddenSize: 4, ...o })],
  ['LSTM', (o: { dropout: number; seed: number; backend: BackendName }) => new LstmLayer({ inputSize: 4, hiddenSize: 4, ...o })],
] as const)('%s output dropout', (name, make) => {
  it('training: each output is 0 or its eval value / (1 − p); the state carries the undropped h', async () => {
    const shape = [5, 3, 4];
    const { x } = randomInputs(4, shape);
    const layer = make({ dropout: P, seed: 2, backend: 'reference' });
    const xt = tensor(x.data, shape, { backend: 'reference' });
    const ev = layer.forward(xt, null, evalMode());
    const tr = layer.forward(xt, null, train());
    expectInvertedDropout(await tr.y.dataF64(), await ev.y.dataF64(), P, name);
    expect(await tr.state['h']!.dataF64()).toEqual(await ev.state['h']!.dataF64());
    [xt, ev.y, tr.y, ...Object.values(ev.state), ...Object.values(tr.state), ...layer.params().map((p) => p.value)].forEach((t) => t.dispose());
  });

  it('gradients through a fixed mask by finite differences (float64), and every backend', async () => {
    const layer = make({ dropout: 0.3, seed: 5, backend: 'reference' });
    await checkLayerGradsFd(layer, randomInputs(6, [4, 2, 4]), train, `${name} + dropout`);
    layer.params().forEach((p) => p.dispose());
    await checkBackendsAgainstReference((b) => make({ dropout: 0.3, seed: 5, backend: b }), randomInputs(7, [4, 2, 4]), train, backends, TOL_BACKEND, `${name} + dropout`);
  });

  it('in a language model: on every layer but the last (as PyTorch); p must be in [0, 1)', () => {
    const cfg: ModelConfig = { model: name === 'GRU' ? 'gru' : 'lstm', vocabSize: 8, dim: 4, layers: 3, options: { dropout: P } };
    const create = name === 'GRU' ? createGruLayer : createLstmLayer;
    const layers = [0, 1, 2].map((i) => create(cfg, i, Init.create(1, 'reference').scope(`layers.${i}.`)));
    expect(layers.map((l) => l.options.dropout)).toEqual([P, P, 0]);
    layers.forEach((l) => l.params().forEach((p) => p.dispose()));
    createLanguageModel(cfg, { seed: 1, backend: 'reference' }).dispose();
    expect(() => make({ dropout: 1, seed: 1, backend: 'reference' })).toThrow(/dropout must be in \[0, 1\), got 1/);
  });
});
