// attention bench: SRU++-like causal attention with memory (L = Lm = 256, B = 4, d' = 256, one head; and 4 heads),
// forward and forward+backward, GFLOP/s (visible pairs only, the op's cost model) and tokens/s, on recur-wasm and
// recur-webgpu (small sizes only on an emulated GPU), beside tf-ops attention (matMul + softmax, tf.grads) on tfjs-wasm.
import { runOp } from '../../src/engine.js';
import { availableBackends, getBackend, init, tensor, type BackendName, type Tensor } from '../../src/index.js';
import { attentionBwdOp, attentionOp, type AttentionParams } from '../../src/ops/attention.js';
import { loadTfjsWasm } from '../peers.js';
import { timeRoundRobin, timingPlan, uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';

interface Size { L: number; Lm: number; B: number; H: number; dh: number }
/** The last case is small enough for recur-webgpu on an emulated GPU. */
const FULL: Size[] = [{ L: 256, Lm: 256, B: 4, H: 1, dh: 256 }, { L: 256, Lm: 256, B: 4, H: 4, dh: 64 }, { L: 1024, Lm: 0, B: 1, H: 1, dh: 128 }, { L: 64, Lm: 64, B: 2, H: 1, dh: 64 }];
const QUICK: Size[] = [FULL[0]!, FULL[1]!, FULL[3]!];
const SMOKE: Size[] = [{ L: 5, Lm: 3, B: 2, H: 2, dh: 3 }];
/** On a CPU-emulated GPU (SwiftShader) larger cases take seconds per call: skipped. */
const EMULATED_GPU_MAX_FLOPS = 2 ** 24;

const log = (msg: string) => process.stderr.write(`attention bench: ${msg}\n`);

function specsOf(xs: readonly Tensor[], outs: readonly Tensor[]) {
  return { inputs: xs.map((t) => ({ shape: t.shape, dtype: t.dtype })), outputs: outs.map((t) => ({ shape: t.shape, dtype: t.dtype })) };
}

/** recur forward ([o, lse] read back) and forward+backward ([dq, dkv] read back) on one backend. */
function recurImpls(b: BackendName, s: Size, p: AttentionParams, q32: Float32Array, kv32: Float32Array, dO32: Float32Array) {
  const HD = s.H * s.dh;
  const q = tensor(q32, [s.L, s.B, HD], { backend: b });
  const kv = tensor(kv32, [s.Lm + s.L, s.B, 2 * HD], { backend: b });
  const dO = tensor(dO32, [s.L, s.B, HD], { backend: b });
  const dlse = tensor(new Float32Array(s.L * s.B * s.H), [s.L, s.B, s.H], { backend: b });
  const fwd = async () => {
    const outs = runOp(attentionOp, [q, kv], p, { backend: b });
    const o = await outs[0]!.data();
    outs.forEach((t) => t.dispose());
    return o;
  };
  const step = async () => {
    const [o, lse] = runOp(attentionOp, [q, kv], p, { backend: b }) as [Tensor, Tensor];
    const grads = runOp(attentionBwdOp, [q, kv, o, lse, dO, dlse], p, { backend: b });
    await grads[1]!.data();
    [o, lse, ...grads].forEach((t) => t.dispose());
  };
  const [o, lse] = runOp(attentionOp, [q, kv], p, { backend: b }) as [Tensor, Tensor];
  const cost = { fwd: attentionOp.cost(specsOf([q, kv], [o, lse]), p).flops, bwd: attentionBwdOp.cost(specsOf([q, kv, o, lse, dO, dlse], [q, kv]), p).flops };
  o.dispose();
  lse.dispose();
  return { fwd, step, cost, dispose: () => [q, kv, dO, dlse].forEach((t) => t.dispose()) };
}

/** tf-ops attention in (B·H, L, dh) layout (transposed once, untimed), causal mask as an additive (L, Lk) constant. */
async function tfImpls(s: Size, p: AttentionParams, q32: Float32Array, kv32: Float32Array, dO32: Float32Array) {
  const tf = await loadTfjsWasm();
  if (typeof tf === 'string') return void log(`tfjs-wasm skipped: ${tf}`);
  await import('@tensorflow/tfjs-layers'); // its node bundle registers every tf-core gradient (tf.grads needs them)
  const Lk = s.Lm + s.L;
  const HD = s.H * s.dh;
  const heads = (x: Float32Array, rows: number, width: number, off: number) =>
    tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(tf.slice(tf.tensor(x, [rows, s.B, width]), [0, 0, off], [rows, s.B, HD]), [rows, s.B, s.H, s.dh]), [1, 2, 0, 3]), [s.B * s.H, rows, s.dh]));
  const q = heads(q32, s.L, HD, 0);
  const k = heads(kv32, Lk, 2 * HD, 0);
  const v = heads(kv32, Lk, 2 * HD, HD);
  const dO = heads(dO32, s.L, HD, 0);
  const maskData = new Float32Array(s.L * Lk);
  for (let i = 0; i < s.L; i++) for (let j = 0; j < Lk; j++) if (j > s.Lm + i) maskData[i * Lk + j] = -1e4;
  const mask = tf.tensor2d(maskData, [s.L, Lk]);
  const scale = p.scale ?? 1 / Math.sqrt(s.dh);
  const attn = (a: typeof q, b: typeof k, c: typeof v) => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(a, b, false, true), scale), mask)), c);
  const grads = tf.grads((a, b, c) => tf.sum(tf.mul(attn(a, b, c), dO)));
  return {
    fwd: () => tf.tidy(() => attn(q, k, v).dataSync()),
    step: () => tf.tidy(() => grads([q, k, v]).map((g) => g.dataSync())),
    dispose: () => tf.dispose([q, k, v, dO, mask]),
  };
}

/** Compares the peer's o (B·H, L, dh) with recur's (L, B, H·dh); a message when they differ. */
function checkPeer(ours: ArrayLike<number>, theirs: ArrayLike<number>, s: Size): string | null {
  for (let i = 0; i < s.L; i++) {
    for (let b = 0; b < s.B; b++) {
      for (let c = 0; c < s.H * s.dh; c++) {
        const x = ours[(i * s.B + b) * s.H * s.dh + c]!;
        const y = theirs[((b * s.H + Math.floor(c / s.dh)) * s.L + i) * s.dh + (c % s.dh)]!;
        if (!(Math.abs(x - y) <= 1e-4 + 1e-3 * Math.abs(y))) return `o[${i}, ${b}, ${c}] = ${y}, recur has ${x}`;
      }
    }
  }
  return null;
}

function emulatedGpu(): boolean {
  const info = getBackend('webgpu').info() as { adapter?: Record<string, string>; fallbackAdapter?: boolean };
  return !!info.fallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(JSON.stringify(info.adapter ?? {}));
}

async function benchSize(s: Size, opts: BenchOptions): Promise<BenchRow[]> {
  const HD = s.H * s.dh;
  const p: AttentionParams = { heads: s.H, causal: true, memLen: s.Lm };
  const q32 = uniformF32(s.L * s.B * HD, 1);
  const kv32 = uniformF32((s.Lm + s.L) * s.B * 2 * HD, 2);
  const dO32 = uniformF32(s.L * s.B * HD, 3);
  const fwd: Record<string, Timed> = {};
  const step: Record<string, Timed> = {};
  const disposers: (() => void)[] = [];
  let cost = { fwd: 0, bwd: 0 };
  for (const b of availableBackends().filter((x) => x !== 'reference')) {
    const r = recurImpls(b, s, p, q32, kv32, dO32);
    disposers.push(r.dispose);
    cost = r.cost;
    if (b === 'webgpu' && emulatedGpu() && r.cost.fwd > EMULATED_GPU_MAX_FLOPS) continue;
    fwd[`recur-${b}`] = r.fwd;
    step[`recur-${b}`] = r.step;
  }
  const tf = await tfImpls(s, p, q32, kv32, dO32);
  if (tf) {
    disposers.push(tf.dispose);
    const bad = fwd['recur-wasm'] && checkPeer((await fwd['recur-wasm']()) as ArrayLike<number>, tf.fwd(), s);
    if (bad) log(`tfjs-wasm left out on L=${s.L}: ${bad}`);
    else {
      fwd['tfjs-wasm'] = tf.fwd;
      step['tfjs-wasm'] = tf.step;
    }
  }
  try {
    const plan = timingPlan(opts);
    const tf_ = await timeRoundRobin(fwd, plan);
    const ts = await timeRoundRobin(step, plan);
    const name = `L=${s.L} Lm=${s.Lm} B=${s.B} H=${s.H} dh=${s.dh}`;
    const rows: BenchRow[] = [];
    const row = (c: string, impl: string, value: number, unit: string) => rows.push({ suite: 'attention', case: c, impl, value, unit });
    for (const [impl, sec] of Object.entries(tf_)) {
      row(`fwd ${name}`, impl, cost.fwd / sec / 1e9, 'GFLOP/s');
      row(`fwd ${name}`, impl, (s.L * s.B) / sec, 'tokens/s');
    }
    for (const [impl, sec] of Object.entries(ts)) {
      row(`fwd+bwd ${name}`, impl, (cost.fwd + cost.bwd) / sec / 1e9, 'GFLOP/s');
      row(`fwd+bwd ${name}`, impl, (s.L * s.B) / sec, 'tokens/s');
    }
    return rows;
  } finally {
    disposers.forEach((d) => d());
  }
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const report = await init({ webgpu: !opts.smoke });
  if (report.webgpuUnavailable) log(`recur-webgpu skipped: ${report.webgpuUnavailable}`);
  const rows: BenchRow[] = [];
  for (const s of opts.smoke ? SMOKE : opts.quick ? QUICK : FULL) rows.push(...(await benchSize(s, opts)));
  return rows;
}

export const suite: BenchSuite = { name: 'attention', run };
