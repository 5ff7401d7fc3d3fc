// Calibration on wasm (WebGPU is not brought up here: tests/train/device_loss.test.ts uses it): every op class is
// measured with finite positive rates, the result is cached in memory and in a store keyed by backend identity,
// re-measured when the identity differs, and the Node file store survives a corrupt file. No timing assertions.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { fileCalibrationStore } from '../src/node/calibration_cache.js';
import { backendIdentity, calibrate, isCalibration, type CalibrationStore } from '../src/scheduler/calibrate.js';
import { OP_CLASSES, type Calibration } from '../src/scheduler/cost_model.js';
import { getCalibration, setCalibration } from '../src/scheduler/scheduler.js';

let dir = '';
const saved = getCalibration();
beforeAll(async () => {
  await init();
  dir = mkdtempSync(join(tmpdir(), 'recur-calibration-'));
});
afterAll(() => {
  setCalibration(saved);
  rmSync(dir, { recursive: true, force: true });
});

/** A store that records what it was asked. */
function memoryStore(initial: Calibration[] = []): CalibrationStore & { loads: number; saves: Calibration[] } {
  const all = [...initial];
  return {
    loads: 0,
    saves: [],
    load(identity) {
      this.loads++;
      return all.find((c) => c.identity === identity) ?? null;
    },
    save(c) {
      this.saves.push(c);
      all.push(c);
    },
  };
}

describe('calibration', () => {
  let first: Calibration;

  it('measures every op class on wasm and installs the result in the scheduler', async () => {
    const store = memoryStore();
    first = await calibrate({ force: true, store });
    expect(isCalibration(first)).toBe(true);
    expect(first.identity).toBe(backendIdentity());
    expect(JSON.parse(first.identity)).toMatchObject({ recur: expect.any(String), wasm: { module: expect.stringMatching(/relaxed|simd|debug/) } });
    for (const cls of OP_CLASSES) {
      const r = first.backends.wasm![cls]!;
      expect(r.latency).toBeGreaterThan(0);
      expect(Number.isFinite(r.flops) && r.flops > 0).toBe(true);
      expect(Number.isFinite(r.bytes) && r.bytes > 0).toBe(true);
    }
    expect(first.backends.reference).toBeUndefined(); // the oracle is never timed
    expect(store.saves).toHaveLength(1);
    expect(getCalibration()).toBe(first);
  });

  it('is cached in memory, then in the store, by identity; another identity is measured again', async () => {
    const store = memoryStore();
    expect(await calibrate({ store })).toBe(first); // memory: the store is not even asked
    expect(store.loads).toBe(0);
    const stale = { ...first, identity: '{"other":"machine"}', measuredAt: 'stale' };
    const other = memoryStore([stale]);
    const again = await calibrate({ force: true, store: other });
    expect(again.measuredAt).not.toBe('stale');
    expect(other.saves).toHaveLength(1);
  });

  it('the Node file store round-trips, keeps several identities, and shrugs off a corrupt file', async () => {
    const path = join(dir, 'sub', 'calibration.json');
    const store = fileCalibrationStore(path);
    expect(store.load(first.identity)).toBeNull(); // no file yet
    store.save(first);
    store.save({ ...first, identity: 'x' });
    expect(store.load(first.identity)).toEqual(first);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(2);
    writeFileSync(path, '{"truncated": ');
    expect(store.load(first.identity)).toBeNull();
    writeFileSync(path, JSON.stringify([{ ...first, backends: { wasm: { matvec: { latency: -1, flops: 0, bytes: 0 } } } }]));
    expect(store.load(first.identity)).toBeNull(); // invalid entries are ignored, not trusted
    const c = await calibrate({ force: true, store });
    expect(store.load(c.identity)).toEqual(c);
  });
});
