// The language-model wrapper over the layer-factory table: parameter names, seeded initialisation, shapes,
// options and their errors, memory, and a tiny model fitting a fixed sequence.
import { beforeAll, describe, expect, it } from 'vitest';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import { getBackend, tensor, tidy } from '../../src/engine.js';
import { OptionError, ShapeError } from '../../src/errors.js';
import { init } from '../../src/index.js';
import { countParams, createLanguageModel } from '../../src/models/lm.js';
import { LAYER_FACTORIES } from '../../src/models/layers.js';
import type { ModelConfig } from '../../src/models/types.js';
import { mean, softmaxCrossEntropy } from '../../src/ops/api.js';
import { AdamW } from '../../src/optim/adamw.js';

beforeAll(async () => {
  await init();
});

const full = (model: 'mingru' | 'minlstm'): ModelConfig => ({
  model,
  vocabSize: 7,
  dim: 4,
  layers: 2,
  options: { expansion: 2, ffMult: 2, convKernel: 3, bias: true, h0: 'learned', ...(model === 'minlstm' ? { forgetBias: 3 } : {}) },
});

describe('language model', () => {
  it('names every parameter uniquely, in creation order', () => {
    const lm = createLanguageModel(full('mingru'), { seed: 1, backend: 'wasm' });
    const layer = (i: number): string[] =>
      ['conv.dw.weight', 'conv.dw.bias', 'conv.pw.weight', 'conv.pw.bias', 'norm.weight', 'rnn.to_hidden_and_gate.weight', 'rnn.to_hidden_and_gate.bias', 'rnn.h0', 'rnn.to_out.weight', 'rnn.to_out.bias', 'ff_norm.weight', 'ff.0.weight', 'ff.0.bias', 'ff.2.weight', 'ff.2.bias'].map((n) => `layers.${i}.${n}`);
    expect(lm.params().map((p) => p.name)).toEqual(['embed.weight', ...layer(0), ...layer(1), 'norm.weight', 'head.weight']);
    expect(lm.params().find((p) => p.name === 'head.weight')!.shape).toEqual([7, 4]);
    expect(lm.params().find((p) => p.name === 'layers.0.rnn.to_hidden_and_gate.weight')!.shape).toEqual([16, 4]);
    lm.dispose();
  });

  it('is seeded: the same seed gives the same weights on every backend, another seed others', async () => {
    const a = createLanguageModel(full('minlstm'), { seed: 3, backend: 'wasm' });
    const b = createLanguageModel(full('minlstm'), { seed: 3, backend: 'reference' });
    const c = createLanguageModel(full('minlstm'), { seed: 4, backend: 'wasm' });
    for (let i = 0; i < a.params().length; i++) {
      const pa = await a.params()[i]!.value.data();
      expect(Array.from(await b.params()[i]!.value.data()), a.params()[i]!.name).toEqual(Array.from(pa));
    }
    expect(Array.from(await c.params()[0]!.value.data())).not.toEqual(Array.from(await a.params()[0]!.value.data()));
    // minLSTM's forget-gate bias slice (hidden, forget, input) starts near +3; the others near 0 (|U(±1/2)| ≤ 0.5).
    const bias = await a.params().find((p) => p.name === 'layers.0.rnn.to_hidden_and_gate.bias')!.value.data();
    const dInner = 8;
    for (let i = 0; i < 3 * dInner; i++) {
      const want = i >= dInner && i < 2 * dInner ? 3 : 0;
      expect(Math.abs(bias[i]! - want), `bias[${i}]`).toBeLessThanOrEqual(0.5);
    }
    [a, b, c].forEach((m) => m.dispose());
  });

  it('forward gives logits (T·B, V) and step (B, V); the carried state has one entry per layer', () => {
    const lm = createLanguageModel(full('minlstm'), { seed: 1, backend: 'wasm' });
    tidy(() => {
      const f = lm.forward(tensor(Int32Array.from([0, 1, 2, 3, 4, 5]), [3, 2], { backend: 'wasm' }), null, { training: false });
      expect(f.logits.shape).toEqual([6, 7]);
      expect(f.state.length).toBe(2);
      expect(f.state[0]!.h!.shape).toEqual([2, 8]);
      expect(f.state[0]!.conv!.shape).toEqual([2, 2, 4]);
      const s = lm.step(tensor(Int32Array.from([6, 0]), [2], { backend: 'wasm' }), f.state);
      expect(s.logits.shape).toEqual([2, 7]);
    });
    lm.dispose();
    expect(getBackend('wasm').liveCount()).toBe(0);
  });

  it('LayerNorm in place of RMSNorm (option norm)', () => {
    const lm = createLanguageModel({ model: 'mingru', vocabSize: 5, dim: 4, layers: 1, options: { norm: 'layer', ffMult: 0 } }, { seed: 1, backend: 'wasm' });
    expect(lm.params().map((p) => p.name)).toEqual(['embed.weight', 'layers.0.norm.weight', 'layers.0.norm.bias', 'layers.0.rnn.to_hidden_and_gate.weight', 'norm.weight', 'norm.bias', 'head.weight']);
    expect(countParams(lm)).toBe(5 * 4 + 8 + 2 * 4 * 4 + 8 + 5 * 4);
    tidy(() => expect(lm.forward(tensor(Int32Array.from([1, 2]), [2, 1], { backend: 'wasm' }), null, { training: false }).logits.shape).toEqual([2, 5]));
    lm.dispose();
  });

  it('fails clearly on a kind not registered, bad options, bad tokens and a mismatched state', () => {
    const bogus = { model: 'transformer', vocabSize: 5, dim: 4, layers: 1 } as unknown as ModelConfig;
    expect(() => createLanguageModel(bogus, { seed: 1 })).toThrow(OptionError);
    expect(() => createLanguageModel(bogus, { seed: 1 })).toThrow(/model 'transformer': no layer of that kind is registered \(registered: .*'mingru'/);
    expect(Object.keys(LAYER_FACTORIES)).toEqual(expect.arrayContaining(['mingru', 'minlstm']));
    const bad = (options: ModelConfig['options'], model: 'mingru' | 'minlstm' = 'mingru'): (() => void) => () => createLanguageModel({ model, vocabSize: 5, dim: 4, layers: 1, options }, { seed: 1, backend: 'wasm' });
    expect(bad({ expansion: 'big' })).toThrow(/option 'expansion' must be a finite number >= 0, got "big"/);
    expect(bad({ norm: 'batch' })).toThrow(/option 'norm' must be one of 'rms', 'layer', got "batch"/);
    expect(bad({ convKernel: 2.5 })).toThrow(/option 'convKernel' must be an integer >= 0/);
    expect(bad({ forgetBias: 3 })).toThrow(/'forgetBias' applies to minlstm only/);
    expect(bad({ forgetBias: 3 }, 'minlstm')).toThrow(/needs 'bias: true'/);
    expect(() => createLanguageModel({ model: 'mingru', vocabSize: 0, dim: 4, layers: 1 }, { seed: 1 })).toThrow(/vocabSize must be an integer >= 1, got 0/);
    expect(getBackend('wasm').liveCount()).toBe(0); // a failed construction frees what it made
    const lm = createLanguageModel(full('mingru'), { seed: 1, backend: 'wasm' });
    tidy(() => {
      expect(() => lm.forward(tensor([0, 1], [2, 1], { backend: 'wasm' }), null, { training: false })).toThrow(ShapeError);
      expect(() => lm.step(tensor(Int32Array.from([0, 1]), [2, 1], { backend: 'wasm' }), null)).toThrow(/step: tokens must be i32 of shape \[B\]/);
      expect(() => lm.forward(tensor(Int32Array.from([0]), [1, 1], { backend: 'wasm' }), [{}], { training: false })).toThrow(/state has 1 layer entries, expected 2/);
      const s = lm.forward(tensor(Int32Array.from([0, 1]), [1, 2], { backend: 'wasm' }), null, { training: false }).state;
      expect(() => lm.forward(tensor(Int32Array.from([0]), [1, 1], { backend: 'wasm' }), s, { training: false })).toThrow(/carried conv state has shape \[2, 2, 4\], expected \[2, 1, 4\]/);
    });
    lm.dispose();
  });

  for (const model of ['mingru', 'minlstm'] as const) {
    it(`${model}: a tiny model fits a fixed sequence (loss falls below a fifth)`, () => {
      const lm = createLanguageModel(full(model), { seed: 2, backend: 'wasm' });
      const T = 12;
      const seq = Int32Array.from({ length: T + 1 }, (_, i) => (i * 3) % 7);
      const opt = new AdamW(lm.params(), { lr: 1e-2 });
      const losses: number[] = [];
      for (let s = 0; s < 150; s++) {
        tidy(() => {
          const r = valueAndGrad(() => {
            const { logits } = lm.forward(tensor(seq.subarray(0, T), [T, 1], { backend: 'wasm' }), null, { training: true });
            return mean(softmaxCrossEntropy(logits, tensor(seq.subarray(1), [T], { backend: 'wasm' })), 0);
          }, lm.params());
          opt.step(r.grads);
          losses.push(r.loss.dataSync()[0]!);
        });
      }
      expect(losses.at(-1)!, `losses ${losses[0]} -> ${losses.at(-1)}`).toBeLessThan(losses[0]! / 5);
      lm.dispose();
    });
  }
});
