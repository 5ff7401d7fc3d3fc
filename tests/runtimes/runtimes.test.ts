// The same fixture check (tests/runtimes/check.mjs) in every runtime, each installed from npm as a devDependency:
// Node 20 (wasm, WebGPU through Dawn), Deno 2 (wasm, its navigator.gpu), Bun (wasm), workerd (wasm imported as a
// module) and the default inline build; Chromium runs it in tests/browser/infer_runtime.test.ts. Each runner prints
// `RESULT <json>`; tokens must equal the ones Node generated on wasm, logits agree within check.mjs's TOLERANCE.
import { spawn } from 'node:child_process';
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

interface Run { code: number | null; out: string; err: string }

/** Runs a command in its own process group; on timeout the whole group (this test's own processes) is killed. */
function run(cmd: string, args: string[], env: Record<string, string> = {}, ms = TIMEOUT - 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env, NO_COLOR: '1' }, detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

function results(text: string, what: string): CheckResult[] {
  const line = text.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${what}: no RESULT line in its output:\n${text.slice(-3000)}`);
  return (JSON.parse(line.slice(7)) as { results: CheckResult[] }).results;
}

function expectAllOk(rs: CheckResult[], backends: string[]): void {
  const failed = rs.find((r) => r.error);
  if (failed?.backend === 'import') throw new Error(`recur/infer did not load (built? npm run bundle): ${failed.error}`);
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
  it('Deno 2: wasm and navigator.gpu', () => runner(bin('deno'), ['run', '--allow-read', '--allow-env'], ['wasm', 'webgpu']), TIMEOUT);
  it('Bun: wasm', () => runner(bin('bun'), [], ['wasm']), TIMEOUT);

  it('workerd: wasm imported as compiled modules (workerd build, capnp config)', async () => {
    const port = await freePort();
    const child = spawn(bin('workerd'), ['serve', 'tests/runtimes/workerd/config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], { detached: true });
    let log = '';
    child.stderr.on('data', (d) => (log += d));
    child.stdout.on('data', (d) => (log += d));
    try {
      const text = await fetchWhenUp(`http://127.0.0.1:${port}/`, () => child.exitCode, () => log);
      expectAllOk(results(text, 'workerd'), ['wasm']);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, TIMEOUT);
});

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
