// Runs a TypeScript script that imports src/ (wasm and WGSL loaders as in the bundles): esbuild bundles it to a
// temporary file, then Node runs it with the rest of the command line. Usage: node scripts/run-ts.mjs FILE.ts [args].
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args]');
  process.exit(2);
}
// Inside the repository, so that externals (webgpu) resolve from node_modules.
mkdirSync(join('node_modules', '.cache'), { recursive: true });
const dir = mkdtempSync(join('node_modules', '.cache', 'recur-run-'));
const out = join(dir, 'script.mjs');
await build({
  entryPoints: [resolve(file)], bundle: true, format: 'esm', platform: 'node', target: 'es2022', outfile: out, logLevel: 'warning',
  loader: { '.wasm': 'binary', '.wgsl': 'text' }, external: ['webgpu'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
process.argv = [process.argv[0], resolve(file), ...args];
try {
  await import(pathToFileURL(out).href);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
