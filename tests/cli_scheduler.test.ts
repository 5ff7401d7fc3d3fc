// `recur calibrate [--json]` and `recur train|sample --explain`, run in-process through the CLI's main() (the
// bundled CLI is tested in tests/cli.test.ts): the JSON has every op class per backend and lands in the cache
// file; a second run reads the cache; --explain ends with a per-op table on stderr.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { OP_CLASSES } from '../src/scheduler/cost_model.js';
import { setCalibration } from '../src/scheduler/scheduler.js';

let tmp = '';
const savedEnv = process.env['RECUR_CACHE_DIR'];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'recur-cli-sched-'));
  process.env['RECUR_CACHE_DIR'] = join(tmp, 'cache');
});
afterAll(() => {
  if (savedEnv === undefined) delete process.env['RECUR_CACHE_DIR'];
  else process.env['RECUR_CACHE_DIR'] = savedEnv;
  setCalibration(null);
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI in-process; returns the exit code and what it wrote. */
async function recur(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(['node', 'recur', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('recur calibrate', () => {
  it('--json prints the measured rates and caches them; the next run reads the cache', async () => {
    const r = await recur('calibrate', '--json');
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as { measured: boolean; cacheFile: string; identity: string; backends: Record<string, Record<string, unknown>>; links: Record<string, unknown> };
    expect(c.cacheFile).toBe(join(tmp, 'cache', 'calibration.json'));
    expect(existsSync(c.cacheFile)).toBe(true);
    expect(c.measured).toBe(true);
    expect(Object.keys(c.backends.wasm!).sort()).toEqual([...OP_CLASSES].sort());
    if (c.backends.webgpu) expect(Object.keys(c.links).sort()).toEqual(['wasm->webgpu', 'webgpu->wasm']);
    const again = await recur('calibrate');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^calibration from the cache/);
    expect(again.stdout).toMatch(/wasm\s+matvec\s/);
  });
});

describe('--explain', () => {
  it('train and sample print a per-op summary (op, backend, calls, time) at the end', async () => {
    const data = join(tmp, 'data.txt');
    writeFileSync(data, 'the cat sat on the mat. '.repeat(200));
    const out = join(tmp, 'run');
    const t = await recur('train', '--model', 'mingru', '--data', data, '--steps', '2', '--batch', '2', '--seq', '8', '--dim', '8', '--layers', '1', '--eval-tokens', '32', '--backend', 'wasm', '--out', out, '--explain');
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/per-op summary/);
    expect(t.stderr).toMatch(/op\s+backend\s+calls\s+time\s+predicted/);
    expect(t.stderr).toMatch(/\nmatmul\s+wasm\s+\d+\s/);
    expect(t.stderr).toMatch(/\nadamw_step\s+wasm\s+\d+\s/);
    const s = await recur('sample', '--checkpoint', out, '--tokens', '3', '--backend', 'wasm', '--explain');
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/\nmatmul\s+wasm\s+\d+\s/);
    expect(s.stderr).not.toMatch(/adamw_step/); // sampling does not train
    // auto (the default): WebGPU comes up where there is one and the scheduler places each op.
    const a = await recur('sample', '--checkpoint', out, '--tokens', '3', '--explain');
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/\nmatmul\s+(wasm|webgpu)\s+\d+\s/);
  });
});
