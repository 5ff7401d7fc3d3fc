// The backend contract: storage and kernels, nothing about tensors, autograd or models.
import type { TypedArray } from '../dtype.js';
import type { OpDef, Spec, Specs } from '../ops/op.js';

export type BackendName = 'reference' | 'wasm' | 'webgpu';
export const BACKEND_NAMES: readonly BackendName[] = ['reference', 'wasm', 'webgpu'];

/** Opaque per-backend handle to a tensor's elements (Float64Array, wasm pointer, GPUBuffer). */
export type Storage = unknown;

export interface Backend {
  readonly name: BackendName;
  alloc(spec: Spec): Storage;
  free(storage: Storage): void;
  write(storage: Storage, spec: Spec, data: ArrayLike<number>): void;
  read(storage: Storage, spec: Spec): Promise<TypedArray>;
  /** Synchronous read where the backend can do it (reference, wasm); null on GPU. */
  readonly readSync: ((storage: Storage, spec: Spec) => TypedArray) | null;
  /** Exact float64 read (reference backend only). */
  readonly readF64?: (storage: Storage, spec: Spec) => Float64Array;
  run<P>(op: OpDef<P>, inputs: readonly Storage[], outputs: readonly Storage[], specs: Specs, p: P): void;
  /** Compiles what run() would need for this call without running it or blocking (GPU pipelines); optional. */
  prepare?<P>(op: OpDef<P>, specs: Specs, p: P): Promise<void>;
  /** Number of live allocations (leak checks). */
  liveCount(): number;
  /** Details for `recur info`. */
  info(): Record<string, unknown>;
  /** Waits until submitted work has finished (GPU); resolves at once elsewhere. */
  sync(): Promise<void>;
  dispose(): void;
}
