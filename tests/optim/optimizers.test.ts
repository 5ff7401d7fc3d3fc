// AdamW and RAdam: 10-step trajectories on every backend against float64 references written here from the papers
// (RAdam's steps 1-5 are un-adapted, ρ_t ≤ 5, and 6-10 rectified), null gradients, state()/loadState(), errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { Parameter } from '../../src/autograd/parameter.js';
import type { BackendName } from '../../src/backends/backend.js';
import { getBackend, tensor } from '../../src/engine.js';
import { OptionError, ShapeError } from '../../src/errors.js';
import { AdamW } from '../../src/optim/adamw.js';
import type { MomentOptimizer, MomentOptimizerOptions } from '../../src/optim/optimizer.js';
import { RAdam, radamRectification } from '../../src/optim/radam.js';
import { warmupCosine } from '../../src/optim/schedule.js';
import { expectClose, type Tol } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { generate, Rng } from '../helpers/rng.js';

/** Tolerances, once: the reference backend is float64 (only the op's host-side rounding differs); float32 backends
 *  accumulate a few roundings per step over 10 steps. */
const TOL: Record<'float64' | 'float32', Tol> = { float64: { atol: 1e-12, rtol: 1e-10 }, float32: { atol: 1e-5, rtol: 2e-5 } };
const STEPS = 10;
const SHAPES = [[7], [3, 5]];

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

type Kind = 'adamw' | 'radam';
interface Hyper {
  lr: (t: number) => number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Float64 reference of one parameter's trajectory, straight from the update rules. */
function referenceTrajectory(kind: Kind, p0: Float64Array, grads: Float64Array[], h: Hyper): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const rhoInf = 2 / (1 - h.beta2) - 1;
  grads.forEach((g, s) => {
    const t = s + 1;
    const lr = h.lr(t);
    const bc1 = 1 - h.beta1 ** t;
    const bc2 = 1 - h.beta2 ** t;
    const rho = rhoInf - (2 * t * h.beta2 ** t) / bc2;
    const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
    for (let i = 0; i < p.length; i++) {
      m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g[i]!;
      v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g[i]! * g[i]!;
      const decayed = p[i]! - lr * h.weightDecay * p[i]!;
      const mHat = m[i]! / bc1;
      const adam = mHat / (Math.sqrt(v[i]! / bc2) + h.eps);
      if (kind === 'adamw') p[i] = decayed - lr * adam;
      else p[i] = rho > 5 ? decayed - lr * r * adam : decayed - lr * mHat;
    }
  });
  return p;
}

function make(kind: Kind, params: Parameter[], opts: MomentOptimizerOptions): MomentOptimizer {
  return kind === 'adamw' ? new AdamW(params, opts) : new RAdam(params, opts);
}

async function runOn(kind: Kind, b: BackendName, p0: Float64Array[], grads: Float64Array[][], h: Hyper): Promise<Float64Array[]> {
  const params = p0.map((d, i) => new Parameter(`p${i}`, tensor(b === 'reference' ? d : Float32Array.from(d), SHAPES[i]!, { dtype: 'f32', backend: b })));
  const opt = make(kind, params, { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay });
  for (let s = 0; s < STEPS; s++) {
    const gs = grads.map((g, i) => tensor(b === 'reference' ? g[s]! : Float32Array.from(g[s]!), SHAPES[i]!, { dtype: 'f32', backend: b }));
    opt.step(gs);
    gs.forEach((g) => g.dispose());
  }
  expect(opt.stepCount).toBe(STEPS);
  const out = await Promise.all(params.map((p) => p.value.dataF64()));
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

function problem(seed: number): { p0: Float64Array[]; grads: Float64Array[][] } {
  const rng = new Rng(seed);
  const p0 = SHAPES.map((s) => generate(rng, 'normal', s.reduce((a, b) => a * b, 1)));
  const grads = p0.map((p) => Array.from({ length: STEPS }, () => generate(rng, 'normal', p.length)));
  return { p0, grads };
}

const HYPER: Record<string, Hyper> = {
  'constant lr 1e-2, weight decay 0.1': { lr: () => 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 },
  'warm-up + cosine lr, β2 0.99, no weight decay': { lr: warmupCosine({ peakLr: 3e-2, warmupSteps: 4, totalSteps: 10, minLr: 1e-3 }), beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0 },
};

describe('optimizers', () => {
  it('RAdam takes un-adapted steps while ρ_t ≤ 5 (steps 1-5 at β2 0.999) and rectified ones after', () => {
    const phases = Array.from({ length: STEPS }, (_, s) => radamRectification(s + 1, 0.999).r !== null);
    expect(phases).toEqual([false, false, false, false, false, true, true, true, true, true]);
    expect(radamRectification(1, 0.999).rho).toBeCloseTo(1, 9);
    // r_t rises towards 1 as ρ_t → ρ∞.
    expect(radamRectification(10_000, 0.999).r).toBeGreaterThan(0.99);
  });

  for (const kind of ['adamw', 'radam'] as const) {
    for (const [label, h] of Object.entries(HYPER)) {
      it(`${kind}: 10 steps (${label}) on every backend follow the float64 reference`, async () => {
        const { p0, grads } = problem(kind === 'adamw' ? 11 : 12);
        const want = p0.map((p, i) => referenceTrajectory(kind, p, grads[i]!, h));
        for (const b of ['reference', ...backends] as BackendName[]) {
          const before = getBackend(b).liveCount();
          const got = await runOn(kind, b, p0, grads, h);
          got.forEach((g, i) => expectClose(g, want[i]!, b === 'reference' ? TOL.float64 : TOL.float32, `${kind} ${label} on ${b}: p${i}`));
          expect(getBackend(b).liveCount(), `${kind} on ${b}: leak`).toBe(before);
        }
      });
    }
  }

  it('skips a parameter whose gradient is null (no decay, moments untouched), as PyTorch does', async () => {
    const a = new Parameter('a', tensor([1, 2, 3], [3], { backend: 'reference' }));
    const b = new Parameter('b', tensor([4, 5], [2], { backend: 'reference' }));
    const opt = new AdamW([a, b], { lr: 0.1, weightDecay: 0.5 });
    const g = tensor([1, 1, 1], [3], { backend: 'reference' });
    opt.step([g, null]);
    expect(Array.from(b.value.dataSync())).toEqual([4, 5]);
    expect(Array.from(a.value.dataSync()).every((x, i) => x < [1, 2, 3][i]!)).toBe(true);
    const st = await opt.state();
    expect(Array.from(st.tensors['b.m']!.data)).toEqual([0, 0]);
    [g].forEach((t) => t.dispose());
    opt.dispose();
    [a, b].forEach((p) => p.dispose());
  });

  for (const kind of ['adamw', 'radam'] as const) {
    it(`${kind}: state() then loadState() into a fresh optimizer continues exactly (step count, m, v)`, async () => {
      const { p0, grads } = problem(21);
      const h = HYPER['warm-up + cosine lr, β2 0.99, no weight decay']!;
      const opts = { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: 0.05 };
      const mkParams = (data: ArrayLike<number>[]) => data.map((d, i) => new Parameter(`layer${i}.w`, tensor(Float32Array.from(d), SHAPES[i]!, { backend: 'wasm' })));
      const stepWith = (opt: MomentOptimizer, s: number) => {
        const gs = grads.map((g, i) => tensor(Float32Array.from(g[s]!), SHAPES[i]!, { backend: 'wasm' }));
        opt.step(gs);
        gs.forEach((g) => g.dispose());
      };
      const pa = mkParams(p0);
      const a = make(kind, pa, opts);
      for (let s = 0; s < 4; s++) stepWith(a, s);
      const saved = await a.state();
      expect(saved.kind).toBe(kind);
      expect(saved.step).toBe(4);
      expect(Object.keys(saved.tensors).sort()).toEqual(['layer0.w.m', 'layer0.w.v', 'layer1.w.m', 'layer1.w.v']);
      const pb = mkParams(await Promise.all(pa.map((p) => p.value.data())));
      const b = make(kind, pb, opts);
      b.loadState(saved);
      expect(b.stepCount).toBe(4);
      for (let s = 4; s < STEPS; s++) {
        stepWith(a, s);
        stepWith(b, s);
      }
      for (let i = 0; i < pa.length; i++) expect(Array.from(pb[i]!.value.dataSync())).toEqual(Array.from(pa[i]!.value.dataSync()));
      [a, b].forEach((o) => o.dispose());
      [...pa, ...pb].forEach((p) => p.dispose());
    });
  }

  it('names bad options, bad gradients and bad state', async () => {
    const w = new Parameter('w', tensor([1, 2, 3], [3], { backend: 'reference' }));
    expect(() => new AdamW([w], { lr: -1 })).toThrow(/AdamW: lr must be a finite number >= 0 or a schedule function \(got -1\)/);
    expect(() => new RAdam([w], { lr: 1e-3, beta2: 1 })).toThrow(/RAdam: beta1 and beta2 must lie in \[0, 1\)/);
    expect(() => new AdamW([w, w], { lr: 1e-3 })).toThrow(/two parameters are named 'w'/);
    const opt = new AdamW([w], { lr: () => NaN });
    const g = tensor([1, 1], [2], { backend: 'reference' });
    expect(() => opt.step([g])).toThrow(ShapeError);
    expect(() => opt.step([g])).toThrow(/AdamW\.step: gradient \[2\] does not match parameter 'w' \[3\]/);
    expect(() => opt.step([])).toThrow(/got 0 gradients for 1 parameters/);
    const g3 = tensor([1, 1, 1], [3], { backend: 'reference' });
    expect(() => opt.step([g3])).toThrow(/the learning-rate schedule gave NaN at step 1/);
    const st = await opt.state();
    expect(() => opt.loadState({ ...st, kind: 'radam' })).toThrow(/the state is for 'radam', not 'adamw'/);
    expect(() => opt.loadState({ ...st, tensors: { 'w.m': st.tensors['w.m']! } })).toThrow(/missing 'w.v'/);
    expect(() => opt.loadState({ ...st, tensors: { ...st.tensors, 'x.m': st.tensors['w.m']! } })).toThrow(/unknown entries x.m/);
    expect(() => opt.loadState({ ...st, tensors: { ...st.tensors, 'w.v': { shape: [2], data: new Float32Array(2) } } })).toThrow(/'w.v' has shape \[2\] and 2 values; parameter 'w' is \[3\]/);
    expect(() => opt.loadState({ ...st, step: -1 })).toThrow(OptionError);
    [g, g3].forEach((t) => t.dispose());
    opt.dispose();
    w.dispose();
  });
});
