// In headless Chromium: calibrate() keeps its result in IndexedDB by default, keyed by backend identity, and a
// fresh store (as on the next page load) finds it there. wasm only, to stay quick.
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrate, init } from '../../src/index.js';
import { indexedDbCalibrationStore } from '../../src/scheduler/calibration_idb.js';
import { backendIdentity } from '../../src/scheduler/calibrate.js';

beforeAll(async () => {
  await init();
});

describe('calibration in the browser', () => {
  it('is stored in IndexedDB and found again by identity', async () => {
    const c = await calibrate({ force: true });
    expect(c.identity).toBe(backendIdentity());
    expect(c.backends.wasm?.matvec?.flops).toBeGreaterThan(0);
    const store = indexedDbCalibrationStore();
    expect(store).not.toBeNull();
    expect(await store!.load(c.identity)).toEqual(c);
    expect(await store!.load('{"another":"identity"}')).toBeNull();
  });
});
