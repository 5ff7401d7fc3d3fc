// SRU++ (models.md Part B): parameter counts G.2 from the layers' shapes (nothing big is allocated), the α = 0
// invariants of G.11, segment memory == one long segment, same-length window, step == parallel, gradients.
import { beforeAll, describe, expect, it } from 'vitest';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { ShapeError } from '../../src/errors.js';
import { mul, slice, sum } from '../../src/ops/api.js';
import { InitRng } from '../../src/models/init.js';
import { createLanguageModel } from '../../src/models/lm.js';
import type { ModelState } from '../../src/models/types.js';
import { sruppHasAttention, sruppParamCount, SruppLayer, type SruppOptions } from '../../src/models/srupp.js';
import { setupBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/allclose.js';
import { checkBackendsAgainstReference, checkLayerGradsFd, checkNoLeak, checkStepEqualsParallel, paramCount, randomInputs } from '../helpers/layers.js';
import { generate, Rng } from '../helpers/rng.js';

/** Tolerances, stated once: float64 reference vs itself; float32 backends vs the float64 reference. */
const TOL_F64 = { atol: 1e-12, rtol: 1e-12 };
const TOL_F32 = { atol: 3e-5, rtol: 3e-4 };
const TOL_BACKEND = { fwd: { atol: 3e-5, rtol: 3e-4 }, grad: { atol: 5e-5, rtol: 1e-3 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

const train = () => {
  const rng = new InitRng(77);
  return { training: true, random: () => rng.next() };
};
const evalMode = () => ({ training: false });

/** A layer with α set away from 0 so that the attention path carries gradient. */
function withAlpha(o: SruppOptions, alpha: number): SruppLayer {
  const l = new SruppLayer(o);
  l.alpha?.assign(tensor([alpha], [1], { backend: o.backend }));
  return l;
}

describe('SRU++ parameter counts (models.md G.2, §B.9)', () => {
  const layerCount = (d: number, da: number, n: number, every: number) =>
    Array.from({ length: n }, (_, i) => sruppParamCount({ dim: d, attnDim: da, attention: sruppHasAttention(i, every) })).reduce((a, b) => a + b, 0);
  /** enwik8 wrapper (§B.6): embedding V·d, output Linear(d, V) with bias. */
  const enwik8 = (d: number, da: number, V = 205) => layerCount(d, da, 10, 1) + V * d + d * V + V;
  /** WT103 wrapper: adaptive input tied to the adaptive softmax (cutoffs 19997/39997/199997, n_e 1024, div 4), projections
   *  to d tied too; per-token output biases (V), cluster weights (3, 1024) and biases (3). */
  const wt103 = (d: number, da: number, every: number) => {
    const V = 267_735;
    const bounds = [0, 19_997, 39_997, 199_997, V];
    const widths = [1024, 256, 64, 16];
    const emb = widths.reduce((a, w, i) => a + (bounds[i + 1]! - bounds[i]!) * w, 0);
    const proj = widths.reduce((a, w) => a + d * w, 0);
    return layerCount(d, da, 10, every) + emb + proj + V + 3 * 1024 + 3;
  };

  it('attention layer (3072, 768) = 10,630,657; projected-linear layer = 9,451,008', () => {
    expect(sruppParamCount({ dim: 3072, attnDim: 768, attention: true })).toBe(10_630_657);
    expect(sruppParamCount({ dim: 3072, attnDim: 768, attention: false })).toBe(9_451_008);
  });

  it('whole models: enwik8 107,566,295 / 190,607,575 / 194,993,815; WT103 147,676,036 and (5952, 744) k = 5 224,884,892', () => {
    expect(enwik8(3072, 768)).toBe(107_566_295);
    expect(enwik8(4096, 1024)).toBe(190_607_575);
    expect(enwik8(6016, 752)).toBe(194_993_815);
    expect(wt103(3072, 768, 1)).toBe(147_676_036);
    expect(wt103(5952, 744, 5)).toBe(224_884_892);
  });

  it('constructed layers have exactly the shapes counted; attention every k-th layer (§B.3)', () => {
    for (const attention of [true, false]) {
      const l = new SruppLayer({ dim: 12, attnDim: 5, attention, backend: 'reference' });
      expect(paramCount(l)).toBe(sruppParamCount({ dim: 12, attnDim: 5, attention }));
      expect(paramCount(l)).toBe(attention ? 12 * 5 + 2 * 25 + 3 * 12 * 5 + 1 + 10 + 48 : 12 * 5 + 3 * 12 * 5 + 10 + 48);
      l.params().forEach((p) => p.dispose());
    }
    const at = (k: number) => Array.from({ length: 10 }, (_, i) => i + 1).filter((i) => sruppHasAttention(i - 1, k));
    expect(at(1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(at(2)).toEqual([2, 4, 6, 8, 10]);
    expect(at(5)).toEqual([5, 10]);
    expect(at(10)).toEqual([10]);
  });
});

describe('SRU++ at initialisation (models.md G.11)', () => {
  it('α = 0: the output does not depend on W2, dL/dW2 = 0 on the first backward, dL/dα ≠ 0', async () => {
    const o: SruppOptions = { dim: 8, attnDim: 4, attention: true, memLen: 4, backend: 'reference', seed: 21 };
    const layer = new SruppLayer(o);
    expect(layer.alpha!.value.dataSync()[0]).toBe(0);
    const inputs = randomInputs(22, [5, 2, 8], { c: [2, 8], mem: [3, 2, 8] });
    const x = tensor(inputs.x.data, inputs.x.shape, { backend: 'reference' });
    const state = { c: tensor(inputs.state!['c']!.data, [2, 8], { backend: 'reference' }), mem: tensor(inputs.state!['mem']!.data, [3, 2, 8], { backend: 'reference' }) };
    const y1 = await layer.forward(x, state, evalMode()).y.dataF64();
    layer.w2.assign(tensor(generate(new Rng(23), 'normal', 4 * 8), [4, 8], { backend: 'reference' }));
    const y2 = await layer.forward(x, state, evalMode()).y.dataF64();
    expect(Array.from(y2)).toEqual(Array.from(y1));
    const r = tensor(generate(new Rng(24), 'normal', 5 * 2 * 8), [5, 2, 8], { backend: 'reference' });
    const { grads } = valueAndGrad(() => sum(mul(layer.forward(x, state, train()).y, r).reshape([80]), 0), [layer.w2, layer.alpha!, layer.w1, layer.w3!]);
    expect(Array.from(await grads[0]!.dataF64()).every((v) => v === 0)).toBe(true);
    expect(Math.abs((await grads[1]!.dataF64())[0]!)).toBeGreaterThan(1e-6);
    expect(Array.from(await grads[2]!.dataF64()).some((v) => v !== 0)).toBe(true);
    layer.params().forEach((p) => p.dispose());
  });
});

describe('SRU++ memory and step mode', () => {
  it('two segments with carried memory == one long segment (memLen ≥ the first segment); prefill + step() == parallel', async () => {
    for (const b of ['reference', 'wasm'] as BackendName[]) {
      const layer = withAlpha({ dim: 8, attnDim: 4, attention: true, heads: 2, memLen: 8, backend: b, seed: 31 }, 0.8);
      await checkStepEqualsParallel(layer, randomInputs(32, [8, 2, 8]), b, b === 'reference' ? TOL_F64 : TOL_F32, `attention, memLen 8 (${b})`);
      layer.params().forEach((p) => p.dispose());
    }
  });

  it('same-length evaluation window (memLen 3 < T): parallel, segments and step all see the 4 latest positions', async () => {
    for (const b of ['reference', 'wasm'] as BackendName[]) {
      const layer = withAlpha({ dim: 8, attnDim: 4, attention: true, memLen: 3, sameLength: true, backend: b, seed: 33 }, 1.1);
      await checkStepEqualsParallel(layer, randomInputs(34, [9, 2, 8]), b, b === 'reference' ? TOL_F64 : TOL_F32, `sameLength memLen 3 (${b})`, 1);
      layer.params().forEach((p) => p.dispose());
    }
  });

  it('the carried memory is exactly the latest memLen layer inputs; a longer memory in a state is cut to them', async () => {
    const layer = withAlpha({ dim: 6, attnDim: 3, attention: true, memLen: 2, backend: 'reference', seed: 35 }, 0.5);
    const inputs = randomInputs(36, [7, 2, 6]);
    const x = tensor(inputs.x.data, [7, 2, 6], { backend: 'reference' });
    const s1 = layer.forward(slice(x, 0, 0, 4), null, evalMode());
    expect(Array.from(await s1.state['mem']!.dataF64())).toEqual(Array.from(inputs.x.data.slice(2 * 2 * 6, 4 * 2 * 6)));
    const seg2 = slice(x, 0, 4, 3);
    const c = s1.state['c']!;
    const cut = layer.forward(seg2, { c, mem: s1.state['mem']! }, evalMode());
    const longer = layer.forward(seg2, { c, mem: slice(x, 0, 0, 4) }, evalMode());
    expectClose(await longer.y.dataF64(), await cut.y.dataF64(), TOL_F64, 'mem of 4 rows vs its latest 2');
    layer.params().forEach((p) => p.dispose());
  });

  it('projected-linear layer: step == parallel; no memory in its state', async () => {
    const layer = new SruppLayer({ dim: 8, attnDim: 4, attention: false, memLen: 8, backend: 'reference', seed: 37 });
    await checkStepEqualsParallel(layer, randomInputs(38, [6, 2, 8]), 'reference', TOL_F64, 'projected linear');
    const r = layer.forward(tensor(new Float32Array(16), [1, 2, 8], { backend: 'reference' }), null, evalMode());
    expect(Object.keys(r.state)).toEqual(['c']);
    layer.params().forEach((p) => p.dispose());
  });

  it('rejects a state of the wrong shape', () => {
    const layer = new SruppLayer({ dim: 8, attnDim: 4, attention: true, memLen: 2, backend: 'reference' });
    const x = tensor(new Float32Array(16), [1, 2, 8], { backend: 'reference' });
    expect(() => layer.forward(x, { mem: tensor(new Float32Array(12), [1, 2, 6], { backend: 'reference' }) }, evalMode())).toThrow(ShapeError);
    expect(() => layer.forward(x, { c: tensor(new Float32Array(8), [1, 8], { backend: 'reference' }) }, evalMode())).toThrow(/state c/);
  });
});

const CONFIGS: [string, SruppOptions, boolean][] = [
  ['attention + memory', { dim: 6, attnDim: 4, attention: true, heads: 2, memLen: 3 }, false],
  ['attention + dropout', { dim: 6, attnDim: 3, attention: true, memLen: 3, dropout: 0.2 }, true],
  ['attention, same-length window over a short memory', { dim: 6, attnDim: 3, attention: true, memLen: 4, sameLength: true }, false],
  ['projected linear + dropout', { dim: 6, attnDim: 3, attention: false, dropout: 0.2 }, true],
];

describe('SRU++ gradients', () => {
  it.each(CONFIGS)('%s: finite differences in float64 (reference)', async (name, o, drop) => {
    const layer = withAlpha({ ...o, backend: 'reference', seed: 41 }, 0.6);
    const st: Record<string, number[]> = o.attention ? { c: [2, 6], mem: [2, 2, 6] } : { c: [2, 6] };
    await checkLayerGradsFd(layer, randomInputs(42, [4, 2, 6], st), drop ? train : evalMode, name);
    layer.params().forEach((p) => p.dispose());
  });

  it.each(CONFIGS)('%s: every backend against the reference', async (name, o, drop) => {
    const st: Record<string, number[]> = o.attention ? { c: [3, 6], mem: [3, 3, 6] } : { c: [3, 6] };
    await checkBackendsAgainstReference((b) => withAlpha({ ...o, backend: b, seed: 43 }, 0.6), randomInputs(44, [5, 3, 6], st), drop ? train : evalMode, backends, TOL_BACKEND, name);
  });
});

describe('SRU, SRU++, GRU and LSTM language models (layer-factory table)', () => {
  it.each([
    ['sru', { layerNorm: 'pre' }],
    ['srupp', { attentionEvery: 2, attnDim: 4, memLen: 8 }],
    ['gru', {}],
    ['lstm', { bias: false }],
  ] as const)('%s: step() over the tokens == forward() (logits)', async (model, options) => {
    const lm = createLanguageModel({ model, vocabSize: 11, dim: 8, layers: 2, options }, { seed: 5, backend: 'reference' });
    const [T, B] = [5, 2];
    const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % 11);
    const full = await lm.forward(tensor(ids, [T, B], { backend: 'reference' }), null, evalMode()).logits.dataF64();
    let state: ModelState | null = null;
    for (let t = 0; t < T; t++) {
      const r = lm.step(tensor(ids.slice(t * B, (t + 1) * B), [B], { backend: 'reference' }), state);
      expectClose(await r.logits.dataF64(), full.slice(t * B * 11, (t + 1) * B * 11), TOL_F64, `${model} logits at t = ${t}`);
      state = r.state;
    }
    if (model === 'srupp') expect(lm.params().map((p) => p.name)).toEqual(expect.arrayContaining(['layers.0.proj.w1', 'layers.1.attn.alpha']));
    lm.dispose();
  });
});

describe('SRU++ inference memory', () => {
  it('forward, carried memory and step() free every intermediate (wasm), attention and projected-linear layers', async () => {
    for (const o of CONFIGS.map(([, c]) => c)) {
      const l = new SruppLayer({ ...o, backend: 'wasm' });
      await checkNoLeak(l, randomInputs(45, [4, 2, 6]), 'wasm', `SRU++ ${JSON.stringify(o)}`);
      await checkNoLeak(l, randomInputs(45, [4, 2, 6]), 'wasm', `SRU++ train ${JSON.stringify(o)}`, train());
    }
    const same = new SruppLayer({ dim: 6, attnDim: 3, attention: true, memLen: 5, sameLength: true, backend: 'wasm' });
    await checkNoLeak(same, randomInputs(46, [3, 2, 6]), 'wasm', 'SRU++ sameLength');
  });
});
