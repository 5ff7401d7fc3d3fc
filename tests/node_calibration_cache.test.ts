// The Node build of the full library (`import 'recur'` -> dist/node/index.js, entry src/node/index.ts) caches
// scheduler calibrations on disk by default ($RECUR_CACHE_DIR/calibration.json); the browser, workerd and inline
// builds carry no file-system code. Checked on the bundles as scripts/bundle-targets.mjs builds them (in memory;
// dist/ is left alone), the Node one run in child processes, and on the source entry in this process.
import { runChild, type Run } from './helpers/child.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { libraryBuilds } from '../scripts/bundle-targets.mjs';
import type { Calibration } from '../src/scheduler/cost_model.js';

type Entry = { index?: string };
const builds = libraryBuilds().filter((b) => (b.entryPoints as Entry).index);

async function bundleIndex(b: BuildOptions, outdir: string, write: boolean) {
  const r = await build({ ...b, entryPoints: { index: (b.entryPoints as Entry).index! }, outdir, write, sourcemap: false, logLevel: 'silent' });
  return r.outputFiles ?? [];
}

function runNode(script: string, env: Record<string, string>): Promise<Run> {
  return runChild(process.execPath, [script], { env });
}

let tmp: string;
beforeAll(() => {
  // Inside the repository, so that the bundle's external imports (webgpu) resolve from node_modules.
  mkdirSync(join('node_modules', '.cache'), { recursive: true });
  tmp = resolve(mkdtempSync(join('node_modules', '.cache', 'recur-calcache-')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('calibration cache per runtime build', () => {
  it('only the Node build of the full API carries the file store', async () => {
    expect(builds.map((b) => b.outdir).sort()).toEqual(['dist/browser', 'dist/inline', 'dist/node', 'dist/workerd']);
    for (const b of builds) {
      const text = (await bundleIndex(b, join(tmp, 'mem'), false)).filter((f) => f.path.endsWith('.js')).map((f) => f.text).join('\n');
      const node = b.outdir === 'dist/node';
      expect(text.includes('RECUR_CACHE_DIR'), `${b.outdir}: RECUR_CACHE_DIR`).toBe(node);
      expect(/from\s*["']node:fs["']/.test(text), `${b.outdir}: imports node:fs`).toBe(node);
    }
  }, 60_000);

  it('the Node bundle writes $RECUR_CACHE_DIR/calibration.json and the next process reuses it', async () => {
    const out = join(tmp, 'node');
    await bundleIndex(builds.find((b) => b.outdir === 'dist/node')!, out, true);
    const script = join(out, 'calibrate.mjs');
    writeFileSync(script, `import { init, calibrate } from './index.js';\nawait init();\nconst c = await calibrate();\nconsole.log(JSON.stringify({ identity: c.identity, measuredAt: c.measuredAt }));\n`);
    const cache = join(tmp, 'cache');
    const file = join(cache, 'calibration.json');
    const first = await runNode(script, { RECUR_CACHE_DIR: cache });
    expect(first.code, first.err).toBe(0);
    const c1 = JSON.parse(first.out) as { identity: string; measuredAt: string };
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as Calibration[];
    expect(onDisk.map((c) => c.identity)).toEqual([c1.identity]);
    expect(onDisk[0]!.measuredAt).toBe(c1.measuredAt);
    // Marked, so a reuse cannot be mistaken for a new measurement taken in the same millisecond.
    writeFileSync(file, JSON.stringify([{ ...onDisk[0]!, measuredAt: 'from the file' }]));
    const second = await runNode(script, { RECUR_CACHE_DIR: cache });
    expect(second.code, second.err).toBe(0);
    expect(JSON.parse(second.out)).toEqual({ identity: c1.identity, measuredAt: 'from the file' });
  }, 60_000);
});

describe('the Node source entry', () => {
  it('reads RECUR_CACHE_DIR when calibrating; setCalibrationStore overrides and restores the default', async () => {
    const before = process.env['RECUR_CACHE_DIR'];
    try {
      vi.resetModules();
      const lib = await import('../src/node/index.js');
      await lib.init();
      const a = join(tmp, 'src-a');
      process.env['RECUR_CACHE_DIR'] = a;
      const c = await lib.calibrate({ force: true });
      expect((JSON.parse(readFileSync(join(a, 'calibration.json'), 'utf8')) as Calibration[])[0]).toEqual(c);
      lib.setCalibrationStore(null); // memory only
      const b = join(tmp, 'src-b');
      process.env['RECUR_CACHE_DIR'] = b;
      await lib.calibrate({ force: true });
      expect(existsSync(b)).toBe(false);
      lib.setCalibrationStore(undefined); // back to the file
      const c2 = await lib.calibrate({ force: true });
      expect((JSON.parse(readFileSync(join(b, 'calibration.json'), 'utf8')) as Calibration[])[0]).toEqual(c2);
    } finally {
      if (before === undefined) delete process.env['RECUR_CACHE_DIR'];
      else process.env['RECUR_CACHE_DIR'] = before;
    }
  }, 60_000);

  it('the shared entry (browsers, workerd) stays memory-only in Node, which has no IndexedDB', async () => {
    vi.resetModules();
    const lib = await import('../src/index.js');
    await lib.init();
    const dir = join(tmp, 'shared');
    const before = process.env['RECUR_CACHE_DIR'];
    process.env['RECUR_CACHE_DIR'] = dir;
    try {
      await lib.calibrate({ force: true });
      expect(existsSync(dir)).toBe(false);
    } finally {
      if (before === undefined) delete process.env['RECUR_CACHE_DIR'];
      else process.env['RECUR_CACHE_DIR'] = before;
    }
  }, 60_000);
});
