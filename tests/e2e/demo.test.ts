// End-to-end: the browser demo (demo/) in headless Debian Chromium via playwright-core, WebGPU on SwiftShader.
// Builds the demo, serves it on a free loopback port, trains tiny models on wasm, WebGPU and auto (the loss must fall,
// tokens/s and the plot show), generates streamed text, round-trips a checkpoint through download/upload, runs the
// benchmark tab (smoke: its JSON has the CLI's rows; then quick: matmul, scan, models on each backend) and saves
// out/demo-screenshot.png and out/demo-bench-screenshot.png (docs/demo.png comes from scripts/demo-screenshot.mjs).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo } from '../../scripts/build-demo.mjs';
import { serveDemo } from '../../scripts/serve-demo.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader',
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
/** Tiny models so each training run takes seconds, even on the CPU-emulated GPU. */
const TINY = 'model=mingru&dim=32&layers=1&batch=4&seq=16&steps=30&tokens=40&temperature=0.8&topk=20&seed=3&bench=smoke';
const STEPS = 30;
/** The loss must fall at least this much (nats per byte) from the first 5 steps' mean to the last 5 steps'. */
const MIN_DROP = 0.3;

interface BenchRow { suite: string; case: string; impl: string; value: number; unit: string }
interface DemoState {
  ready: boolean;
  backends: string[];
  webgpuUnavailable?: string;
  calibration: { backends: string[]; measuredAt: string; tookMs: number } | null;
  losses: number[];
  trained: { step: number; loss: number; valBpc: number | null; backend: string; placement: Record<string, number> } | null;
  generated: string;
  generating: boolean;
  tokenMessages: number;
  benchRows: BenchRow[] | null;
  errors: string[];
}

let built: string | undefined;
let server: Server;
let url: string;
let browser: Browser;
let page: Page;

const demo = (): Promise<DemoState> => page.evaluate(() => (globalThis as unknown as { recurDemo: DemoState }).recurDemo);

/** Waits until `cond` holds on the page state, failing at once with the page's error if one is shown. */
async function until(what: string, cond: string, timeout = 90_000): Promise<DemoState> {
  await page.waitForFunction(`(() => { const d = globalThis.recurDemo; return d && (d.errors.length > 0 || (${cond})); })()`, null, { timeout, polling: 100 });
  const st = await demo();
  if (st.errors.length) throw new Error(`demo page, waiting for ${what}: ${st.errors.join('; ')}`);
  return st;
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** Pixels of the loss plot in its smoothed line's colour (#2f6fdf), once the pending frame is drawn. */
const plotLinePixels = (): Promise<number> =>
  page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => r(undefined)));
    const c = document.getElementById('loss-plot') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - 0x2f) + Math.abs(d[i + 1]! - 0x6f) + Math.abs(d[i + 2]! - 0xdf) < 40 && d[i + 3]! > 200) n++;
    return n;
  });

async function trainOn(backend: 'auto' | 'wasm' | 'webgpu'): Promise<DemoState> {
  await page.selectOption('#backend', backend);
  await page.click('#train');
  const st = await until(`training on ${backend}`, 'd.trained !== null');
  expect(st.trained!.backend).toBe(backend);
  expect(st.losses).toHaveLength(STEPS);
  expect(st.losses.every(Number.isFinite)).toBe(true);
  const [first, last] = [mean(st.losses.slice(0, 5)), mean(st.losses.slice(-5))];
  expect(first - last, `${backend}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`).toBeGreaterThan(MIN_DROP);
  expect(Number((await page.textContent('#tps'))!.replace(/,/g, '')), 'tokens/s shown').toBeGreaterThan(0);
  expect(await plotLinePixels(), 'the live plot drew the loss line').toBeGreaterThan(200);
  return st;
}

async function generateText(): Promise<string> {
  await page.click('#generate');
  const st = await until('generation', 'd.generating === false && d.generated.length > 0');
  expect(st.tokenMessages, 'the text arrives in pieces as it is sampled (streamed)').toBeGreaterThan(1);
  expect(await page.textContent('#output')).toBe(`${await page.inputValue('#prompt')}${st.generated}`);
  return st.generated;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); never a downloaded browser`);
  // A private build (dist/demo, what `npm run demo` serves, is left alone), with a smaller corpus slice.
  built = await buildDemo({ quiet: true, corpusBytes: 100_000, outDir: mkdtempSync(join(tmpdir(), 'recur-demo-')) });
  ({ server, url } = await serveDemo({ port: 0, root: built }));
  // playwright gives the browser a fresh temporary profile (it refuses --user-data-dir in args).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  await page.goto(`${url}?${TINY}`);
  await until('the engine to start', 'd.ready');
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('browser demo (headless Chromium)', () => {
  it('offers the backends the worker brought up, WebGPU (SwiftShader) included', async () => {
    const st = await demo();
    expect(await page.evaluate(() => crossOriginIsolated), 'the demo server sends COOP/COEP (fine benchmark timers)').toBe(true);
    expect(st.backends, `WebGPU did not come up in Chromium: ${st.webgpuUnavailable}`).toContain('webgpu');
    const opts = await page.$$eval('#backend option', (os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, disabled: (o as HTMLOptionElement).disabled })));
    expect(opts).toEqual([{ value: 'auto', disabled: false }, { value: 'wasm', disabled: false }, { value: 'webgpu', disabled: false }]);
    expect(await page.$$eval('#model option', (os) => os.map((o) => o.textContent))).toEqual(['minGRU', 'minLSTM', 'SRU', 'SRU++']);
  });

  it('greys WebGPU out with the reason where the browser has no adapter', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-features=WebGPU'], headless: true });
    try {
      const p = await plain.newPage();
      await p.goto(url);
      await p.waitForFunction(() => (globalThis as unknown as { recurDemo?: DemoState }).recurDemo?.ready, null, { timeout: 60_000 });
      const opt = await p.$eval('#backend option[value=webgpu]', (o) => ({ disabled: (o as HTMLOptionElement).disabled, text: o.textContent }));
      expect(opt.disabled).toBe(true);
      expect(opt.text).toMatch(/^WebGPU \(unavailable: .+\)$/);
    } finally {
      await plain.close();
    }
  });

  it('trains on wasm (the loss falls), generates, and round-trips a checkpoint through download and upload', async () => {
    await trainOn('wasm');
    const before = await generateText();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toMatch(/^recur-mingru-step30\.safetensors$/);
    const file = await download.path();
    await page.setInputFiles('#upload', file);
    await until('the checkpoint to load', "document.getElementById('ckpt-status').textContent.startsWith('loaded')");
    // Same weights, same seed, same backend: the same text.
    expect(await generateText()).toBe(before);
  });

  it('names the problem when the upload is not a checkpoint, and keeps the model it had', async () => {
    await page.setInputFiles('#upload', { name: 'notes.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a safetensors file at all') });
    await page.waitForFunction(() => document.getElementById('ckpt-status')!.textContent!.startsWith('load:'), null, { timeout: 20_000 });
    expect(await page.textContent('#ckpt-status')).toMatch(/^load: notes\.safetensors: /);
    expect(await page.evaluate(() => (globalThis as unknown as { recurDemo: DemoState }).recurDemo.errors.splice(0))).toHaveLength(1);
    expect(await page.isEnabled('#generate')).toBe(true);
  });

  it('trains on pasted text', async () => {
    await page.check('#source-text');
    await page.fill('#text', 'The quick brown fox jumps over the lazy dog. '.repeat(60));
    await trainOn('wasm');
    await page.check('#source-corpus');
  });

  it('stops a long run when asked, keeping the page responsive meanwhile', async () => {
    await page.fill('#steps', '100000');
    await page.click('#train');
    await until('a few steps', 'd.losses.length >= 3');
    await page.click('#tab-bench'); // the page reacts while the worker trains
    await page.click('#tab-train');
    await page.click('#stop');
    const st = await until('the stop', 'd.trained !== null');
    expect(st.trained!.step).toBeLessThan(100000);
    expect(await page.textContent('#status')).toMatch(/^stopped at step \d+/);
    await page.fill('#steps', String(STEPS));
  });

  it('trains on WebGPU (SwiftShader): the loss falls', async () => {
    await trainOn('webgpu');
    expect((await generateText()).length).toBeGreaterThan(0);
    mkdirSync('out', { recursive: true });
    await page.screenshot({ path: 'out/demo-screenshot.png', fullPage: true });
  });

  it("trains on auto: WebGPU is up and calibrated, the parameters start on wasm and the scheduler places each op", async () => {
    const st0 = await demo();
    expect(st0.calibration?.backends.sort(), 'init({ webgpu: true }) calibrated both backends at start-up').toEqual(['wasm', 'webgpu']);
    expect(await page.textContent('#backend-note')).toMatch(/^auto: parameters on wasm, the scheduler places each op \(calibrated wasm \+ webgpu in \d+ ms/);
    const st = await trainOn('auto');
    const calls = Object.entries(st.trained!.placement);
    expect(calls.length, 'op calls were counted').toBeGreaterThan(0);
    for (const [b, n] of calls) {
      expect(['wasm', 'webgpu'], `placed on ${b}`).toContain(b);
      expect(n).toBeGreaterThan(0);
    }
    expect(calls.reduce((a, [, n]) => a + n, 0), 'every step runs many op calls').toBeGreaterThan(STEPS * 10);
    expect(await page.textContent('#status')).toMatch(/ · auto · step 30 · op calls: (wasm|webgpu) [\d,]+/);
    expect((await generateText()).length).toBeGreaterThan(0);
  });

  it('runs the engine in a Web Worker: the page script carries none of it', () => {
    const main = readFileSync(join(built!, 'main.js'), 'utf8');
    const worker = readFileSync(join(built!, 'worker.js'), 'utf8');
    expect(main).toMatch(/new Worker\(/);
    for (const engine of ['WebAssembly', 'requestAdapter']) {
      expect(main, `main.js mentions ${engine}`).not.toContain(engine);
      expect(worker).toContain(engine);
    }
  });

  it('benchmark tab, smoke sizes: its JSON report has the rows of `recur bench --smoke --json`, less the peers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recur-bench-'));
    try {
      const cliJson = join(dir, 'cli.json');
      await promisify(execFile)(process.execPath, ['bin/recur.js', 'bench', SUITES.join(','), '--smoke', '--json', cliJson], { maxBuffer: 1 << 24 });
      const cli = JSON.parse(readFileSync(cliJson, 'utf8')) as BenchRow[];
      const rows = await runBenchTab('smoke', 60_000);
      for (const r of rows) expect(Object.keys(r).sort()).toEqual(['case', 'impl', 'suite', 'unit', 'value']);
      // The peers (tfjs-wasm, onnxruntime-web) are not bundled into the page: their rows, and ratios to them, are absent.
      const needsPeer = (r: BenchRow) => PEERS.some((p) => r.impl === p || r.case.includes(p));
      expect(rows.map(rowKey).sort()).toEqual(cli.filter((r) => !needsPeer(r)).map(rowKey).sort());
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#bench-json')]);
      expect(download.suggestedFilename()).toMatch(/^recur-bench-[\w.-]+\.json$/);
      expect(JSON.parse(readFileSync(await download.path(), 'utf8'))).toEqual(JSON.parse(JSON.stringify(rows)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the quick benchmark tab: matmul, scan and models, on each available backend', async () => {
    const rows = await runBenchTab('quick', 560_000);
    expect(new Set(rows.map((r) => r.suite))).toEqual(new Set(SUITES));
    for (const r of rows) expect(Number.isFinite(r.value) && r.value > 0, `${rowKey(r)}: ${r.value}`).toBe(true);
    const impls = (suite: string) => new Set(rows.filter((r) => r.suite === suite).map((r) => r.impl));
    expect(impls('matmul')).toEqual(new Set(['recur-wasm', 'recur-wasm-relaxed', 'recur-webgpu']));
    expect(impls('scan')).toContain('recur-wasm');
    for (const kind of ['mingru', 'minlstm', 'sru', 'srupp']) {
      expect(rows.some((r) => r.suite === 'models' && r.case.startsWith(`train ${kind} `) && r.unit === 'tok/s'), `models: train ${kind}`).toBe(true);
    }
    expect(await page.locator('#bench-table table tr').count()).toBeGreaterThan(rows.length / 4);
    await page.screenshot({ path: 'out/demo-bench-screenshot.png', fullPage: true });
  }, 600_000);
});

const SUITES = ['matmul', 'scan', 'models'];
const PEERS = ['tfjs-wasm', 'ort-web-wasm'];
const rowKey = (r: BenchRow): string => `${r.suite} | ${r.case} | ${r.impl} | ${r.unit}`;

/** Runs the benchmark tab's default suites (matmul, scan, models) in `mode`; resolves with the report's rows. */
async function runBenchTab(mode: 'smoke' | 'quick', timeout: number): Promise<BenchRow[]> {
  await page.click('#tab-bench');
  await page.selectOption('#bench-mode', mode);
  expect(await page.$$eval('#bench-suites input:checked', (cs) => cs.map((c) => (c as HTMLInputElement).value))).toEqual(SUITES);
  await page.click('#bench-run');
  const st = await until(`the ${mode} benchmark`, 'd.benchRows !== null', timeout);
  return st.benchRows!;
}
