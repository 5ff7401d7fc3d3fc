// The SRU layer (models.md Part A): parameter counts G.1, step == parallel (G.9), whole-layer gradients by finite
// differences in float64, padding (G.12), every backend against the reference.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { OptionError, ShapeError } from '../../src/errors.js';
import { InitRng } from '../../src/models/init.js';
import { sruParamCount, SruLayer, sruStack, type SruOptions } from '../../src/models/sru.js';
import { setupBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/allclose.js';
import { checkBackendsAgainstReference, checkLayerGradsFd, checkNoLeak, checkStepEqualsParallel, paramCount, randomInputs } from '../helpers/layers.js';

/** Tolerances, stated once: float64 reference vs itself; float32 backends vs the float64 reference. */
const TOL_F64 = { atol: 1e-12, rtol: 1e-12 };
const TOL_F32 = { atol: 2e-5, rtol: 2e-4 };
const TOL_BACKEND = { fwd: { atol: 2e-5, rtol: 2e-4 }, grad: { atol: 5e-5, rtol: 1e-3 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

/** Training mode with a fresh seeded stream per call, so every run samples the same dropout masks. */
const train = () => {
  const rng = new InitRng(99);
  return { training: true, random: () => rng.next() };
};
const evalMode = () => ({ training: false });

describe('SRU parameter counts (models.md G.1)', () => {
  it.each([
    [{ inputSize: 128, hiddenSize: 128 }, 49_664],
    [{ inputSize: 512, hiddenSize: 512 }, 788_480],
    [{ inputSize: 256, hiddenSize: 512 }, 526_336],
    [{ inputSize: 7, hiddenSize: 4, bidirectional: true }, 256],
    [{ inputSize: 8, hiddenSize: 4, bidirectional: true }, 224],
  ] as [SruOptions, number][])('%o -> %i', (o, want) => {
    expect(sruParamCount(o)).toBe(want);
    const layer = new SruLayer({ ...o, backend: 'reference' });
    expect(paramCount(layer)).toBe(want);
    layer.params().forEach((p) => p.dispose());
  });

  it('SRU(7, 4, num_layers=5) -> 384; bidirectional 2 layers -> 256 + 224; LN adds 2·d_in (pre) or 2·n_out (post)', () => {
    const total = (ls: SruLayer[]) => ls.reduce((a, l) => a + paramCount(l), 0);
    const five = sruStack({ inputSize: 7, hiddenSize: 4, numLayers: 5, backend: 'reference' });
    expect(total(five)).toBe(384);
    expect(five.map((l) => l.geometry.k)).toEqual([4, 3, 3, 3, 3]);
    const bi = sruStack({ inputSize: 7, hiddenSize: 4, numLayers: 2, bidirectional: true, backend: 'reference' });
    expect(bi.map(paramCount)).toEqual([256, 224]);
    expect(sruParamCount({ inputSize: 128, hiddenSize: 128, layerNorm: 'pre' })).toBe(49_664 + 256);
    expect(sruParamCount({ inputSize: 256, hiddenSize: 512, layerNorm: 'post' })).toBe(526_336 + 1024);
    [...five, ...bi].forEach((l) => l.params().forEach((p) => p.dispose()));
  });
});

describe('SRU initialisation (models.md §A.6)', () => {
  it('b_f = 0, b_r = highway bias; W columns by role; |v| ≤ √1.5', () => {
    const l = new SruLayer({ inputSize: 6, hiddenSize: 6, highwayBias: -2, backend: 'reference' });
    const b = l.bias.value.dataSync();
    expect([...b.slice(0, 6)]).toEqual(new Array(6).fill(0));
    expect([...b.slice(6)]).toEqual(new Array(6).fill(-2));
    const w = l.weight.value.dataSync();
    const bound = Math.sqrt(3 / 6) * 1.0001;
    for (let i = 0; i < w.length; i++) expect(Math.abs(w[i]!)).toBeLessThanOrEqual(i % 3 === 0 ? bound : bound * Math.SQRT1_2);
    for (const v of l.weightC.value.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(Math.sqrt(1.5));
    l.params().forEach((p) => p.dispose());
  });

  it('rejects bad options and shapes with clear errors', () => {
    expect(() => new SruLayer({ inputSize: 0, hiddenSize: 4 })).toThrow(OptionError);
    expect(() => new SruLayer({ inputSize: 4, hiddenSize: 4, dropout: 1 })).toThrow(/dropout/);
    const l = new SruLayer({ inputSize: 4, hiddenSize: 4, backend: 'reference', dropout: 0.5 });
    const x = tensor(new Float32Array(2 * 3 * 5), [2, 3, 5], { backend: 'reference' });
    expect(() => l.forward(x, null, evalMode())).toThrow(ShapeError);
    const x4 = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4], { backend: 'reference' });
    expect(() => l.forward(x4, null, { training: true })).toThrow(/ForwardOptions.random/);
    const bi = new SruLayer({ inputSize: 4, hiddenSize: 2, bidirectional: true, backend: 'reference' });
    expect(() => bi.step(x4.reshape([2, 3, 4]), null)).toThrow(/bidirectional/);
  });
});

/** Small configurations covering every option; d_in 5 or 6, h 3 (n_out 6 when bidirectional). */
const CONFIGS: [string, Omit<SruOptions, 'backend'>][] = [
  ['k=3', { inputSize: 6, hiddenSize: 6, highwayBias: -1, rescale: true }],
  ['k=4', { inputSize: 5, hiddenSize: 3, rescale: true }],
  ['pre-LN + dropout', { inputSize: 6, hiddenSize: 6, layerNorm: 'pre', dropout: 0.3 }],
  ['post-LN, tanh, k=4', { inputSize: 5, hiddenSize: 3, layerNorm: 'post', activation: 'tanh' }],
  ['bidirectional k=3', { inputSize: 6, hiddenSize: 3, bidirectional: true }],
  ['bidirectional k=4 + dropout', { inputSize: 5, hiddenSize: 3, bidirectional: true, dropout: 0.25 }],
  ['no skip', { inputSize: 5, hiddenSize: 3, hasSkipTerm: false }],
];

describe('SRU layer gradients by finite differences (float64, reference)', () => {
  it.each(CONFIGS)('%s', async (name, o) => {
    const layer = new SruLayer({ ...o, backend: 'reference', seed: 3 });
    const nOut = (o.bidirectional ? 2 : 1) * o.hiddenSize;
    const inputs = randomInputs(11, [4, 2, o.inputSize], { c: [2, nOut] });
    await checkLayerGradsFd(layer, inputs, o.dropout ? train : evalMode, name);
    layer.params().forEach((p) => p.dispose());
  });
});

describe('SRU step mode == parallel (models.md G.9)', () => {
  it.each(CONFIGS.filter(([, o]) => !o.bidirectional))('%s on reference and wasm', async (name, o) => {
    const inputs = randomInputs(12, [7, 3, o.inputSize]);
    for (const b of ['reference', 'wasm'] as BackendName[]) {
      const layer = new SruLayer({ ...o, backend: b, seed: 4 });
      await checkStepEqualsParallel(layer, inputs, b, b === 'reference' ? TOL_F64 : TOL_F32, `${name} (${b})`);
      layer.params().forEach((p) => p.dispose());
    }
  });
});

describe('SRU padding (models.md G.12)', () => {
  it('padded steps keep c and give h = 0; the other steps equal the sequence without them', () => {
    const layer = new SruLayer({ inputSize: 4, hiddenSize: 4, backend: 'reference', seed: 5 });
    const inputs = randomInputs(13, [5, 1, 4]);
    const x = tensor(inputs.x.data, [5, 1, 4], { backend: 'reference' });
    const pad = tensor([0, 1, 0, 1, 0], [5, 1], { backend: 'reference' });
    const padded = layer.forward(x, null, { training: false, pad });
    const keep = [0, 2, 4];
    const short = tensor(keep.flatMap((t) => [...inputs.x.data.slice(t * 4, t * 4 + 4)]), [3, 1, 4], { backend: 'reference' });
    const ref = layer.forward(short, null, { training: false });
    const y = padded.y.dataSync();
    const yr = ref.y.dataSync();
    expectClose(keep.flatMap((t) => [...y.slice(t * 4, t * 4 + 4)]), yr, TOL_F64, 'non-padded steps');
    expect([...y.slice(4, 8), ...y.slice(12, 16)]).toEqual(new Array(8).fill(0));
    expectClose(padded.state['c']!.dataSync(), ref.state['c']!.dataSync(), TOL_F64, 'final c');
  });

  it('gradients with a padding mask by finite differences (float64), bidirectional with dropout', async () => {
    const layer = new SruLayer({ inputSize: 5, hiddenSize: 3, bidirectional: true, dropout: 0.2, backend: 'reference', seed: 8 });
    const pad = tensor([0, 0, 1, 0, 0, 0, 1, 1], [4, 2], { backend: 'reference' });
    await checkLayerGradsFd(layer, randomInputs(17, [4, 2, 5], { c: [2, 6] }), () => ({ ...train(), pad }), 'padded');
  });
});

describe('SRU on every backend against the reference', () => {
  it.each(CONFIGS)('%s: y, state and all gradients', async (name, o) => {
    const nOut = (o.bidirectional ? 2 : 1) * o.hiddenSize;
    const inputs = randomInputs(14, [6, 3, o.inputSize], { c: [3, nOut] });
    await checkBackendsAgainstReference((b) => new SruLayer({ ...o, backend: b, seed: 6 }), inputs, o.dropout ? train : evalMode, backends, TOL_BACKEND, name);
  });
});

describe('SRU inference memory', () => {
  it('forward, carried state and step() free every intermediate (wasm), also with dropout and pre-LN in training mode', async () => {
    const l = new SruLayer({ inputSize: 6, hiddenSize: 6, layerNorm: 'pre', dropout: 0.3, backend: 'wasm' });
    await checkNoLeak(l, randomInputs(15, [4, 2, 6]), 'wasm', 'SRU eval');
    await checkNoLeak(l, randomInputs(15, [4, 2, 6]), 'wasm', 'SRU train', train());
    const post = new SruLayer({ inputSize: 5, hiddenSize: 3, layerNorm: 'post', backend: 'wasm' });
    await checkNoLeak(post, randomInputs(16, [4, 2, 5]), 'wasm', 'SRU post-LN k=4');
  });
});
