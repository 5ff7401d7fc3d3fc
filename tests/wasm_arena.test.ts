// The wasm arena (src/backends/wasm/arena.ts): 16-byte-aligned blocks that never overlap and stay inside memory,
// against a model of every live block through long seeded random alloc/free sequences; free blocks coalesce (all
// freed: the heap folds back to its base); a freed size is reused; memory grows when needed; misuse is named.
import { describe, expect, it } from 'vitest';
import { Arena } from '../src/backends/wasm/arena.js';
import { RecurError } from '../src/errors.js';
import { Rng } from './helpers/rng.js';

const BASE = 1000; // not aligned: the arena aligns it up to 1008

function arena(): { a: Arena; mem: WebAssembly.Memory } {
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  return { a: new Arena(mem, BASE), mem };
}

/** Checks the live blocks: aligned, inside [1008, memory size), pairwise disjoint. */
function checkLive(live: Map<number, number>, mem: WebAssembly.Memory, what: string): void {
  const blocks = [...live].sort((x, y) => x[0] - y[0]);
  blocks.forEach(([p, n], i) => {
    expect(p % 16, `${what}: block at ${p} aligned`).toBe(0);
    expect(p, `${what}: block at ${p} above the base`).toBeGreaterThanOrEqual(1008);
    expect(p + n, `${what}: block at ${p} (+${n}) inside memory`).toBeLessThanOrEqual(mem.buffer.byteLength);
    if (i > 0) {
      const [q, m] = blocks[i - 1]!;
      expect(q + m, `${what}: block at ${q} (+${m}) overlaps the one at ${p}`).toBeLessThanOrEqual(p);
    }
  });
}

describe('wasm arena', () => {
  it.each([1, 2, 3])('seeded random alloc/free (seed %i): aligned, disjoint, in memory; all freed folds back to the base', (seed) => {
    const { a, mem } = arena();
    const rng = new Rng(seed);
    const live = new Map<number, number>();
    // A few recurring sizes (as a model's tensors) and some odd ones, LIFO-ish and random frees.
    const sizes = [4, 16, 48, 1024, 3072, 4096, 65536, 12, 100, 777];
    for (let step = 0; step < 20000; step++) {
      const r = rng.next();
      if (live.size === 0 || r < 0.55) {
        const bytes = rng.next() < 0.8 ? sizes[rng.int(0, sizes.length)]! : rng.int(0, 200_000);
        const p = a.alloc(bytes);
        expect(live.has(p), `step ${step}: ${p} handed out twice`).toBe(false);
        live.set(p, Math.max(16, Math.ceil(bytes / 16) * 16));
      } else {
        const keys = [...live.keys()];
        const p = r < 0.8 ? keys[keys.length - 1]! : keys[rng.int(0, keys.length)]!;
        a.free(p);
        live.delete(p);
      }
      if (step % 997 === 0) checkLive(live, mem, `seed ${seed} step ${step}`);
      expect(a.liveCount).toBe(live.size);
    }
    checkLive(live, mem, `seed ${seed} end`);
    expect(a.bytesInUse).toBe([...live.values()].reduce((s, n) => s + n, 0));
    for (const p of [...live.keys()].sort(() => rng.next() - 0.5)) a.free(p);
    expect(a.liveCount).toBe(0);
    expect(a.freeBlocks, 'every free block coalesced into the top').toBe(0);
    expect(a.alloc(16), 'the next block starts at the aligned base').toBe(1008);
  });

  it('reuses a freed block of the same size, coalesces neighbours, and takes the front of a larger block', () => {
    const { a } = arena();
    const [p, q, r, guard] = [a.alloc(64), a.alloc(64), a.alloc(64), a.alloc(16)];
    expect([p, q, r, guard]).toEqual([1008, 1072, 1136, 1200]);
    a.free(q);
    expect(a.freeBlocks).toBe(1);
    expect(a.alloc(64), 'same size: the freed block').toBe(q);
    a.free(p);
    a.free(q);
    a.free(r);
    expect(a.freeBlocks, 'three neighbours, one block').toBe(1);
    expect(a.alloc(192), 'the coalesced block fits 3 × 64').toBe(1008);
    a.free(1008);
    expect(a.alloc(32), 'the front of the larger block').toBe(1008);
    expect(a.alloc(160), 'the rest of it').toBe(1040);
    expect(a.freeBlocks).toBe(0);
  });

  it('a heap with thousands of free blocks (a long BPTT step) still reuses them, without growing', () => {
    const { a, mem } = arena();
    // 4,096 pairs: a kept block and a freed one between each, as a tape's kept activations and freed temporaries.
    const kept: number[] = [];
    const freed: number[] = [];
    for (let i = 0; i < 4096; i++) {
      kept.push(a.alloc(1024));
      freed.push(a.alloc(3072));
    }
    freed.forEach((p) => a.free(p));
    expect(a.freeBlocks, 'the last freed block folds into the top').toBe(4095);
    const size = mem.buffer.byteLength;
    const again = Array.from({ length: 4096 }, () => a.alloc(3000));
    expect(new Set(again)).toEqual(new Set(freed));
    expect(mem.buffer.byteLength, 'no growth: every request fits a free block').toBe(size);
    [...again, ...kept].forEach((p) => a.free(p));
    expect(a.freeBlocks).toBe(0);
  });

  it('grows memory for a large block and names misuse', () => {
    const { a, mem } = arena();
    const p = a.alloc(5_000_000);
    expect(mem.buffer.byteLength).toBeGreaterThanOrEqual(p + 5_000_000);
    a.free(p);
    expect(() => a.free(p)).toThrow(RecurError);
    expect(() => a.free(p)).toThrow(`wasm arena: free of unknown pointer ${p}`);
    expect(() => a.free(12345)).toThrow(/free of unknown pointer 12345/);
  });
});
