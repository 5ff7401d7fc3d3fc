// Train/validation split by position: disjoint, covering, the validation part is the tail.
import { describe, expect, it } from 'vitest';
import { splitByPosition } from '../../src/data/split.js';
import { StreamBatcher } from '../../src/data/batches.js';
import { Rng } from '../helpers/rng.js';

describe('splitByPosition', () => {
  it('cuts at length - floor(length * fraction): train then validation, disjoint and covering', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 100; k++) {
      const n = rng.int(20, 500);
      const ids = Int32Array.from({ length: n }, (_, i) => i);
      const f = [0, 0.05, 0.1, 0.5, 0.9][k % 5]!;
      const { train, validation, boundary } = splitByPosition(ids, f);
      expect(boundary).toBe(n - Math.floor(n * f));
      expect(train.length + validation.length).toBe(n);
      expect(Array.from(train)).toEqual(Array.from(ids.subarray(0, boundary)));
      expect(Array.from(validation)).toEqual(Array.from(ids.subarray(boundary)));
    }
  });

  it('batches from the training part never read a validation id', () => {
    const ids = Int32Array.from({ length: 1000 }, (_, i) => i);
    const { train, boundary } = splitByPosition(ids, 0.1);
    const b = new StreamBatcher(train, { batchSize: 4, seqLen: 7 });
    for (let s = 0; s < 3 * b.stepsPerEpoch; s++) {
      const { inputs, targets } = b.next();
      expect(Math.max(...inputs, ...targets)).toBeLessThan(boundary);
    }
  });

  it('rejects fractions outside [0, 1) and splits that leave nothing', () => {
    const ids = new Int32Array(10);
    expect(() => splitByPosition(ids, 1)).toThrow(/validationFraction 1 must be in \[0, 1\)/);
    expect(() => splitByPosition(ids, -0.1)).toThrow(/must be in/);
    expect(() => splitByPosition(ids, NaN)).toThrow(/must be in/);
    expect(() => splitByPosition(ids, 0.01)).toThrow(/less than one token/);
    expect(() => splitByPosition(new Int32Array(2), 0.5)).toThrow(/1 training tokens/);
  });
});
