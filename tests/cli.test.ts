// The bundled CLI (bin/recur.js -> dist/node/cli.js) run as a child process: `info --json`, `bench matmul --smoke
// --json` and `bench unary --engine benny` print the documented shapes; usage mistakes exit 2 with one line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';

const CLI = 'dist/node/cli.js';
let tmp = '';

/** Runs the CLI in `cwd` (default: the repository root). */
function recurIn(cwd: string | undefined, ...args: string[]) {
  const r = spawnSync(process.execPath, [resolve('bin/recur.js'), ...args], { encoding: 'utf8', timeout: 300_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const recur = (...args: string[]) => recurIn(undefined, ...args);

/** The rows a `--json` file holds, each checked for the documented keys, its suite and a finite value. */
function readRows(file: string, suite: string): Record<string, unknown>[] {
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>[];
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(Object.keys(row).sort()).toEqual(['case', 'impl', 'suite', 'unit', 'value']);
    expect(row['suite']).toBe(suite);
    expect(Number.isFinite(row['value'])).toBe(true);
  }
  return rows;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'recur-cli-'));
  if (!existsSync(CLI)) {
    const b = spawnSync('npm', ['run', 'build'], { encoding: 'utf8', timeout: 600_000 });
    if (b.status !== 0) throw new Error(`npm run build failed (needed for ${CLI}):\n${b.stderr.slice(-2000)}`);
  }
}, 660_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('recur CLI', () => {
  it('info --json prints the version and every backend', () => {
    const r = recur('info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.version).toBe(VERSION);
    expect(info.backends.wasm).toMatchObject({ available: true, simd: true });
    expect(typeof info.backends.wasm.relaxedSimd).toBe('boolean');
    const gpu = info.backends.webgpu;
    expect(typeof gpu.available).toBe('boolean');
    expect(Array.isArray(gpu.features)).toBe(true);
    expect(typeof gpu.limits).toBe('object');
    if (gpu.available) {
      expect(gpu.adapter).toEqual(expect.objectContaining({ vendor: expect.any(String), architecture: expect.any(String) }));
      for (const v of Object.values(gpu.limits)) expect(typeof v).toBe('number');
    } else {
      expect(gpu.adapter).toBeNull();
      expect(typeof gpu.reason).toBe('string');
    }
  });

  it('info prints a readable summary', () => {
    const r = recur('info');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`recur ${VERSION}`);
    expect(r.stdout).toMatch(/wasm\s+available: yes/);
    expect(r.stdout).toMatch(/webgpu\s+available: (yes|no)/);
  });

  it('bench matmul --smoke --json prints a side-by-side table and writes the rows', () => {
    const file = join(tmp, 'rows.json');
    const r = recur('bench', 'matmul', '--smoke', '--json', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^matmul\s+unit\s+recur-wasm\s+recur-wasm-relaxed\s+tfjs-wasm\s+ort-web-wasm/);
    expect(r.stdout).toMatch(/wasm \/ tfjs/);
    const rows = readRows(file, 'matmul');
    const impls = new Set(rows.filter((x) => x['unit'] === 'GFLOP/s').map((x) => x['impl']));
    for (const impl of ['recur-wasm', 'recur-wasm-relaxed', 'tfjs-wasm', 'ort-web-wasm']) expect(impls).toContain(impl);
    expect(rows.some((x) => String(x['case']).startsWith('f32x4 peak'))).toBe(true);
  });

  it('bench scan --smoke --json rates the minGRU scan against the wasm copy loop and memmove', () => {
    const file = join(tmp, 'scan.json');
    const r = recur('bench', 'scan', '--smoke', '--json', file);
    expect(r.code, r.stderr).toBe(0);
    const rows = readRows(file, 'scan');
    const one = (c: RegExp, impl: string) => {
      const hit = rows.filter((x) => c.test(String(x['case'])) && x['impl'] === impl);
      expect(hit.length, `${c} (${impl})`).toBe(1);
      return hit[0]!;
    };
    const wasmCopy = one(/^copy .* MiB, f32x4 loop \(memory bandwidth\)$/, 'wasm-copy');
    one(/^copy .* MiB, memmove \(non-temporal stores\)$/, 'js-copy');
    for (const what of ['fwd', 'fwd+bwd']) {
      const rate = one(new RegExp(`^${what.replace('+', '\\+')} T=\\S+ B=\\S+ D=\\S+$`), 'recur-wasm');
      const pct = one(new RegExp(`^${what.replace('+', '\\+')} T=.* / memory-bandwidth copy$`), 'recur-wasm');
      expect(pct['unit']).toBe('% of copy');
      expect(pct['value'] as number).toBeCloseTo((100 * (rate['value'] as number)) / (wasmCopy['value'] as number), 6);
    }
  });

  it('bench unary --smoke --engine benny times through benny and writes the rows atomically', () => {
    const dir = mkdtempSync(join(tmp, 'benny-'));
    const r = recurIn(dir, 'bench', 'unary', '--smoke', '--engine', 'benny', '--json', 'rows.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^unary\s+unit\s+recur-wasm\b/);
    expect(r.stdout).not.toMatch(/Running|Saved to/); // benny's chatter goes to stderr
    expect(r.stderr).toMatch(/Running "unary-/);
    const rows = readRows(join(dir, 'rows.json'), 'unary');
    expect(rows.every((x) => x['unit'] === 'GB/s' && (x['value'] as number) > 0)).toBe(true);
    expect(new Set(rows.map((x) => x['impl']))).toContain('recur-wasm');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const saved = JSON.parse(readFileSync(join(dir, 'bench-results', 'unary-exp_n=1000.json'), 'utf8')) as { results: { name: string }[] };
    expect(saved.results.map((x) => x.name)).toContain('recur-wasm');
  });

  it.each([
    [['bench', 'no-such-suite'], /unknown bench suite 'no-such-suite'/],
    [['bench', 'matmul', '--smok'], /unknown option '--smok'/],
    [['bench'], /missing required argument 'suite'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['bench', 'matmul', '--json', join('/no-such-dir', 'x.json')], /--json .*does not exist/],
    [['bench', 'unary', '--smoke', '--engine', 'nope'], /--engine nope: unknown timing engine \(known: round-robin, benny\)/],
  ])('%j exits 2 with one line on stderr', (args, message) => {
    const r = recur(...(args as string[]));
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
