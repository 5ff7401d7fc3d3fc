// Immutable tensors: a shape, a dtype and a handle to storage owned by one backend.
import type { Backend } from './backends/backend.js';
import type { DType, TypedArray } from './dtype.js';
import { DisposedError, ShapeError } from './errors.js';
import { fmtShape, sizeOf, type Shape } from './shape.js';
import type { Spec } from './ops/op.js';

/** Storage shared by a tensor and its reshaped views; freed when the last one is disposed. */
export class DataHandle {
  refs = 1;
  constructor(public backend: Backend, public storage: unknown) {}
  /** @internal Re-homes the storage (same values) on another backend; every view sharing it follows. */
  rehome(backend: Backend, storage: unknown): void {
    this.backend.free(this.storage);
    this.backend = backend;
    this.storage = storage;
  }
  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}

type ScopeHook = (t: Tensor) => void;
let onCreate: ScopeHook = () => {};
let onDispose: ScopeHook = () => {};
/** Installed by the engine so that tensors join the current scope. */
export function setTensorHooks(create: ScopeHook, dispose: ScopeHook): void {
  onCreate = create;
  onDispose = dispose;
}

type ViewHook = (source: Tensor, view: Tensor) => void;
let onView: ViewHook = () => {};
/** Installed by the engine so that the autograd tape sees reshape views (they are not op calls). */
export function setViewHook(view: ViewHook): void {
  onView = view;
}

let nextId = 1;

export class Tensor implements Spec {
  readonly id = nextId++;
  readonly size: number;
  private handle: DataHandle | null;

  constructor(readonly shape: Shape, readonly dtype: DType, handle: DataHandle) {
    this.size = sizeOf(shape);
    this.handle = handle;
    onCreate(this);
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  /** The backend that owns this tensor's storage. */
  get backend(): Backend {
    return this.live('backend').backend;
  }

  /** @internal the storage handle, for the engine. */
  storage(what = 'use'): unknown {
    return this.live(what).storage;
  }

  /** @internal Moves the storage (same values) to another backend, for this tensor and its views (engine only). */
  rehome(backend: Backend, storage: unknown): void {
    this.live('rehome').rehome(backend, storage);
  }

  /** Copies the elements out (async: GPU reads are). */
  async data(): Promise<TypedArray> {
    const h = this.live('data()');
    return h.backend.read(h.storage, this);
  }

  /** Copies the elements out synchronously; only for backends that can (reference, wasm). */
  dataSync(): TypedArray {
    const h = this.live('dataSync()');
    if (!h.backend.readSync) throw new DisposedError(`dataSync(): tensor ${fmtShape(this.shape)} lives on ${h.backend.name}, which reads asynchronously; use await tensor.data()`);
    return h.backend.readSync(h.storage, this);
  }

  /** Exact float64 elements (reference backend) or the float32 ones widened. */
  async dataF64(): Promise<Float64Array> {
    const h = this.live('dataF64()');
    if (h.backend.readF64) return h.backend.readF64(h.storage, this);
    return Float64Array.from(await h.backend.read(h.storage, this));
  }

  /** Same elements, another shape (no copy; shares storage). */
  reshape(shape: readonly number[]): Tensor {
    const h = this.live('reshape()');
    const resolved = resolveReshape(this.shape, shape);
    h.refs++;
    const view = new Tensor(resolved, this.dtype, h);
    onView(this, view);
    return view;
  }

  dispose(): void {
    if (!this.handle) return;
    this.handle.release();
    this.handle = null;
    onDispose(this);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.handle ? `, ${this.handle.backend.name}` : ', disposed'})`;
  }

  private live(what: string): DataHandle {
    if (!this.handle) throw new DisposedError(`${what}: tensor #${this.id} ${fmtShape(this.shape)} ${this.dtype} was used after dispose()`);
    return this.handle;
  }
}

function resolveReshape(from: Shape, to: readonly number[]): number[] {
  const n = sizeOf(from);
  const free = to.indexOf(-1);
  const out = [...to];
  if (free >= 0) {
    const rest = sizeOf(to.filter((_, i) => i !== free));
    if (rest === 0 || n % rest !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} to ${fmtShape(to)}`);
    out[free] = n / rest;
  }
  if (sizeOf(out) !== n || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} (${n} elements) to ${fmtShape(to)}`);
  }
  return out;
}
