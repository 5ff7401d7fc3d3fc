// Calibration: times tiny probes of each op class on every available backend (median of a few runs) and the
// transfers between wasm and WebGPU, in well under a second; cached in memory and in a pluggable store (a JSON
// file in Node: src/node/calibration_cache.ts; IndexedDB in browsers), keyed by the backends' identity, re-measured
// when it changes.
import type { BackendName } from '../backends/backend.js';
import { availableBackends, getBackend, runOp, tensor } from '../engine.js';
import { RecurError } from '../errors.js';
import type { Cost, OpDef, Spec } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { Tensor } from '../tensor.js';
import { VERSION } from '../version.js';
import { OP_CLASSES, type Calibration, type ClassRate, type LinkName, type LinkRate, type OpClass } from './cost_model.js';
import { indexedDbCalibrationStore } from './calibration_idb.js';
import { resetExplain } from './explain.js';
import { setCalibration } from './scheduler.js';

/** Where calibrations persist between runs (a JSON file in Node, IndexedDB or nothing in browsers). */
export interface CalibrationStore {
  load(identity: string): Calibration | null | Promise<Calibration | null>;
  save(c: Calibration): void | Promise<void>;
}

export interface CalibrateOptions {
  /** Measure even when a cached calibration matches the identity. */
  force?: boolean;
  /** Overrides the store set by setCalibrationStore (null: memory only). */
  store?: CalibrationStore | null;
}

const memory = new Map<string, Calibration>();
let measuredLast = false;
/** Whether the last calibrate() measured (true) or found a cached calibration (false). */
export function lastCalibrationMeasured(): boolean {
  return measuredLast;
}
/** undefined: none set, the runtime's own store is used (platformStore); null: memory only. */
let defaultStore: CalibrationStore | null | undefined;
/** The runtime's store when none was set: IndexedDB where the runtime has it; Node's entry installs a JSON file. */
let platformStore: () => CalibrationStore | null = indexedDbCalibrationStore;

/** Sets where calibrations persist (null: memory only; undefined: back to the runtime's default store). */
export function setCalibrationStore(store: CalibrationStore | null | undefined): void {
  defaultStore = store;
}

/** Installed by a runtime's entry (src/node/index.ts: the file store); asked at each calibrate() with no store set. */
export function setPlatformCalibrationStore(fn: () => CalibrationStore | null): void {
  platformStore = fn;
}

/** The compute backends the scheduler chooses between (the reference is the oracle, never timed). */
function computeBackends(): BackendName[] {
  return availableBackends().filter((b) => b !== 'reference');
}

/** The measuring method's version: a cached calibration taken another way is measured again. */
const METHOD = 2;

/** What a calibration is valid for: engine version, measuring method, JS engine, wasm module variant, GPU adapter. */
export function backendIdentity(): string {
  const proc = (globalThis as { process?: { versions?: Record<string, string> } }).process;
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  const parts: Record<string, unknown> = { recur: VERSION, method: METHOD, js: proc?.versions?.['v8'] ? `v8 ${proc.versions['v8']}` : (nav?.userAgent ?? 'unknown') };
  for (const b of computeBackends()) {
    const i = getBackend(b).info();
    parts[b] = b === 'wasm' ? { module: i['module'], relaxedSimd: i['relaxedSimd'] } : b === 'webgpu' ? { runtime: i['runtime'], adapter: i['adapter'] } : true;
  }
  return JSON.stringify(parts);
}

/** Loads a matching calibration (memory, then the store) or measures one; installs it in the scheduler. */
export async function calibrate(opts: CalibrateOptions = {}): Promise<Calibration> {
  const identity = backendIdentity();
  const store = opts.store !== undefined ? opts.store : defaultStore !== undefined ? defaultStore : platformStore();
  let c: Calibration | null = opts.force ? null : (memory.get(identity) ?? null);
  if (!c && !opts.force && store) {
    try {
      c = await store.load(identity);
    } catch {
      c = null; // an unreadable cache is re-measured, never fatal
    }
  }
  measuredLast = !c || c.identity !== identity;
  if (!c || c.identity !== identity) {
    c = await measure(identity);
    if (store) await store.save(c);
  }
  memory.set(identity, c);
  setCalibration(c);
  return c;
}

/** What init() runs when WebGPU comes up (installed by src/index.ts). */
export function calibrateAtStartup(): Promise<Calibration> {
  return calibrate();
}

// ---- measurement ----------------------------------------------------------------------------------
/** Samples per probe; the median is kept. */
const SAMPLES = 3;
/** Each sample repeats the call until it lasts about this long (few calls for slow probes). */
const SAMPLE_SECONDS = 0.002;
/** Warm-up: calls repeated for up to this long (at least one, at most WARMUP_CALLS_MAX). */
const WARMUP_SECONDS = 0.003;
const WARMUP_CALLS_MAX = 100;
/** A probe slower than this is timed once: that is already far above timer noise. */
const SLOW_SECONDS = 0.01;
/** A backend's probes stop at this deadline; the classes left are estimated (slowest measured rate), not timed. */
export const BACKEND_BUDGET_SECONDS = 0.25;

interface Probe {
  cls: OpClass;
  op: OpDef<unknown>;
  params: unknown;
  inputs: Spec[];
  /** The probe made k times bigger (for classes whose real calls are far bigger than the probe). */
  grow?: (k: number) => Spec[];
}

const f32 = (...shape: number[]): Spec => ({ shape, dtype: 'f32' });
function probes(): Probe[] {
  const op = (name: keyof typeof OPS) => OPS[name] as unknown as OpDef<unknown>;
  return [
    // elementwise first: it reuses the latency probe's kernel, so a GPU still compiling the rest has one rate.
    { cls: 'elementwise', op: op('binary'), params: { fn: 'add' }, inputs: [f32(65536), f32(65536)], grow: (k) => [f32(65536 * k), f32(65536 * k)] },
    { cls: 'matvec', op: op('matmul'), params: {}, inputs: [f32(1, 512), f32(512, 512)], grow: (k) => [f32(1, 512), f32(512, 512 * k)] },
    { cls: 'matmul_small', op: op('matmul'), params: {}, inputs: [f32(32, 128), f32(128, 128)] },
    { cls: 'matmul_large', op: op('matmul'), params: {}, inputs: [f32(64, 256), f32(256, 256)], grow: (k) => [f32(64 * k, 256), f32(256, 256)] },
    { cls: 'scan', op: op('mingru_scan'), params: { h0Mode: 'none' }, inputs: [f32(64, 4, 128), f32(64, 4, 128)] },
    { cls: 'attention', op: op('attention'), params: { heads: 2, causal: true, memLen: 0 }, inputs: [f32(32, 2, 64), f32(32, 2, 128)] },
  ];
}

const now = (): number => performance.now() / 1000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A probe that did not finish by the backend's deadline: its call takes at least `seconds`. */
class OverBudget {
  constructor(readonly seconds: number) {}
}

/** Waits for `settle`, but not past `deadline` (then throws OverBudget with the time waited so far). */
async function settleBy(settle: () => Promise<void>, deadline: number, since: number): Promise<void> {
  if (deadline === Infinity) return settle();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, (deadline - now()) * 1000))));
  try {
    if ((await Promise.race([settle().then(() => 'done' as const), late])) === 'late') throw new OverBudget(now() - since);
  } finally {
    clearTimeout(timer);
  }
}

/** Median seconds per call of `run`, net of the `settle` round trip (GPU work is asynchronous). */
async function timePerCall(run: () => void, settle: () => Promise<void>, settleCost: number, deadline = Infinity): Promise<number> {
  // Warm-up: pipelines and code paths, and the JIT (the first calls in a process run interpreted: timed cold, a
  // CPU backend's fixed cost per call would read ~50x too high and every probe would grow to its largest size).
  let t = now();
  for (let i = 0; i < WARMUP_CALLS_MAX && (i === 0 || now() - t < WARMUP_SECONDS); i++) {
    run();
    await settleBy(settle, deadline, t);
  }
  t = now();
  run();
  await settleBy(settle, deadline, t);
  const once = Math.max(now() - t - settleCost, 1e-7);
  if (once > SLOW_SECONDS) return once;
  const reps = Math.max(1, Math.min(200, Math.ceil(SAMPLE_SECONDS / once)));
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    t = now();
    for (let r = 0; r < reps; r++) run();
    await settleBy(settle, deadline, t);
    samples.push(Math.max(now() - t - settleCost, 1e-7) / reps);
  }
  return median(samples);
}

/** Median seconds of `settle` with nothing queued (a GPU round trip; ~0 on CPU backends). */
async function idleSettle(settle: () => Promise<void>): Promise<number> {
  const samples: number[] = [];
  await settle();
  for (let i = 0; i < SAMPLES; i++) {
    const t = now();
    await settle();
    samples.push(now() - t);
  }
  return median(samples);
}

function randomTensor(spec: Spec, b: BackendName, seed: number): Tensor {
  const n = spec.shape.reduce((a, x) => a * x, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32 - 0.5) * 0.5;
  }
  return tensor(data, spec.shape, { backend: b });
}

async function measureBackend(b: BackendName, estimated: OpClass[]): Promise<Partial<Record<OpClass, ClassRate>>> {
  const deadline = now() + BACKEND_BUDGET_SECONDS;
  const be = getBackend(b);
  const settle = () => be.sync();
  const settleCost = await idleSettle(settle);
  const rates: Partial<Record<OpClass, ClassRate>> = {};
  let latency = 0;
  let over = false;
  const probe = async (run: () => void, cost: Cost, cls: OpClass | undefined, prepare: () => Promise<void>): Promise<void> => {
    let secs: number;
    try {
      // Kernels are compiled first, off the main thread where the backend can: a synchronous compile of a big
      // shader on a software GPU takes seconds, and no deadline could interrupt it.
      await settleBy(prepare, deadline, now());
    } catch (e) {
      if (!(e instanceof OverBudget)) throw e;
      // Still compiling at the deadline: no rate for this class (it is estimated below); the compile goes on.
      over = true;
      if (!cls) latency = e.seconds; // not even the tiny kernel is ready: a bound, not a measurement
      return;
    }
    try {
      secs = await timePerCall(run, settle, settleCost, deadline);
    } catch (e) {
      if (!(e instanceof OverBudget)) throw e;
      // Not done by the deadline (a software GPU compiling shaders): it is at least this slow; stop timing here.
      secs = e.seconds;
      over = true;
    }
    if (!cls) latency = secs;
    else {
      // The call's own overhead is in both timings; under noise, never credit the work with less than half.
      const work = Math.max(secs - latency, secs * 0.5);
      rates[cls] = { latency, flops: Math.max(cost.flops, 1) / work, bytes: Math.max(cost.bytes, 1) / work };
    }
  };
  // Fixed cost per call (launch, encode): a 4-element add, repeated and amortised.
  const prepare = (op: OpDef<unknown>, inputs: Spec[], params: unknown) => () =>
    be.prepare ? be.prepare(op, { inputs, outputs: op.shapes(inputs, params) }, params) : Promise.resolve();
  const add = OPS.binary as unknown as OpDef<unknown>;
  const tiny = [randomTensor(f32(4), b, 1), randomTensor(f32(4), b, 2)];
  try {
    await probe(() => runOp(add, tiny, { fn: 'add' }, { backend: b }).forEach((t) => t.dispose()), { flops: 4, bytes: 48 }, undefined, prepare(add, [f32(4), f32(4)], { fn: 'add' }));
  } finally {
    tiny.forEach((t) => t.dispose());
  }
  for (const p of probes()) {
    if (over || now() > deadline) {
      estimated.push(p.cls);
      continue;
    }
    // A probe that mostly measures the launch latency (a fast GPU) is grown, up to 64x, until the work shows.
    // Only where work is queued (GPU): a CPU backend's call is all work and its fixed cost is a microsecond.
    const grows = p.grow && !be.readSync ? p.grow : undefined;
    for (let grow = 1; grow === 1 || now() < deadline; grow *= 8) {
      const inputs = grows ? grows(grow) : p.inputs;
      const xs = inputs.map((s, i) => randomTensor(s, b, 7 + i));
      try {
        const cost = p.op.cost({ inputs, outputs: p.op.shapes(inputs, p.params) }, p.params);
        await probe(() => runOp(p.op, xs, p.params, { backend: b }).forEach((t) => t.dispose()), cost, p.cls, prepare(p.op, inputs, p.params));
      } finally {
        xs.forEach((t) => t.dispose());
      }
      const r = rates[p.cls];
      if (!r) {
        estimated.push(p.cls); // its kernel was still compiling at the deadline
        break;
      }
      const secs = r.latency + Math.max(1, p.op.cost({ inputs, outputs: p.op.shapes(inputs, p.params) }, p.params).flops) / r.flops;
      if (!grows || grow >= 64 || over || secs > 4 * latency) break;
    }
  }
  // Over budget: the rest are assumed as slow as the slowest class measured (or the latency alone).
  const measured = Object.values(rates);
  for (const cls of estimated) {
    rates[cls] = measured.length
      ? { latency, flops: Math.min(...measured.map((r) => r.flops)), bytes: Math.min(...measured.map((r) => r.bytes)) }
      : { latency, flops: 1 / latency, bytes: 1 / latency };
  }
  return rates;
}

/** Latency (4 floats) and bandwidth (1 MiB) of moving data from one backend to another. */
async function measureLink(from: BackendName, to: BackendName): Promise<LinkRate> {
  const src = getBackend(from);
  const dst = getBackend(to);
  const once = async (n: number): Promise<number> => {
    const spec = f32(n);
    const t = randomTensor(spec, from, 3);
    try {
      if (!src.readSync) {
        // GPU -> CPU is a read, always asynchronous: its cost is the round trip.
        const samples: number[] = [];
        await src.read(t.storage(), spec);
        for (let i = 0; i < SAMPLES; i++) {
          const t0 = now();
          await src.read(t.storage(), spec);
          samples.push(now() - t0);
        }
        return median(samples);
      }
      // CPU -> anywhere: what the engine does to move an input, then the destination settles.
      const settle = () => dst.sync();
      const settleCost = await idleSettle(settle);
      return await timePerCall(() => {
        const s = dst.alloc(spec);
        dst.write(s, spec, src.readSync!(t.storage(), spec));
        dst.free(s);
      }, settle, settleCost);
    } finally {
      t.dispose();
    }
  };
  const small = await once(4);
  const big = await once(262144);
  // When latency swamps the copy (a GPU round trip), the difference is noise: count the whole big move instead.
  return { latency: small, bytesPerSecond: (262144 * 4) / Math.max(big - small, big * 0.25, 1e-7) };
}

async function measure(identity: string): Promise<Calibration> {
  const t0 = now();
  const names = computeBackends();
  if (names.length === 0) throw new RecurError('calibrate: no backend is available; call await init() first');
  const c: Calibration = { identity, measuredAt: new Date().toISOString(), tookMs: 0, backends: {}, links: {} };
  // Links first: a GPU probe cut off at its deadline may leave work queued that a later timing would wait for.
  if (names.includes('wasm') && names.includes('webgpu')) {
    c.links['wasm->webgpu' as LinkName] = await measureLink('wasm', 'webgpu');
    c.links['webgpu->wasm' as LinkName] = await measureLink('webgpu', 'wasm');
  }
  for (const b of names) {
    const estimated: OpClass[] = [];
    c.backends[b] = await measureBackend(b, estimated);
    if (estimated.length) (c.estimated ??= {})[b] = estimated;
  }
  c.tookMs = Math.round((now() - t0) * 1000);
  resetExplain(); // the probes' own calls are not the user's
  return c;
}

/** Checks that a parsed JSON value is a calibration (a cache file may be stale or corrupt). */
export function isCalibration(v: unknown): v is Calibration {
  if (!v || typeof v !== 'object') return false;
  const c = v as Calibration;
  if (typeof c.identity !== 'string' || !c.backends || typeof c.backends !== 'object' || !c.links || typeof c.links !== 'object') return false;
  const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  for (const rates of Object.values(c.backends)) {
    for (const [k, r] of Object.entries(rates ?? {})) {
      if (!OP_CLASSES.includes(k as OpClass) || !r || !ok(r.latency) || !(r.flops > 0) || !(r.bytes > 0)) return false;
    }
  }
  return Object.values(c.links).every((l) => l && ok(l.latency) && l.bytesPerSecond > 0);
}
