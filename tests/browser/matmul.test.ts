// In headless Chromium: init({ webgpu: true }) brings up wasm and WebGPU (SwiftShader through navigator.gpu),
// and matmul on both matches a float64 reference at odd sizes. A missing adapter is a failure here, never a skip.
import { beforeAll, describe, expect, it } from 'vitest';
import { getBackend, init, matmul, tensor, type BackendName } from '../../src/index.js';

let report: Awaited<ReturnType<typeof init>>;
beforeAll(async () => {
  report = await init({ webgpu: true });
});

/** Seeded uniform values in [-1, 1) (mulberry32), so failures reproduce. */
function values(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
}

interface Case { batch: number; M: number; N: number; K: number; transA: boolean; transB: boolean; bias: boolean }

function reference(c: Case, A: Float32Array, B: Float32Array, bias: Float32Array | null): Float64Array {
  const { batch, M, N, K } = c;
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n]! : 0;
        for (let k = 0; k < K; k++) {
          s += A[t * M * K + (c.transA ? k * M + m : m * K + k)]! * B[c.transB ? n * K + k : k * N + n]!; // B shared across the batch
        }
        out[(t * M + m) * N + n] = s;
      }
    }
  }
  return out;
}

const CASES: Case[] = [];
for (const [M, N, K] of [[1, 1, 1], [3, 5, 17], [17, 33, 5], [33, 3, 70], [70, 70, 33], [5, 17, 3]] as const) {
  CASES.push({ batch: 1, M, N, K, transA: false, transB: false, bias: false });
  CASES.push({ batch: 2, M, N, K, transA: true, transB: false, bias: true });
  CASES.push({ batch: 3, M, N, K, transA: false, transB: true, bias: true });
}

describe('matmul in Chromium', () => {
  it('navigator.gpu gives an adapter and init brings up webgpu', async () => {
    expect(globalThis.isSecureContext, 'WebGPU needs a secure context (serve on 127.0.0.1)').toBe(true);
    expect(navigator.gpu, 'navigator.gpu is missing: Chromium needs --enable-unsafe-webgpu').toBeTruthy();
    const adapter = await navigator.gpu.requestAdapter();
    expect(adapter, 'navigator.gpu.requestAdapter() gave no adapter (SwiftShader flags missing?)').not.toBeNull();
    expect(report.webgpuUnavailable, `init({ webgpu: true }) could not bring up WebGPU: ${report.webgpuUnavailable}`).toBeUndefined();
    expect(report.backends).toEqual(expect.arrayContaining(['wasm', 'webgpu']));
    const info = getBackend('webgpu').info();
    console.log(`[webgpu in chromium] ${JSON.stringify(info)}`);
    expect(info['available']).toBe(true);
    expect(info['runtime']).toBe('navigator.gpu');
  });

  for (const backend of ['wasm', 'webgpu'] as BackendName[]) {
    it(`matches float64 on ${backend} at odd sizes (transposes, bias, batch with a shared operand)`, async () => {
      const failures: string[] = [];
      for (const [ci, c] of CASES.entries()) {
        const A = values(ci * 3 + 1, c.batch * c.M * c.K);
        const B = values(ci * 3 + 2, c.K * c.N);
        const bias = c.bias ? values(ci * 3 + 3, c.N) : null;
        const ta = tensor(A, c.batch > 1 ? [c.batch, ...(c.transA ? [c.K, c.M] : [c.M, c.K])] : c.transA ? [c.K, c.M] : [c.M, c.K], { backend });
        const tb = tensor(B, c.transB ? [c.N, c.K] : [c.K, c.N], { backend });
        const tbias = bias ? tensor(bias, [c.N], { backend }) : undefined;
        const tc = matmul(ta, tb, { transA: c.transA, transB: c.transB, bias: tbias, backend });
        const got = await tc.data();
        for (const t of [ta, tb, tbias, tc]) t?.dispose();
        const want = reference(c, A, B, bias);
        const bad = want.findIndex((w, i) => !(Math.abs(got[i]! - w) <= 1e-5 * (1 + Math.abs(w)) * Math.sqrt(c.K)));
        if (got.length !== want.length || bad >= 0) failures.push(`${JSON.stringify(c)}: [${bad}] got ${got[bad]}, want ${want[bad]}`);
      }
      expect(failures).toEqual([]);
      expect(getBackend(backend).liveCount()).toBe(0);
    });
  }
});
