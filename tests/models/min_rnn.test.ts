// minGRU / minLSTM layers and LMs: parameter counts (models.md G.3, G.4, C.4), step mode = parallel forward and
// segment-carried state = one long segment (G.9), whole-layer gradients vs central differences in float64 on the
// reference backend, and every backend's gradients vs the reference's.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Parameter } from '../../src/autograd/parameter.js';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import type { BackendName } from '../../src/backends/backend.js';
import { add, mul, sum } from '../../src/ops/api.js';
import { getBackend, tensor, tidy } from '../../src/engine.js';
import { Init } from '../../src/models/init.js';
import { countParams, createLanguageModel } from '../../src/models/lm.js';
import { createMinRnnBlock, createMinRnnCell, type MinRnnKind } from '../../src/models/min_rnn.js';
import type { LayerState, ModelConfig } from '../../src/models/types.js';
import type { Tensor } from '../../src/tensor.js';
import { expectClose, type Tol } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { Rng } from '../helpers/rng.js';

/** Tolerances, once: step vs parallel in f32 and f64; float64 gradients vs central differences (h = 1e-6);
 *  float32 backends' gradients vs the reference's. */
const TOL: { stepF32: Tol; stepF64: Tol; fd: Tol; f32: Tol } = {
  stepF32: { atol: 2e-5, rtol: 2e-4 },
  stepF64: { atol: 1e-12, rtol: 1e-10 },
  fd: { atol: 1e-7, rtol: 1e-6 },
  f32: { atol: 5e-5, rtol: 5e-4 },
};
const FD_STEP = 1e-6;
const KINDS: MinRnnKind[] = ['mingru', 'minlstm'];

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

const total = (ps: Parameter[]): number => ps.reduce((n, p) => n + p.value.size, 0);

describe('parameter counts', () => {
  it('G.3: minGRU 2·d_h·d_x = 32,768 and minLSTM 3·d_h·d_x = 49,152 for d_x = d_h = 128 (weights only)', () => {
    // §C.4 counts the bare cell: the fused projection without biases, no to_out (expansion 1), no learned h0.
    for (const [kind, want] of [['mingru', 32_768], ['minlstm', 49_152]] as const) {
      const cell = createMinRnnCell({ kind, dim: 128, expansion: 1, bias: false, h0: 'zero' }, Init.create(0, 'wasm'));
      expect(total(cell.params()), kind).toBe(want);
      expect(cell.params().map((p) => p.name)).toEqual(['to_hidden_and_gate.weight']);
      cell.params().forEach((p) => p.dispose());
    }
  });

  it('C.4: lucidrains minGRU(512, e = 1.5) has 1,179,648 parameters; the official extras add biases and h0', () => {
    const cell = createMinRnnCell({ kind: 'mingru', dim: 512, expansion: 1.5 }, Init.create(0, 'wasm'));
    expect(total(cell.params())).toBe(1_179_648);
    cell.params().forEach((p) => p.dispose());
    // Official: biases on both projections (2·768 + 512) and a learned h0 (768).
    const off = createMinRnnCell({ kind: 'mingru', dim: 512, expansion: 1.5, bias: true, h0: 'learned' }, Init.create(0, 'wasm'));
    expect(total(off.params())).toBe(1_179_648 + 2 * 768 + 512 + 768);
    off.params().forEach((p) => p.dispose());
  });

  it('G.4: lucidrains minLM default (V 256, d 512, depth 6, ff 4, e 1.5): 19,944,960 (minGRU) and 22,304,256 (minLSTM)', () => {
    for (const [model, want] of [['mingru', 19_944_960], ['minlstm', 22_304_256]] as const) {
      const lm = createLanguageModel({ model, vocabSize: 256, dim: 512, layers: 6, options: { expansion: 1.5, ffMult: 4, convKernel: 0, bias: false } }, { seed: 0, backend: 'wasm' });
      expect(countParams(lm), model).toBe(want);
      lm.dispose();
    }
  });
});

function tinyConfig(model: MinRnnKind, conv: boolean): ModelConfig {
  const options: Record<string, number | boolean | string> = { expansion: 1.5, ffMult: 2, convKernel: conv ? 3 : 0, bias: true, h0: 'learned' };
  if (model === 'minlstm') Object.assign(options, { forgetBias: 3, normalize: false });
  return { model, vocabSize: 11, dim: 8, layers: 2, options };
}

function randomTokens(T: number, B: number, V: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: T * B }, () => rng.int(0, V));
}

describe('G.9: step mode and carried state equal the parallel forward', () => {
  const T = 9;
  const B = 3;
  for (const model of KINDS) {
    for (const conv of [false, true]) {
      it(`${model} LM, conv ${conv ? 'on' : 'off'}, on reference and wasm`, async () => {
        for (const be of ['reference', 'wasm'] as BackendName[]) {
          const cfg = tinyConfig(model, conv);
          const lm = createLanguageModel(cfg, { seed: 5, backend: be });
          const toks = randomTokens(T, B, cfg.vocabSize, 1);
          const tol = be === 'reference' ? TOL.stepF64 : TOL.stepF32;
          const { whole, stepped, split } = tidy(() => {
            const all = lm.forward(tensor(toks, [T, B], { backend: be }), null, { training: false });
            const rows: Tensor[] = [];
            let st = null as ReturnType<typeof lm.step>['state'] | null;
            for (let t = 0; t < T; t++) {
              const r = lm.step(tensor(toks.subarray(t * B, (t + 1) * B), [B], { backend: be }), st);
              rows.push(r.logits);
              st = r.state;
            }
            // Two segments with the state carried (truncated BPTT's forward).
            const cut = 4;
            const a = lm.forward(tensor(toks.subarray(0, cut * B), [cut, B], { backend: be }), null, { training: false });
            const b = lm.forward(tensor(toks.subarray(cut * B), [T - cut, B], { backend: be }), a.state, { training: false });
            return { whole: all.logits, stepped: rows, split: [a.logits, b.logits] };
          });
          const want = await whole.data();
          const got = new Float64Array(want.length);
          let off = 0;
          for (const r of stepped) {
            got.set(await r.data(), off);
            off += r.size;
          }
          expectClose(got, want, tol, `${model} conv=${conv} ${be}: step vs parallel`);
          const s0 = await split[0]!.data();
          const s1 = await split[1]!.data();
          const seg = new Float64Array(want.length);
          seg.set(s0, 0);
          seg.set(s1, s0.length);
          expectClose(seg, want, tol, `${model} conv=${conv} ${be}: two segments vs one`);
          for (const t of [whole, ...stepped, ...split]) t.dispose();
          lm.dispose();
          expect(getBackend(be).liveCount(), `${be}: tensors left alive`).toBe(0);
        }
      });
    }
  }
});

/** One layer's loss: Σ y ⊙ r + Σ hT ⊙ q (so the carried state's gradient path is exercised too). */
interface LayerCase {
  kind: MinRnnKind;
  cfg: ModelConfig;
  T: number;
  B: number;
  x: Float64Array;
  r: Float64Array;
  /** A carried state to start from (null: fresh, learned h0 in play). */
  withState: boolean;
}

function layerCase(kind: MinRnnKind, withState: boolean): LayerCase {
  const d = 4;
  const T = 5;
  const B = 2;
  const options: Record<string, number | boolean | string> = { expansion: 1.5, ffMult: 2, convKernel: 3, bias: true, h0: 'learned' };
  if (kind === 'minlstm') Object.assign(options, { normalize: withState, forgetBias: 1 });
  const rng = new Rng(kind === 'mingru' ? 11 : 12);
  const n = (k: number): Float64Array => Float64Array.from({ length: k }, () => rng.normal());
  return { kind, cfg: { model: kind, vocabSize: 5, dim: d, layers: 1, options }, T, B, x: n(T * B * d), r: n(T * B * d), withState };
}

function layerLoss(c: LayerCase, be: BackendName, params: Parameter[], layer: ReturnType<typeof createMinRnnBlock>): ReturnType<typeof valueAndGrad> {
  const up = (d: Float64Array, shape: number[]): Tensor => tensor(be === 'reference' ? d : Float32Array.from(d), shape, { dtype: 'f32', backend: be });
  return valueAndGrad(() => {
    const d = c.cfg.dim;
    const dInner = Math.round(1.5 * d);
    let state: LayerState | null = null;
    if (c.withState) {
      const hs = Float64Array.from({ length: c.B * dInner }, (_, i) => 0.3 + 0.1 * (i % 5)); // a positive carried h
      const cs = Float64Array.from({ length: 2 * c.B * d }, (_, i) => Math.sin(i));
      state = { h: up(hs, [c.B, dInner]), conv: up(cs, [2, c.B, d]) };
    }
    const { y, state: next } = layer.forward(up(c.x, [c.T, c.B, d]), state, { training: true });
    const q = up(Float64Array.from({ length: c.B * dInner }, (_, i) => Math.cos(i)), [c.B, dInner]);
    return add(sum(mul(y, up(c.r, [c.T, c.B, d])).reshape([-1]), 0), sum(mul(next.h!, q).reshape([-1]), 0));
  }, params);
}

async function lossValue(c: LayerCase, be: BackendName, params: Parameter[], layer: ReturnType<typeof createMinRnnBlock>): Promise<number> {
  const r = layerLoss(c, be, params, layer);
  const v = (await r.loss.dataF64())[0]!;
  r.loss.dispose();
  r.grads.forEach((g) => g?.dispose());
  return v;
}

describe('whole-layer gradients', () => {
  for (const kind of KINDS) {
    for (const withState of [false, true]) {
      it(`${kind} block (conv, FF, e = 1.5, ${withState ? 'carried state' : 'learned h0'}): float64 analytic = central differences`, async () => {
        const c = layerCase(kind, withState);
        const layer = createMinRnnBlock(kind, c.cfg, 0, Init.create(3, 'reference'));
        const params = layer.params();
        const r = layerLoss(c, 'reference', params, layer);
        const grads = await Promise.all(r.grads.map((g) => g?.dataF64() ?? null));
        r.loss.dispose();
        r.grads.forEach((g) => g?.dispose());
        // A carried state replaces the learned h0, so the loss does not depend on it: its gradient is null.
        grads.forEach((g, i) => expect(g === null, params[i]!.name).toBe(withState && params[i]!.name === 'rnn.h0'));
        const rng = new Rng(99);
        for (let pi = 0; pi < params.length; pi++) {
          const p = params[pi]!;
          if (withState && p.name === 'rnn.h0') continue;
          const base = await p.value.dataF64();
          for (let k = 0; k < 3; k++) {
            const j = rng.int(0, base.length);
            const at = async (delta: number): Promise<number> => {
              const v = Float64Array.from(base);
              v[j]! += delta;
              p.assign(tensor(v, p.shape, { dtype: 'f32', backend: 'reference' }));
              return lossValue(c, 'reference', params, layer);
            };
            const fd = ((await at(FD_STEP)) - (await at(-FD_STEP))) / (2 * FD_STEP);
            p.assign(tensor(base, p.shape, { dtype: 'f32', backend: 'reference' }));
            expectClose([grads[pi]![j]!], [fd], TOL.fd, `${kind}: d loss / d ${p.name}[${j}]`);
          }
        }
        params.forEach((p) => p.dispose());
      });
    }
  }

  for (const kind of KINDS) {
    it(`${kind} block: every backend's gradients equal the reference's`, async () => {
      const c = layerCase(kind, false);
      const ref = createMinRnnBlock(kind, c.cfg, 0, Init.create(3, 'reference'));
      const rr = layerLoss(c, 'reference', ref.params(), ref);
      const want = await Promise.all(rr.grads.map((g) => g!.dataF64()));
      rr.grads.forEach((g) => g?.dispose());
      rr.loss.dispose();
      ref.params().forEach((p) => p.dispose());
      expect(backends).toContain('wasm');
      for (const be of backends) {
        const layer = createMinRnnBlock(kind, c.cfg, 0, Init.create(3, be));
        const r = layerLoss(c, be, layer.params(), layer);
        for (let i = 0; i < want.length; i++) {
          expectClose(await r.grads[i]!.data(), want[i]!, TOL.f32, `${kind} on ${be}: grad of ${layer.params()[i]!.name}`);
        }
        r.grads.forEach((g) => g?.dispose());
        r.loss.dispose();
        layer.params().forEach((p) => p.dispose());
      }
    });
  }
});
