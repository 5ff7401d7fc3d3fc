// stream_copy_f32x4, the wasm copy loop the scan benchmarks divide by (bench/bandwidth.ts): it must copy exactly the
// bytes asked for, 64 at a time and then a 16-byte tail, in every module variant.
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import type { WasmVariant } from '../../src/backends/wasm/module.js';
import { Rng } from '../helpers/rng.js';

const VARIANTS: WasmVariant[] = ['simd', 'relaxed', 'debug'];
const backends = new Map<WasmVariant, WasmBackend>();
beforeAll(async () => {
  for (const v of VARIANTS) backends.set(v, await WasmBackend.create({ variant: v }));
});

describe('stream_copy_f32x4', () => {
  // 16 and 48: tail only; 64: one block; 80, 1008: blocks and tail; 0: nothing
  it.each(VARIANTS)('copies 0, 16, 48, 64, 80, 1008 and 65552 bytes exactly (%s)', (v) => {
    const be = backends.get(v)!;
    const copy = be.module.exports['stream_copy_f32x4']!;
    const rng = new Rng(7);
    for (const bytes of [0, 16, 48, 64, 80, 1008, 65552]) {
      const n = bytes / 4;
      const pad = 8; // floats checked past the end
      const src = be.arena.alloc(bytes + 4 * pad);
      const dst = be.arena.alloc(bytes + 4 * pad);
      const data = Float32Array.from({ length: n + pad }, () => rng.uniform(-1, 1));
      be.f32(src, n + pad).set(data);
      be.f32(dst, n + pad).fill(-7);
      copy(dst, src, bytes);
      const out = be.f32(dst, n + pad);
      expect(Array.from(out.subarray(0, n))).toEqual(Array.from(data.subarray(0, n)));
      expect(Array.from(out.subarray(n))).toEqual(new Array(pad).fill(-7));
      be.arena.free(src);
      be.arena.free(dst);
    }
  });
});
