// The demo's Web Worker: the engine runs here so the page stays responsive. It trains a language model on the
// built-in corpus (corpus.txt, a Brown slice written at build time) or pasted text, streams generated text,
// saves/loads single-file checkpoints and runs the bench suites. One job at a time; 'stop' ends training early.
import './process_shim.js';
import { splitByPosition } from '../src/data/split.js';
import { byteTokenizer, type Tokenizer } from '../src/data/tokenizer.js';
import { AdamW, explain, getBackend, init, resetExplain, setBackend, type BackendName } from '../src/index.js';
import { getCalibration } from '../src/scheduler/scheduler.js';
import { checkpointToBytes } from '../src/io/checkpoint.js';
import { checkpointFromSingleFile, checkpointToSingleFile } from '../src/io/checkpoint_file.js';
import { countParams, createLanguageModel } from '../src/models/lm.js';
import type { LanguageModel } from '../src/models/types.js';
import { warmupCosine } from '../src/optim/schedule.js';
import { generate } from '../src/train/generate.js';
import { languageModelFromCheckpoint, lmCheckpoint, modelConfigOf } from '../src/train/lm_checkpoint.js';
import { Trainer, type TrainerSnapshot } from '../src/train/trainer.js';
import { DEFAULT_SUITES, runBench, suiteNames } from './bench_worker.js';
import type { BackendChoice, CalibrationNote, DemoModel, FromWorker, GenerateSettings, ModelSummary, Placement, ToWorker, TrainSettings } from './protocol.js';

const scope = globalThis as unknown as { postMessage(m: FromWorker, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post = (m: FromWorker, transfer?: Transferable[]) => scope.postMessage(m, transfer ?? []);

interface Session {
  model: LanguageModel;
  tokenizer: Tokenizer;
  optimizer: AdamW | null;
  snapshot: TrainerSnapshot | null;
  settings: Partial<TrainSettings>;
  /** The backend chosen on the page: generation runs under the same pin ('auto': the scheduler places each op). */
  choice: BackendChoice;
  summary: ModelSummary;
}

let session: Session | null = null;
let busy: string | null = null;
let stopRequested = false;
let available: BackendName[] = [];
let corpus: Promise<string> | null = null;

/**
 * Pins the chosen backend and returns where the model's parameters go. 'auto', as in the CLI: WebGPU is up where
 * the browser has it (start()), the parameters start on wasm and the scheduler places every op call from its
 * calibration (measured when WebGPU came up, cached in IndexedDB), moving data to the GPU only where that pays.
 */
function useBackend(choice: BackendChoice): BackendName {
  if (choice !== 'auto' && !available.includes(choice)) throw new Error(`backend ${choice} is not available here (available: ${available.filter((b) => b !== 'reference').join(', ')})`);
  setBackend(choice);
  return choice === 'auto' ? 'wasm' : choice;
}

/** Op calls per backend since the last resetExplain(). */
function placement(): Placement {
  const calls: Placement = {};
  for (const r of explain().summary) calls[r.backend] = (calls[r.backend] ?? 0) + r.calls;
  return calls;
}

function loadCorpus(): Promise<string> {
  corpus ??= fetch(new URL('corpus.txt', self.location.href)).then(async (r) => {
    if (!r.ok) throw new Error(`corpus.txt: HTTP ${r.status} (run npm run demo:build, which writes it)`);
    return r.text();
  });
  corpus.catch(() => (corpus = null));
  return corpus;
}

function dropSession(): void {
  session?.optimizer?.dispose();
  session?.model.dispose();
  session = null;
}

function summarize(model: LanguageModel, backend: string, step: number): ModelSummary {
  const c = model.config;
  return { model: c.model as DemoModel, backend, params: countParams(model), dim: c.dim, layers: c.layers, step };
}

const yieldToEvents = () => new Promise<void>((r) => setTimeout(r, 0));

async function train(s: TrainSettings): Promise<void> {
  const backend = useBackend(s.backend);
  post({ type: 'status', text: s.source === 'corpus' ? 'loading the built-in corpus…' : 'encoding the pasted text…' });
  const text = s.source === 'corpus' ? await loadCorpus() : (s.text ?? '');
  if (text.trim() === '') throw new Error('the pasted text is empty: paste some text or pick the built-in corpus');
  const tokenizer = byteTokenizer();
  const ids = tokenizer.encode(text);
  const { train: trainIds, validation } = splitByPosition(ids, 0.1);
  dropSession();
  const model = createLanguageModel({ model: s.model, vocabSize: tokenizer.vocabSize, dim: s.dim, layers: s.layers }, { seed: s.seed, backend });
  const lr = warmupCosine({ peakLr: s.lr, warmupSteps: Math.min(20, Math.floor(s.steps / 10)), totalSteps: s.steps, minLr: s.lr / 10 });
  const optimizer = new AdamW(model.params(), { lr, weightDecay: 0.01 });
  session = { model, tokenizer, optimizer, snapshot: null, settings: s, choice: s.backend, summary: summarize(model, s.backend, 0) };
  const trainer = new Trainer({ model, optimizer, clip: 1, data: { train: trainIds, validation }, batchSize: s.batch, seqLen: s.seq, seed: s.seed });
  post({ type: 'started', summary: session.summary, trainTokens: trainIds.length, validationTokens: validation.length });
  stopRequested = false;
  resetExplain(); // counts this run's op calls per backend
  let last = NaN;
  const window: { t: number; tokens: number }[] = [];
  try {
    while (trainer.step < s.steps && !stopRequested) {
      const info = await trainer.trainStep();
      last = info.loss;
      window.push({ t: performance.now(), tokens: info.tokens });
      if (window.length > 20) window.shift();
      const span = window.length > 1 ? (window[window.length - 1]!.t - window[0]!.t) / 1e3 : 0;
      const tokensPerSec = span > 0 ? window.slice(1).reduce((a, w) => a + w.tokens, 0) / span : 0;
      post({ type: 'step', step: info.step, steps: s.steps, loss: info.loss, lr: info.lr, tokensPerSec });
      await yieldToEvents(); // lets a 'stop' message in
    }
    post({ type: 'status', text: 'evaluating on the validation text…' });
    const valBpc = validation.length >= 2 ? (await trainer.evaluate({ maxTokens: Math.min(2048, 4 * s.batch * s.seq) })).bpc : null;
    session.snapshot = await trainer.snapshot();
    session.summary = summarize(model, s.backend, trainer.step);
    post({ type: 'trained', step: trainer.step, loss: last, valBpc, stopped: stopRequested, placement: placement() });
  } finally {
    trainer.dispose();
  }
}

function need(): Session {
  if (!session) throw new Error('no model yet: train one or upload a checkpoint first');
  return session;
}

async function runGenerate(g: GenerateSettings): Promise<void> {
  const s = need();
  setBackend(s.choice);
  const prompt = s.tokenizer.encode(g.prompt === '' ? '\n' : g.prompt);
  const decoder = new TextDecoder('utf-8');
  const byteLevel = s.tokenizer.kind === 'byte';
  const t0 = performance.now();
  const ids = await generate(s.model, {
    prompt, tokens: g.tokens, temperature: g.temperature, topK: g.topK, seed: g.seed,
    onToken: (id) => {
      const text = byteLevel ? decoder.decode(Uint8Array.of(id), { stream: true }) : s.tokenizer.decode([id]);
      if (text) post({ type: 'token', text });
    },
  });
  const tail = byteLevel ? decoder.decode() : '';
  if (tail) post({ type: 'token', text: tail });
  post({ type: 'generated', tokens: ids.length, tokensPerSec: ids.length / ((performance.now() - t0) / 1e3) });
}

async function save(): Promise<void> {
  const s = need();
  const ckpt = await lmCheckpoint({
    model: s.model, tokenizer: s.tokenizer.toJSON(), optimizer: s.optimizer ?? undefined, trainer: s.snapshot ?? undefined,
    extra: { demo: { ...s.settings, text: undefined } },
  });
  const bytes = checkpointToSingleFile(checkpointToBytes(ckpt));
  post({ type: 'checkpoint', bytes, name: `recur-${s.summary.model}-step${s.summary.step}.safetensors` }, [bytes.buffer]);
}

async function load(bytes: Uint8Array, name: string, choice: BackendChoice): Promise<void> {
  const backend = useBackend(choice);
  const ckpt = checkpointFromSingleFile(bytes, { source: name, copy: true });
  const kind = modelConfigOf(ckpt, name).model;
  if (!['mingru', 'minlstm', 'sru', 'srupp'].includes(kind)) throw new Error(`${name}: a ${kind} model; the demo runs minGRU, minLSTM, SRU and SRU++`);
  const { model, tokenizer } = languageModelFromCheckpoint(ckpt, name, backend);
  dropSession();
  const settings = (ckpt.config['demo'] ?? {}) as Partial<TrainSettings>;
  session = { model, tokenizer, optimizer: null, snapshot: null, settings, choice, summary: summarize(model, choice, ckpt.config.step) };
  post({ type: 'loaded', summary: session.summary });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'train': return train(m.settings);
    case 'generate': return runGenerate(m.settings);
    case 'save': return save();
    case 'load': return load(m.bytes, m.name, m.backend);
    case 'bench': return runBench(m.suites, m.mode, post);
    case 'stop': return;
  }
}

/** A readable message from anything thrown (GPU start-up can reject with non-Error objects). */
function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null) {
    const o = e as { constructor?: { name?: string }; message?: unknown; type?: unknown };
    const text = typeof o.message === 'string' ? o.message : typeof o.type === 'string' ? o.type : JSON.stringify(e);
    return `${o.constructor?.name ?? 'object'}: ${text}`;
  }
  return String(e);
}

/** Brings up wasm and, where it works, WebGPU; a WebGPU failure leaves wasm running and says why. */
async function start(): Promise<{ backends: BackendName[]; webgpuUnavailable?: string }> {
  try {
    return await init({ webgpu: true });
  } catch (e) {
    const report = await init();
    return { ...report, webgpuUnavailable: `WebGPU start-up failed (${describeError(e)})` };
  }
}

const ready = (async () => {
  const report = await start();
  available = report.backends;
  const wasmVariant = String(getBackend('wasm').info()['module'] ?? 'simd');
  const c = getCalibration(); // init({ webgpu: true }) calibrated when WebGPU came up
  const calibration: CalibrationNote | null = c ? { backends: Object.keys(c.backends), measuredAt: c.measuredAt, tookMs: c.tookMs } : null;
  post({ type: 'ready', backends: report.backends, webgpuUnavailable: report.webgpuUnavailable, suites: suiteNames(), defaultSuites: DEFAULT_SUITES, wasmVariant, calibration });
})().catch((e: unknown) => post({ type: 'error', during: 'start-up', message: describeError(e) }));

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (busy) {
    post({ type: 'error', during: m.type, message: `busy with ${busy}; wait for it to finish (or stop training)` });
    return;
  }
  busy = m.type;
  void ready
    .then(() => handle(m))
    .catch((err: unknown) => post({ type: 'error', during: m.type, message: describeError(err) }))
    .finally(() => (busy = null));
};
