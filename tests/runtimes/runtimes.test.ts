// The same fixture check (tests/runtimes/check.mjs) in every runtime, each installed from npm as a devDependency:
// Node 20 (wasm, WebGPU through Dawn), Deno 2 (wasm; its navigator.gpu when that yields an adapter, reported
// either way), Bun (wasm), workerd (wasm imported as modules, run-time compilation refused) and the default inline
// build; Chromium runs it in tests/browser/infer_runtime.test.ts. Each runner prints
// `RESULT <json>`; tokens must equal the ones Node generated on wasm, logits agree within check.mjs's TOLERANCE.
import { spawn } from 'node:child_process';
import { runChild, type Run } from '../helpers/child.js';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from './check.mjs';

const RUNNER = 'tests/runtimes/run_cli_runtime.mjs';
const TIMEOUT = 240_000;

/** A runtime binary from node_modules/.bin; missing means `npm ci` did not install the devDependency: a failure. */
function bin(name: string): string {
  const path = `node_modules/.bin/${name}`;
  if (!existsSync(path)) throw new Error(`${name} is not installed (${path} missing): it is a devDependency, run \`npm ci\``);
  return path;
}

/** Runs a command in its own process group; on timeout the whole group (this test's own processes) is killed. */
function run(cmd: string, args: string[], env: Record<string, string> = {}, ms = TIMEOUT - 10_000): Promise<Run> {
  return runChild(cmd, args, { env, timeoutMs: ms });
}

interface RunnerLine { results: CheckResult[]; gpuProbe?: GpuProbe }
/** What a runtime's own navigator.gpu answered, asked directly by the runner (Deno). */
interface GpuProbe { adapter: boolean; description?: string; reason?: string }

function resultLine(text: string, what: string): RunnerLine {
  const line = text.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${what}: no RESULT line in its output:\n${text.slice(-3000)}`);
  return JSON.parse(line.slice(7)) as RunnerLine;
}
const results = (text: string, what: string): CheckResult[] => resultLine(text, what).results;

function expectImported(rs: CheckResult[]): void {
  const failed = rs.find((r) => r.backend === 'import');
  if (failed) throw new Error(`recur/infer did not load (built? npm run bundle): ${failed.error}`);
}

function expectAllOk(rs: CheckResult[], backends: string[]): void {
  expectImported(rs);
  expect(rs.map((r) => r.backend)).toEqual(backends);
  for (const r of rs) expect(r, JSON.stringify(r)).toMatchObject({ ok: true, tokensEqual: true, logitsAgree: true });
}

async function runner(cmd: string, args: string[], backends: string[], env?: Record<string, string>): Promise<void> {
  const r = await run(cmd, [...args, RUNNER, ...backends], env);
  expectAllOk(results(r.out, `${cmd} ${args.join(' ')}`.trim()), backends);
}

describe('recur/infer in each runtime', () => {
  it('Node 20: wasm and WebGPU (Dawn), package exports "node" build', () => runner(process.execPath, [], ['wasm', 'webgpu']), TIMEOUT);
  it('the default inline build (dist/inline/infer.js) on Node: wasm', () => runner(process.execPath, [], ['wasm'], { RECUR_INFER: 'dist/inline/infer.js' }), TIMEOUT);
  it('Deno 2: wasm, and WebGPU on its navigator.gpu when that yields an adapter (reported either way)', async ({ annotate }) => {
    const note = await deno({});
    await annotate(note);
  }, TIMEOUT);
  it('Deno 2 without an adapter (DENO_WEBGPU_BACKEND=dx12 on Linux): wasm passes, WebGPU is reported unavailable', async ({ annotate }) => {
    const note = await deno({ DENO_WEBGPU_BACKEND: 'dx12' }, false);
    await annotate(note);
  }, TIMEOUT);
  it('Bun: wasm', () => runner(bin('bun'), [], ['wasm']), TIMEOUT);

  it('workerd: wasm imported as compiled modules, where compiling wasm at run time is refused (workerd build)', async () => {
    const port = await freePort();
    const child = spawn(bin('workerd'), ['serve', 'tests/runtimes/workerd/config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], { detached: true });
    let log = '';
    child.stderr.on('data', (d) => (log += d));
    child.stdout.on('data', (d) => (log += d));
    try {
      const text = await fetchWhenUp(`http://127.0.0.1:${port}/`, () => child.exitCode, () => log);
      const line = resultLine(text, 'workerd') as RunnerLine & { runtimeCompile?: string };
      // The runtime refuses WebAssembly.compile(bytes), as Cloudflare does: the build never compiles at run time.
      expect(line.runtimeCompile).toMatch(/^refused: .*disallowed/i);
      expectAllOk(line.results, ['wasm']);
      // The workerd build imports its wasm as modules instead of carrying it inline.
      const build = readFileSync('dist/workerd/infer.js', 'utf8');
      expect(build).toMatch(/from\s*["']\.\/recur\.simd\.wasm["']/);
      expect(build).not.toMatch(/AGFzbQ/); // base64 of the wasm magic number: no inlined module
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, TIMEOUT);
});

/**
 * Runs the fixture check in Deno on wasm and webgpu. wasm must pass; webgpu must pass when Deno's own navigator.gpu
 * yields an adapter (the runner asks it directly), and otherwise fail saying WebGPU is unavailable. `wantAdapter`
 * pins which case the environment must produce. Returns the line to report.
 */
async function deno(env: Record<string, string>, wantAdapter?: boolean): Promise<string> {
  const r = await run(bin('deno'), ['run', '--allow-read', '--allow-env', RUNNER, 'wasm', 'webgpu'], env);
  const { results: rs, gpuProbe } = resultLine(r.out, 'deno');
  expectImported(rs);
  expect(rs.map((x) => x.backend)).toEqual(['wasm', 'webgpu']);
  expect(rs[0], JSON.stringify(rs[0])).toMatchObject({ ok: true, tokensEqual: true, logitsAgree: true });
  expect(gpuProbe, 'Deno has navigator.gpu: the runner reports what it answered').toBeDefined();
  if (wantAdapter !== undefined) expect(gpuProbe!.adapter).toBe(wantAdapter);
  const gpu = rs[1]!;
  let note: string;
  if (gpuProbe!.adapter) {
    expect(gpu, JSON.stringify(gpu)).toMatchObject({ ok: true, tokensEqual: true, logitsAgree: true, gpu: 'navigator.gpu' });
    note = `Deno navigator.gpu adapter: ${gpuProbe!.description}; WebGPU tokens equal Node's, logits within ${gpu.maxAbsDiff!.toExponential(1)}`;
  } else {
    expect(gpu.ok).toBe(false);
    expect(gpu.error).toMatch(/WebGPU is not available here \(no WebGPU adapter from navigator\.gpu\)/);
    note = `Deno navigator.gpu yields no adapter (${gpuProbe!.reason}): WebGPU not checked in Deno; wasm passed`;
  }
  console.log(note);
  return note;
}

describe('package.json exports', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, Record<string, string>> };
  it.each(['.', './infer'])('%s: every condition names a built file', (entry) => {
    const e = pkg.exports[entry]!;
    expect(Object.keys(e)).toEqual(['types', 'workerd', 'browser', 'node', 'default']);
    for (const file of Object.values(e)) expect(existsSync(file), file).toBe(true);
  });
  it.each(['browser', 'workerd', 'node'])('Node resolves recur and recur/infer with the %s condition', async (cond) => {
    const code = "console.log(import.meta.resolve('recur'), import.meta.resolve('recur/infer'))";
    const r = await run(process.execPath, [`--conditions=${cond}`, '--input-type=module', '-e', code]);
    const want = cond === 'node' ? 'node' : cond;
    expect(r.out.trim()).toMatch(new RegExp(`/dist/${want}/index\\.js .*/dist/${want}/infer\\.js$`));
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until the server answers; fails with workerd's log if it exits or never comes up. */
async function fetchWhenUp(url: string, exited: () => number | null, log: () => string): Promise<string> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(url);
      return await res.text();
    } catch {
      if (exited() !== null || Date.now() > until) throw new Error(`workerd did not serve ${url}:\n${log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
