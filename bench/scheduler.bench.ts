// The `scheduler` suite: the cost of one scheduling decision per op call (ns: cached, as in a generation loop, and
// uncached), then a small minGRU LM's generation (tokens/s) and training step (steps/s) with `auto` beside each
// pinned backend in the same run (auto and wasm round-robin; webgpu after). On SwiftShader auto should match wasm.
import { availableBackends, getBackend, init, setBackend, type BackendName, type BackendPin } from '../src/index.js';
import { createLanguageModel } from '../src/models/lm.js';
import type { LanguageModel } from '../src/models/types.js';
import type { OpDef } from '../src/ops/op.js';
import { OPS } from '../src/ops/registry.js';
import { AdamW } from '../src/optim/adamw.js';
import { explain, resetExplain } from '../src/scheduler/explain.js';
import { chooseForCall, decide, getCalibration } from '../src/scheduler/scheduler.js';
import { generate } from '../src/train/generate.js';
import { Trainer } from '../src/train/trainer.js';
import { isEmulatedGpu } from './op_timing.js';
import { timeRoundRobin, timingPlan, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from './runner.js';

const SUITE = 'scheduler';
const log = (msg: string) => process.stderr.write(`${SUITE} bench: ${msg}\n`);

/** ns per decision: a cached hit (every call of a generation loop after the first) and a full decide(). */
function overheadRows(opts: BenchOptions): BenchRow[] {
  const mm = OPS.matmul as unknown as OpDef<unknown>;
  const specs = { inputs: [{ shape: [1, 128], dtype: 'f32' as const }, { shape: [128, 512], dtype: 'f32' as const }], outputs: [{ shape: [1, 512], dtype: 'f32' as const }] };
  const avail = availableBackends();
  const residency: BackendName[] = ['wasm', 'wasm'];
  const n = opts.smoke ? 1000 : 200_000;
  const measure = (fn: () => unknown): number => {
    for (let i = 0; i < Math.min(n, 10_000); i++) fn(); // warm-up (JIT)
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return ((performance.now() - t0) * 1e6) / n;
  };
  const cached = measure(() => chooseForCall(mm, specs, {}, residency, avail));
  const full = measure(() => decide({ op: mm, specs, params: {}, residency, available: avail, calibration: getCalibration() }));
  return [
    { suite: SUITE, case: 'decision per op call (cached)', impl: 'recur', value: cached, unit: 'ns' },
    { suite: SUITE, case: 'decision per op call (uncached)', impl: 'recur', value: full, unit: 'ns' },
  ];
}

interface Setup {
  pin: BackendPin;
  model: LanguageModel;
}

/** One model per configuration (same seed): parameters on the pinned backend, or where auto puts new tensors. */
function models(pins: BackendPin[], dim: number, layers: number): Setup[] {
  return pins.map((pin) => ({ pin, model: createLanguageModel({ model: 'mingru', vocabSize: 256, dim, layers }, { seed: 1, backend: pin === 'auto' ? undefined : pin }) }));
}

/**
 * Seconds per call of each setup: auto and the CPU pins round-robin, then the GPU pin on its own, all in this run.
 * (A software GPU's worker threads share the CPU: interleaved, they slow whichever call runs next.)
 */
async function timeSetups<S extends { pin: BackendPin }>(setups: S[], call: (s: S) => Promise<unknown>, plan: ReturnType<typeof timingPlan>, label: string): Promise<Record<string, number>> {
  const impls = (xs: S[]) => Object.fromEntries(xs.map((s) => [`recur-${s.pin}`, pinned(s.pin, () => call(s))]));
  const cpu = await timeRoundRobin(impls(setups.filter((s) => s.pin !== 'webgpu')), plan, `${label}-cpu`);
  const gpuSetups = setups.filter((s) => s.pin === 'webgpu');
  const gpu = gpuSetups.length ? await timeRoundRobin(impls(gpuSetups), plan, `${label}-gpu`) : {};
  return { ...cpu, ...gpu };
}

/** A timed call run under the setup's global pin ('auto' included), restored afterwards. */
function pinned(pin: BackendPin, fn: () => Promise<unknown>): Timed {
  return async () => {
    setBackend(pin);
    try {
      await fn();
    } finally {
      setBackend('auto');
    }
  };
}

function ratioLog(what: string, secs: Record<string, number>): void {
  const pinnedTimes = Object.entries(secs).filter(([k]) => k !== 'recur-auto').map(([, s]) => s);
  const best = Math.min(...pinnedTimes);
  const worst = Math.max(...pinnedTimes);
  const auto = secs['recur-auto']!;
  log(`${what}: auto ${(auto / best).toFixed(3)}x the best pinned time${auto > worst ? ' (SLOWER THAN THE WORST)' : ''}`);
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const report = await init({ webgpu: !opts.smoke }); // calibrates when WebGPU comes up
  if (report.webgpuUnavailable) log(`webgpu not available: ${report.webgpuUnavailable}`);
  const plan = timingPlan(opts);
  const rows = overheadRows(opts);
  const gpu = availableBackends().includes('webgpu');
  const emulated = gpu && isEmulatedGpu();
  const pins: BackendPin[] = ['auto', 'wasm', ...(gpu ? (['webgpu'] as const) : [])];
  const dim = opts.smoke ? 16 : emulated ? 32 : 64;
  const layers = opts.smoke ? 1 : 2;

  // Generation: prefill a short prompt, then single-token steps (matvecs): the case auto must keep on the CPU.
  const tokens = opts.smoke ? 4 : emulated ? 8 : 32;
  const gen = models(pins, dim, layers);
  const genSecs = await timeSetups(gen, (s) => generate(s.model, { prompt: [10, 20, 30], tokens, seed: 1 }), plan, `${SUITE}-generate`);
  resetExplain();
  await generate(gen[0]!.model, { prompt: [10, 20, 30], tokens, seed: 1 }); // auto, once more, for its decisions
  const autoGen = explain().summary.filter((r) => r.calls > 0);
  for (const [impl, s] of Object.entries(genSecs)) rows.push({ suite: SUITE, case: `generate d=${dim} L=${layers} ${tokens} tokens`, impl, value: tokens / s, unit: 'tokens/s' });
  ratioLog('generate', genSecs);
  log(`generate with auto, per op: ${autoGen.map((r) => `${r.op}@${r.backend}×${r.calls}`).join(', ')}`);
  gen.forEach((s) => s.model.dispose());

  // Training: one truncated-BPTT step on B streams of T tokens (forward, backward, clipping, AdamW).
  const [B, T] = opts.smoke ? [2, 8] : emulated ? [4, 32] : [16, 64];
  const ids = Int32Array.from({ length: 20_000 }, (_, i) => (i * 7 + (i >> 3)) % 256);
  const trainers = models(pins, dim, layers).map((s) => {
    const optimizer = new AdamW(s.model.params(), { lr: 1e-3 });
    return { ...s, optimizer, trainer: new Trainer({ model: s.model, optimizer, clip: 1, data: { train: ids }, batchSize: B, seqLen: T, seed: 1 }) };
  });
  const trainSecs = await timeSetups(trainers, (s) => s.trainer.trainStep(), plan, `${SUITE}-train`);
  for (const [impl, s] of Object.entries(trainSecs)) rows.push({ suite: SUITE, case: `train step d=${dim} L=${layers} B=${B} T=${T}`, impl, value: 1 / s, unit: 'steps/s' });
  ratioLog('train step', trainSecs);
  for (const s of trainers) {
    s.trainer.dispose();
    s.optimizer.dispose();
    s.model.dispose();
  }
  if (gpu) await getBackend('webgpu').sync();
  return rows;
}

export const suite: BenchSuite = { name: SUITE, run };
