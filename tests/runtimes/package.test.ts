// The package as published: `npm pack` of the working tree (dist/ as last built). Its file list holds every
// exports target, the bin, the types and the wasm the workerd build imports, and nothing else (no sources, tests or
// demo build). Installed into a fresh consumer directory (node_modules/recur from the tarball, its dependencies
// linked from this repo as an install would provide them), `import ... from 'recur/infer'` resolves inside it and
// generates the fixture's tokens, the bin runs, and a TypeScript consumer typechecks with skipLibCheck off.
import { runChild, type Run } from '../helpers/child.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from './check.mjs';

const ROOT = resolve('.');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string; main: string; types: string; files: string[]; bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>;
};

function run(cmd: string, args: string[], cwd = ROOT): Promise<Run> {
  return runChild(cmd, args, { cwd });
}

let tmp: string;
let consumer: string;
let files: string[];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'recur-pack-'));
  const r = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp]);
  if (r.code !== 0) throw new Error(`npm pack failed (${r.code}):\n${r.err.slice(-3000)}`);
  const [info] = JSON.parse(r.out.slice(r.out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path);
  consumer = join(tmp, 'consumer');
  const installed = join(consumer, 'node_modules', 'recur');
  mkdirSync(installed, { recursive: true });
  const x = await run('tar', ['-xzf', join(tmp, info!.filename), '-C', installed, '--strip-components=1']);
  if (x.code !== 0) throw new Error(`tar: ${x.err}`);
  // What `npm install recur` would add beside it: its dependencies (and the optional ones present here).
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    const from = join(ROOT, 'node_modules', dep);
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(consumer, 'node_modules', dep)), { recursive: true });
    symlinkSync(from, join(consumer, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Every file an exports condition names, as a path inside the package. */
function exportTargets(): string[] {
  return Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))).map((f) => f.replace(/^\.\//, ''));
}

describe('npm pack', () => {
  it('holds every exports target, the bin, the types and what the builds import; no sources, tests or demo', () => {
    for (const f of [...exportTargets(), ...Object.values(pkg.bin), pkg.main, pkg.types, 'README.md', 'LICENSE']) {
      expect(files, f).toContain(f.replace(/^\.\//, ''));
    }
    // Relative imports of every packed build (the workerd build imports its wasm modules) are packed too.
    for (const f of files.filter((p) => /^dist\/.*\.js$/.test(p))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*["'](\.\.?\/[^"']+)["']/g)) expect(files, `${f} imports ${m[1]}`).toContain(join(dirname(f), m[1]!));
    }
    expect(files.filter((f) => !/^(LICENSE|README\.md|package\.json|bin\/[^/]+\.js|build\/[^/]+\.wasm|dist\/(node|browser|workerd|inline|types)\/.+)$/.test(f))).toEqual([]);
    // A demo build in dist/demo (npm run demo:build) stays out of the package.
    expect(pkg.files).toContain('!dist/demo');
    expect(files.filter((f) => f.startsWith('dist/demo/'))).toEqual([]);
  });

  it('installed: recur/infer resolves inside the package and generates the fixture tokens; recur and its bin load', async () => {
    const fixture = resolve('tests/runtimes/fixture');
    writeFileSync(join(consumer, 'main.mjs'), [
      `import { readFileSync } from 'node:fs';`,
      `import { checkFixture } from ${JSON.stringify(pathToFileURL(resolve('tests/runtimes/check.mjs')).href)};`,
      `import * as infer from 'recur/infer';`,
      `import * as recur from 'recur';`,
      `const expected = JSON.parse(readFileSync(${JSON.stringify(join(fixture, 'expected.json'))}, 'utf8'));`,
      `const result = await checkFixture(infer, ${JSON.stringify(join(fixture, 'checkpoint'))}, expected, 'wasm');`,
      `console.log('RESULT ' + JSON.stringify({ result, infer: import.meta.resolve('recur/infer'), recur: import.meta.resolve('recur'), version: recur.VERSION }));`,
      `process.exit(0);`,
    ].join('\n'));
    const r = await run(process.execPath, ['main.mjs'], consumer);
    const line = r.out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the consumer failed (${r.code}):\n${r.err.slice(-3000)}`);
    const got = JSON.parse(line.slice(7)) as { result: CheckResult; infer: string; recur: string; version: string };
    expect(got.result, JSON.stringify(got.result)).toMatchObject({ ok: true, tokensEqual: true, logitsAgree: true });
    expect(got.infer).toBe(pathToFileURL(join(consumer, 'node_modules/recur/dist/node/infer.js')).href);
    expect(got.recur).toBe(pathToFileURL(join(consumer, 'node_modules/recur/dist/node/index.js')).href);
    expect(got.version).toBe(pkg.version);
    const bin = await run(process.execPath, [join('node_modules/recur', pkg.bin['recur']!), '--version'], consumer);
    expect(bin.out.trim(), bin.err).toBe(pkg.version);
  }, 120_000);

  it('its declarations typecheck in a TypeScript consumer (nodenext, strict, skipLibCheck off)', async () => {
    writeFileSync(join(consumer, 'main.ts'), [
      `import { loadModel, CheckpointError, type InferenceModel } from 'recur/infer';`,
      `import { init, tensor, type Tensor } from 'recur';`,
      `export async function demo(): Promise<string> {`,
      `  await init({ webgpu: true });`,
      `  const t: Tensor = tensor(new Float32Array(4), [2, 2]);`,
      `  t.dispose();`,
      `  const m: InferenceModel = await loadModel('checkpoint', { backend: 'wasm' });`,
      `  const ids: number[] = await m.generate({ prompt: [1, 2], tokens: 8, seed: 1 });`,
      `  // @ts-expect-error: the prompt is token ids (the types are real, not any)`,
      `  await m.generate({ prompt: 'abc', tokens: 8 });`,
      `  return ids.join(' ') + String(new CheckpointError('x').name);`,
      `}`,
    ].join('\n'));
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['main.ts'],
    }));
    const r = await run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', consumer], consumer);
    expect(r.code, `${r.out}${r.err}`).toBe(0);
  }, 120_000);
});
