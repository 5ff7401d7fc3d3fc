// Instantiates the kernel module with a JS-owned memory, picking relaxed SIMD when the engine validates it.
import debugBytes from '../../../build/recur.debug.wasm';
import relaxedBytes from '../../../build/recur.relaxed.wasm';
import simdBytes from '../../../build/recur.simd.wasm';
import { RecurError } from '../../errors.js';

export type WasmVariant = 'relaxed' | 'simd' | 'debug';
export type WasmSource = Uint8Array | ArrayBuffer | WebAssembly.Module | Response;

export interface WasmModuleOptions {
  /** Force a variant: 'debug' turns assertions on; default is relaxed if validated, else simd. */
  variant?: WasmVariant;
}

export interface LoadedModule {
  variant: WasmVariant;
  memory: WebAssembly.Memory;
  exports: Record<string, (...args: number[]) => number | void>;
  relaxedSimdSupported: boolean;
}

// The debug module (assertions on, ~2x the size) ships only in the Node bundle and in tests; other bundles
// replace it with null at build time (scripts/bundle.mjs) to keep downloads small.
const SOURCES: Record<WasmVariant, WasmSource | null> = { relaxed: relaxedBytes, simd: simdBytes, debug: debugBytes as WasmSource | null };

let relaxedFlagTried = false;
/** Node 20 gates relaxed SIMD behind a V8 flag; it can be set at run time (not via NODE_OPTIONS). */
async function enableRelaxedSimdFlag(): Promise<void> {
  if (relaxedFlagTried) return;
  relaxedFlagTried = true;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node || (globalThis as { Bun?: unknown; Deno?: unknown }).Bun || (globalThis as { Deno?: unknown }).Deno) return;
  try {
    const v8 = await import(/* @vite-ignore */ 'node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Not Node after all, or flags refused: fall back to plain SIMD.
  }
}

export async function relaxedSimdSupported(): Promise<boolean> {
  await enableRelaxedSimdFlag();
  const src = SOURCES.relaxed;
  if (src instanceof WebAssembly.Module) return true; // precompiled by the host (workerd): it validated there
  if (src instanceof Uint8Array) return WebAssembly.validate(src as Uint8Array<ArrayBuffer>);
  return false;
}

export async function loadModule(opts: WasmModuleOptions = {}): Promise<LoadedModule> {
  const relaxed = await relaxedSimdSupported();
  const variant = opts.variant ?? (relaxed ? 'relaxed' : 'simd');
  if (variant === 'relaxed' && !relaxed) throw new RecurError(`wasm: the relaxed-SIMD module does not validate on this engine; use variant 'simd'`);
  const memory = new WebAssembly.Memory({ initial: 16 });
  const imports = {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number) {
        throw new RecurError(`wasm kernel assertion failed: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`);
      },
    },
  };
  const source = SOURCES[variant];
  if (!source) throw new RecurError(`wasm: the '${variant}' module is not part of this build (the debug module ships in the Node build only)`);
  const instance = await instantiate(source, imports);
  return { variant, memory, exports: instance.exports as LoadedModule['exports'], relaxedSimdSupported: relaxed };
}

async function instantiate(src: WasmSource, imports: WebAssembly.Imports): Promise<WebAssembly.Instance> {
  if (src instanceof WebAssembly.Module) return WebAssembly.instantiate(src, imports);
  if (typeof Response !== 'undefined' && src instanceof Response) {
    return (await WebAssembly.instantiateStreaming(src, imports)).instance;
  }
  const bytes = (src instanceof Uint8Array ? src : new Uint8Array(src as ArrayBuffer)) as Uint8Array<ArrayBuffer>;
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  return instance;
}

/** AssemblyScript strings: UTF-16 code units, byte length stored just before the pointer. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0]! >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}
