// The three wasm builds: plain SIMD, relaxed SIMD (picked when the engine validates it) and debug (assertions on).
import { describe, expect, it } from 'vitest';
import { loadModule, relaxedSimdSupported } from '../src/backends/wasm/module.js';
import { RecurError } from '../src/errors.js';

describe('wasm modules', () => {
  it('relaxed SIMD validates on this engine (Node 20 with the V8 flag set at run time) and is the default', async () => {
    expect(await relaxedSimdSupported()).toBe(true);
    const m = await loadModule();
    expect(m.variant).toBe('relaxed');
    expect(m.exports['has_relaxed_simd']!()).toBe(1);
    const plain = await loadModule({ variant: 'simd' });
    expect(plain.exports['has_relaxed_simd']!()).toBe(0);
  });

  it('the debug module turns a kernel assertion into an error that names it; release modules do not check', async () => {
    const debug = await loadModule({ variant: 'debug' });
    expect(() => debug.exports['adamw_step_f32']!(18, 32, 48, 64, 1, 1, 0.9, 0.999, 0.1, 1, 1e-8)).toThrow(RecurError);
    expect(() => debug.exports['adamw_step_f32']!(18, 32, 48, 64, 1, 1, 0.9, 0.999, 0.1, 1, 1e-8)).toThrow(
      /wasm kernel assertion failed: adamw_step_f32: p must be 4-byte aligned at assembly\/lib\/check\.ts:\d+:\d+/,
    );
    expect(() => debug.exports['adamw_step_f32']!(16, 32, 48, 64, -1, 1, 0.9, 0.999, 0.1, 1, 1e-8)).toThrow(/n must be >= 0/);
    const release = await loadModule({ variant: 'simd' });
    expect(() => release.exports['adamw_step_f32']!(16, 32, 48, 64, 0, 1, 0.9, 0.999, 0.1, 1, 1e-8)).not.toThrow();
  });
});
