// Engine behaviour: scopes free intermediates, reshape shares storage, bad input names the problem.
import { beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, DisposedError, ShapeError } from '../src/errors.js';
import { getBackend, keep, tensor, tidy } from '../src/engine.js';
import { init, matmul, setBackend } from '../src/index.js';

beforeAll(async () => {
  await init(); // reference + wasm only: webgpu is deliberately not brought up in this file
});

describe('engine', () => {
  it('tidy frees every intermediate that is not returned', () => {
    const wasm = getBackend('wasm');
    const before = wasm.liveCount();
    const a = tensor(new Float32Array(12).fill(1), [3, 4], { backend: 'wasm' });
    const kept = tidy(() => {
      const b = matmul(a, a, { transB: true });
      const c = matmul(b, b);
      return { c, scalar: 3 };
    }).c;
    expect(wasm.liveCount()).toBe(before + 2); // a and c
    expect(Array.from(kept.dataSync())).toEqual(Array(9).fill(48));
    a.dispose();
    kept.dispose();
    expect(wasm.liveCount()).toBe(before);
  });

  it('tidy frees what was made inside when fn throws', () => {
    const wasm = getBackend('wasm');
    const before = wasm.liveCount();
    expect(() =>
      tidy(() => {
        tensor([1, 2], [2], { backend: 'wasm' });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(wasm.liveCount()).toBe(before);
  });

  it('keep() takes a tensor out of the scope', () => {
    const wasm = getBackend('wasm');
    const before = wasm.liveCount();
    let k: ReturnType<typeof tensor> | undefined;
    tidy(() => {
      k = keep(tensor([1, 2], [2], { backend: 'wasm' }));
      tensor([3], [1], { backend: 'wasm' });
    });
    expect(wasm.liveCount()).toBe(before + 1);
    k!.dispose();
    expect(wasm.liveCount()).toBe(before);
  });

  it('reshape shares storage until the last view is disposed', () => {
    const wasm = getBackend('wasm');
    const before = wasm.liveCount();
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend: 'wasm' });
    const b = a.reshape([3, -1]);
    expect(b.shape).toEqual([3, 2]);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    b.dispose();
    expect(wasm.liveCount()).toBe(before);
    expect(() => b.dataSync()).toThrow(DisposedError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => tensor([1, 2, 3, 4], [2, 2]).reshape([3, -1])).toThrow(ShapeError);
  });

  it('wasm views survive memory growth', () => {
    const a = tensor([1, 2, 3], [3], { backend: 'wasm' });
    const big = tensor(new Float32Array(8 << 20), [8 << 20], { backend: 'wasm' }); // forces memory.grow
    expect(Array.from(a.dataSync())).toEqual([1, 2, 3]);
    a.dispose();
    big.dispose();
  });

  it('a pin to an unavailable backend names what is available', () => {
    const a = tensor([1, 2, 3, 4], [2, 2], { backend: 'wasm' });
    expect(() => matmul(a, a, { backend: 'webgpu' })).toThrow(BackendUnavailableError);
    expect(() => matmul(a, a, { backend: 'webgpu' })).toThrow(/matmul: backend 'webgpu' is pinned but not available \(available: reference, wasm\)/);
    setBackend('reference');
    try {
      expect(matmul(a, a).backend.name).toBe('reference');
    } finally {
      setBackend('auto');
    }
    expect(() => setBackend('cuda' as 'wasm')).toThrow(/expected auto, reference, wasm or webgpu/);
  });
});
