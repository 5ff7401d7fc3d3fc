// The demo page: controls, the live loss plot, streamed generation, checkpoint download/upload and the
// benchmark tab. All engine work happens in worker.ts. URL parameters preset the controls
// (?model=sru&backend=wasm&dim=16&layers=1&batch=4&seq=16&steps=40&tokens=40&bench=smoke), which the e2e test uses.
import type { BenchRow } from '../bench/runner.js';
import { benchTable } from './bench_table.js';
import { LossPlot } from './loss_plot.js';
import { MODEL_LABELS, MODELS, type BackendChoice, type BenchMode, type CalibrationNote, type FromWorker, type ModelSummary, type Placement, type ToWorker, type TrainSettings } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: element #${id} is missing`);
  return el as T;
};
const input = (id: string) => $<HTMLInputElement>(id);
const num = (id: string) => Number(input(id).value);

/** What the page has seen, for people poking in the console and for the e2e test. */
const state = {
  ready: false,
  backends: [] as string[],
  webgpuUnavailable: undefined as string | undefined,
  /** The scheduler's calibration the worker started with (null without WebGPU: nothing to choose between). */
  calibration: null as CalibrationNote | null,
  losses: [] as number[],
  /** placement: op calls per backend during the run. */
  trained: null as null | { step: number; loss: number; valBpc: number | null; backend: string; placement: Placement },
  generated: '',
  generating: false,
  /** 'token' messages of the current generation: text streams in pieces as the worker samples it. */
  tokenMessages: 0,
  benchRows: null as BenchRow[] | null,
  errors: [] as string[],
};
(globalThis as { recurDemo?: typeof state }).recurDemo = state;

const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
const plot = new LossPlot($<HTMLCanvasElement>('loss-plot'));
let summary: ModelSummary | null = null;
let running = false;

function setStatus(text: string, st: string, isError = false): void {
  const el = $('status');
  el.textContent = text;
  el.dataset['state'] = st;
  el.classList.toggle('error', isError);
}

function setRunning(on: boolean): void {
  running = on;
  $<HTMLButtonElement>('train').disabled = on || !state.ready;
  $<HTMLButtonElement>('stop').disabled = !on;
  $<HTMLButtonElement>('generate').disabled = on || !summary;
  $<HTMLButtonElement>('download').disabled = on || !summary;
  $<HTMLButtonElement>('bench-run').disabled = on || !state.ready;
}

function placementText(p: Placement): string {
  return Object.entries(p).map(([b, n]) => `${b} ${n.toLocaleString('en-US')}`).join(', ') || 'none';
}

function describe(s: ModelSummary): string {
  return `${MODEL_LABELS[s.model]} · ${s.params.toLocaleString('en-US')} parameters · dim ${s.dim} × ${s.layers} layer${s.layers === 1 ? '' : 's'} · ${s.backend} · step ${s.step}`;
}

// ---- controls ----------------------------------------------------------------------------------------------
for (const m of MODELS) $<HTMLSelectElement>('model').add(new Option(MODEL_LABELS[m], m));
for (const b of ['auto', 'wasm', 'webgpu'] as const) $<HTMLSelectElement>('backend').add(new Option(b === 'webgpu' ? 'WebGPU' : b, b));

const params = new URLSearchParams(location.search);
for (const id of ['model', 'backend', 'dim', 'layers', 'batch', 'seq', 'steps', 'lr', 'seed', 'prompt', 'temperature', 'topk']) {
  const v = params.get(id);
  if (v !== null) input(id).value = v;
}
if (params.get('tokens') !== null) input('gen-tokens').value = params.get('tokens')!;
if (params.get('bench') !== null) $<HTMLSelectElement>('bench-mode').value = params.get('bench')!;
if (params.get('source') === 'text') input('source-text').checked = true;

fetch(new URL('corpus.txt', location.href), { method: 'HEAD' }).then(
  (r) => ($('corpus-size').textContent = r.ok ? `${Math.round(Number(r.headers.get('content-length')) / 1024)} KB` : 'missing: run npm run demo:build'),
  () => undefined,
);

for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll<HTMLButtonElement>('.tab')) {
      t.classList.toggle('active', t === tab);
      $(t.dataset['panel']!).hidden = t !== tab;
    }
  });
}

function trainSettings(): TrainSettings {
  const source = input('source-text').checked ? 'text' : 'corpus';
  const ints: [string, number, number][] = [['dim', 1, 4096], ['layers', 1, 64], ['batch', 1, 4096], ['seq', 1, 8192], ['steps', 1, 1e7], ['seed', 0, 2 ** 31]];
  for (const [id, lo, hi] of ints) {
    const v = num(id);
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${id}: expected an integer in [${lo}, ${hi}], got "${input(id).value}"`);
  }
  const lr = num('lr');
  if (!(Number.isFinite(lr) && lr > 0 && lr <= 1)) throw new Error(`lr: expected a number in (0, 1], got "${input('lr').value}"`);
  return {
    model: input('model').value as TrainSettings['model'], backend: input('backend').value as BackendChoice, source,
    text: source === 'text' ? $<HTMLTextAreaElement>('text').value : undefined,
    dim: num('dim'), layers: num('layers'), batch: num('batch'), seq: num('seq'), steps: num('steps'), lr, seed: num('seed'),
  };
}

$('train').addEventListener('click', () => {
  let s: TrainSettings;
  try {
    s = trainSettings();
  } catch (e) {
    setStatus((e as Error).message, 'error', true);
    return;
  }
  state.losses = [];
  state.trained = null;
  plot.reset(s.steps);
  for (const id of ['step', 'loss', 'tps', 'val']) $(id).textContent = '–';
  setRunning(true);
  setStatus('starting…', 'training');
  send({ type: 'train', settings: s });
});
$('stop').addEventListener('click', () => send({ type: 'stop' }));

$('generate').addEventListener('click', () => {
  const tokens = num('gen-tokens');
  const temperature = num('temperature');
  const topK = num('topk');
  if (!Number.isInteger(tokens) || tokens < 1 || !(temperature >= 0) || !Number.isInteger(topK) || topK < 1) {
    $('gen-stats').textContent = 'tokens and top-k must be positive integers, temperature a number >= 0';
    return;
  }
  const prompt = input('prompt').value;
  state.generated = '';
  state.tokenMessages = 0;
  state.generating = true;
  $('output').textContent = prompt;
  $('output').dataset['state'] = 'generating';
  $('gen-stats').textContent = 'generating…';
  setRunning(true);
  send({ type: 'generate', settings: { prompt, tokens, temperature, topK, seed: num('seed') } });
});

$('download').addEventListener('click', () => {
  setRunning(true);
  $('ckpt-status').textContent = 'packing the checkpoint…';
  send({ type: 'save' });
});
input('upload').addEventListener('change', async () => {
  const file = input('upload').files?.[0];
  if (!file) return;
  setRunning(true);
  $('ckpt-status').textContent = `loading ${file.name}…`;
  const bytes = new Uint8Array(await file.arrayBuffer());
  send({ type: 'load', bytes, name: file.name, backend: input('backend').value as BackendChoice }, [bytes.buffer]);
  input('upload').value = '';
});

$('bench-run').addEventListener('click', () => {
  const suites = [...document.querySelectorAll<HTMLInputElement>('#bench-suites input:checked')].map((c) => c.value);
  state.benchRows = null;
  $('bench-log').textContent = '';
  $('bench-table').textContent = '';
  $('bench-status').textContent = `running ${suites.join(', ')}…`;
  $('bench-status').dataset['state'] = 'running';
  setRunning(true);
  send({ type: 'bench', suites, mode: $<HTMLSelectElement>('bench-mode').value as BenchMode });
});
$('bench-json').addEventListener('click', () => {
  if (!state.benchRows) return;
  const ua = navigator.userAgent.match(/(Chrome|Firefox|Safari|Edg)\/[\d.]+/)?.[0]?.replace('/', '-') ?? 'browser';
  offer(new Blob([`${JSON.stringify(state.benchRows, null, 2)}\n`], { type: 'application/json' }), `recur-bench-${ua}.json`);
});

function offer(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// ---- messages from the worker -----------------------------------------------------------------------------
function onReady(m: Extract<FromWorker, { type: 'ready' }>): void {
  state.ready = true;
  state.backends = m.backends;
  state.webgpuUnavailable = m.webgpuUnavailable;
  const sel = $<HTMLSelectElement>('backend');
  for (const opt of sel.options) {
    if (opt.value === 'auto') continue;
    const ok = m.backends.includes(opt.value);
    opt.disabled = !ok;
    if (!ok) {
      const why = opt.value === 'webgpu' ? (m.webgpuUnavailable ?? 'no adapter') : 'did not start';
      opt.textContent = `${opt.value === 'webgpu' ? 'WebGPU' : opt.value} (unavailable: ${why})`;
      opt.title = why;
    }
  }
  if (sel.selectedOptions[0]?.disabled) sel.value = 'auto';
  state.calibration = m.calibration;
  const cal = m.calibration ? `calibrated ${m.calibration.backends.join(' + ')} in ${m.calibration.tookMs} ms, ${m.calibration.measuredAt}` : 'nothing to choose between';
  $('backend-note').textContent = `${m.webgpuUnavailable ? `WebGPU: ${m.webgpuUnavailable}. ` : ''}auto: parameters on wasm, the scheduler places each op (${cal})`;
  $('env').textContent = `backends: ${m.backends.filter((b) => b !== 'reference').join(', ')} · wasm module: ${m.wasmVariant}${m.webgpuUnavailable ? ` · WebGPU unavailable: ${m.webgpuUnavailable}` : ''}`;
  for (const name of m.suites) {
    const label = document.createElement('label');
    label.className = 'inline';
    label.innerHTML = `<input type="checkbox" value="${name}"${m.defaultSuites.includes(name) ? ' checked' : ''}> ${name}`;
    $('bench-suites').appendChild(label);
  }
  setStatus('ready: pick a model and train', 'ready');
  setRunning(false);
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready': return onReady(m);
    case 'status': return setStatus(m.text, running ? 'busy' : 'ready');
    case 'started':
      summary = m.summary;
      return setStatus(`training ${describe(m.summary)} on ${m.trainTokens.toLocaleString('en-US')} tokens (${m.validationTokens.toLocaleString('en-US')} held out)`, 'training');
    case 'step':
      state.losses.push(m.loss);
      plot.push(m.loss);
      $('step').textContent = `${m.step} / ${m.steps}`;
      $('loss').textContent = m.loss.toFixed(3);
      $('tps').textContent = m.tokensPerSec > 0 ? Math.round(m.tokensPerSec).toLocaleString('en-US') : '…';
      return;
    case 'trained':
      state.trained = { step: m.step, loss: m.loss, valBpc: m.valBpc, backend: summary?.backend ?? '?', placement: m.placement };
      if (summary) summary.step = m.step;
      $('val').textContent = m.valBpc === null ? 'n/a' : `${m.valBpc.toFixed(3)} bits/char`;
      setStatus(`${m.stopped ? 'stopped' : 'done'} at step ${m.step}: ${summary ? describe(summary) : ''} · op calls: ${placementText(m.placement)}`, 'trained');
      return setRunning(false);
    case 'token':
      state.generated += m.text;
      state.tokenMessages++;
      $('output').textContent += m.text;
      return;
    case 'generated':
      state.generating = false;
      $('output').dataset['state'] = 'done';
      $('gen-stats').textContent = `${m.tokens} tokens at ${m.tokensPerSec.toFixed(0)} tokens/s`;
      return setRunning(false);
    case 'checkpoint':
      offer(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), m.name);
      $('ckpt-status').textContent = `saved ${m.name} (${(m.bytes.byteLength / 1024).toFixed(0)} KB)`;
      return setRunning(false);
    case 'loaded':
      summary = m.summary;
      $('ckpt-status').textContent = `loaded: ${describe(m.summary)}`;
      setStatus(`loaded ${describe(m.summary)}: generate, or train a new model`, 'loaded');
      return setRunning(false);
    case 'bench-log':
      $('bench-log').textContent += `${m.line}\n`;
      return;
    case 'bench-done':
      state.benchRows = m.rows;
      $('bench-table').replaceChildren(benchTable(m.rows));
      $('bench-status').textContent = `${m.rows.length} rows in ${m.seconds.toFixed(m.seconds < 10 ? 2 : 1)} s (the JSON has the same rows as recur bench --json)`;
      $('bench-status').dataset['state'] = 'done';
      $<HTMLButtonElement>('bench-json').disabled = false;
      return setRunning(false);
    case 'error': {
      const text = `${m.during}: ${m.message}`;
      state.errors.push(text);
      if (m.message.startsWith('busy with')) return setStatus(text, running ? 'busy' : 'ready', true);
      state.generating = false;
      if (m.during === 'bench') {
        $('bench-status').textContent = text;
        $('bench-status').dataset['state'] = 'error';
      } else if (m.during === 'load' || m.during === 'save') $('ckpt-status').textContent = text;
      setStatus(text, 'error', true);
      if (m.during !== 'start-up') setRunning(false);
      return;
    }
  }
};
worker.onerror = (e) => {
  state.errors.push(`worker: ${e.message}`);
  setStatus(`the worker failed: ${e.message}`, 'error', true);
};
