// clipGradNorm: the global L2 norm over all gradients (against a float64 sum), scaling only above maxNorm, no NaN
// on a zero norm, null entries, a named error for NaN/Infinity, on every backend, and no leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { getBackend, tensor } from '../../src/engine.js';
import { OptionError, RecurError } from '../../src/errors.js';
import { clipGradNorm, clipGradNormSync } from '../../src/optim/clip.js';
import type { Tensor } from '../../src/tensor.js';
import { expectClose, type Tol } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { generate, Rng } from '../helpers/rng.js';

/** Tolerance, once: a float32 sum of squares over ~200 elements, a square root and one multiply. */
const TOL: Tol = { atol: 1e-6, rtol: 1e-5 };
const SHAPES = [[17], [5, 7], [3, 2, 11]];

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function data(seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return SHAPES.map((s) => generate(rng, 'normal', s.reduce((a, b) => a * b, 1)));
}
const norm64 = (ds: Float64Array[]) => Math.sqrt(ds.reduce((s, d) => s + d.reduce((a, x) => a + x * x, 0), 0));
const upload = (ds: Float64Array[], b: BackendName): (Tensor | null)[] => ds.map((d, i) => tensor(Float32Array.from(d), SHAPES[i]!, { backend: b }));

describe('clipGradNorm', () => {
  it('returns the global norm and scales every gradient to maxNorm when above it (every backend)', async () => {
    const ds = data(1);
    const want = norm64(ds);
    for (const b of ['reference', ...backends] as BackendName[]) {
      const before = getBackend(b).liveCount();
      const grads = upload(ds, b);
      const kept = [...grads];
      const norm = await clipGradNorm(grads, 2);
      expectClose([norm], [want], TOL, `norm on ${b}`);
      expect(kept.every((g) => g!.disposed), `${b}: replaced gradients are disposed`).toBe(true);
      const after = await Promise.all(grads.map((g) => g!.dataF64()));
      after.forEach((a, i) => expectClose(a, ds[i]!.map((x) => (x * 2) / (want + 1e-6)), TOL, `clipped gradient ${i} on ${b}`));
      expectClose([norm64(after)], [2], TOL, `norm after clipping on ${b}`);
      grads.forEach((g) => g!.dispose());
      expect(getBackend(b).liveCount(), `${b}: leak`).toBe(before);
    }
  });

  it('leaves gradients (the same tensors) alone at or below maxNorm, skips nulls, and a zero norm gives no NaN', async () => {
    const ds = data(2);
    const grads = [...upload(ds, 'wasm'), null];
    const same = [...grads];
    expectClose([await clipGradNorm(grads, 1e6)], [norm64(ds)], TOL, 'norm');
    expect(grads).toEqual(same);
    expect(grads.every((g, i) => g === same[i])).toBe(true);
    grads.forEach((g) => g?.dispose());
    const zeros = [tensor(new Float32Array(4), [4], { backend: 'wasm' }), null, tensor(new Float32Array(0), [0, 3], { backend: 'wasm' })];
    expect(await clipGradNorm(zeros, 1)).toBe(0);
    expect(Array.from(zeros[0]!.dataSync())).toEqual([0, 0, 0, 0]);
    expect(clipGradNormSync(zeros, 1)).toBe(0);
    expect(await clipGradNorm([], 1)).toBe(0);
    zeros.forEach((g) => g?.dispose());
  });

  it('clipGradNormSync agrees with clipGradNorm on reference and wasm and refuses GPU gradients', async () => {
    const ds = data(3);
    for (const b of ['reference', 'wasm'] as BackendName[]) {
      const [a, s] = [upload(ds, b), upload(ds, b)];
      const na = await clipGradNorm(a, 0.5);
      expect(clipGradNormSync(s, 0.5)).toBe(na);
      for (let i = 0; i < a.length; i++) expect(Array.from(s[i]!.dataSync())).toEqual(Array.from(a[i]!.dataSync()));
      [...a, ...s].forEach((g) => g!.dispose());
    }
    if (backends.includes('webgpu')) {
      const g = tensor([1, 2], [2], { backend: 'webgpu' });
      expect(() => clipGradNormSync([g], 1)).toThrow(/lives on webgpu, which reads asynchronously; use await clipGradNorm\(\)/);
      g.dispose();
    }
  });

  it('names a NaN or infinite gradient and a bad maxNorm', async () => {
    const good = tensor([1, 2, 3], [3], { backend: 'wasm' });
    const bad = tensor([0, NaN, 1, 2], [2, 2], { backend: 'wasm' });
    const grads = [good, bad];
    await expect(clipGradNorm(grads, 1)).rejects.toThrow(RecurError);
    await expect(clipGradNorm(grads, 1)).rejects.toThrow(/the gradient norm is NaN: gradient 1 \[2, 2\] holds NaN at element 1/);
    expect(() => clipGradNormSync(grads, 1)).toThrow(/gradient 1 \[2, 2\] holds NaN at element 1/);
    expect(grads[0]).toBe(good);
    await expect(clipGradNorm(grads, 0)).rejects.toThrow(OptionError);
    expect(() => clipGradNormSync(grads, Infinity)).toThrow(/maxNorm must be a finite number > 0 \(got Infinity\)/);
    [good, bad].forEach((t) => t.dispose());
  });
});
