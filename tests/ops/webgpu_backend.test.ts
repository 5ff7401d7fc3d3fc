// The WebGPU backend on SwiftShader: bring-up, buffer round-trips (odd and zero sizes), matmul against a float64
// reference, the pipeline cache, shader errors named by entry, device loss, and buffer counts returning to zero.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, packUniforms, type WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { registerBackend, tensor } from '../../src/engine.js';
import { DeviceLostError } from '../../src/errors.js';
import { matmul, matmulOp } from '../../src/ops/matmul.js';
import type { OpDef } from '../../src/ops/op.js';
import type { Tensor } from '../../src/tensor.js';
import { Rng } from '../helpers/rng.js';
import { getWebGpu, releaseWebGpu } from '../helpers/webgpu.js';

const gpu = await getWebGpu();
const SIZES = [1, 3, 5, 17, 33, 70];

beforeAll(() => {
  if (gpu) registerBackend(gpu);
});
afterAll(() => releaseWebGpu());

function randn(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

interface MmCase {
  M: number; N: number; K: number;
  transA?: boolean; transB?: boolean; bias?: boolean;
  batchA?: number; batchB?: number; // 0 or absent: a 2-D operand
}

/** float64 C and Σ|a·b| per element (the scale of float32 rounding error). */
function reference(c: MmCase, A: Float32Array, B: Float32Array, bias: Float32Array | null) {
  const batch = Math.max(c.batchA ?? 0, c.batchB ?? 0, 1);
  const { M, N, K } = c;
  const out = new Float64Array(batch * M * N);
  const mag = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = c.batchA ? t * M * K : 0;
    const bo = c.batchB ? t * K * N : 0;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n]! : 0;
        let g = Math.abs(s);
        for (let k = 0; k < K; k++) {
          const x = A[ao + (c.transA ? k * M + m : m * K + k)]! * B[bo + (c.transB ? n * K + k : k * N + n)]!;
          s += x;
          g += Math.abs(x);
        }
        out[(t * M + m) * N + n] = s;
        mag[(t * M + m) * N + n] = g;
      }
    }
  }
  return { out, mag };
}

function label(c: MmCase): string {
  const flags = [c.transA && 'transA', c.transB && 'transB', c.bias && 'bias', c.batchA && `batchA ${c.batchA}`, c.batchB && `batchB ${c.batchB}`];
  return `M=${c.M} N=${c.N} K=${c.K} ${flags.filter(Boolean).join(' ')}`.trim();
}

/** Runs one case on webgpu and compares with float64; returns a failure message or null. */
async function runCase(c: MmCase, rng: Rng): Promise<string | null> {
  const shapeA = c.transA ? [c.K, c.M] : [c.M, c.K];
  const shapeB = c.transB ? [c.N, c.K] : [c.K, c.N];
  const fullA = c.batchA ? [c.batchA, ...shapeA] : shapeA;
  const fullB = c.batchB ? [c.batchB, ...shapeB] : shapeB;
  const A = randn(rng, fullA.reduce((x, y) => x * y, 1));
  const B = randn(rng, fullB.reduce((x, y) => x * y, 1));
  const bias = c.bias ? randn(rng, c.N) : null;
  const ta = tensor(A, fullA, { backend: 'webgpu' });
  const tb = tensor(B, fullB, { backend: 'webgpu' });
  const tbias = bias ? tensor(bias, [c.N], { backend: 'webgpu' }) : undefined;
  const tc = matmul(ta, tb, { transA: c.transA, transB: c.transB, bias: tbias, backend: 'webgpu' });
  const got = await tc.data();
  for (const t of [ta, tb, tbias, tc]) t?.dispose();
  const { out, mag } = reference(c, A, B, bias);
  if (got.length !== out.length) return `${label(c)}: length ${got.length}, want ${out.length}`;
  for (let i = 0; i < out.length; i++) {
    if (!(Math.abs(got[i]! - out[i]!) <= 1e-6 * mag[i]! * Math.sqrt(c.K + 1) + 1e-6)) {
      return `${label(c)}: [${i}] got ${got[i]}, want ${out[i]} (|diff| ${Math.abs(got[i]! - out[i]!).toExponential(2)})`;
    }
  }
  return null;
}

async function expectCases(cases: MmCase[]): Promise<void> {
  const rng = new Rng(42);
  const failures: string[] = [];
  for (const c of cases) {
    const f = await runCase(c, rng);
    if (f) failures.push(f);
  }
  expect(failures, `${failures.length} of ${cases.length} cases failed`).toEqual([]);
}

describe.skipIf(!gpu)('webgpu backend', () => {
  const g = gpu as WebGpuBackend;

  it('comes up with an adapter, features and the key limits', () => {
    const info = g.info() as { available: boolean; adapter: Record<string, string>; features: string[]; limits: Record<string, number> };
    console.log(`[webgpu] ${JSON.stringify({ adapter: info.adapter, features: info.features, limits: info.limits })}`);
    expect(info.available).toBe(true);
    expect(Object.keys(info.adapter).sort()).toEqual(['architecture', 'description', 'device', 'vendor']);
    expect(info.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(info.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
    expect(info.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    expect(Array.isArray(info.features)).toBe(true);
  });

  it('round-trips f32 and i32 through alloc/write/read, including odd and zero sizes', async () => {
    const rng = new Rng(7);
    for (const n of [0, 1, 3, 5, 17, 33, 1000]) {
      const f = randn(rng, n);
      const i = Int32Array.from({ length: n }, () => rng.int(-1e9, 1e9));
      const sf = { shape: [n], dtype: 'f32' as const };
      const si = { shape: [n], dtype: 'i32' as const };
      const bf = g.alloc(sf);
      const bi = g.alloc(si);
      g.write(bf, sf, f);
      g.write(bi, si, i);
      const rf = await g.read(bf, sf);
      const ri = await g.read(bi, si);
      expect(rf).toBeInstanceOf(Float32Array);
      expect(ri).toBeInstanceOf(Int32Array);
      expect(Array.from(rf)).toEqual(Array.from(f));
      expect(Array.from(ri)).toEqual(Array.from(i));
      g.free(bf);
      g.free(bi);
    }
    const z = tensor(new Float32Array(0), [0, 3], { backend: 'webgpu' });
    expect((await z.data()).length).toBe(0);
    z.dispose();
  });

  it('packs uniforms as u32, f32 and i32, rounded up to 16 bytes', () => {
    const buf = packUniforms([7, { f32: 1.5 }, { i32: -3 }, 0xffffffff, 2]);
    expect(buf.byteLength).toBe(32);
    const dv = new DataView(buf);
    expect([dv.getUint32(0, true), dv.getFloat32(4, true), dv.getInt32(8, true), dv.getUint32(12, true), dv.getUint32(16, true)]).toEqual([7, 1.5, -3, 0xffffffff, 2]);
    expect(packUniforms([]).byteLength).toBe(16);
    expect(() => packUniforms([-1])).toThrow(/not a u32/);
  });

  it('matmul matches float64 for every M, N, K in {1, 3, 5, 17, 33, 70}', async () => {
    const cases: MmCase[] = [];
    for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) cases.push({ M, N, K });
    await expectCases(cases);
  });

  it('matmul with transA, transB and bias', async () => {
    const cases: MmCase[] = [];
    for (const M of SIZES) {
      for (const N of SIZES) {
        const K = SIZES[(M + N) % SIZES.length]!;
        cases.push({ M, N, K, transA: true }, { M, N, K, transB: true, bias: true }, { M, N, K, transA: true, transB: true, bias: true });
      }
    }
    await expectCases(cases);
  });

  it('matmul batched and with an operand shared across the batch', async () => {
    const cases: MmCase[] = [];
    for (const [M, N, K] of [[1, 1, 1], [3, 5, 17], [17, 33, 5], [70, 70, 33], [33, 3, 70]] as const) {
      cases.push({ M, N, K, batchA: 3, batchB: 3, bias: true });
      cases.push({ M, N, K, batchA: 4 }); // shared 2-D weight B
      cases.push({ M, N, K, batchB: 2, transA: true }); // shared 2-D A
      cases.push({ M, N, K, batchA: 2, batchB: 2, transB: true });
      cases.push({ M, N, K, batchA: 2, transA: true, transB: true, bias: true });
    }
    await expectCases(cases);
  });

  it('matmul with a zero dimension gives an empty result, or the bias when K = 0', async () => {
    const bias = tensor([1, 2, 3, 4], [4], { backend: 'webgpu' });
    const a = tensor(new Float32Array(0), [3, 0], { backend: 'webgpu' });
    const b = tensor(new Float32Array(0), [0, 4], { backend: 'webgpu' });
    const c = matmul(a, b, { bias, backend: 'webgpu' });
    expect(Array.from(await c.data())).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    const e = tensor(new Float32Array(0), [0, 5], { backend: 'webgpu' });
    const w = tensor(new Float32Array(20), [5, 4], { backend: 'webgpu' });
    const f = matmul(e, w, { backend: 'webgpu' });
    expect(f.shape).toEqual([0, 4]);
    expect((await f.data()).length).toBe(0);
    for (const t of [bias, a, b, c, e, w, f]) t.dispose();
  });

  it('reuses cached pipelines for the same shader, entry and overrides', async () => {
    const rng = new Rng(3);
    await runCase({ M: 5, N: 7, K: 9 }, rng);
    const before = g.pipelines.stats();
    for (const [M, N, K] of [[3, 3, 3], [17, 5, 33], [2, 9, 4]] as const) await runCase({ M, N, K, transA: true }, rng);
    const after = g.pipelines.stats();
    expect(after.misses).toBe(before.misses);
    expect(after.hits).toBe(before.hits + 3);
    expect(after.shaders).toBe(before.shaders);
  });

  it('reports a shader that fails to compile with its entry name and the compiler message', async () => {
    const broken = {
      ...matmulOp,
      name: 'broken',
      webgpu(k) {
        k.dispatch({ shader: '@compute @workgroup_size(1) fn broken_entry() { let x: u32 = undefined_thing; }', entry: 'broken_entry', buffers: [], workgroups: [1] });
      },
    } as OpDef<unknown>;
    const t = tensor([1], [1], { backend: 'webgpu' });
    g.run(broken, [], [], { inputs: [], outputs: [] }, {});
    await expect(t.data()).rejects.toThrow(/pipeline 'broken_entry'.*failed validation[\s\S]*undefined_thing/);
    // The backend is usable again afterwards.
    expect(Array.from(await t.data())).toEqual([1]);
    t.dispose();
  });

  it('returns every buffer: live count back to where it started once tensors are disposed', async () => {
    const start = g.liveCount();
    const made: Tensor[] = [];
    const rng = new Rng(5);
    for (let i = 0; i < 40; i++) {
      const a = tensor(randn(rng, 6), [2, 3], { backend: 'webgpu' });
      const b = tensor(randn(rng, 12), [3, 4], { backend: 'webgpu' });
      made.push(a, b, matmul(a, b, { backend: 'webgpu' }));
    }
    expect(g.liveCount()).toBe(start + 120);
    await made.at(-1)!.data();
    for (const t of made) t.dispose();
    expect(g.liveCount()).toBe(start);
    await g.sync();
  });
});

describe.skipIf(!gpu)('webgpu device loss', () => {
  it('after device.destroy(), every call throws DeviceLostError naming the reason, and info() says lost', async () => {
    const r = await createWebGpuBackend();
    if (!('backend' in r)) throw new Error(r.reason);
    const b = r.backend;
    const spec = { shape: [3], dtype: 'f32' as const };
    const x = b.alloc(spec);
    b.write(x, spec, [1, 2, 3]);
    expect(Array.from(await b.read(x, spec))).toEqual([1, 2, 3]);

    b.device.destroy(); // simulate a loss (driver reset, GPU removed)
    await expect(b.read(x, spec)).rejects.toThrow(DeviceLostError); // may start before the lost event arrives
    const reason = await Promise.race([b.whenLost(), new Promise<string>((_, rej) => setTimeout(() => rej(new Error('device.lost never resolved')), 10_000))]);
    expect(reason).toMatch(/destroyed/);

    const specs = { inputs: [{ shape: [1, 3], dtype: 'f32' as const }, { shape: [3, 1], dtype: 'f32' as const }], outputs: [{ shape: [1, 1], dtype: 'f32' as const }] };
    expect(() => b.run(matmulOp, [x, x], [x], specs, {})).toThrow(DeviceLostError);
    expect(() => b.run(matmulOp, [x, x], [x], specs, {})).toThrow(/matmul: the WebGPU device is lost \(destroyed/);
    expect(() => b.alloc(spec)).toThrow(/alloc \[3\] f32: the WebGPU device is lost/);
    await expect(b.read(x, spec)).rejects.toThrow(DeviceLostError);
    await expect(b.sync()).rejects.toThrow(DeviceLostError);
    const info = b.info();
    expect(info['available']).toBe(false);
    expect(String(info['lost'])).toMatch(/destroyed/);
    b.free(x); // freeing after loss is quiet
    expect(b.liveCount()).toBe(0);
    b.dispose();
  });
});
