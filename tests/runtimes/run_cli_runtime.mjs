// Runner for Node, Deno and Bun: imports `recur/infer` by its package name (each runtime picks its build through
// package.json `exports`), checks the fixture from a directory path and from bytes on each backend named on the
// command line, and prints one line `RESULT <json>`. Usage: <runtime> tests/runtimes/run_cli_runtime.mjs wasm [webgpu]
import { readFileSync } from 'node:fs';
import { checkFixture, failure } from './check.mjs';

const dir = new URL('./fixture/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8'));
const args = (globalThis.Deno?.args ?? process.argv.slice(2)).filter((a) => a !== '--');
const backends = args.length ? args : ['wasm'];
const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const gpuNote = () => (globalThis.navigator?.gpu ? 'navigator.gpu' : 'webgpu (Dawn)');

const results = [];
let infer;
let onlyBytes = false;
try {
  // RECUR_INFER names another build to check (e.g. dist/inline/infer.js, the default condition's).
  const env = globalThis.Deno ? Deno.env.get('RECUR_INFER') : process.env.RECUR_INFER;
  infer = await import(env ? new URL(`../../${env}`, import.meta.url).href : 'recur/infer');
  onlyBytes = Boolean(env); // other builds (browsers, workers) load from bytes or URLs, not paths
} catch (e) {
  results.push(failure('import', e));
}
if (infer) {
  const ckptDir = new URL('checkpoint/', dir);
  const bytes = { weights: readFileSync(new URL('model.safetensors', ckptDir)), config: readFileSync(new URL('config.json', ckptDir), 'utf8') };
  for (const backend of backends) {
    // The file-system path on the first backend, the files' bytes on the others: both loaders get exercised.
    const source = backend === backends[0] && !onlyBytes ? decodeURIComponent(ckptDir.pathname) : bytes;
    try {
      const r = await checkFixture(infer, source, expected, backend);
      results.push({ ...r, source: typeof source === 'string' ? 'path' : 'bytes', ...(backend === 'webgpu' ? { gpu: gpuNote() } : {}) });
    } catch (e) {
      results.push(failure(backend, e));
    }
  }
}
console.log(`RESULT ${JSON.stringify({ runtime, results })}`);
// Dawn (Node's WebGPU) may keep the process alive after the device is gone.
globalThis.process?.exit?.(0);
