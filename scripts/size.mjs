// `npm run size`: the gzip size of the default inference bundle (`recur/infer`, wasm inlined), built in memory
// with the options of scripts/bundle.mjs. Fails above the 150 KB budget or if training code got into it.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { inlineInferBuild } from './bundle-targets.mjs';

const BUDGET = 150 * 1024;
/** Modules the inference bundle must not contain (training, tools). */
const FORBIDDEN = /src\/(autograd\/(tape|value_and_grad)|optim\/|train\/(trainer|evaluate)|cli\/|node\/)|bench\//;

const r = await build({ ...inlineInferBuild(), write: false, metafile: true, sourcemap: false });
const out = r.outputFiles.find((f) => f.path.endsWith('.js'));
const inputs = Object.values(r.metafile.outputs).find((o) => o.entryPoint)?.inputs ?? {};
const gz = gzipSync(out.contents, { level: 9 }).length;
let wasmRaw = 0;
for (const [k, v] of Object.entries(inputs)) if (k.endsWith('.wasm')) wasmRaw += v.bytesInOutput;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const bad = Object.keys(inputs).filter((k) => FORBIDDEN.test(k));
console.log(`size: recur/infer (inline build) ${kb(out.contents.length)} raw, ${kb(gz)} gzip (budget ${kb(BUDGET)}); wasm inside: ${kb(wasmRaw)} as base64`);
if (bad.length) {
  console.error(`size: training or tool code in the inference bundle: ${bad.join(', ')}`);
  process.exit(1);
}
if (gz > BUDGET) {
  console.error(`size: recur/infer is ${kb(gz)} gzip, over the ${kb(BUDGET)} budget`);
  process.exit(1);
}
