// THE place that picks a backend for an op call: pins (call > withBackend scope > setBackend / RECUR_BACKEND),
// else the calibrated cost model (kernel time + moving non-resident inputs), else residency, else wasm.
// decide() is a pure function of (op, shapes, residency, capabilities, calibration, pin); chooseForCall() caches it.
import { BACKEND_NAMES, type BackendName } from '../backends/backend.js';
import { BackendUnavailableError, OptionError, RecurError } from '../errors.js';
import type { OpDef, Specs } from '../ops/op.js';
import { kernelSeconds, moveSeconds, opClass, type Calibration, type LinkName, type LinkRate } from './cost_model.js';
import { recordDecision, warnOnce, type Decision } from './explain.js';

export type BackendPin = BackendName | 'auto';
const PIN_NAMES: readonly string[] = ['auto', 'reference', 'wasm', 'webgpu'];

let globalPin: BackendPin = readEnvPin();
const scopePins: BackendName[] = [];

function readEnvPin(): BackendPin {
  const env = typeof process !== 'undefined' ? process.env?.['RECUR_BACKEND'] : undefined;
  if (!env) return 'auto';
  if (PIN_NAMES.includes(env)) return env as BackendPin;
  throw new OptionError(`RECUR_BACKEND='${env}' is not a backend (expected auto, reference, wasm or webgpu)`);
}

/** Pins every op call to one backend, or 'auto' to let the scheduler choose. */
export function setBackend(name: BackendPin): void {
  if (!PIN_NAMES.includes(name)) throw new OptionError(`setBackend('${name}'): expected auto, reference, wasm or webgpu`);
  globalPin = name; // cached decisions are keyed by the pin in force: switching pins back and forth re-decides nothing
}
export function getBackendPin(): BackendPin {
  return globalPin;
}

/** Runs the synchronous `fn` with every op call inside pinned to `name` ('auto': no pin); call pins still win. */
export function withBackend<T>(name: BackendPin, fn: () => T): T {
  if (!PIN_NAMES.includes(name)) throw new OptionError(`withBackend('${name}'): expected auto, reference, wasm or webgpu`);
  if (name === 'auto') return fn();
  scopePins.push(name);
  try {
    const r = fn();
    if (r instanceof Promise) throw new RecurError('withBackend(): the function must be synchronous (it returned a Promise); pin an async run with setBackend()');
    return r;
  } finally {
    scopePins.pop();
  }
}

/** The innermost withBackend() pin (the tape records it so a pinned forward's backward runs pinned too). */
export function scopePin(): BackendName | undefined {
  return scopePins.at(-1);
}

/** The pin in force for a call: the call's own, else the innermost scope's, else the global one. */
export function effectivePin(callPin?: BackendName): BackendName | undefined {
  return callPin ?? scopePins.at(-1) ?? (globalPin === 'auto' ? undefined : globalPin);
}

// ---- calibration in force -------------------------------------------------------------------------
let calibration: Calibration | null = null;
export function setCalibration(c: Calibration | null): void {
  calibration = c;
  invalidateDecisions();
}
export function getCalibration(): Calibration | null {
  return calibration;
}

// ---- the decision ---------------------------------------------------------------------------------
/** Backends whose storage can only be read asynchronously: data never moves off them inside an op call. */
const ASYNC_READ: ReadonlySet<BackendName> = new Set(['webgpu']);
/** Preference when nothing measured decides: fast CPU first. */
const DEFAULT_ORDER: readonly BackendName[] = ['wasm', 'webgpu', 'reference'];
/** Keep data where it is unless moving is predicted to save more than this fraction. */
export const HYSTERESIS = 0.9;
/** Link names by endpoints (no string building per decision). */
const LINKS = Object.fromEntries(
  BACKEND_NAMES.map((f) => [f, Object.fromEntries(BACKEND_NAMES.map((t) => [t, `${f}->${t}` as LinkName]))]),
) as Record<BackendName, Record<BackendName, LinkName>>;
/** A link nobody measured (reference <-> wasm: both plain CPU memory): a memcpy-speed guess. */
const UNMEASURED_CPU_LINK: LinkRate = { latency: 1e-7, bytesPerSecond: 5e9 };

export interface DecisionInput {
  op: Pick<OpDef<unknown>, 'name' | 'family' | 'cost' | 'wasm' | 'webgpu' | 'inplace'>;
  specs: Specs;
  params: unknown;
  /** The backend of each input. */
  residency: readonly BackendName[];
  available: readonly BackendName[];
  /** The pin in force (effectivePin), undefined for auto. */
  pin?: BackendName;
  calibration: Calibration | null;
}

export function hasKernel(op: Pick<OpDef<unknown>, 'wasm' | 'webgpu'>, b: BackendName): boolean {
  if (b === 'wasm') return typeof op.wasm === 'function';
  if (b === 'webgpu') return typeof op.webgpu === 'function';
  return true; // every op has a reference
}

export function fmtShapes(specs: Specs): string {
  return specs.inputs.map((s) => `[${s.shape.join(',')}]`).join('x');
}

/** Picks the backend for one call; throws when the pin is unavailable or no backend can run it. */
export function decide(d: DecisionInput): Decision {
  const { op, specs, residency, available, pin } = d;
  if (pin && !available.includes(pin)) {
    throw new BackendUnavailableError(`${op.name}: backend '${pin}' is pinned but not available (available: ${available.join(', ') || 'none'})`);
  }
  // Where the call can run at all: a kernel there, and no input that would need a synchronous read off a GPU.
  const feasible = (b: BackendName) => hasKernel(op, b) && residency.every((r) => r === b || !ASYNC_READ.has(r));
  const ranked = rank(d);
  const made = (backend: BackendName, why: Decision['why'], note?: string) => makeDecision(op.name, specs, backend, why, ranked, note);
  if (op.inplace?.length && !pin) {
    // In-place updates run where the state lives, or follow other inputs onto a GPU (the engine then moves the
    // state up once, in place: it never comes back synchronously).
    const gpu = residency.find((r) => ASYNC_READ.has(r) && available.includes(r) && hasKernel(op, r));
    return made(gpu ?? residency[op.inplace[0]!]!, 'residency');
  }
  if (pin && hasKernel(op, pin)) return made(pin, 'pin');
  const best = ranked.order.find(feasible);
  if (!best) {
    const stuck = residency.find((r) => ASYNC_READ.has(r) && !hasKernel(op, r));
    if (stuck) throw new RecurError(`${op.name}: an input lives on ${stuck}, which has no kernel for this op, and GPU data cannot be read synchronously; move it first: await toBackend(t, 'wasm')`);
    throw new BackendUnavailableError(`${op.name}: no available backend can run it (available: ${available.join(', ') || 'none; call await init() first'})`);
  }
  const preferred = pin ?? ranked.order[0]!;
  if (preferred !== best && !hasKernel(op, preferred)) return made(best, 'fallback', `${op.name} has no ${preferred} kernel`);
  // Cheaper elsewhere, but an input lives on a GPU and cannot be read back synchronously.
  if (preferred !== best) return made(best, 'residency', `${preferred} would need a synchronous read of GPU data`);
  return made(best, ranked.why);
}

/**
 * Every Decision is built here, with one property order: one hidden class, so the engine's per-call `d.calls++`
 * stays monomorphic. (Spreading a base object and then overriding one of its keys cost ~5 µs per decision in V8.)
 */
function makeDecision(op: string, specs: Specs, backend: BackendName, why: Decision['why'], r: Ranked, note?: string): Decision {
  return { op, shapes: fmtShapes(specs), backend, why, opClass: r.cls, predicted: r.predicted, note, calls: 0, seconds: 0 };
}

interface Ranked {
  order: BackendName[];
  why: Decision['why'];
  predicted: Decision['predicted'];
  cls?: Decision['opClass'];
}

/** Available backends best first (ignoring kernels and feasibility), with the predicted times that ordered them. */
function rank(d: DecisionInput): Ranked {
  const { op, specs, residency, available, calibration: cal } = d;
  // The oracle is only for data already on it (or when nothing else exists).
  const onlyRef = residency.length > 0 && residency.every((r) => r === 'reference');
  const others: BackendName[] = available.filter((b) => b !== 'reference');
  const cands: BackendName[] = !available.includes('reference') ? others : onlyRef ? ['reference', ...others] : [...others, 'reference'];
  if (cands.length === 0) return { order: [], why: 'default', predicted: {} };
  if (onlyRef) return { order: cands, why: 'residency', predicted: {} };
  const home = homeOf(specs, residency);
  const cost = cal ? op.cost(specs, d.params as never) : null;
  const cls = cost ? opClass(op, specs, cost) : undefined;
  const predicted: Decision['predicted'] = {};
  if (cal && cost && cls) {
    for (const b of cands) {
      const rate = cal.backends[b]?.[cls];
      if (!rate) continue;
      let t = kernelSeconds(rate, cost);
      for (let i = 0; i < specs.inputs.length; i++) {
        const from = residency[i]!;
        if (from === b) continue;
        const link = cal.links[LINKS[from][b]] ?? (ASYNC_READ.has(from) || ASYNC_READ.has(b) ? undefined : UNMEASURED_CPU_LINK);
        t += link ? moveSeconds(link, bytesOf(specs.inputs[i]!.shape)) : Infinity;
      }
      predicted[b] = t;
    }
  }
  const measured = cands.filter((b) => predicted[b] !== undefined && Number.isFinite(predicted[b]!));
  if (measured.length > 0) {
    measured.sort((a, b) => predicted[a]! - predicted[b]!);
    // Keep data where it is unless moving pays by more than the hysteresis.
    if (home && measured.includes(home) && measured[0] !== home && predicted[measured[0]!]! > HYSTERESIS * predicted[home]!) {
      measured.splice(measured.indexOf(home), 1);
      measured.unshift(home);
    }
    return { order: [...measured, ...cands.filter((b) => !measured.includes(b))], why: 'cost', predicted, cls };
  }
  // Uncalibrated: where the inputs live, else the default order.
  const order = [...cands].sort((a, b) => DEFAULT_ORDER.indexOf(a) - DEFAULT_ORDER.indexOf(b));
  const gpuHome = residency.find((r) => ASYNC_READ.has(r) && cands.includes(r));
  const first = residency.length && residency.every((r) => r === residency[0]) && cands.includes(residency[0]!) ? residency[0]! : gpuHome;
  if (first) return { order: [first, ...order.filter((b) => b !== first)], why: 'residency', predicted, cls };
  return { order, why: 'default', predicted, cls };
}

function bytesOf(shape: readonly number[]): number {
  let n = 4;
  for (const d of shape) n *= d;
  return n;
}

/** The backend holding most of the input bytes. */
function homeOf(specs: Specs, residency: readonly BackendName[]): BackendName | undefined {
  let best: BackendName | undefined;
  let most = -1;
  const tally = new Map<BackendName, number>();
  specs.inputs.forEach((s, i) => {
    const r = residency[i]!;
    const n = (tally.get(r) ?? 0) + bytesOf(s.shape);
    tally.set(r, n);
    if (n > most) [best, most] = [r, n];
  });
  return best;
}

// ---- the stateful wrapper the engine calls --------------------------------------------------------
/** A cached decision and what it was decided for (compared field by field: no key strings per call). */
interface Entry {
  readonly d: Decision;
  readonly op: object;
  /** Per input: residency code, rank, dims. */
  readonly sig: readonly number[];
  readonly available: readonly BackendName[];
  readonly pin: BackendName | undefined;
  readonly params: unknown;
  readonly nParams: number;
  next: Entry | null;
}
const cache = new Map<number, Entry>();
let cached = 0;
const CACHE_MAX = 4096;
const opIds = new WeakMap<object, number>();
let nextOpId = 1;
function invalidateDecisions(): void {
  cache.clear();
  cached = 0;
}
/** Registering or losing a backend changes what is available: forget cached decisions. */
export function backendsChanged(): void {
  invalidateDecisions();
}

const RES_CODE: Record<BackendName, number> = { reference: 1, wasm: 2, webgpu: 3 };
const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193) >>> 0;

/** The decision for one op call (cached by op, shapes, params, residency, availability and pin). */
export function chooseForCall<P>(op: OpDef<P>, specs: Specs, p: P, residency: readonly BackendName[], available: readonly BackendName[], callPin?: BackendName): Decision {
  const pin = effectivePin(callPin);
  let id = opIds.get(op);
  if (id === undefined) opIds.set(op, (id = nextOpId++));
  let h = mix(0x811c9dc5, id);
  const ins = specs.inputs;
  for (let i = 0; i < ins.length; i++) {
    const sh = ins[i]!.shape;
    h = mix(mix(h, RES_CODE[residency[i]!] ?? 0), sh.length);
    for (let j = 0; j < sh.length; j++) h = mix(h, sh[j]!);
  }
  h = hashParams(mix(h, pin ? RES_CODE[pin] : 0), p);
  for (let e = cache.get(h) ?? null; e; e = e.next) {
    if (e.op === op && e.pin === pin && e.available === available && sameSig(e.sig, specs, residency) && sameParams(e.params, e.nParams, p)) return e.d;
  }
  const d = decide({ op: op as unknown as DecisionInput['op'], specs, params: p, residency, available, pin, calibration });
  if (cached >= CACHE_MAX) invalidateDecisions();
  const sig: number[] = [];
  ins.forEach((x, i) => sig.push(RES_CODE[residency[i]!] ?? 0, x.shape.length, ...x.shape));
  cache.set(h, { d, op, sig, available, pin, params: snapshotParams(p), nParams: p !== null && typeof p === 'object' ? Object.keys(p).length : 0, next: cache.get(h) ?? null });
  cached++;
  recordDecision(d);
  if (d.why === 'fallback') warnOnce(`kernel|${d.op}|${d.note}`, `${d.note}; running it on ${d.backend}`);
  return d;
}

function sameSig(sig: readonly number[], specs: Specs, residency: readonly BackendName[]): boolean {
  let k = 0;
  const ins = specs.inputs;
  for (let i = 0; i < ins.length; i++) {
    const sh = ins[i]!.shape;
    if (sig[k++] !== (RES_CODE[residency[i]!] ?? 0) || sig[k++] !== sh.length) return false;
    for (let j = 0; j < sh.length; j++) if (sig[k++] !== sh[j]) return false;
  }
  return k === sig.length;
}

/** Mixes a params object's numbers and booleans into h, so calls that differ only in params (slices at many
 *  offsets) land in different buckets instead of one long chain. Other values are compared by sameParams only. */
function hashParams(h: number, p: unknown): number {
  if (p === null || typeof p !== 'object') return typeof p === 'number' ? mix(h, p | 0) : h;
  for (const k in p as Record<string, unknown>) {
    const v = (p as Record<string, unknown>)[k];
    if (typeof v === 'number') h = mix(mix(h, v | 0), Math.round((v % 1) * 65536));
    else if (typeof v === 'boolean') h = mix(h, v ? 2 : 1);
  }
  return h;
}

/** The longest chain of cached decisions under one hash (tests: the hash spreads distinct calls). */
export function decisionChainMax(): number {
  let most = 0;
  for (const head of cache.values()) {
    let n = 0;
    for (let e: Entry | null = head; e; e = e.next) n++;
    most = Math.max(most, n);
  }
  return most;
}

/** A shallow copy of flat params (nested values as JSON), so later mutation of the caller's object cannot alias. */
function snapshotParams(p: unknown): unknown {
  if (p === null || typeof p !== 'object') return p;
  const out: Record<string, unknown> = {};
  for (const k in p as Record<string, unknown>) {
    const v = (p as Record<string, unknown>)[k];
    out[k] = v !== null && typeof v === 'object' ? { json: JSON.stringify(v) } : v;
  }
  return out;
}

function sameParams(saved: unknown, nSaved: number, p: unknown): boolean {
  if (saved === null || typeof saved !== 'object' || p === null || typeof p !== 'object') return saved === p;
  let n = 0;
  for (const k in p as Record<string, unknown>) {
    const v = (p as Record<string, unknown>)[k];
    const s = (saved as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') {
      if (!s || typeof s !== 'object' || (s as { json: string }).json !== JSON.stringify(v)) return false;
    } else if (s !== v || !(k in (saved as object))) return false;
    n++;
  }
  return n === nSaved;
}

/** Where a new tensor goes when the caller names no backend: the pin in force, else the default order. */
export function chooseBackend(op: OpDef<unknown> | null, residency: readonly BackendName[], available: readonly BackendName[], callPin?: BackendName): BackendName {
  const pin = effectivePin(callPin);
  const what = op ? `${op.name}: ` : '';
  if (pin) {
    if (!available.includes(pin)) throw new BackendUnavailableError(`${what}backend '${pin}' is pinned but not available (available: ${available.join(', ') || 'none'})`);
    return pin;
  }
  const home = residency[0];
  if (home && available.includes(home) && residency.every((r) => r === home)) return home;
  const first = DEFAULT_ORDER.find((n) => available.includes(n));
  if (!first) throw new BackendUnavailableError(`${what}no backend is available; call await init() first`);
  return first;
}
