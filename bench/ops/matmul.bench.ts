// matmul GFLOP/s, one thread, weights resident, result read back every call: recur-wasm (plain SIMD module),
// recur-wasm-relaxed (FMA module), tfjs-wasm (XNNPACK), ort-web-wasm (B a constant initializer), recur-webgpu
// when a WebGPU backend comes up. Every result is checked against a float64 JS loop before timing.
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import type { WasmVariant } from '../../src/backends/wasm/module.js';
import { runOp } from '../../src/engine.js';
import { availableBackends, getBackend, init, tensor } from '../../src/index.js';
import { matmulOp } from '../../src/ops/matmul.js';
import { loadOrtWeb, loadTfjsWasm, onnxMatmulModel } from '../peers.js';
import { timeRoundRobin, timingPlan, uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';

type Mkn = [M: number, K: number, N: number];
const ALL: Mkn[] = [[64, 64, 64], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [4096, 256, 768], [4096, 512, 1536], [64, 512, 1536], [1, 1024, 3072]];
const QUICK: Mkn[] = [[256, 256, 256], [4096, 256, 768], [64, 512, 1536], [1, 1024, 3072]];
const SMOKE: Mkn[] = [[5, 17, 3], [1, 33, 9]];
/** On a CPU-emulated GPU (SwiftShader) products above this many flops take seconds per call: skipped. */
const EMULATED_GPU_MAX_FLOPS = 2 ** 25;
const WASM: [impl: string, variant: WasmVariant][] = [['recur-wasm', 'simd'], ['recur-wasm-relaxed', 'relaxed']];
const PEAK_CASE = 'f32x4 peak (register-only madd4 chains)';

const log = (msg: string) => process.stderr.write(`matmul bench: ${msg}\n`);

/** Register-only f32x4 multiply-add rates of a module, GFLOP/s per sample (a peak: report the best). */
function samplePeak(be: WasmBackend, opts: BenchOptions): number[] {
  const peak = be.module.exports['peak_f32x4']!;
  const iters = opts.smoke ? 1e4 : 2e6;
  peak(iters, 0.5);
  const rates: number[] = [];
  for (let s = 0; s < (opts.smoke ? 1 : 5); s++) {
    const t0 = performance.now();
    peak(iters, 0.5);
    rates.push((iters * 96) / ((performance.now() - t0) / 1e3) / 1e9);
  }
  return rates;
}

/** Worst |C - ref| / tolerance over checked rows (all rows of small products, 24 spread rows of large). */
function checkResult(C: ArrayLike<number>, A: Float32Array, B: Float32Array, [M, K, N]: Mkn): string | null {
  const rows = M * N * K <= 2 ** 26 ? Array.from({ length: M }, (_, i) => i) : Array.from({ length: 24 }, (_, i) => Math.round((i * (M - 1)) / 23));
  for (const m of rows) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      let mag = 0;
      for (let k = 0; k < K; k++) {
        const p = A[m * K + k]! * B[k * N + n]!;
        s += p;
        mag += Math.abs(p);
      }
      const err = Math.abs(C[m * N + n]! - s);
      if (!(err <= 16 * Math.sqrt(K) * 2 ** -24 * mag + 1e-30)) return `C[${m}, ${n}] = ${C[m * N + n]}, expected ${s}`;
    }
  }
  return null;
}

interface Impl {
  name: string;
  /** One call: the product, read back into a JS array. */
  fn: () => ArrayLike<number> | Promise<ArrayLike<number>>;
  dispose(): void | Promise<void>;
}

function recurWasm(name: string, be: WasmBackend, A: Float32Array, B: Float32Array, [M, K, N]: Mkn): Impl {
  const specs = { inputs: [{ shape: [M, K], dtype: 'f32' as const }, { shape: [K, N], dtype: 'f32' as const }], outputs: [{ shape: [M, N], dtype: 'f32' as const }] };
  const [pa, pb, pc] = [...specs.inputs, ...specs.outputs].map((s) => be.alloc(s)) as [number, number, number];
  be.write(pa, specs.inputs[0]!, A);
  be.write(pb, specs.inputs[1]!, B);
  return {
    name,
    fn: () => {
      be.run(matmulOp, [pa, pb], [pc], specs, {});
      return be.readSync(pc, specs.outputs[0]!);
    },
    dispose: () => [pa, pb, pc].forEach((p) => be.free(p)),
  };
}

async function peers(A: Float32Array, B: Float32Array, [M, K, N]: Mkn): Promise<Impl[]> {
  const out: Impl[] = [];
  const tf = await loadTfjsWasm();
  if (typeof tf === 'string') log(`tfjs-wasm skipped: ${tf}`);
  else {
    const a = tf.tensor2d(A, [M, K]);
    const b = tf.tensor2d(B, [K, N]);
    out.push({
      name: 'tfjs-wasm',
      fn: () => {
        const c = tf.matMul(a, b);
        const d = c.dataSync();
        c.dispose();
        return d;
      },
      dispose: () => tf.dispose([a, b]),
    });
  }
  const ort = await loadOrtWeb();
  if (typeof ort === 'string') log(`ort-web-wasm skipped: ${ort}`);
  else {
    const session = await ort.InferenceSession.create(onnxMatmulModel(M, K, N, B), { executionProviders: ['wasm'] });
    const feeds = { A: new ort.Tensor('float32', A, [M, K]) };
    out.push({ name: 'ort-web-wasm', fn: async () => (await session.run(feeds))['C']!.data as Float32Array, dispose: () => session.release() });
  }
  return out;
}

/** recur on WebGPU, when init({webgpu: true}) brought it up; null (and the reason logged) otherwise. */
async function recurWebGpu(A: Float32Array, B: Float32Array, [M, K, N]: Mkn): Promise<Impl | null> {
  if (!availableBackends().includes('webgpu')) return null;
  const info = getBackend('webgpu').info() as { adapter?: Record<string, string>; fallbackAdapter?: boolean };
  const emulated = info.fallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(JSON.stringify(info.adapter ?? {}));
  if (emulated && 2 * M * N * K > EMULATED_GPU_MAX_FLOPS) return null;
  const a = tensor(A, [M, K], { backend: 'webgpu' });
  const b = tensor(B, [K, N], { backend: 'webgpu' });
  return {
    name: 'recur-webgpu',
    fn: async () => {
      const c = runOp(matmulOp, [a, b], {}, { backend: 'webgpu' })[0]!;
      const d = await c.data();
      c.dispose();
      return d;
    },
    dispose: () => [a, b].forEach((t) => t.dispose()),
  };
}

/** Checks every impl on one product, then times the correct ones round-robin; GFLOP/s per impl. */
async function benchShape([M, K, N]: Mkn, wasm: readonly (readonly [string, WasmBackend])[], opts: BenchOptions): Promise<Record<string, number>> {
  const name = `${M}x${K}x${N}`;
  const A = uniformF32(M * K, 1);
  const B = uniformF32(K * N, 2);
  const impls: Impl[] = wasm.map(([impl, be]) => recurWasm(impl, be, A, B, [M, K, N]));
  try {
    impls.push(...(await peers(A, B, [M, K, N])));
    const gpu = await recurWebGpu(A, B, [M, K, N]);
    if (gpu) impls.push(gpu);
    const timed: Record<string, Timed> = {};
    for (const im of impls) {
      const bad = checkResult(await im.fn(), A, B, [M, K, N]);
      if (bad && im.name.startsWith('recur-')) throw new Error(`matmul bench: ${im.name} is wrong on ${name}: ${bad}`);
      if (bad) log(`${im.name} left out on ${name}: wrong result (${bad})`);
      else timed[im.name] = im.fn;
    }
    const secs = await timeRoundRobin(timed, timingPlan(opts));
    return Object.fromEntries(Object.entries(secs).map(([impl, s]) => [impl, (2 * M * N * K) / s / 1e9]));
  } finally {
    for (const im of impls) await im.dispose();
  }
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const shapes = opts.smoke ? SMOKE : opts.quick ? QUICK : ALL;
  const report = await init({ webgpu: true });
  if (report.webgpuUnavailable) log(`recur-webgpu skipped: ${report.webgpuUnavailable}`);
  const wasm = await Promise.all(WASM.map(async ([impl, variant]) => [impl, await WasmBackend.create({ variant })] as const));
  // Peaks are sampled before and after the cases and the best kept: interference only ever lowers them.
  const peakSamples = wasm.map(([, be]) => samplePeak(be, opts));
  const results = new Map<string, Record<string, number>>();
  for (const mkn of shapes) results.set(mkn.join('x'), await benchShape(mkn, wasm, opts));
  const [peakAdd, peakFma] = wasm.map(([, be], i) => Math.max(...peakSamples[i]!, ...samplePeak(be, opts))) as [number, number];

  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, value: number, unit: string) => rows.push({ suite: 'matmul', case: c, impl, value, unit });
  row(PEAK_CASE, 'recur-wasm', peakAdd, 'GFLOP/s');
  row(PEAK_CASE, 'recur-wasm-relaxed', peakFma, 'GFLOP/s');
  for (const [name, rates] of results) {
    for (const [impl, gflops] of Object.entries(rates)) row(name, impl, gflops, 'GFLOP/s');
    for (const [impl, gflops] of Object.entries(rates)) row(name, impl, (100 * gflops) / peakAdd, '% mul+add peak');
    for (const [impl, gflops] of Object.entries(rates)) row(name, impl, (100 * gflops) / peakFma, '% FMA peak');
  }
  return rows;
}

export const suite: BenchSuite = { name: 'matmul', run };
