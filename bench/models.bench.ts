// The `models` suite: each language model (1 layer, vocab 256) on wasm, training step (forward + backward + AdamW
// through the Trainer) and generation (step mode, B streams and 1) in tokens/s beside the TF.js layers of the scan
// suite; then our own minGRU/GRU and minLSTM/LSTM training speed-up over sequence lengths T (models.md, paper §4).
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { tensor, tidy } from '../src/index.js';
import { createLanguageModel } from '../src/models/lm.js';
import type { LanguageModel, ModelConfig, ModelState } from '../src/models/types.js';
import { AdamW } from '../src/optim/adamw.js';
import { disposeStateExcept } from '../src/train/state.js';
import { Trainer } from '../src/train/trainer.js';
import { OpBench } from './op_timing.js';
import { HID, IN, tfLayer, tfMinGru } from './ops/mingru_scan.bench.js';
import { timeRoundRobin, uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed, type TimingPlan } from './runner.js';

const SUITE = 'models';
const log = (msg: string) => process.stderr.write(`${SUITE} bench: ${msg}\n`);
const KINDS = ['mingru', 'minlstm', 'sru', 'srupp', 'gru', 'lstm'] as const;
type Kind = (typeof KINDS)[number];
/** minGRU/minLSTM as the bare layer (norm -> minRNN -> residual): no MLP, no conv, as the other kinds have none. */
const LAYER_ONLY: ModelConfig['options'] = { ffMult: 0, convKernel: 0 };

/** A 1-layer byte-level model of `kind` and width d, every op pinned to wasm. */
function model(kind: Kind, d: number): LanguageModel {
  const options = kind === 'mingru' || kind === 'minlstm' ? LAYER_ONLY : undefined;
  return createLanguageModel({ model: kind, vocabSize: 256, dim: d, layers: 1, options }, { seed: 1, backend: 'wasm', pin: 'wasm' });
}

/** Seeded byte ids, enough for 8 segments of B streams × T. */
function byteIds(B: number, T: number, seed: number): Int32Array {
  return Int32Array.from(uniformF32(B * T * 8 + 1, seed), (v) => Math.floor((v + 1) * 128) & 255);
}

/** A training step of m (Trainer: forward, mean cross-entropy, backward, AdamW) on B × T byte segments. */
function trainCall(m: LanguageModel, B: number, T: number): { call: Timed; dispose(): void } {
  const optimizer = new AdamW(m.params(), { lr: 1e-3 });
  const trainer = new Trainer({ model: m, optimizer, data: { train: byteIds(B, T, 21) }, batchSize: B, seqLen: T });
  return { call: () => trainer.trainStep(), dispose: () => (trainer.dispose(), optimizer.dispose()) };
}

/** One generated token per stream: m.step on B ids with the state carried from call to call. */
function stepCall(m: LanguageModel, B: number): { call: Timed; dispose(): void } {
  const ids = tensor(Int32Array.from({ length: B }, (_, i) => (7 * i) & 255), [B], { dtype: 'i32', backend: 'wasm' });
  let state: ModelState | null = null;
  return {
    call: () => {
      const prev = state;
      const r = tidy(() => m.step(ids, prev));
      r.logits.dispose();
      disposeStateExcept(prev, r.state);
      state = r.state;
    },
    dispose: () => (disposeStateExcept(state, null), ids.dispose()),
  };
}

/**
 * Slow calls (a step takes 10 ms to seconds): one warm-up call, then a few single-call samples; `long` calls
 * (GRU/LSTM at T >= 1024: 0.5 to 8 s each) get one sample and no warm-up in quick mode, three in a full run.
 */
function slowPlan(plan: TimingPlan, opts: BenchOptions, long = false): TimingPlan {
  const samples = opts.smoke ? 1 : opts.quick ? (long ? 1 : 2) : long ? 3 : 5;
  return { ...plan, samples, minSampleMs: 0, warmupMs: 0 };
}

async function timeSlow(impls: Record<string, Timed>, plan: TimingPlan, label: string): Promise<Record<string, number>> {
  if (plan.samples > 1) for (const f of Object.values(impls)) await f();
  return timeRoundRobin(impls, plan, label);
}

/** The TF.js peers at width 256 on the same T, B: tf-ops minGRU, tf.layers.gru and tf.layers.lstm (train steps). */
async function tfPeers(bench: OpBench, T: number, B: number, withLayers: boolean): Promise<{ impls: Partial<Record<Kind, Timed>>; dispose(): void }> {
  const tf = bench.tf;
  if (!tf) return { impls: {}, dispose: () => {} };
  await import('@tensorflow/tfjs-layers'); // registers every tf-core gradient (minimize needs them)
  const X = bench.hold(tf.tensor2d(uniformF32(T * B * IN, 31), [T * B, IN]));
  const W = bench.hold(tf.variable(tf.tensor2d(uniformF32(IN * 2 * HID, 32).map((v) => v / 16), [IN, 2 * HID])));
  const DY = bench.hold(tf.tensor3d(uniformF32(T * B * HID, 33), [T, B, HID]));
  const impls: Partial<Record<Kind, Timed>> = { mingru: tfMinGru(tf, X, W, DY, T, B).train };
  const layers: { dispose(): void }[] = [];
  const Xb: TfTensor = bench.hold(tf.transpose(tf.reshape(X, [T, B, IN]), [1, 0, 2]));
  const DYb: TfTensor = bench.hold(tf.transpose(DY, [1, 0, 2]));
  for (const kind of withLayers ? (['gru', 'lstm'] as const) : []) {
    try {
      const l = await tfLayer(tf, kind, Xb, DYb);
      layers.push(l);
      impls[kind] = l.train;
    } catch (e) {
      log(`tf.layers.${kind} skipped: ${(e as Error).message}`);
    }
  }
  return { impls, dispose: () => layers.forEach((l) => l.dispose()) };
}

/** Training and generation tokens/s of every kind at (T, B, d), the TF.js layers on the lines of their kind. */
async function modelTable(bench: OpBench, opts: BenchOptions): Promise<void> {
  const [T, B] = opts.smoke ? [4, 2] : opts.quick ? [64, 32] : [256, 32];
  const d = IN; // the TF.js peers are 256 wide
  const plan = slowPlan(bench.plan, opts);
  const peers = await tfPeers(bench, T, B, !opts.smoke);
  try {
    for (const kind of KINDS) {
      const m = model(kind, d);
      const tr = trainCall(m, B, T);
      const gens = [B, 1].map((b) => stepCall(m, b));
      try {
        const impls: Record<string, Timed> = { 'recur-wasm': tr.call };
        if (peers.impls[kind]) impls['tfjs-wasm'] = peers.impls[kind]!;
        const secs = await timeSlow(impls, plan, `${SUITE}-train-${kind}`);
        // Named by the peer the case compares against by design, loaded or not, so the rows of a run without peers
        // (the demo's benchmark tab) have the CLI's case names and compare side by side.
        const peer = kind === 'mingru' ? ' (tfjs: tf-ops minGRU layer)' : (kind === 'gru' || kind === 'lstm') && !opts.smoke ? ` (tfjs: tf.layers.${kind})` : '';
        for (const [impl, s] of Object.entries(secs)) bench.rows.push({ suite: SUITE, case: `train ${kind} T=${T} B=${B} d=${d}${peer}`, impl, value: (T * B) / s, unit: 'tok/s' });
        for (const [b, g] of [B, 1].map((b, i) => [b, gens[i]!] as const)) {
          const s = await timeRoundRobin({ 'recur-wasm': g.call }, bench.plan, `${SUITE}-step-${kind}-${b}`);
          bench.rows.push({ suite: SUITE, case: `generate ${kind} B=${b} d=${d}`, impl: 'recur-wasm', value: b / s['recur-wasm']!, unit: 'tok/s' });
        }
      } finally {
        tr.dispose();
        gens.forEach((g) => g.dispose());
        m.dispose();
      }
    }
  } finally {
    peers.dispose();
  }
}

/** Our minGRU/GRU and minLSTM/LSTM training-step time ratios over T at a small batch and width. */
async function speedUps(bench: OpBench, opts: BenchOptions): Promise<void> {
  const [B, d, Ts] = opts.smoke ? [2, 16, [8, 16]] : [4, 64, [64, 256, 512, 1024, 4096]];
  for (const T of Ts) {
    const plan = slowPlan(bench.plan, opts, T >= 1024);
    const secs: Partial<Record<Kind, number>> = {};
    for (const pair of [['mingru', 'gru'], ['minlstm', 'lstm']] as const) {
      const ms = pair.map((k) => model(k, d));
      const trs = ms.map((m) => trainCall(m, B, T));
      try {
        const got = await timeSlow(Object.fromEntries(pair.map((k, i) => [k, trs[i]!.call])), plan, `${SUITE}-speedup-${pair.join('-')}-${T}`);
        Object.assign(secs, got);
      } finally {
        trs.forEach((t) => t.dispose());
        ms.forEach((m) => m.dispose());
      }
    }
    for (const k of ['mingru', 'gru', 'minlstm', 'lstm'] as const) bench.rows.push({ suite: SUITE, case: `train ${k} T=${T} B=${B} d=${d}`, impl: 'recur-wasm', value: (T * B) / secs[k]!, unit: 'tok/s' });
    bench.rows.push({ suite: SUITE, case: `speed-up minGRU/GRU T=${T} B=${B} d=${d}`, impl: 'recur-wasm', value: secs.gru! / secs.mingru!, unit: 'x' });
    bench.rows.push({ suite: SUITE, case: `speed-up minLSTM/LSTM T=${T} B=${B} d=${d}`, impl: 'recur-wasm', value: secs.lstm! / secs.minlstm!, unit: 'x' });
  }
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start(SUITE, opts, { tfjs: true });
  let t0 = performance.now();
  await bench.each([0], () => modelTable(bench, opts));
  log(`models table in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  t0 = performance.now();
  await speedUps(bench, opts);
  log(`speed-ups in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  return bench.rows;
}

export const suite: BenchSuite = { name: SUITE, run };
