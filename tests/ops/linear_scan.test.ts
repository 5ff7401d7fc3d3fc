// linear_scan through the op harness (reference, wasm, webgpu sequential and chunked), a hand-computed case, float32
// error at T = 4096 against float64, the chunked WebGPU scan against the sequential one, and shape errors.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { linearScan, linearScanBwd, linearScanBwdOp, linearScanGpuPlan, linearScanOp, type LinearScanParams } from '../../src/ops/linear_scan.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import { Rng } from '../helpers/rng.js';

/** One tolerance table: forward/backward float32 vs float64 on short scans; long-T relative error; path agreement. */
const TOL: OpTolerances = { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 2e-5, rtol: 2e-5 } };
const LONG_T_REL = 1e-5; // ‖h32 − h64‖∞ / ‖h64‖∞ at T = 4096 (issue acceptance criterion)
const PATHS_REL = 1e-5; // chunked vs sequential WebGPU, same normalisation

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

const A_GEN = { uniform: [-1.05, 1.05] as [number, number] };

function scan(name: string, T: number, B: number, D: number, params: LinearScanParams, h0 = true): OpCase<LinearScanParams> {
  const inputs: InputSpec[] = [{ shape: [T, B, D], gen: A_GEN }, { shape: [T, B, D] }];
  if (h0) inputs.push({ shape: [B, D] });
  return { name, op: linearScanOp, inputs, params, tol: TOL };
}

describe('linear_scan', () => {
  it('matches a hand-computed scan, forward and reverse, with its adjoint', () => {
    const r = { backend: 'reference' as const };
    const a = tensor([0.5, 0.5, 2], [3, 1, 1], r);
    const b = tensor([1, 2, 3], [3, 1, 1], r);
    const h0 = tensor([4], [1, 1], r);
    const [h, hT] = linearScan(a, b, { h0 });
    expect(Array.from(h.dataSync())).toEqual([3, 3.5, 10]);
    expect(Array.from(hT.dataSync())).toEqual([10]);
    const [hr, hrT] = linearScan(a, b, { h0, reverse: true });
    expect(Array.from(hr.dataSync())).toEqual([4.75, 7.5, 11]);
    expect(Array.from(hrT.dataSync())).toEqual([4.75]);
    // L = h_3 through hT (dh = 0, dhT = 1): λ_3 = 1, λ_2 = a_3·λ_3 = 2, λ_1 = a_2·λ_2 = 1; dh0 = a_1·λ_1 = 0.5.
    const [da, db, dh0] = linearScanBwd(a, h, tensor([0, 0, 0], [3, 1, 1], r), tensor([1], [1, 1], r), { h0 });
    expect(Array.from(db.dataSync())).toEqual([1, 2, 1]);
    expect(Array.from(da.dataSync())).toEqual([4, 6, 3.5]); // λ_t·h_{t−1}: 1·4, 2·3, 1·3.5
    expect(Array.from(dh0.dataSync())).toEqual([0.5]);
  });

  const cases: OpCase<LinearScanParams>[] = [];
  for (const D of ODD_SIZES) {
    cases.push(scan(`D=${D}`, 6, 2, D, {}));
    cases.push(scan(`D=${D} reverse, no h0`, 5, 3, D, { reverse: true }, false));
  }
  cases.push(scan('T=1', 1, 3, 5, {}));
  cases.push(scan('T=1 no h0', 1, 2, 3, {}, false));
  cases.push(scan('T=0 (hT = h0)', 0, 2, 3, {}));
  cases.push(scan('T=0 chunked', 0, 2, 3, { gpuPath: 'chunked' }));
  cases.push(scan('B=1 D=300', 9, 1, 300, {}, false));
  cases.push(scan('wide rows (two wasm channel blocks)', 2, 1, 65543, { reverse: true }));
  // Chunked WebGPU path around chunk boundaries (chunk 16): C−1, C, C+1, and T not a multiple of C.
  for (const T of [15, 16, 17, 50]) {
    cases.push(scan(`chunked T=${T}`, T, 2, 3, { gpuPath: 'chunked', chunk: 16 }));
    cases.push(scan(`chunked T=${T} reverse, no h0`, T, 1, 5, { gpuPath: 'chunked', chunk: 16, reverse: true }, false));
  }
  cases.push(scan('sequential forced, T=300', 300, 1, 3, { gpuPath: 'sequential' }));
  cases.push(scan('auto (chunked) T=300', 300, 1, 3, {}));
  // The backward op on its own (grad null: forward of the _bwd op on every backend vs its reference).
  for (const [T, params] of [[7, {}], [33, { gpuPath: 'chunked', chunk: 8, reverse: true }]] as [number, LinearScanParams][]) {
    cases.push({
      name: `bwd T=${T}${params.reverse ? ' reverse' : ''}`, op: linearScanBwdOp, params, tol: TOL,
      inputs: [{ shape: [T, 2, 5], gen: A_GEN }, { shape: [T, 2, 5] }, { shape: [T, 2, 5] }, { shape: [2, 5] }, { shape: [2, 5] }],
    });
  }
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('picks the chunked WebGPU path only for few channels and long T', () => {
    expect(linearScanGpuPlan(4096, 8, {}).chunked).toBe(true);
    expect(linearScanGpuPlan(100, 8, {}).chunked).toBe(false);
    expect(linearScanGpuPlan(4096, 32 * 256, {}).chunked).toBe(false);
    expect(linearScanGpuPlan(4096, 8, { gpuPath: 'sequential' }).chunked).toBe(false);
    expect(linearScanGpuPlan(10, 8, { gpuPath: 'chunked' }).chunked).toBe(true);
  });

  // minGRU-like coefficients: a = 1 − σ(k) ∈ (0, 1), b = σ(k)·h̃ with k ~ N(0, 2²).
  function gates(T: number, N: number, seed: number): { a: Float32Array; b: Float32Array; h0: Float32Array } {
    const rng = new Rng(seed);
    const a = new Float32Array(T * N);
    const b = new Float32Array(T * N);
    for (let i = 0; i < T * N; i++) {
      const z = 1 / (1 + Math.exp(-2 * rng.normal()));
      a[i] = 1 - z;
      b[i] = z * rng.normal();
    }
    return { a, b, h0: Float32Array.from({ length: N }, () => rng.normal()) };
  }
  const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => {
    let e = 0;
    let m = 0;
    for (let i = 0; i < want.length; i++) (e = Math.max(e, Math.abs(got[i]! - want[i]!))), (m = Math.max(m, Math.abs(want[i]!)));
    return e / m;
  };

  it('keeps float32 relative error within 1e-5 of float64 at T = 4096 on every backend (forward and backward)', async () => {
    const [T, B, D] = [4096, 1, 8];
    const { a, b, h0 } = gates(T, B * D, 7);
    const g = gates(T, B * D, 8).b; // upstream dh
    const ref = { backend: 'reference' as const };
    const [ar, br, h0r] = [tensor(a, [T, B, D], ref), tensor(b, [T, B, D], ref), tensor(h0, [B, D], ref)];
    const [hr] = linearScan(ar, br, { h0: h0r });
    const gr = tensor(g, [T, B, D], ref);
    const dhTr = tensor(h0, [B, D], ref);
    const want = [await hr!.dataF64(), ...(await Promise.all(linearScanBwd(ar, hr!, gr, dhTr, { h0: h0r }).map((t) => t.dataF64())))];
    for (const be of backends) {
      for (const gpuPath of be === 'webgpu' ? (['sequential', 'chunked'] as const) : (['auto'] as const)) {
        const o = { backend: be };
        const [x, y, z] = [tensor(a, [T, B, D], o), tensor(b, [T, B, D], o), tensor(h0, [B, D], o)];
        const [h] = linearScan(x, y, { h0: z, gpuPath });
        // The backward is fed the float64 h (rounded to f32), so only the adjoint scan's own error is measured.
        const hIn = tensor(Float32Array.from(want[0]!), [T, B, D], o);
        const grads = linearScanBwd(x, hIn, tensor(g, [T, B, D], o), tensor(h0, [B, D], o), { h0: z, gpuPath });
        const got = [await h!.dataF64(), ...(await Promise.all(grads.map((t) => t.dataF64())))];
        got.forEach((v, i) => expect(relErr(v, want[i]!), `${be} ${gpuPath} output ${i}`).toBeLessThan(LONG_T_REL));
      }
    }
  });

  it('keeps float32 relative error within 1e-5 of float64 at T = 65536 on wasm', async () => {
    if (!backends.includes('wasm')) throw new Error('the wasm backend is missing');
    const [T, B, D] = [65536, 1, 4];
    const { a, b, h0 } = gates(T, B * D, 9);
    const [want] = linearScan(tensor(a, [T, B, D], { backend: 'reference' }), tensor(b, [T, B, D], { backend: 'reference' }), { h0: tensor(h0, [B, D], { backend: 'reference' }) });
    const o = { backend: 'wasm' as const };
    const [got] = linearScan(tensor(a, [T, B, D], o), tensor(b, [T, B, D], o), { h0: tensor(h0, [B, D], o) });
    expect(relErr(await got!.dataF64(), await want!.dataF64())).toBeLessThan(LONG_T_REL);
  });

  it('computes the same scan on the chunked and the sequential WebGPU paths', async () => {
    if (!backends.includes('webgpu')) return; // the setup helper already warned (or failed under CI)
    const [T, B, D] = [1000, 2, 3];
    const { a, b, h0 } = gates(T, B * D, 11);
    const o = { backend: 'webgpu' as const };
    for (const reverse of [false, true]) {
      const run = async (gpuPath: 'sequential' | 'chunked', chunk?: number) => {
        const x = tensor(a, [T, B, D], o);
        const [h, hT] = linearScan(x, tensor(b, [T, B, D], o), { h0: tensor(h0, [B, D], o), gpuPath, chunk, reverse });
        const grads = linearScanBwd(x, h!, tensor(b, [T, B, D], o), tensor(h0, [B, D], o), { gpuPath, chunk, reverse });
        return Promise.all([h!, hT!, ...grads].map((t) => t.dataF64()));
      };
      const seq = await run('sequential');
      for (const chunk of [16, 64, undefined]) {
        const par = await run('chunked', chunk);
        par.forEach((v, i) => expect(relErr(v, seq[i]!), `reverse ${reverse} chunk ${chunk} output ${i}`).toBeLessThan(PATHS_REL));
      }
    }
  });

  it('names the op and the shapes when they do not fit', () => {
    const r = { backend: 'reference' as const };
    const a = tensor(new Float32Array(12), [3, 2, 2], r);
    expect(() => linearScan(a, tensor(new Float32Array(12), [3, 4], r))).toThrow(ShapeError);
    expect(() => linearScan(a, tensor(new Float32Array(12), [2, 3, 2], r))).toThrow(/linear_scan\(a \[3, 2, 2\], b \[2, 3, 2\]\): b must have shape \[3, 2, 2\]/);
    expect(() => linearScan(a, a, { h0: tensor(new Float32Array(2), [2], r) })).toThrow(/h0 must have shape \[2, 2\]/);
    expect(() => linearScan(tensor(new Float32Array(4), [2, 2], r), tensor(new Float32Array(4), [2, 2], r))).toThrow(/a must be time-major \(T, B, D\), got rank 2/);
    expect(() => linearScan(a, tensor(new Int32Array(12), [3, 2, 2], { ...r, dtype: 'i32' }))).toThrow(DTypeError);
    expect(() => linearScan(a, a, { chunk: 0 })).toThrow(OptionError);
    expect(() => linearScanBwd(a, a, a, tensor(new Float32Array(4), [4], r))).toThrow(/linear_scan_bwd\(.*\): dhT must have shape \[2, 2\]/);
  });
});
