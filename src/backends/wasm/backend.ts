// The wasm backend: storage in one JS-owned WebAssembly.Memory, kernels from assembly/ called by pointer.
import { typedArrayFor, type TypedArray } from '../../dtype.js';
import type { OpDef, Spec, Specs, WasmKernelContext } from '../../ops/op.js';
import { sizeOf } from '../../shape.js';
import type { Backend } from '../backend.js';
import { Arena } from './arena.js';
import { loadModule, type LoadedModule, type WasmModuleOptions } from './module.js';

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly arena: Arena;

  private constructor(readonly module: LoadedModule) {
    this.arena = new Arena(module.memory, module.exports['heap_base']!() as number);
  }

  static async create(opts: WasmModuleOptions = {}): Promise<WasmBackend> {
    return new WasmBackend(await loadModule(opts));
  }

  get variant(): string {
    return this.module.variant;
  }

  alloc(spec: Spec): number {
    return this.arena.alloc(sizeOf(spec.shape) * 4);
  }
  free(storage: unknown): void {
    this.arena.free(storage as number);
  }
  write(storage: unknown, spec: Spec, data: ArrayLike<number>): void {
    const n = sizeOf(spec.shape);
    const view = spec.dtype === 'i32' ? new Int32Array(this.module.memory.buffer, storage as number, n) : new Float32Array(this.module.memory.buffer, storage as number, n);
    view.set(data);
  }
  async read(storage: unknown, spec: Spec): Promise<TypedArray> {
    return this.readSync(storage, spec);
  }
  readonly readSync = (storage: unknown, spec: Spec): TypedArray => {
    const n = sizeOf(spec.shape);
    const out = typedArrayFor(spec.dtype, n);
    const src = spec.dtype === 'i32' ? new Int32Array(this.module.memory.buffer, storage as number, n) : new Float32Array(this.module.memory.buffer, storage as number, n);
    out.set(src);
    return out;
  };

  /** A fresh view over wasm memory (views detach when memory grows: never keep one across allocations). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.module.memory.buffer, ptr, length);
  }

  run<P>(op: OpDef<P>, inputs: readonly unknown[], outputs: readonly unknown[], specs: Specs, p: P): void {
    const scratch: number[] = [];
    const ctx: WasmKernelContext = {
      exports: this.module.exports,
      inputs: inputs as number[],
      outputs: outputs as number[],
      scratch: (bytes) => {
        const ptr = this.arena.alloc(bytes);
        scratch.push(ptr);
        return ptr;
      },
      f32: (ptr, length) => this.f32(ptr, length),
    };
    try {
      op.wasm(ctx, specs, p);
    } finally {
      for (const s of scratch.reverse()) this.arena.free(s);
    }
  }
  liveCount(): number {
    return this.arena.liveCount;
  }
  info(): Record<string, unknown> {
    return {
      available: true,
      simd: true,
      relaxedSimd: this.module.relaxedSimdSupported,
      module: this.module.variant,
      memoryBytes: this.module.memory.buffer.byteLength,
    };
  }
  async sync(): Promise<void> {}
  dispose(): void {}
}
