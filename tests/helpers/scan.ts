// Helpers shared by the fused-scan tests (mingru_scan, minlstm_scan): seeded inputs, running one scan on a backend,
// the tolerances, the max element-wise and norm-wise relative errors, forcing the WebGPU path (per-channel or
// chunked), and the long-T accuracy checks.
import { expect } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { SCAN_GPU } from '../../src/ops/scan_common.js';
import type { Tensor } from '../../src/tensor.js';
import type { OpTolerances } from './check_op.js';
import { generate, Rng, type Gen } from './rng.js';

/** One tolerance table: f32 recurrences over T ≤ 40 steps (fwd, bwd), the 6-decimal G.7 vectors, long-T bounds. */
export const TOL: OpTolerances = { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 1e-5, rtol: 1e-4 } };
export const G7 = { atol: 1e-6, rtol: 0 };
export const STEPWISE = { atol: 1e-6, rtol: 1e-6 };
export const LONG_T_REL = 1e-5; // T = 4096, every backend and path
export const VERY_LONG_T_REL = 2e-6; // T = 65536, wasm

/** Seeded float32-exact arrays of n values each. */
export function seeded(seed: number, n: number, count: number, gen: Gen = 'normal'): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => generate(rng, gen, n));
}

/** Uploads arrays to a backend, runs fn, reads every returned tensor back as float64 and frees everything. */
export async function runScan(backend: BackendName, data: readonly (readonly [ArrayLike<number>, number[]])[], fn: (xs: Tensor[]) => Tensor[]): Promise<Float64Array[]> {
  const xs = data.map(([d, shape]) => tensor(Float32Array.from(d), shape, { backend }));
  try {
    const outs = fn(xs);
    const got = await Promise.all(outs.map((t) => t.dataF64()));
    outs.forEach((t) => t.dispose());
    return got;
  } finally {
    xs.forEach((t) => t.dispose());
  }
}

/** max_i |a_i − b_i| / |b_i|. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return m;
}

/** ‖a − b‖₂ / ‖b‖₂. */
export function normRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

export type GpuPath = 'per-channel' | 'chunked';

/** Runs fn with the WebGPU scan forced onto one path (chunk of `chunk` steps), then restores the defaults. */
export async function withGpuPath<T>(path: GpuPath, fn: () => Promise<T>, chunk = 8): Promise<T> {
  const saved = { ...SCAN_GPU };
  Object.assign(SCAN_GPU, path === 'chunked' ? { chunkedMaxChannels: Infinity, chunkedMinT: 1, chunk } : { chunkedMaxChannels: 0 });
  try {
    return await fn();
  } finally {
    Object.assign(SCAN_GPU, saved);
  }
}

/**
 * Long-T accuracy: run(b) returns [h, ...gradients, hT]; on every backend (WebGPU forced onto `path`, chunks of 64)
 * h is within `bound` element-wise of the reference and each gradient within `bound` norm-wise.
 */
export async function expectLongTAccuracy(path: GpuPath, backends: readonly BackendName[], run: (b: BackendName) => Promise<Float64Array[]>, bound: number): Promise<void> {
  const ref = await run('reference');
  await withGpuPath(
    path,
    async () => {
      for (const b of backends) {
        const got = await run(b);
        expect(maxRelErr(got[0]!, ref[0]!), `h on ${b}`).toBeLessThanOrEqual(bound);
        for (let j = 1; j < got.length - 1; j++) expect(normRelErr(got[j]!, ref[j]!), `gradient ${j} on ${b}`).toBeLessThanOrEqual(bound);
      }
    },
    64,
  );
}

/** T = 65536 forward on wasm (when it is among the backends) within VERY_LONG_T_REL of the reference; fwd returns h. */
export async function expectVeryLongTOnWasm(op: string, backends: readonly BackendName[], data: readonly (readonly [ArrayLike<number>, number[]])[], fwd: (xs: Tensor[], backend: BackendName) => Tensor): Promise<void> {
  if (!backends.includes('wasm')) return;
  const [ref] = await runScan('reference', data, (xs) => [fwd(xs, 'reference')]);
  const [got] = await runScan('wasm', data, (xs) => [fwd(xs, 'wasm')]);
  const err = maxRelErr(got!, ref!);
  console.info(`${op} T=65536 wasm: max relative error ${err.toExponential(2)}`);
  expect(err).toBeLessThanOrEqual(VERY_LONG_T_REL);
}
