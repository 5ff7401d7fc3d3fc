// Truncated-BPTT batches: layout (T, B) time-major, streams continue across steps, epochs wrap with a state
// reset, and a restored position yields exactly the batches of an uninterrupted run.
import { describe, expect, it } from 'vitest';
import { StreamBatcher, type Batch } from '../../src/data/batches.js';
import { Rng } from '../helpers/rng.js';

const iota = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('StreamBatcher', () => {
  it('cuts B contiguous streams; inputs/targets are (T, B) time-major; each step continues each stream', () => {
    const N = 103;
    const B = 4;
    const T = 5;
    const b = new StreamBatcher(iota(N), { batchSize: B, seqLen: T });
    const L = Math.floor((N - 1) / B); // 25
    expect([b.streamLength, b.stepsPerEpoch]).toEqual([L, 5]);
    for (let s = 0; s < b.stepsPerEpoch; s++) {
      const x = b.next();
      expect([x.epoch, x.step, x.resetState]).toEqual([0, s, s === 0]);
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < B; j++) {
          expect(x.inputs[t * B + j]).toBe(j * L + s * T + t);
          expect(x.targets[t * B + j]).toBe(j * L + s * T + t + 1);
        }
      }
    }
    const wrapped = b.next();
    expect([wrapped.epoch, wrapped.step, wrapped.resetState, wrapped.inputs[0]]).toEqual([1, 0, true, 0]);
  });

  it('drops each stream tail shorter than T and uses at most N - 1 inputs', () => {
    const b = new StreamBatcher(iota(50), { batchSize: 3, seqLen: 4 }); // L = 16, 4 steps, no tail
    const c = new StreamBatcher(iota(50), { batchSize: 3, seqLen: 5 }); // L = 16, 3 steps, tail of 1
    expect([b.stepsPerEpoch, c.stepsPerEpoch]).toEqual([4, 3]);
    let maxTarget = 0;
    for (let s = 0; s < c.stepsPerEpoch; s++) maxTarget = Math.max(maxTarget, ...c.next().targets);
    expect(maxTarget).toBeLessThanOrEqual(49);
  });

  it('a batcher restored from a saved position continues exactly like the uninterrupted one (across epochs)', () => {
    const rng = new Rng(77);
    const ids = Int32Array.from({ length: 997 }, () => rng.int(0, 256));
    const opts = { batchSize: 3, seqLen: 11 };
    const straight = new StreamBatcher(ids, opts);
    const all: Batch[] = Array.from({ length: 3 * straight.stepsPerEpoch + 5 }, () => straight.next());
    for (const cut of [0, 1, 7, straight.stepsPerEpoch - 1, straight.stepsPerEpoch, 2 * straight.stepsPerEpoch + 3]) {
      const first = new StreamBatcher(ids, opts);
      for (let s = 0; s < cut; s++) first.next();
      const saved = JSON.parse(JSON.stringify(first.position)); // as it goes through config.json
      const resumed = new StreamBatcher(ids, opts);
      resumed.restore(saved);
      for (let s = cut; s < all.length; s++) {
        const got = resumed.next();
        expect(got, `cut ${cut}, step ${s}`).toEqual(all[s]);
      }
    }
  });

  it('refuses a position from another setup, and setups with too little text', () => {
    const b = new StreamBatcher(iota(100), { batchSize: 2, seqLen: 5 });
    const p = b.position;
    expect(() => new StreamBatcher(iota(101), { batchSize: 2, seqLen: 5 }).restore(p)).toThrow(/tokens 100 but this run has 101/);
    expect(() => new StreamBatcher(iota(100), { batchSize: 3, seqLen: 5 }).restore(p)).toThrow(/batchSize 2 but this run has 3/);
    expect(() => b.restore({ ...p, step: b.stepsPerEpoch })).toThrow(/past the 9 steps/);
    expect(() => b.restore({ ...p, epoch: -1 })).toThrow(/needs integer epoch and step/);
    expect(() => new StreamBatcher(iota(10), { batchSize: 3, seqLen: 4 })).toThrow(/10 tokens are too few for 3 streams of 4 steps \(need at least 13\)/);
    expect(() => new StreamBatcher(iota(10), { batchSize: 0, seqLen: 4 })).toThrow(/batchSize 0/);
    expect(new StreamBatcher(iota(13), { batchSize: 3, seqLen: 4 }).stepsPerEpoch).toBe(1);
  });
});
