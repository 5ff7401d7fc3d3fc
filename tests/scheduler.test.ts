// The scheduler's decisions, table-driven under fake calibrations (decide() is pure: no backend runs here), and
// the stateful wrapper: pins (call > withBackend > setBackend), the decision cache and explain().
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { BackendUnavailableError, OptionError, RecurError } from '../src/errors.js';
import type { OpDef, Spec } from '../src/ops/op.js';
import { OPS } from '../src/ops/registry.js';
import type { Calibration, ClassRate } from '../src/scheduler/cost_model.js';
import { explain, resetExplain } from '../src/scheduler/explain.js';
import { chooseForCall, decide, decisionChainMax, getCalibration, setBackend, setCalibration, withBackend, type DecisionInput } from '../src/scheduler/scheduler.js';

const rate = (latency: number, gflops: number, gbs: number): ClassRate => ({ latency, flops: gflops * 1e9, bytes: gbs * 1e9 });
const classes = (r: ClassRate) => ({ matvec: r, matmul_small: r, matmul_large: r, elementwise: r, scan: r, attention: r });

/** A laptop CPU beside a real discrete GPU: the GPU has 30 µs launch latency but ~100x the matmul throughput. */
const REAL_GPU: Calibration = {
  identity: 'fake: real gpu',
  measuredAt: '2026-01-01T00:00:00.000Z',
  tookMs: 0,
  backends: {
    wasm: { ...classes(rate(2e-6, 10, 20)), matmul_large: rate(2e-6, 20, 10) },
    webgpu: { ...classes(rate(30e-6, 200, 300)), matmul_large: rate(30e-6, 5000, 300) },
  },
  links: { 'wasm->webgpu': { latency: 20e-6, bytesPerSecond: 10e9 }, 'webgpu->wasm': { latency: 100e-6, bytesPerSecond: 5e9 } },
};

/** A software GPU (SwiftShader): milliseconds per dispatch and slower than wasm at everything. */
const SOFTWARE_GPU: Calibration = {
  ...REAL_GPU,
  identity: 'fake: software gpu',
  backends: { wasm: REAL_GPU.backends.wasm, webgpu: classes(rate(3e-3, 0.5, 1)) },
};

const f32 = (...shape: number[]): Spec => ({ shape, dtype: 'f32' });
const op = (name: keyof typeof OPS) => OPS[name] as unknown as OpDef<unknown>;
const ALL: BackendName[] = ['reference', 'wasm', 'webgpu'];

interface Case {
  what: string;
  op: keyof typeof OPS;
  params?: unknown;
  inputs: Spec[];
  residency: BackendName[];
  calibration: Calibration | null;
  pin?: BackendName;
  available?: BackendName[];
  expect: BackendName;
  why?: string;
}

function input(c: Pick<Case, 'op' | 'params' | 'inputs' | 'residency' | 'calibration' | 'pin' | 'available'>): DecisionInput {
  const o = op(c.op);
  const params = c.params ?? {};
  return { op: o, specs: { inputs: c.inputs, outputs: o.shapes(c.inputs, params) }, params, residency: c.residency, available: c.available ?? ALL, pin: c.pin, calibration: c.calibration };
}

const CASES: Case[] = [
  { what: 'single-token matvec (d=64) stays on wasm beside a real GPU: launch latency dominates', op: 'matmul', inputs: [f32(1, 64), f32(64, 256)], residency: ['wasm', 'wasm'], calibration: REAL_GPU, expect: 'wasm', why: 'cost' },
  { what: 'single-token matvec (d=256, V=1024) stays on wasm: moving the weights costs more than the GPU saves', op: 'matmul', inputs: [f32(1, 256), f32(256, 1024)], residency: ['wasm', 'wasm'], calibration: REAL_GPU, expect: 'wasm', why: 'cost' },
  { what: 'a large training matmul goes to the GPU when its throughput is high', op: 'matmul', inputs: [f32(4096, 512), f32(512, 512)], residency: ['wasm', 'wasm'], calibration: REAL_GPU, expect: 'webgpu', why: 'cost' },
  { what: 'the same matmul stays on wasm beside a software GPU', op: 'matmul', inputs: [f32(4096, 512), f32(512, 512)], residency: ['wasm', 'wasm'], calibration: SOFTWARE_GPU, expect: 'wasm', why: 'cost' },
  { what: 'a resident GPU tensor is not pulled back for a cheap elementwise op', op: 'unary', params: { fn: 'exp' }, inputs: [f32(64)], residency: ['webgpu'], calibration: REAL_GPU, expect: 'webgpu' },
  { what: '... nor when the other operand is on wasm (the wasm one moves up)', op: 'binary', params: { fn: 'add' }, inputs: [f32(64), f32(1)], residency: ['webgpu', 'wasm'], calibration: SOFTWARE_GPU, expect: 'webgpu', why: 'residency' },
  { what: 'a cheap elementwise op on wasm data stays on wasm', op: 'binary', params: { fn: 'mul' }, inputs: [f32(4096), f32(4096)], residency: ['wasm', 'wasm'], calibration: REAL_GPU, expect: 'wasm', why: 'cost' },
  { what: 'a pin wins over the cost model (wasm for a GPU-sized matmul)', op: 'matmul', inputs: [f32(4096, 512), f32(512, 512)], residency: ['wasm', 'wasm'], calibration: REAL_GPU, pin: 'wasm', expect: 'wasm', why: 'pin' },
  { what: 'a pin wins over the cost model (webgpu for a matvec)', op: 'matmul', inputs: [f32(1, 64), f32(64, 256)], residency: ['wasm', 'wasm'], calibration: SOFTWARE_GPU, pin: 'webgpu', expect: 'webgpu', why: 'pin' },
  { what: 'in-place updates run where the state lives', op: 'adamw_step', params: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 }, inputs: [f32(8), f32(8), f32(8), f32(8)], residency: ['wasm', 'wasm', 'wasm', 'wasm'], calibration: REAL_GPU, expect: 'wasm', why: 'residency' },
  { what: 'in-place updates follow a GPU gradient up (the state then moves, once)', op: 'adamw_step', params: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 }, inputs: [f32(8), f32(8), f32(8), f32(8)], residency: ['wasm', 'webgpu', 'wasm', 'wasm'], calibration: SOFTWARE_GPU, expect: 'webgpu', why: 'residency' },
  { what: 'uncalibrated: where the inputs live', op: 'matmul', inputs: [f32(4096, 512), f32(512, 512)], residency: ['webgpu', 'webgpu'], calibration: null, expect: 'webgpu', why: 'residency' },
  { what: 'uncalibrated: wasm by default', op: 'matmul', inputs: [f32(4096, 512), f32(512, 512)], residency: ['wasm', 'reference'], calibration: null, expect: 'wasm', why: 'default' },
  { what: 'data on the reference backend stays there (the oracle is never chosen for speed)', op: 'matmul', inputs: [f32(2, 2), f32(2, 2)], residency: ['reference', 'reference'], calibration: REAL_GPU, expect: 'reference', why: 'residency' },
  { what: 'without a GPU the matmul runs on wasm', op: 'matmul', inputs: [f32(4096, 512), f32(512, 512)], residency: ['wasm', 'wasm'], calibration: REAL_GPU, available: ['reference', 'wasm'], expect: 'wasm' },
];

describe('scheduler decisions under fake calibrations', () => {
  it.each(CASES)('$what', (c) => {
    const d = decide(input(c));
    expect(d.backend).toBe(c.expect);
    if (c.why) expect(d.why).toBe(c.why);
    if (d.why === 'cost') {
      // The predicted times decided it, and the chosen backend's is the smallest (or within the hysteresis of home).
      expect(d.predicted[d.backend]).toBeGreaterThan(0);
      expect(Object.keys(d.predicted).sort()).toEqual((c.available ?? ALL).filter((b) => b !== 'reference'));
    }
  });

  it('an unavailable pin is an error naming what is available', () => {
    const c = { op: 'matmul' as const, inputs: [f32(2, 2), f32(2, 2)], residency: ['wasm', 'wasm'] as BackendName[], calibration: REAL_GPU, available: ['reference', 'wasm'] as BackendName[] };
    expect(() => decide(input({ ...c, pin: 'webgpu' }))).toThrow(BackendUnavailableError);
    expect(() => decide(input({ ...c, pin: 'webgpu' }))).toThrow(/matmul: backend 'webgpu' is pinned but not available \(available: reference, wasm\)/);
  });

  it('an op without a WGSL kernel falls back to the next best backend, or says why it cannot', () => {
    const noGpu = { ...op('unary'), name: 'test_no_wgsl', webgpu: undefined } as unknown as OpDef<unknown>;
    const specs = { inputs: [f32(8)], outputs: [f32(8)] };
    const base = { op: noGpu, specs, params: { fn: 'exp' }, available: ALL, calibration: REAL_GPU };
    const d = decide({ ...base, residency: ['wasm'], pin: 'webgpu' });
    expect(d).toMatchObject({ backend: 'wasm', why: 'fallback', note: 'test_no_wgsl has no webgpu kernel' });
    expect(() => decide({ ...base, residency: ['webgpu'] })).toThrow(/test_no_wgsl: an input lives on webgpu, which has no kernel for this op.*await toBackend\(t, 'wasm'\)/);
    expect(() => decide({ ...base, residency: ['webgpu'] })).toThrow(RecurError);
  });

  it('keeps data where it is unless moving pays by more than the hysteresis', () => {
    // A GPU just 5% faster than wasm at an elementwise op on GPU-bound data is not worth the move.
    const close: Calibration = { ...REAL_GPU, backends: { wasm: classes(rate(1e-6, 10, 10)), webgpu: classes(rate(1e-6, 10.5, 10.5)) }, links: { 'wasm->webgpu': { latency: 0, bytesPerSecond: 1e15 } } };
    const d = decide(input({ op: 'binary', params: { fn: 'add' }, inputs: [f32(1 << 20), f32(1 << 20)], residency: ['wasm', 'wasm'], calibration: close }));
    expect(d.backend).toBe('wasm');
    expect(d.predicted.webgpu!).toBeLessThan(d.predicted.wasm!);
  });
});

describe('pins and the decision cache', () => {
  const saved = getCalibration();
  afterEach(() => {
    setBackend('auto');
    setCalibration(saved);
  });
  const mm = OPS.matmul as unknown as OpDef<unknown>;
  const specs = { inputs: [f32(4096, 512), f32(512, 512)], outputs: [f32(4096, 512)] };
  const choose = (pin?: BackendName) => chooseForCall(mm, specs, {}, ['wasm', 'wasm'], ALL, pin).backend;

  it('call pin > withBackend scope > setBackend > auto', () => {
    setCalibration(REAL_GPU);
    expect(choose()).toBe('webgpu');
    setBackend('reference');
    expect(choose()).toBe('reference');
    expect(withBackend('wasm', () => choose())).toBe('wasm');
    expect(withBackend('wasm', () => choose('webgpu'))).toBe('webgpu');
    expect(withBackend('wasm', () => withBackend('webgpu', () => choose()))).toBe('webgpu');
    expect(() => withBackend('cuda' as 'wasm', () => 1)).toThrow(OptionError);
    expect(() => withBackend('wasm', () => Promise.resolve(1))).toThrow(/must be synchronous/);
  });

  it('calls that differ only in params get their own cache entries, spread over buckets', () => {
    setCalibration(REAL_GPU);
    const slice = OPS.slice as unknown as OpDef<unknown>;
    const sl = { inputs: [f32(4096, 512)], outputs: [f32(1, 512)] };
    const at = (start: number) => chooseForCall(slice, sl, { axis: 0, start, size: 1 }, ['wasm'], ALL);
    const first = [0, 1, 2, 1999].map(at);
    for (let i = 0; i < 2000; i++) at(i);
    expect([0, 1, 2, 1999].map(at)).toEqual(first); // the same cached decision objects
    expect(decisionChainMax()).toBeLessThanOrEqual(4);
  });

  it('a new calibration invalidates cached decisions, and explain() reports each with its predicted times', () => {
    resetExplain();
    setCalibration(REAL_GPU);
    expect(choose()).toBe('webgpu');
    setCalibration(SOFTWARE_GPU);
    expect(choose()).toBe('wasm');
    const mine = explain().decisions.filter((d) => d.op === 'matmul' && d.shapes === '[4096,512]x[512,512]').slice(-2);
    expect(mine.map((d) => d.backend)).toEqual(['webgpu', 'wasm']);
    for (const d of mine) expect(d.predicted.wasm! > 0 && d.predicted.webgpu! > 0).toBe(true);
  });

  it('RECUR_DEBUG=1 prints each new decision with its predicted times', () => {
    const saved = process.env['RECUR_DEBUG'];
    process.env['RECUR_DEBUG'] = '1';
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      setCalibration(REAL_GPU);
      choose();
      choose(); // cached: not printed again
      const lines = err.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('[4096,512]x[512,512]'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^\[recur\] matmul \[4096,512\]x\[512,512\] -> webgpu \(cost: wasm [\d.]+(ms|µs|s), webgpu [\d.]+(ms|µs|s)\)$/);
    } finally {
      err.mockRestore();
      if (saved === undefined) delete process.env['RECUR_DEBUG'];
      else process.env['RECUR_DEBUG'] = saved;
    }
  });
});

