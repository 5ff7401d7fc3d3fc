// Checks shared by the layer tests: parameter counts from shapes, whole-layer gradients by central finite differences
// (float64, reference backend), every backend's forward/gradients against the reference's, step mode == parallel.
import { expect } from 'vitest';
import { Parameter } from '../../src/autograd/parameter.js';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import type { BackendName } from '../../src/backends/backend.js';
import { getBackend, tensor, tidy } from '../../src/engine.js';
import { concat, mul, slice, sum } from '../../src/ops/api.js';
import type { Tensor } from '../../src/tensor.js';
import type { ForwardOptions, LayerState, SequenceLayer } from '../../src/models/types.js';
import { expectClose, type Tol } from './allclose.js';
import { generate, Rng } from './rng.js';

export const paramCount = (layer: { params(): Parameter[] }): number => layer.params().reduce((a, p) => a + p.value.size, 0);

/** Inputs of one check: x (T, B, d) and optional initial state, as data (so every backend gets the same numbers). */
export interface LayerInputs {
  x: { data: Float64Array; shape: number[] };
  state?: Record<string, { data: Float64Array; shape: number[] }>;
}

export function randomInputs(seed: number, shape: number[], state: Record<string, number[]> = {}, scale = 1): LayerInputs {
  const rng = new Rng(seed);
  const mk = (s: number[]) => ({ data: generate(rng, 'normal', s.reduce((a, b) => a * b, 1)).map((v) => Math.fround(v * scale)), shape: s });
  const st: Record<string, { data: Float64Array; shape: number[] }> = {};
  for (const [k, s] of Object.entries(state)) st[k] = mk(s);
  return { x: mk(shape), state: Object.keys(st).length ? st : undefined };
}

/** The checked loss: Σ y ⊙ R_y + Σ_s state_s ⊙ R_s with fixed float32 weights R (so every output gets a gradient). */
function weightedSum(t: Tensor, seed: number): Tensor {
  const w = tensor(generate(new Rng(seed), 'normal', t.size), t.shape, { backend: t.backend.name });
  const flat = mul(t, w).reshape([t.size]);
  return sum(flat, 0);
}

function lossOf(y: Tensor, state: LayerState): Tensor {
  let loss = weightedSum(y, 101);
  Object.keys(state).sort().forEach((k, i) => {
    const s = state[k]!;
    if (s.size === 0) return;
    const l = weightedSum(s, 202 + i);
    loss = loss.size ? addScalar(loss, l) : l;
  });
  return loss;
}

function addScalar(a: Tensor, b: Tensor): Tensor {
  return sum(concat([a.reshape([1]), b.reshape([1])], 0), 0);
}

/** Leaves of a run: the layer's parameters, then x and each initial state tensor as Parameters. */
function leaves(layer: SequenceLayer, inputs: LayerInputs, backend: BackendName): { all: Parameter[]; x: Parameter; state: Record<string, Parameter> } {
  const x = new Parameter('x', tensor(inputs.x.data, inputs.x.shape, { backend }));
  const state: Record<string, Parameter> = {};
  for (const [k, v] of Object.entries(inputs.state ?? {})) state[k] = new Parameter(`state.${k}`, tensor(v.data, v.shape, { backend }));
  return { all: [...layer.params(), x, ...Object.values(state)], x, state };
}

function runLoss(layer: SequenceLayer, l: ReturnType<typeof leaves>, opts: () => ForwardOptions): Tensor {
  const st: Record<string, Tensor> = {};
  for (const [k, p] of Object.entries(l.state)) st[k] = p.value;
  const { y, state } = layer.forward(l.x.value, Object.keys(st).length ? st : null, opts());
  return lossOf(y, state);
}

/** Analytic gradients (valueAndGrad) of the layer's whole forward against central differences, float64 reference. */
export async function checkLayerGradsFd(layer: SequenceLayer, inputs: LayerInputs, opts: () => ForwardOptions, what: string, samples = 6): Promise<void> {
  const l = leaves(layer, inputs, 'reference');
  const { loss, grads } = valueAndGrad(() => runLoss(layer, l, opts), l.all);
  loss.dispose();
  const eps = 1e-6;
  const tol: Tol = { atol: 1e-7, rtol: 1e-6 };
  const value = async (): Promise<number> => {
    const t = tidy(() => runLoss(layer, l, opts));
    const v = (await t.dataF64())[0]!;
    t.dispose();
    return v;
  };
  for (const [pi, p] of l.all.entries()) {
    const base = await p.value.dataF64();
    const an = grads[pi] ? await grads[pi]!.dataF64() : new Float64Array(base.length);
    const rng = new Rng(7 + pi);
    const idx = base.length <= samples ? [...base.keys()] : Array.from({ length: samples }, () => rng.int(0, base.length));
    const fd: number[] = [];
    const got: number[] = [];
    for (const i of idx) {
      const at = async (v: number): Promise<number> => {
        const d = Float64Array.from(base);
        d[i] = v;
        p.assign(tensor(d, p.shape, { backend: 'reference' }));
        return value();
      };
      fd.push(((await at(base[i]! + eps)) - (await at(base[i]! - eps))) / (2 * eps));
      got.push(an[i]!);
    }
    p.assign(tensor(base, p.shape, { backend: 'reference' }));
    expectClose(got, fd, tol, `${what}: d loss / d ${p.name} (indices ${idx.join(',')})`);
  }
  grads.forEach((g) => g?.dispose());
  [l.x, ...Object.values(l.state)].forEach((p) => p.dispose());
}

/** y, final state and every gradient of one layer built on `backend`, as float64 arrays by name. */
export async function layerOutputs(makeLayer: (b: BackendName) => SequenceLayer, inputs: LayerInputs, opts: () => ForwardOptions, backend: BackendName): Promise<Record<string, Float64Array>> {
  const layer = makeLayer(backend);
  const l = leaves(layer, inputs, backend);
  const out: Record<string, Float64Array> = {};
  const { value, grads } = valueAndGrad(() => {
    const st: Record<string, Tensor> = {};
    for (const [k, p] of Object.entries(l.state)) st[k] = p.value;
    const r = layer.forward(l.x.value, Object.keys(st).length ? st : null, opts());
    return { loss: lossOf(r.y, r.state), y: r.y, state: { ...r.state } };
  }, l.all);
  out['y'] = await value.y.dataF64();
  for (const [k, t] of Object.entries(value.state)) out[`state.${k}`] = await t.dataF64();
  for (const [i, g] of grads.entries()) out[`grad.${l.all[i]!.name}`] = g ? await g.dataF64() : new Float64Array(l.all[i]!.value.size);
  [value.loss, value.y, ...Object.values(value.state), ...grads].forEach((t) => t?.dispose());
  l.all.forEach((p) => p.dispose());
  return out;
}

/** Every backend's y, state and gradients against the reference's (gradient atol relative to the tensor's largest entry). */
export async function checkBackendsAgainstReference(makeLayer: (b: BackendName) => SequenceLayer, inputs: LayerInputs, opts: () => ForwardOptions,
  backends: readonly BackendName[], tol: { fwd: Tol; grad: Tol }, what: string): Promise<void> {
  const ref = await layerOutputs(makeLayer, inputs, opts, 'reference');
  for (const b of backends) {
    const got = await layerOutputs(makeLayer, inputs, opts, b);
    expect(Object.keys(got).sort()).toEqual(Object.keys(ref).sort());
    for (const k of Object.keys(ref)) {
      // A gradient sums O(T·B) float32 terms of the size of its largest entries: its atol scales with that size.
      const scale = Math.max(1, ...Array.from(ref[k]!, Math.abs));
      const t = k.startsWith('grad.') ? { atol: tol.grad.atol * scale, rtol: tol.grad.rtol } : tol.fwd;
      expectClose(got[k]!, ref[k]!, t, `${what} on ${b}: ${k}`);
    }
  }
}

/**
 * Step mode == parallel (models.md G.9): forward over the whole of x, forward over two segments with the state carried,
 * and a prefill of `prefill` tokens followed by step() for the rest all give the same y and final state.
 */
export async function checkStepEqualsParallel(layer: SequenceLayer, inputs: LayerInputs, backend: BackendName, tol: Tol, what: string, prefill = 2): Promise<void> {
  const [T, B, d] = inputs.x.shape as [number, number, number];
  const x = tensor(inputs.x.data, inputs.x.shape, { backend });
  const read = async (t: Tensor) => t.dataF64();
  const full = layer.forward(x, null, { training: false });
  const yFull = await read(full.y);
  const split = Math.floor(T / 2);
  const a = slice(x, 0, 0, split);
  const b = slice(x, 0, split, T - split);
  const s1 = layer.forward(a, null, { training: false });
  const s2 = layer.forward(b, s1.state, { training: false });
  const ySeg = concat([s1.y, s2.y], 0);
  expectClose(await read(ySeg), yFull, tol, `${what}: two segments with carried state vs one (y)`);
  let state = layer.forward(slice(x, 0, 0, prefill), null, { training: false });
  const ys: Tensor[] = [state.y];
  for (let t = prefill; t < T; t++) {
    const r = layer.step(slice(x, 0, t, 1), state.state);
    ys.push(r.y);
    state = r;
  }
  const yStep = concat(ys, 0);
  expect(yStep.shape).toEqual([T, B, full.y.shape[2]]);
  expectClose(await read(yStep), yFull, tol, `${what}: prefill ${prefill} + step() vs parallel (y)`);
  for (const k of Object.keys(full.state)) {
    expectClose(await read(state.state[k]!), await read(full.state[k]!), tol, `${what}: step final state ${k}`);
    expectClose(await read(s2.state[k]!), await read(full.state[k]!), tol, `${what}: segments final state ${k}`);
  }
  void d;
}

/** Inference without a tape (forward with a carried state, then step()) frees every intermediate: after disposing
 *  what the calls returned, the backend holds as many allocations as before. */
export async function checkNoLeak(layer: SequenceLayer, inputs: LayerInputs, backend: BackendName, what: string, opts: ForwardOptions = { training: false }): Promise<void> {
  const be = getBackend(backend);
  const x = tensor(inputs.x.data, inputs.x.shape, { backend });
  const x1 = slice(x, 0, 0, 1);
  const before = be.liveCount();
  const a = layer.forward(x, null, opts);
  const b = layer.forward(x, a.state, opts);
  const c = layer.step(x1, b.state);
  const returned = new Set<Tensor>([a.y, b.y, c.y, ...Object.values(a.state), ...Object.values(b.state), ...Object.values(c.state)]);
  returned.forEach((t) => t.dispose());
  await be.sync();
  expect(be.liveCount(), `${what}: live allocations on ${backend} after inference`).toBe(before);
  x.dispose();
  x1.dispose();
}
