// Runner for Node, Deno and Bun: imports `recur/infer` by its package name (each runtime picks its build through
// package.json `exports`), checks the fixture from a directory path and from bytes on each backend named on the
// command line, and prints one line `RESULT <json>`. Usage: <runtime> tests/runtimes/run_cli_runtime.mjs wasm [webgpu]
// Where the runtime has its own navigator.gpu (Deno), the line also carries `gpuProbe`: whether that yields an
// adapter, asked directly and not through recur, so the test knows whether WebGPU must work there.
import { readFileSync } from 'node:fs';
import { checkFixture, failure } from './check.mjs';

const dir = new URL('./fixture/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8'));
const args = (globalThis.Deno?.args ?? process.argv.slice(2)).filter((a) => a !== '--');
const backends = args.length ? args : ['wasm'];
const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const gpuNote = () => (globalThis.navigator?.gpu ? 'navigator.gpu' : 'webgpu (Dawn)');

/** Asks the runtime's own navigator.gpu for an adapter (independently of recur); null where there is none. */
async function probeNavigatorGpu() {
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) return null;
  try {
    const a = await gpu.requestAdapter();
    if (!a) return { adapter: false, reason: 'navigator.gpu.requestAdapter() returned null' };
    const i = a.info ?? {};
    return { adapter: true, description: [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'an adapter without info' };
  } catch (e) {
    return { adapter: false, reason: `navigator.gpu.requestAdapter() threw: ${e?.message ?? e}` };
  }
}

const results = [];
const gpuProbe = backends.includes('webgpu') ? await probeNavigatorGpu() : null;
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
console.log(`RESULT ${JSON.stringify({ runtime, results, ...(gpuProbe ? { gpuProbe } : {}) })}`);
// Dawn (Node's WebGPU) may keep the process alive after the device is gone.
globalThis.process?.exit?.(0);
