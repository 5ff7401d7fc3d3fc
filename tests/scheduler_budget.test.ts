// What keeps calibration short and scheduling cheap: kernels are compiled before a probe, off the main thread,
// under the backend's deadline (a stand-in GPU whose matmul never finishes compiling still calibrates, the rest
// estimated); Dawn's asynchronous pipeline creation fills the cache that run() uses; switching pins re-decides
// nothing; RECUR_BACKEND sets the global pin; the CLI's `auto` brings WebGPU up for the scheduler. No timings.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import type { WebGpuBackend } from '../src/backends/webgpu/backend.js';
import { startBackend } from '../src/cli/lm_common.js';
import { availableBackends, registerBackend, runOp, tensor, unregisterBackend } from '../src/engine.js';
import { init } from '../src/index.js';
import type { OpDef, Spec, Specs } from '../src/ops/op.js';
import { OPS } from '../src/ops/registry.js';
import type { Tensor } from '../src/tensor.js';
import { calibrate } from '../src/scheduler/calibrate.js';
import { OP_CLASSES } from '../src/scheduler/cost_model.js';
import { explain, resetExplain } from '../src/scheduler/explain.js';
import { chooseForCall, getBackendPin, getCalibration, setBackend, setCalibration } from '../src/scheduler/scheduler.js';
import { getWebGpu, releaseWebGpu } from './helpers/webgpu.js';

/** Stands in for a GPU: float64 storage, reference kernels, async reads; its matmul kernel never finishes compiling. */
class SlowCompilingGpu implements Backend {
  readonly name = 'webgpu' as const;
  readonly readSync = null;
  prepared: string[] = [];
  ran: string[] = [];
  alloc(spec: Spec): Float64Array {
    return new Float64Array(spec.shape.reduce((a, b) => a * b, 1));
  }
  free(): void {}
  write(s: unknown, _spec: Spec, data: ArrayLike<number>): void {
    (s as Float64Array).set(data);
  }
  async read(s: unknown): Promise<Float32Array> {
    return Float32Array.from(s as Float64Array);
  }
  run<P>(op: OpDef<P>, inputs: readonly unknown[], outputs: readonly unknown[], specs: Specs, p: P): void {
    this.ran.push(op.name);
    op.reference(inputs as Float64Array[], specs, p).forEach((r, i) => (outputs[i] as Float64Array).set(r));
  }
  prepare<P>(op: OpDef<P>): Promise<void> {
    this.prepared.push(op.name);
    return op.name === 'matmul' ? new Promise<void>(() => {}) : Promise.resolve();
  }
  liveCount(): number {
    return 0;
  }
  info(): Record<string, unknown> {
    return { runtime: 'scripted', adapter: { description: 'slow compiler' } };
  }
  async sync(): Promise<void> {}
  dispose(): void {}
}

const saved = getCalibration();
beforeAll(async () => {
  await init();
});
afterEach(() => {
  setBackend('auto');
  setCalibration(saved);
});
afterAll(async () => {
  await releaseWebGpu();
  if (availableBackends().includes('webgpu')) unregisterBackend('webgpu');
});

describe('calibration under a compile that does not finish', () => {
  it('stops at the deadline: measured classes keep their rates, the rest are estimated, nothing unprepared runs', async () => {
    const gpu = new SlowCompilingGpu();
    registerBackend(gpu);
    try {
      const c = await calibrate({ force: true, store: null });
      expect(gpu.prepared[0]).toBe('binary'); // the latency probe's kernel, compiled before it is timed
      expect(gpu.prepared).toContain('matmul');
      expect(gpu.ran).not.toContain('matmul'); // never run before its kernel was ready
      expect(c.estimated?.webgpu?.sort()).toEqual(OP_CLASSES.filter((k) => k !== 'elementwise').sort());
      const ew = c.backends.webgpu!.elementwise!;
      for (const cls of c.estimated!.webgpu!) expect(c.backends.webgpu![cls]).toEqual({ latency: ew.latency, flops: ew.flops, bytes: ew.bytes });
      expect(c.estimated?.wasm).toBeUndefined(); // the CPU backend was measured in full
      for (const cls of OP_CLASSES) expect(c.backends.wasm![cls]!.flops).toBeGreaterThan(0);
    } finally {
      unregisterBackend('webgpu');
    }
  });
});

describe('WebGPU pipelines compiled ahead (Dawn on SwiftShader)', () => {
  it('prepare() fills the cache run() uses: the call that follows compiles nothing', async () => {
    const gpu: WebGpuBackend | null = await getWebGpu();
    if (!gpu) return; // getWebGpu() already failed loudly in CI or warned
    registerBackend(gpu);
    const op = OPS.matmul as unknown as OpDef<unknown>;
    const inputs: Spec[] = [{ shape: [3, 70], dtype: 'f32' }, { shape: [70, 5], dtype: 'f32' }];
    const before = gpu.pipelines.stats();
    await gpu.prepare(op, { inputs, outputs: op.shapes(inputs, {}) }, {});
    const prepared = gpu.pipelines.stats();
    expect(prepared.pipelines).toBeGreaterThan(before.pipelines);
    const a = tensor(Float32Array.from({ length: 210 }, (_, i) => (i % 7) - 3), [3, 70], { backend: 'webgpu' });
    const b = tensor(Float32Array.from({ length: 350 }, (_, i) => (i % 5) - 2), [70, 5], { backend: 'webgpu' });
    const [c] = runOp(op, [a, b], {}, { backend: 'webgpu' });
    const got = await c!.data();
    expect(gpu.pipelines.stats().misses).toBe(prepared.misses); // a cache hit
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 5; j++) {
        let want = 0;
        for (let k = 0; k < 70; k++) want += ((i * 70 + k) % 7 - 3) * ((k * 5 + j) % 5 - 2);
        expect(got[i * 5 + j]).toBeCloseTo(want, 3);
      }
    }
    for (const t of [a, b, c!]) t.dispose();
    await gpu.sync(); // waits for anything still compiling, then the queue
  });
});

describe('pins and the decision cache', () => {
  it('switching the global pin back and forth re-decides nothing (the pin is part of the key)', () => {
    const mm = OPS.matmul as unknown as OpDef<unknown>;
    const specs = { inputs: [{ shape: [7, 9], dtype: 'f32' as const }, { shape: [9, 11], dtype: 'f32' as const }], outputs: [{ shape: [7, 11], dtype: 'f32' as const }] };
    const avail = availableBackends();
    const choose = () => chooseForCall(mm, specs, {}, ['wasm', 'wasm'], avail);
    const n0 = explain().decisions.length;
    const auto = choose();
    setBackend('reference');
    const ref = choose();
    setBackend('auto');
    expect(choose()).toBe(auto);
    setBackend('reference');
    expect(choose()).toBe(ref);
    expect(ref.backend).toBe('reference');
    expect(explain().decisions.length - n0).toBe(2);
  });

  it('the per-op summary counts every call, also of decisions past the 512 listed', () => {
    resetExplain();
    const x = tensor([1, -2, 3], [3], { backend: 'wasm' });
    const used: Tensor[] = [];
    for (let n = 1; n <= 600; n++) used.push(...runOp(OPS.slice as unknown as OpDef<unknown>, [tensor(new Float32Array(n + 1), [n + 1], { backend: 'wasm' })], { axis: 0, start: 1, size: n }));
    used.push(...runOp(OPS.unary as unknown as OpDef<unknown>, [x], { fn: 'exp' }));
    used.push(...runOp(OPS.unary as unknown as OpDef<unknown>, [x], { fn: 'exp' }));
    const report = explain();
    expect(report.decisions.length).toBeLessThanOrEqual(512);
    expect(report.summary.find((r) => r.op === 'slice' && r.backend === 'wasm')?.calls).toBe(600);
    expect(report.summary.find((r) => r.op === 'unary' && r.backend === 'wasm')?.calls).toBe(2);
    resetExplain();
    expect(explain().summary).toEqual([]);
    for (const t of [x, ...used]) t.dispose();
  });

  it('RECUR_BACKEND sets the global pin at start-up; a value that is not a backend is an error naming it', async () => {
    const env = process.env['RECUR_BACKEND'];
    try {
      process.env['RECUR_BACKEND'] = 'wasm';
      vi.resetModules();
      const fresh = await import('../src/scheduler/scheduler.js');
      expect(fresh.getBackendPin()).toBe('wasm');
      process.env['RECUR_BACKEND'] = 'cuda';
      vi.resetModules();
      await expect(import('../src/scheduler/scheduler.js')).rejects.toThrow(/RECUR_BACKEND='cuda' is not a backend \(expected auto, reference, wasm or webgpu\)/);
    } finally {
      if (env === undefined) delete process.env['RECUR_BACKEND'];
      else process.env['RECUR_BACKEND'] = env;
      vi.resetModules();
    }
    expect(getBackendPin()).toBe('auto'); // this module's own pin was never touched
  });
});

describe("the CLI's auto", () => {
  it('brings WebGPU up for the scheduler (calibrated), keeps parameters on wasm, and honours a global pin', async () => {
    setCalibration(null);
    expect(await startBackend('auto')).toBe('wasm');
    expect(getBackendPin()).toBe('auto');
    // Where an adapter exists, init() brought WebGPU up and calibrated both backends.
    if (availableBackends().includes('webgpu')) expect(Object.keys(getCalibration()?.backends ?? {}).sort()).toEqual(['wasm', 'webgpu']);
    setBackend('reference'); // as RECUR_BACKEND=reference would
    expect(await startBackend('auto')).toBe('reference');
  });
});
