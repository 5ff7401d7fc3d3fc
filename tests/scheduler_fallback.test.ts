// Fallback through the engine: a TEST-ONLY op without a WGSL kernel, an allocation failure and a lost device move
// the call to the next best backend with one warning. A scripted stand-in for the GPU backend (float64 storage,
// asynchronous reads only) makes the failures deterministic; the real Dawn device is exercised in
// tests/train/device_loss.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { availableBackends, getBackend, registerBackend, runOp, tensor, unregisterBackend } from '../src/engine.js';
import { DeviceLostError, RecurError } from '../src/errors.js';
import { init } from '../src/index.js';
import type { OpDef, Spec, Specs } from '../src/ops/op.js';
import { OPS } from '../src/ops/registry.js';
import type { Calibration, ClassRate } from '../src/scheduler/cost_model.js';
import { explain, resetExplain, resetWarnings } from '../src/scheduler/explain.js';
import { generate } from '../src/train/generate.js';
import { getCalibration, setBackend, setCalibration, withBackend } from '../src/scheduler/scheduler.js';
import { createLanguageModel } from '../src/models/lm.js';
import { valueAndGrad } from '../src/autograd/value_and_grad.js';
import { mean, softmaxCrossEntropy } from '../src/ops/api.js';

type Mode = 'ok' | 'alloc-fails' | 'lost';

/** Stands in for WebGPU: float64 storage, reference kernels, async reads only, failures on demand. */
class ScriptedGpu implements Backend {
  readonly name = 'webgpu' as const;
  readonly readSync = null;
  mode: Mode = 'ok';
  runs = 0;
  private live = 0;
  alloc(spec: Spec): Float64Array {
    if (this.mode === 'alloc-fails') throw new RecurError(`scripted gpu: out of memory for [${spec.shape.join(',')}]`);
    if (this.mode === 'lost') throw new DeviceLostError('webgpu: the WebGPU device is lost (scripted)');
    this.live++;
    return new Float64Array(spec.shape.reduce((a, b) => a * b, 1));
  }
  free(): void {
    this.live--;
  }
  write(s: unknown, _spec: Spec, data: ArrayLike<number>): void {
    (s as Float64Array).set(data);
  }
  async read(s: unknown): Promise<Float32Array> {
    return Float32Array.from(s as Float64Array);
  }
  run<P>(op: OpDef<P>, inputs: readonly unknown[], outputs: readonly unknown[], specs: Specs, p: P): void {
    this.runs++;
    op.reference(inputs as Float64Array[], specs, p).forEach((r, i) => (outputs[i] as Float64Array).set(r));
  }
  liveCount(): number {
    return this.live;
  }
  info(): Record<string, unknown> {
    return { available: this.mode !== 'lost', runtime: 'scripted' };
  }
  async sync(): Promise<void> {}
  dispose(): void {}
}

const rate = (latency: number, gflops: number): ClassRate => ({ latency, flops: gflops * 1e9, bytes: gflops * 1e9 });
const all = (r: ClassRate) => ({ matvec: r, matmul_small: r, matmul_large: r, elementwise: r, scan: r, attention: r });
/** The stand-in GPU looks 1000x faster, so auto sends wasm work there. */
const GPU_WINS: Calibration = {
  identity: 'fake', measuredAt: '', tookMs: 0,
  backends: { wasm: all(rate(1e-3, 0.01)), webgpu: all(rate(1e-7, 1000)) },
  links: { 'wasm->webgpu': { latency: 1e-9, bytesPerSecond: 1e15 } },
};

/** TEST-ONLY op: unary exp with its WGSL kernel left out (real ops must have every kernel: tests/registry.test.ts). */
const noWgslOp = { ...OPS.unary, name: 'test_exp_without_wgsl', webgpu: undefined } as unknown as OpDef<{ fn: 'exp' }>;

let gpu: ScriptedGpu;
const saved = getCalibration();
beforeAll(async () => {
  await init();
});
afterEach(() => {
  if (availableBackends().includes('webgpu')) unregisterBackend('webgpu');
  setCalibration(saved);
  vi.restoreAllMocks();
});
afterAll(() => setCalibration(saved));

function setupGpu(mode: Mode): { warn: ReturnType<typeof vi.spyOn> } {
  gpu = new ScriptedGpu();
  gpu.mode = mode;
  registerBackend(gpu);
  setCalibration(GPU_WINS);
  resetWarnings();
  return { warn: vi.spyOn(console, 'warn').mockImplementation(() => {}) };
}

const x = () => tensor([0, 1, -1, 2], [4], { backend: 'wasm' });
const EXP = [1, Math.E, 1 / Math.E, Math.E ** 2];

describe('fallback', () => {
  it('an op without a WGSL kernel runs on the next best backend, with one warning', () => {
    const { warn } = setupGpu('ok');
    for (const pin of ['webgpu', undefined] as const) {
      const a = x();
      const [y] = runOp(noWgslOp, [a], { fn: 'exp' }, { backend: pin });
      expect(y!.backend.name).toBe('wasm');
      Array.from(y!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(EXP[i]!, 5));
      a.dispose();
      y!.dispose();
    }
    expect(gpu.runs).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/test_exp_without_wgsl has no webgpu kernel; running it on wasm/);
    const d = explain().decisions.filter((e) => e.op === 'test_exp_without_wgsl');
    expect(d.every((e) => e.backend === 'wasm' && e.why === 'fallback' && e.predicted.webgpu! < e.predicted.wasm!)).toBe(true);
  });

  it('... and a GPU-resident input it cannot read synchronously is a clear error', async () => {
    setupGpu('ok');
    const a = tensor([1, 2], [2], { backend: 'webgpu' });
    expect(() => runOp(noWgslOp, [a], { fn: 'exp' })).toThrow(/test_exp_without_wgsl: an input lives on webgpu, which has no kernel for this op.*toBackend/);
    a.dispose();
  });

  it('the same call with its kernel goes to the (faster) GPU', async () => {
    setupGpu('ok');
    const a = x();
    const [y] = runOp(OPS.unary, [a], { fn: 'exp' });
    expect(y!.backend.name).toBe('webgpu');
    expect(gpu.runs).toBe(1);
    a.dispose();
    y!.dispose();
  });

  it('an allocation failure moves the call to wasm with one warning; a pinned call fails instead', () => {
    const { warn } = setupGpu('alloc-fails');
    for (let i = 0; i < 2; i++) {
      const a = x();
      const [y] = runOp(OPS.unary, [a], { fn: 'exp' });
      expect(y!.backend.name).toBe('wasm');
      a.dispose();
      y!.dispose();
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/unary: allocation on webgpu failed \(scripted gpu: out of memory for \[4\]\); running on wasm instead/);
    const a = x();
    expect(() => runOp(OPS.unary, [a], { fn: 'exp' }, { backend: 'webgpu' })).toThrow(/out of memory/);
    a.dispose();
  });

  it('a lost device leaves the registry and the call runs on wasm, with one warning', () => {
    const { warn } = setupGpu('lost');
    const a = x();
    const [y] = runOp(OPS.unary, [a], { fn: 'exp' });
    expect(y!.backend.name).toBe('wasm');
    expect(availableBackends()).not.toContain('webgpu');
    const [z] = runOp(OPS.unary, [a], { fn: 'exp' });
    expect(z!.backend.name).toBe('wasm');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/unary: the webgpu device is lost; running on wasm instead/);
    [a, y!, z!].forEach((t) => t.dispose());
  });

  it('in auto mode, in-place state on wasm follows a GPU gradient up once (views too); pinned, it is refused', async () => {
    setupGpu('ok');
    const P = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
    const [param, m, v] = [[1, 2], [0, 0], [0, 0]].map((d) => tensor(d, [2], { backend: 'wasm' }));
    const view = param!.reshape([1, 2]);
    const grad = tensor([1, -1], [2], { backend: 'webgpu' });
    const wasmLive = getBackend('wasm').liveCount();
    expect(() => runOp(OPS.adamw_step, [param!, grad, m!, v!], P, { backend: 'webgpu' })).toThrow(/in-place input 'param' lives on wasm, not webgpu/);
    runOp(OPS.adamw_step, [param!, grad, m!, v!], P);
    for (const t of [param!, view, m!, v!]) expect(t.backend.name).toBe('webgpu');
    const got = Array.from(await view.data());
    expect(got[0]).toBeCloseTo(0.9, 5); // Adam's first step moves each weight by lr against the gradient's sign
    expect(got[1]).toBeCloseTo(2.1, 5);
    expect(getBackend('wasm').liveCount()).toBe(wasmLive - 3); // the wasm copies were freed, not leaked
    [param!, view, m!, v!, grad].forEach((t) => t.dispose());
    expect(gpu.liveCount()).toBe(0);
  });
});

describe('a per-model pin', () => {
  it('runs forward and backward on the pinned backend, over a global pin', () => {
    // (ops outside the model follow the global pin unless scoped: data they put on a GPU cannot come back to a
    // wasm-pinned op synchronously)
    setupGpu('ok');
    setBackend('webgpu');
    try {
      const model = createLanguageModel({ model: 'mingru', vocabSize: 8, dim: 4, layers: 1 }, { seed: 1, pin: 'wasm' });
      const ids = tensor(Int32Array.from([1, 2, 3, 4]), [2, 2], { dtype: 'i32', backend: 'wasm' });
      const targets = tensor(Int32Array.from([2, 3, 4, 5]), [4], { dtype: 'i32', backend: 'wasm' });
      // The model's ops follow its pin; the loss outside the model is pinned by a scope. The tape carries both pins
      // into backward (without them the global pin would put every op on the GPU).
      const { loss, grads } = valueAndGrad(() => {
        const { logits } = model.forward(ids, null, { training: false });
        return withBackend('wasm', () => mean(softmaxCrossEntropy(logits, targets), 0));
      }, model.params());
      expect(gpu.runs).toBe(0);
      expect(loss.backend.name).toBe('wasm');
      expect(grads.every((g) => g === null || g.backend.name === 'wasm')).toBe(true);
      [loss, ids, targets, ...grads].forEach((t) => t?.dispose());
      model.dispose();
    } finally {
      setBackend('auto');
    }
  });
});

describe('generation after a GPU prefill', () => {
  it('brings the carried state home so the token loop runs on wasm', async () => {
    setupGpu('ok');
    // A GPU with a high launch latency and vast throughput: a 2,000-token prefill goes there, single tokens do not.
    setCalibration({ ...GPU_WINS, backends: { wasm: all(rate(1e-6, 1)), webgpu: all(rate(1e-4, 1e6)) }, links: { 'wasm->webgpu': { latency: 1e-6, bytesPerSecond: 1e12 } } });
    const model = createLanguageModel({ model: 'mingru', vocabSize: 8, dim: 8, layers: 1 }, { seed: 2, backend: 'wasm' });
    const prompt = Array.from({ length: 2000 }, (_, i) => (i * 3) % 8);
    resetExplain();
    const ids = await generate(model, { prompt, tokens: 6, temperature: 0 });
    const decisions = explain().decisions.filter((d) => d.calls > 0);
    const prefill = decisions.filter((d) => d.shapes.includes('2000'));
    const steps = decisions.filter((d) => !d.shapes.includes('2000') && d.op !== 'slice');
    expect(prefill.some((d) => d.backend === 'webgpu')).toBe(true);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.filter((d) => d.backend !== 'wasm').map((d) => `${d.op} ${d.shapes} -> ${d.backend}`)).toEqual([]);
    setBackend('wasm');
    try {
      expect(await generate(model, { prompt, tokens: 6, temperature: 0 })).toEqual(ids); // same tokens as all-wasm
    } finally {
      setBackend('auto');
      model.dispose();
    }
  });
});

