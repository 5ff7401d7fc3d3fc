// Runs op calls: validates inputs, asks the scheduler for a backend, moves inputs, allocates outputs,
// and tracks every new tensor in the current scope so intermediates are freed when the scope ends.
import type { Backend, BackendName } from './backends/backend.js';
import { typedArrayFor, type DType } from './dtype.js';
import { BackendUnavailableError, DeviceLostError, DTypeError, RecurError, ShapeError } from './errors.js';
import type { OpDef, Spec, Specs } from './ops/op.js';
import { backendsChanged, chooseBackend, chooseForCall, effectivePin } from './scheduler/scheduler.js';
import { isTracing, markCalled, warnOnce, type Decision } from './scheduler/explain.js';
import { assertValidShape, fmtShape, sizeOf } from './shape.js';
import { DataHandle, setTensorHooks, setViewHook, Tensor } from './tensor.js';

const backends = new Map<BackendName, Backend>();

export function registerBackend(b: Backend): void {
  backends.get(b.name)?.dispose();
  backends.set(b.name, b);
  availableNow = null;
  backendsChanged();
  // A lost device leaves the registry at once (one warning), so later calls are placed on what remains.
  (b as { onLost?: (l: (reason: string) => void) => void }).onLost?.((reason) => {
    if (backends.get(b.name) !== b) return;
    unregisterBackend(b.name);
    warnOnce(`lost|${b.name}|device`, `the ${b.name} device is lost (${reason}); continuing on ${availableBackends().filter((n) => n !== 'reference')[0] ?? 'reference'}`);
  });
}
export function unregisterBackend(name: BackendName): void {
  backends.get(name)?.dispose();
  backends.delete(name);
  availableNow = null;
  backendsChanged();
}
export function availableBackends(): BackendName[] {
  return [...backends.keys()];
}
/** The same list, one shared array until the registry changes (the per-call path; do not mutate). */
let availableNow: readonly BackendName[] | null = null;
function availableShared(): readonly BackendName[] {
  return (availableNow ??= [...backends.keys()]);
}
export function getBackend(name: BackendName): Backend {
  const b = backends.get(name);
  if (!b) throw new BackendUnavailableError(`backend '${name}' is not available (available: ${availableBackends().join(', ') || 'none; call await init() first'})`);
  return b;
}

// ---- scopes -------------------------------------------------------------------------------------
const scopes: Set<Tensor>[] = [];
setTensorHooks(
  (t) => scopes.at(-1)?.add(t),
  (t) => scopes.at(-1)?.delete(t),
);

/** Runs fn; every tensor created inside and not returned is disposed when it ends. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // Nothing is returned, so nothing made inside survives.
    for (const t of scope) t.dispose();
    throw e;
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new RecurError('tidy(): the function must be synchronous (it returned a Promise)');
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  for (const t of scope) {
    if (kept.has(t)) scopes.at(-1)?.add(t);
    else t.dispose();
  }
  return result;
}

/** Takes a tensor out of the current scope so tidy() does not free it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collectTensors(v: unknown, into: Set<Tensor>): void {
  if (v instanceof Tensor) into.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, into);
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, into);
  }
}

// ---- tensor creation ----------------------------------------------------------------------------
export interface TensorOptions {
  dtype?: DType;
  backend?: BackendName;
}

/** Makes a tensor from numbers on a backend (default: the scheduler's default backend). */
export function tensor(data: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
  assertValidShape(shape, 'tensor');
  if (data.length !== sizeOf(shape)) {
    throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const b = getBackend(opts.backend ?? chooseBackend(null, [], availableBackends()));
  const spec = { shape, dtype };
  const storage = b.alloc(spec);
  b.write(storage, spec, data);
  return new Tensor(shape, dtype, new DataHandle(b, storage));
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return tensor(typedArrayFor(opts.dtype ?? 'f32', sizeOf(shape)), shape, opts);
}

/** Copies a tensor to another backend (async, because GPU reads are). */
export async function toBackend(t: Tensor, name: BackendName): Promise<Tensor> {
  if (t.backend.name === name) return t;
  return tensor(await t.data(), t.shape, { dtype: t.dtype, backend: name });
}

// ---- op calls -----------------------------------------------------------------------------------
export interface CallOptions {
  /** Pins this call to a backend. */
  backend?: BackendName;
}

/** Called after each op runs (the autograd tape listens here). */
export type OpListener = (op: OpDef<unknown>, inputs: readonly Tensor[], outputs: readonly Tensor[], p: unknown) => void;
const listeners: OpListener[] = [];
export function addOpListener(l: OpListener): () => void {
  listeners.push(l);
  return () => void (listeners.includes(l) && listeners.splice(listeners.indexOf(l), 1));
}

/** Called when Tensor.reshape makes a view sharing storage (the tape records these too). */
export type ViewListener = (source: Tensor, view: Tensor) => void;
const viewListeners: ViewListener[] = [];
setViewHook((source, view) => {
  for (const l of viewListeners) l(source, view);
});
export function addViewListener(l: ViewListener): () => void {
  viewListeners.push(l);
  return () => void (viewListeners.includes(l) && viewListeners.splice(viewListeners.indexOf(l), 1));
}

export function runOp<P>(op: OpDef<P>, inputs: readonly Tensor[], p: P, opts: CallOptions = {}): Tensor[] {
  const inSpecs: Spec[] = inputs.map((t, i) => {
    if (!(t instanceof Tensor)) throw new DTypeError(`${op.name}: input '${op.inputNames[i] ?? i}' is not a Tensor`);
    if (t.disposed) t.storage(`${op.name} (input '${op.inputNames[i] ?? i}')`); // throws, naming the op and input
    return { shape: t.shape, dtype: t.dtype };
  });
  const specs: Specs = { inputs: inSpecs, outputs: op.shapes(inSpecs, p) };
  const residency = inputs.map((t) => t.backend.name);
  let d = chooseForCall(op, specs, p, residency, availableShared(), opts.backend);
  const excluded: BackendName[] = [];
  for (;;) {
    try {
      return execute(op, inputs, specs, p, d);
    } catch (e) {
      // Fallback (architecture.md, "The scheduler"): a lost device or a failed allocation moves the call to the
      // next best backend, once, with one warning; never for pinned calls or inputs stuck on the failed backend.
      const failed = d.backend;
      const lost = e instanceof DeviceLostError;
      if (!(lost || e instanceof AllocationFailure) || effectivePin(opts.backend) || residency.includes(failed)) throw unwrap(e);
      if (lost && backends.has(failed)) unregisterBackend(failed);
      excluded.push(failed);
      const avail = withoutBackends(excluded);
      if (!avail.some((b) => b !== 'reference')) throw unwrap(e);
      d = chooseForCall(op, specs, p, residency, avail, undefined);
      warnOnce(`${lost ? 'lost' : 'alloc'}|${failed}|${op.name}`, `${op.name}: ${lost ? `the ${failed} device is lost` : `allocation on ${failed} failed (${unwrap(e).message})`}; running on ${d.backend} instead`);
    }
  }
}

/** The available list minus some backends: one shared array per set (decisions are cached by list identity). */
const without = new Map<string, readonly BackendName[]>();
function withoutBackends(excluded: readonly BackendName[]): readonly BackendName[] {
  const all = availableShared();
  const key = `${all.join(',')}-${excluded.join(',')}`;
  let a = without.get(key);
  if (!a) without.set(key, (a = all.filter((b) => !excluded.includes(b))));
  return a;
}

/** An output allocation failed on the chosen backend (the scheduler may place the call elsewhere). */
class AllocationFailure extends RecurError {
  constructor(readonly original: Error) {
    super(original.message);
  }
}
function unwrap(e: unknown): Error {
  return e instanceof AllocationFailure ? e.original : (e as Error);
}

function execute<P>(op: OpDef<P>, inputs: readonly Tensor[], specs: Specs, p: P, d: Decision): Tensor[] {
  const name = d.backend;
  const b = getBackend(name);
  const t0 = isTracing() ? performance.now() : 0;
  const moved: Tensor[] = [];
  let storages: unknown[];
  try {
    storages = moveInputs(op, inputs, d, b, moved);
  } catch (e) {
    for (const m of moved) m.dispose();
    throw e;
  }
  const outStorages: unknown[] = [];
  try {
    for (const s of specs.outputs) outStorages.push(b.alloc(s));
  } catch (e) {
    for (const s of outStorages) b.free(s);
    for (const m of moved) m.dispose();
    throw e instanceof DeviceLostError ? e : new AllocationFailure(e as Error);
  }
  try {
    b.run(op, storages, outStorages, specs, p);
  } catch (e) {
    for (const s of outStorages) b.free(s);
    throw e;
  } finally {
    for (const m of moved) m.dispose();
  }
  const outputs = specs.outputs.map((s, i) => new Tensor(s.shape, s.dtype, new DataHandle(b, outStorages[i])));
  if (d.calls++ === 0) markCalled(d);
  if (t0) d.seconds += (performance.now() - t0) / 1000;
  for (const l of listeners) l(op as unknown as OpDef<unknown>, inputs, outputs, p);
  return outputs;
}

/** Storage of each input on `b`: moved copies (collected in `moved`), or in-place state re-homed there. */
function moveInputs<P>(op: OpDef<P>, inputs: readonly Tensor[], d: Decision, b: Backend, moved: Tensor[]): unknown[] {
  const name = d.backend;
  return inputs.map((t, i) => {
    if (t.backend === b) return t.storage();
    if (op.inplace?.includes(i)) {
      // In auto mode, in-place state (parameters, optimizer moments) follows the work up to a GPU, once (data
      // never comes back synchronously); otherwise an in-place input must already live where the call runs.
      if (d.why === 'pin' || b.readSync || !t.backend.readSync) throw new RecurError(`${op.name}: in-place input '${op.inputNames[i]}' lives on ${t.backend.name}, not ${name}`);
      const copy = moveSync(t, b);
      t.rehome(b, copy.storage());
      detach(copy);
      return t.storage();
    }
    const copy = moveSync(t, b);
    moved.push(copy);
    return copy.storage();
  });
}

/** Forgets a tensor whose storage was handed to another (rehome) without freeing that storage. */
function detach(t: Tensor): void {
  (t as unknown as { handle: unknown }).handle = null;
  keep(t);
}

function moveSync(t: Tensor, to: Backend): Tensor {
  const from = t.backend;
  if (!from.readSync) {
    throw new RecurError(`tensor ${fmtShape(t.shape)} lives on ${from.name} and must be read asynchronously before use on ${to.name}: await toBackend(t, '${to.name}')`);
  }
  const data = from.readSync(t.storage(), t);
  let storage: unknown;
  try {
    storage = to.alloc(t);
  } catch (e) {
    throw e instanceof DeviceLostError ? e : new AllocationFailure(e as Error);
  }
  to.write(storage, t, data);
  return new Tensor(t.shape, t.dtype, new DataHandle(to, storage));
}
