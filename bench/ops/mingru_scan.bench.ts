// The `scan` suite: (a) the fused minGRU scan in GB/s against copies timed in the same run; (b) a minGRU layer
// (x·W_k, x·W_p, scan; train step = backward + Adam) in tokens/s beside tfjs-wasm trained with tf.train.adam: minGRU in
// tf ops looping over time (`tfjs-wasm`), tf.layers.gru and tf.layers.lstm.
import type { Tensor as TfTensor, Variable } from '@tensorflow/tfjs-core';
import { adamwStep } from '../../src/ops/adamw_step.js';
import { matmul } from '../../src/ops/matmul.js';
import { mingruScan, mingruScanBwd, mingruScanOp } from '../../src/ops/mingru_scan.js';
import { getBackend, tensor, tidy, zeros, type BackendName, type Tensor } from '../../src/index.js';
import { runOp } from '../../src/engine.js';
import { inNode, memoryBandwidth } from '../bandwidth.js';
import { isEmulatedGpu, OpBench, type Tfjs } from '../op_timing.js';
import { timeRoundRobin, uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';

const SUITE = 'scan';
const log = (msg: string) => process.stderr.write(`${SUITE} bench: ${msg}\n`);

/** Forward, or forward then backward, of the scan on backend b (outputs disposed; the GPU is waited for). */
export function scanCall(fwdBwd: boolean, xs: Tensor[], b: BackendName, run: (xs: Tensor[], b: BackendName) => Tensor[]): Timed {
  const once = () => tidy(() => void run(xs, b));
  if (b !== 'webgpu') return once;
  return async () => {
    once();
    await getBackend(b).sync();
  };
}

/** Copy GB/s of m floats (read + written) with Float32Array.prototype.set, timed by the runner. */
async function copyRate(bench: OpBench, m: number, label: string): Promise<number> {
  const src = uniformF32(m, 5);
  const dst = new Float32Array(m);
  const secs = await timeRoundRobin({ 'js-copy': () => dst.set(src) }, bench.plan, `${bench.suite}-copy-${label}`);
  return (8 * m) / secs['js-copy']! / 1e9;
}

/**
 * GB/s rows of forward and forward+backward, beside copies measured in the same run: one of the forward's bytes
 * (cache-resident where they fit) and the memory-bandwidth copies of bench/bandwidth.ts (arrays larger than the
 * caches); each recur-wasm rate as % of the copy of its bytes, of the wasm copy loop (the reference: the
 * bandwidth a wasm kernel can reach) and of memmove (non-temporal stores, out of wasm's reach; for reference).
 */
export async function scanThroughput(bench: OpBench, name: string, impls: { fwd: Record<string, Timed>; both: Record<string, Timed> }, fwdBytes: number, bwdBytes: number): Promise<void> {
  await bench.time(`fwd ${name}`, impls.fwd, fwdBytes);
  await bench.time(`fwd+bwd ${name}`, impls.both, fwdBytes + bwdBytes);
  const copy = await copyRate(bench, Math.ceil(fwdBytes / 8), name);
  const bw = await memoryBandwidth(bench.plan, log);
  const row = (c: string, impl: string, value: number, unit: string) => bench.rows.push({ suite: bench.suite, case: c, impl, value, unit });
  const mib = (4 * bw.floats) / 2 ** 20;
  row(`copy ${name}`, 'js-copy', copy, 'GB/s');
  row(`copy ${mib} MiB, f32x4 loop (memory bandwidth)`, 'wasm-copy', bw.wasmCopy, 'GB/s');
  row(`copy ${mib} MiB, memmove (non-temporal stores)`, 'js-copy', bw.memmove, 'GB/s');
  for (const r of bench.rows.filter((x) => x.case.endsWith(name) && x.impl === 'recur-wasm' && x.unit === 'GB/s')) {
    const what = `${r.case.split(' ')[0]} ${name}`;
    row(`${what} / copy of its bytes`, 'recur-wasm', (100 * r.value) / copy, '% of copy');
    row(`${what} / memory-bandwidth copy`, 'recur-wasm', (100 * r.value) / bw.wasmCopy, '% of copy');
    row(`${what} / memmove copy`, 'recur-wasm', (100 * r.value) / bw.memmove, '% of copy');
  }
}

/** Scan backends to time for case ci: wasm, and a real GPU (an emulated one only proves correctness). */
function scanBackends(bench: OpBench, ci: number): BackendName[] {
  return bench.backends(ci).filter((b) => b !== 'webgpu' || !isEmulatedGpu());
}

async function gbPerSecond(bench: OpBench, opts: BenchOptions): Promise<void> {
  // T=4096 (384 MiB read and written forward) is the case larger than this machine kind's caches; Node only (a
  // browser tab would hold ~1 GiB for it)
  const big = inNode() ? [[4096, 32, 256]] : [];
  const cases = opts.smoke ? [[17, 2, 5]] : opts.quick ? [[256, 32, 256], ...big] : [[256, 32, 256], [1024, 32, 256], ...big];
  await bench.each(cases, async ([T, B, D], ci) => {
    const n = T! * B! * D!;
    const shape = [T!, B!, D!];
    const on = bench.upload(scanBackends(bench, ci), [[uniformF32(n, 1), shape], [uniformF32(n, 2), shape], [uniformF32(n, 3), shape], [uniformF32(B! * D!, 4), [B!, D!]]]);
    const fwd = (xs: Tensor[], b: BackendName) => runOp(mingruScanOp, xs.slice(0, 2), { h0Mode: 'none' }, { backend: b });
    const both = (xs: Tensor[], b: BackendName) => {
      const [h, hT] = mingruScan(xs[0]!, xs[1]!, { backend: b });
      return mingruScanBwd(xs[0]!, xs[1]!, h, xs[2]!, xs[3]!, { backend: b }).concat([hT]);
    };
    const impls = (f: typeof fwd, wb: boolean) => Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, scanCall(wb, xs, b, f)]));
    await scanThroughput(bench, `T=${T} B=${B} D=${D}`, { fwd: impls(fwd, false), both: impls(both, true) }, 12 * n, 24 * n);
  });
}

/** Width of the layer comparison (in and hidden); the exported tf peers are built at this width. */
export const IN = 256;
export const HID = 256;
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7, weightDecay: 0 };

/** recur's minGRU layer on wasm: forward, and a training step (weight gradients + Adam). */
function recurLayer(x: Float32Array, wk: Float32Array, wp: Float32Array, dy: Float32Array, T: number, B: number): { fwd: Timed; train: Timed; h(): Float32Array; dispose(): void } {
  const be = { backend: 'wasm' as const };
  const X = tensor(x, [T * B, IN], be);
  const W = [tensor(wk, [IN, HID], be), tensor(wp, [IN, HID], be)] as const;
  const state = [0, 1, 2, 3].map(() => zeros([IN, HID], be));
  const DY = tensor(dy, [T, B, HID], be);
  const DHT = zeros([B, HID], be);
  const forward = () => {
    const k = matmul(X, W[0]).reshape([T, B, HID]);
    const p = matmul(X, W[1]).reshape([T, B, HID]);
    return { k, p, h: mingruScan(k, p)[0] };
  };
  let step = 0;
  return {
    fwd: () => tidy(() => void forward()),
    h: () => tidy(() => forward().h.dataSync() as Float32Array),
    train: () =>
      tidy(() => {
        const { k, p, h } = forward();
        const grads = mingruScanBwd(k, p, h, DY, DHT);
        step++;
        for (let j = 0; j < 2; j++) {
          const dW = matmul(X, grads[j]!.reshape([T * B, HID]), { transA: true });
          adamwStep(W[j]!, dW, state[2 * j]!, state[2 * j + 1]!, { ...ADAM, step });
        }
      }),
    dispose: () => [X, ...W, ...state, DY, DHT].forEach((t) => t.dispose()),
  };
}

export interface TfImpl {
  fwd: Timed;
  train: Timed;
}

/** null when h matches ref to float32 accuracy, else where it does not. */
function compare(h: Float32Array, ref: Float32Array): string | null {
  for (let i = 0; i < ref.length; i++) if (!(Math.abs(h[i]! - ref[i]!) <= 1e-4 * (1 + Math.abs(ref[i]!)))) return `h[${i}] = ${h[i]}, tf gives ${ref[i]}`;
  return null;
}

/** minGRU in tf ops: one projection, split, gates outside the loop, then the recurrence step by step over time. */
export function tfMinGru(tf: Tfjs, X: TfTensor, W: Variable, DY: TfTensor, T: number, B: number): TfImpl & { h(): TfTensor } {
  const forward = () => {
    const [k, p] = tf.split(tf.reshape(tf.matMul(X, W), [T, B, 2 * HID]), 2, 2) as [TfTensor, TfTensor];
    const zs = tf.unstack(tf.sigmoid(k));
    const hts = tf.unstack(tf.where(tf.greaterEqual(p, 0), tf.add(p, 0.5), tf.sigmoid(p)));
    let h: TfTensor = tf.zeros([B, HID]);
    const hs: TfTensor[] = [];
    for (let t = 0; t < T; t++) hs.push((h = tf.add(tf.mul(tf.sub(1, zs[t]!), h), tf.mul(zs[t]!, hts[t]!))));
    return tf.stack(hs);
  };
  const opt = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  return {
    fwd: () => tf.tidy(() => void forward()),
    train: () => tf.tidy(() => void opt.minimize(() => tf.sum(tf.mul(forward(), DY)), false, [W])),
    h: forward,
  };
}

/** tf.layers.gru / lstm (returnSequences) on batch-major x (B, T, IN), trained with tf.train.adam. */
export async function tfLayer(tf: Tfjs, kind: 'gru' | 'lstm', Xb: TfTensor, DYb: TfTensor): Promise<TfImpl & { dispose(): void }> {
  const tfl = await import('@tensorflow/tfjs-layers');
  // glorotUniform: the default orthogonal recurrent initializer fails on tfjs-wasm (and speed does not depend on it)
  const layer = tfl.layers[kind]({ units: HID, returnSequences: true, recurrentInitializer: 'glorotUniform' });
  const forward = () => layer.apply(Xb) as TfTensor;
  tf.tidy(() => void forward()); // builds the weights
  const vars = layer.trainableWeights.map((w) => w.read() as Variable);
  const opt = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  return {
    fwd: () => tf.tidy(() => void forward()),
    train: () => tf.tidy(() => void opt.minimize(() => tf.sum(tf.mul(forward(), DYb)), false, vars)),
    dispose: () => layer.dispose(),
  };
}

async function layerTokens(bench: OpBench, opts: BenchOptions): Promise<void> {
  const [T, B] = opts.smoke ? [8, 4] : opts.quick ? [32, 32] : [256, 32];
  const x = uniformF32(T * B * IN, 11);
  const wk = uniformF32(IN * HID, 12).map((v) => v / 16);
  const wp = uniformF32(IN * HID, 13).map((v) => v / 16);
  const dy = uniformF32(T * B * HID, 14);
  const recur = recurLayer(x, wk, wp, dy, T, B);
  const fwd: Record<string, Timed> = { 'recur-wasm': recur.fwd };
  const train: Record<string, Timed> = { 'recur-wasm': recur.train };
  const slow: { fwd: Record<string, Timed>; train: Record<string, Timed> } = { fwd: {}, train: {} };
  const tf = bench.tf;
  if (tf) await import('@tensorflow/tfjs-layers'); // its node bundle registers every tf-core gradient (minimize needs them)
  const layers: { dispose(): void }[] = [];
  if (tf) {
    const wcat = new Float32Array(IN * 2 * HID);
    for (let i = 0; i < IN; i++) (wcat.set(wk.subarray(i * HID, (i + 1) * HID), 2 * i * HID), wcat.set(wp.subarray(i * HID, (i + 1) * HID), (2 * i + 1) * HID));
    const X = bench.hold(tf.tensor2d(x, [T * B, IN]));
    const W = bench.hold(tf.variable(tf.tensor2d(wcat, [IN, 2 * HID])));
    const DY = bench.hold(tf.tensor3d(dy, [T, B, HID]));
    const m = tfMinGru(tf, X, W, DY, T, B);
    const ref = tf.tidy(() => m.h());
    const bad = compare(recur.h(), ref.dataSync() as Float32Array);
    ref.dispose();
    if (bad) throw new Error(`scan bench: recur-wasm and tf-ops minGRU disagree: ${bad}`);
    fwd['tfjs-wasm'] = m.fwd;
    train['tfjs-wasm'] = m.train;
    const Xb = bench.hold(tf.transpose(tf.reshape(X, [T, B, IN]), [1, 0, 2]));
    const DYb = bench.hold(tf.transpose(DY, [1, 0, 2]));
    for (const kind of opts.smoke ? [] : (['gru', 'lstm'] as const)) {
      try {
        const l = await tfLayer(tf, kind, Xb, DYb);
        layers.push(l);
        slow.fwd[`tfjs-wasm-${kind}`] = l.fwd;
        slow.train[`tfjs-wasm-${kind}`] = l.train;
      } catch (e) {
        log(`tf.layers.${kind} skipped: ${(e as Error).message}`);
      }
    }
  }
  try {
    const tokens = T * B;
    const name = `minGRU layer T=${T} B=${B} ${IN}->${HID}`;
    // The tf.layers calls take seconds: one warm-up call, then a few single-call samples.
    const slowPlan = { ...bench.plan, samples: opts.quick ? 2 : 3, minSampleMs: 0, warmupMs: 0 };
    for (const [what, fast, s] of [['fwd', fwd, slow.fwd], ['train step', train, slow.train]] as const) {
      const secs = await timeRoundRobin(fast, bench.plan, `${SUITE}-${what}`);
      for (const f of Object.values(s)) await f();
      Object.assign(secs, await timeRoundRobin(s, slowPlan, `${SUITE}-${what}-layers`));
      for (const [impl, sec] of Object.entries(secs)) bench.rows.push({ suite: SUITE, case: `${what} ${name}`, impl, value: tokens / sec, unit: 'tok/s' });
      for (const peer of ['tfjs-wasm', 'tfjs-wasm-gru', 'tfjs-wasm-lstm']) {
        if (secs[peer]) bench.rows.push({ suite: SUITE, case: `${what}: recur / ${peer}`, impl: 'recur-wasm', value: secs[peer]! / secs['recur-wasm']!, unit: 'x' });
      }
    }
  } finally {
    recur.dispose();
    layers.forEach((l) => l.dispose());
  }
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start(SUITE, opts, { tfjs: true });
  await gbPerSecond(bench, opts);
  await bench.each([0], () => layerTokens(bench, opts));
  return bench.rows;
}

export const suite: BenchSuite = { name: SUITE, run };
