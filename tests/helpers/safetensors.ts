// Helpers for the safetensors tests: hand-built files (any header text, any length field) and an
// allocation probe that records the largest typed array or buffer requested while a function runs.
import type { SafetensorsTensor } from '../../src/io/safetensors.js';
import type { Rng } from './rng.js';

/** A file with `header` as the JSON text (padded to 8 bytes unless told not to) and `data` after it. */
export function rawFile(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const n = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setUint32(0, n, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  out.set(data, 8 + n);
  return out;
}

/** Overwrites the 8-byte length field with `value` (a u64 as bigint). */
export function withHeaderLength(file: Uint8Array, value: bigint): Uint8Array {
  const out = file.slice();
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return out;
}

const PROBED = ['ArrayBuffer', 'Uint8Array', 'Uint16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'DataView'] as const;

/** Runs fn with the typed-array constructors wrapped; returns the largest byte count any `new X(n)` asked for. */
export function probeAllocations<T>(fn: () => T): { result?: T; error?: unknown; maxBytes: number } {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = PROBED.map((k) => g[k]);
  let maxBytes = 0;
  PROBED.forEach((k, i) => {
    const orig = saved[i] as { BYTES_PER_ELEMENT?: number } & (new (...a: unknown[]) => object);
    g[k] = new Proxy(orig, {
      construct(target, args) {
        if (typeof args[0] === 'number') maxBytes = Math.max(maxBytes, args[0] * (orig.BYTES_PER_ELEMENT ?? 1));
        return Reflect.construct(target, args) as object;
      },
    });
  });
  try {
    return { result: fn(), maxBytes };
  } catch (error) {
    return { error, maxBytes };
  } finally {
    PROBED.forEach((k, i) => (g[k] = saved[i]));
  }
}

/** Random tensors: ranks 0..4, dims 0..5, F32 or I32, names that include digits-only and non-ASCII ones. */
export function randomTensors(rng: Rng, count: number): SafetensorsTensor[] {
  const out: SafetensorsTensor[] = [];
  const pool = ['w', 'layer.0.weight', '7', '0', 'optim.m.w', 'naïve/é', '😀 emoji', 'a"quote', 'back\\slash'];
  for (let i = 0; i < count; i++) {
    const rank = rng.int(0, 5);
    const shape = Array.from({ length: rank }, () => rng.int(0, 6));
    const n = shape.reduce((a, b) => a * b, 1);
    const name = `${pool[rng.int(0, pool.length)]}#${i}`;
    if (rng.next() < 0.5) {
      const data = new Float32Array(n);
      for (let j = 0; j < n; j++) data[j] = rng.normal() * 10 ** rng.int(-3, 4);
      out.push({ name, dtype: 'F32', shape, data });
    } else {
      const data = new Int32Array(n);
      for (let j = 0; j < n; j++) data[j] = rng.int(-(2 ** 31), 2 ** 31);
      out.push({ name, dtype: 'I32', shape, data });
    }
  }
  return out;
}

/** Bitwise equality of two typed arrays (so NaN, -0 and Infinity compare exactly). */
export function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
