// Classic GRU and LSTM baselines: counts of models.md G.3 (without biases), one hand-computed step of each,
// step == parallel, whole-layer gradients by finite differences (float64), every backend against the reference,
// and the work of a training step linear in T (the speed-up benchmark compares against an honest baseline).
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { addOpListener, tensor, tidy } from '../../src/engine.js';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import { mean } from '../../src/ops/api.js';
import { sizeOf } from '../../src/shape.js';
import { OptionError, ShapeError } from '../../src/errors.js';
import { createLanguageModel } from '../../src/models/lm.js';
import { GruLayer, gruParamCount, LstmLayer, lstmParamCount, type GruLstmOptions } from '../../src/models/gru_lstm.js';
import { setupBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/allclose.js';
import { checkBackendsAgainstReference, checkLayerGradsFd, checkNoLeak, checkStepEqualsParallel, paramCount, randomInputs } from '../helpers/layers.js';

/** Tolerances, stated once: the hand value (printed to 1e-15), float64 reference vs itself, float32 vs reference. */
const TOL_HAND = { atol: 1e-12, rtol: 0 };
const TOL_F64 = { atol: 1e-12, rtol: 1e-12 };
const TOL_F32 = { atol: 2e-5, rtol: 2e-4 };
const TOL_BACKEND = { fwd: { atol: 2e-5, rtol: 2e-4 }, grad: { atol: 5e-5, rtol: 1e-3 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

const evalMode = () => ({ training: false });
type Make = (o: GruLstmOptions) => GruLayer | LstmLayer;
const KINDS: [string, Make, string[]][] = [
  ['GRU', (o) => new GruLayer(o), ['h']],
  ['LSTM', (o) => new LstmLayer(o), ['h', 'c']],
];

describe('GRU / LSTM parameter counts (models.md G.3)', () => {
  it('d_x = d_h = 128: GRU 98,304 and LSTM 131,072 count the weight matrices only (3 or 4 gates × (d_x + d_h) × d_h)', () => {
    expect(gruParamCount({ inputSize: 128, hiddenSize: 128, bias: false })).toBe(98_304);
    expect(lstmParamCount({ inputSize: 128, hiddenSize: 128, bias: false })).toBe(131_072);
    // PyTorch's default adds b_ih and b_hh: 2 × gates × d_h.
    expect(gruParamCount({ inputSize: 128, hiddenSize: 128 })).toBe(98_304 + 768);
    expect(lstmParamCount({ inputSize: 128, hiddenSize: 128 })).toBe(131_072 + 1024);
    const g = new GruLayer({ inputSize: 128, hiddenSize: 128, bias: false, backend: 'reference' });
    const l = new LstmLayer({ inputSize: 128, hiddenSize: 128, bias: false, backend: 'reference' });
    expect([paramCount(g), paramCount(l)]).toEqual([98_304, 131_072]);
    [...g.params(), ...l.params()].forEach((p) => p.dispose());
  });

  it('language models of kind gru / lstm build from the layer-factory table', () => {
    for (const model of ['gru', 'lstm'] as const) {
      const lm = createLanguageModel({ model, vocabSize: 16, dim: 8, layers: 2, options: { bias: false } }, { seed: 1, backend: 'reference' });
      const perLayer = (model === 'gru' ? 3 : 4) * 2 * 64;
      expect(lm.params().reduce((a, p) => a + p.value.size, 0)).toBe(2 * 16 * 8 + 2 * perLayer + 8);
      expect(lm.params().map((p) => p.name)).toContain('layers.1.weight_hh');
      lm.dispose();
    }
  });
});

describe('one hand-computed step (PyTorch equations)', () => {
  // d_x = d_h = 1, x = 1. Gate blocks in PyTorch's order.
  it('GRU: r = σ(1), z = σ(−0.55), n = tanh(2.3 + 0.15 r), h′ = (1 − z) n + z·0.5 = 0.8069119188662787', async () => {
    const l = new GruLayer({ inputSize: 1, hiddenSize: 1, backend: 'reference' });
    const set = (p: typeof l.weightIh, v: number[]) => p.assign(tensor(v, p.shape, { backend: 'reference' }));
    set(l.weightIh, [0.5, -1, 2]);
    set(l.weightHh, [1, 0.5, -0.5]);
    set(l.biasIh!, [0.1, 0.2, 0.3]);
    set(l.biasHh!, [-0.1, 0, 0.4]);
    const r = l.step(tensor([1], [1, 1, 1], { backend: 'reference' }), { h: tensor([0.5], [1, 1], { backend: 'reference' }) });
    expectClose(await r.y.dataF64(), [0.8069119188662787], TOL_HAND, 'GRU h′');
  });

  it('LSTM: i = σ(1), f = σ(−0.75), g = tanh(1.75), o = σ(1.125), c′ = −0.3 f + i g = 0.59195…, h′ = o tanh(c′) = 0.40108…', async () => {
    const l = new LstmLayer({ inputSize: 1, hiddenSize: 1, bias: false, backend: 'reference' });
    l.weightIh.assign(tensor([0.5, -1, 2, 1], [1, 4], { backend: 'reference' }));
    l.weightHh.assign(tensor([1, 0.5, -0.5, 0.25], [1, 4], { backend: 'reference' }));
    const st = { h: tensor([0.5], [1, 1], { backend: 'reference' }), c: tensor([-0.3], [1, 1], { backend: 'reference' }) };
    const r = l.step(tensor([1], [1, 1, 1], { backend: 'reference' }), st);
    expectClose(await r.y.dataF64(), [0.4010860951725118], TOL_HAND, 'LSTM h′');
    expectClose(await r.state['c']!.dataF64(), [0.5919542728835002], TOL_HAND, 'LSTM c′');
  });

  it('rejects bad sizes and state shapes', () => {
    expect(() => new GruLayer({ inputSize: 0, hiddenSize: 2 })).toThrow(OptionError);
    const l = new LstmLayer({ inputSize: 2, hiddenSize: 3, backend: 'reference' });
    const x = tensor(new Float32Array(4), [1, 2, 2], { backend: 'reference' });
    expect(() => l.forward(x, { h: tensor(new Float32Array(4), [2, 2], { backend: 'reference' }) }, evalMode())).toThrow(ShapeError);
    expect(() => l.forward(tensor(new Float32Array(6), [1, 2, 3], { backend: 'reference' }), null, evalMode())).toThrow(/input must be/);
  });
});

describe.each(KINDS)('%s', (name, make, stateNames) => {
  it('step mode == parallel == two segments (models.md G.9) on reference and wasm', async () => {
    for (const b of ['reference', 'wasm'] as BackendName[]) {
      const layer = make({ inputSize: 5, hiddenSize: 4, backend: b, seed: 3 });
      await checkStepEqualsParallel(layer, randomInputs(4, [7, 3, 5]), b, b === 'reference' ? TOL_F64 : TOL_F32, `${name} (${b})`);
      layer.params().forEach((p) => p.dispose());
    }
  });

  it('whole-layer gradients by finite differences (float64, reference)', async () => {
    const layer = make({ inputSize: 3, hiddenSize: 4, backend: 'reference', seed: 5 });
    const st = Object.fromEntries(stateNames.map((n) => [n, [2, 4]]));
    await checkLayerGradsFd(layer, randomInputs(6, [4, 2, 3], st), evalMode, name);
    layer.params().forEach((p) => p.dispose());
  });

  it('every backend against the reference', async () => {
    const st = Object.fromEntries(stateNames.map((n) => [n, [3, 4]]));
    await checkBackendsAgainstReference((b) => make({ inputSize: 3, hiddenSize: 4, backend: b, seed: 7 }), randomInputs(8, [5, 3, 3], st), evalMode, backends, TOL_BACKEND, name);
  });
});

describe('GRU / LSTM inference memory', () => {
  it.each(KINDS)('%s: forward, carried state and step() free every intermediate (wasm)', async (name, make) => {
    await checkNoLeak(make({ inputSize: 3, hiddenSize: 4, backend: 'wasm' }), randomInputs(9, [4, 2, 3]), 'wasm', name);
  });
});

describe('GRU / LSTM training work is linear in T', () => {
  /** Op calls and elements written (every output of every call) by one forward + backward over T steps. */
  function work(make: Make, T: number): { calls: Map<string, number>; elements: number } {
    const layer = make({ inputSize: 4, hiddenSize: 4, backend: 'wasm', seed: 2 });
    const x = tensor(new Float32Array(T * 2 * 4).map((_, i) => Math.sin(i)), [T, 2, 4], { backend: 'wasm' });
    const calls = new Map<string, number>();
    let elements = 0;
    const off = addOpListener((op, _in, outs) => {
      calls.set(op.name, (calls.get(op.name) ?? 0) + 1);
      for (const o of outs) elements += sizeOf(o.shape);
    });
    try {
      tidy(() => valueAndGrad(() => mean(layer.forward(x, null, evalMode()).y.reshape([-1]), 0), layer.params()));
    } finally {
      off();
      x.dispose();
      layer.params().forEach((p) => p.dispose());
    }
    return { calls, elements };
  }

  it.each(KINDS)('%s: 4× the steps make 4× the op calls and elements (split ops, no slice_bwd scatters)', (name, make) => {
    const [a, b] = [work(make, 64), work(make, 256)];
    for (const w of [a, b]) {
      expect(w.calls.get('slice_bwd') ?? 0, `${name}: slice_bwd calls`).toBe(0);
      expect(w.calls.get('slice') ?? 0, `${name}: slice calls`).toBe(0);
    }
    const calls = (w: typeof a) => [...w.calls.values()].reduce((s, n) => s + n, 0);
    // A per-step cost independent of T: 4× the steps within 1% of 4× the work (T slices would give ~16× the elements).
    expect(calls(b) / calls(a), `${name}: op calls`).toBeLessThan(4.04);
    expect(b.elements / a.elements, `${name}: elements written`).toBeLessThan(4.04);
  });
});
