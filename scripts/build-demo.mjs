// Builds the browser demo into dist/demo/: demo/main.ts and demo/worker.ts bundled for the browser (wasm inlined,
// shaders as text), the page and its CSS, and corpus.txt, a slice of the Brown corpus (the page cannot read
// node_modules at run time). Run: npm run demo:build [-- --corpus-bytes N]. Importable: buildDemo().
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEMO_OUT = join(root, 'dist', 'demo');
export const DEFAULT_CORPUS_BYTES = 300_000;

/** Leaves the debug wasm module (assertions on) out, as scripts/bundle.mjs does for browser builds. */
const withoutDebugWasm = {
  name: 'without-debug-wasm',
  setup(b) {
    b.onResolve({ filter: /recur\.debug\.wasm$/ }, (args) => ({ path: args.path, namespace: 'no-debug-wasm' }));
    b.onLoad({ filter: /.*/, namespace: 'no-debug-wasm' }, () => ({ contents: 'export default null;', loader: 'js' }));
  },
};

/** The bench timing engine benny is Node-only: in the page `--engine benny` is not offered, so its module is a stub. */
const withoutBenny = {
  name: 'without-benny',
  setup(b) {
    b.onResolve({ filter: /\/benny\.js$/ }, (args) => (args.importer.includes(`${join('bench', '')}`) ? { path: args.path, namespace: 'no-benny' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-benny' }, () => ({
      contents: "export async function timeBenny() { throw new Error('the benny engine runs in Node only'); }",
      loader: 'js',
    }));
  },
};

/** The first `bytes` of the Brown corpus as plain text, cut at a paragraph end. */
async function brownSlice(bytes) {
  const cache = join(root, 'node_modules', '.cache', 'recur-demo');
  mkdirSync(cache, { recursive: true });
  const mod = join(cache, `corpus-${process.pid}.mjs`); // per process: concurrent builds do not share it
  await build({ entryPoints: [join(root, 'src/node/corpus.ts')], bundle: true, platform: 'node', format: 'esm', outfile: mod, logLevel: 'warning' });
  let text;
  try {
    text = (await import(`${pathToFileURL(mod).href}?t=${Date.now()}`)).loadBrownCorpus();
  } finally {
    rmSync(mod, { force: true });
  }
  let cut = text.slice(0, bytes);
  const para = cut.lastIndexOf('\n\n');
  if (para > bytes / 2) cut = cut.slice(0, para + 1);
  return cut;
}

/** Builds into `outDir` (default dist/demo); resolves with the directory. */
export async function buildDemo({ corpusBytes = DEFAULT_CORPUS_BYTES, quiet = false, outDir = DEMO_OUT } = {}) {
  for (const f of ['build/recur.simd.wasm', 'build/recur.relaxed.wasm']) {
    if (!existsSync(join(root, f))) throw new Error(`demo build: ${f} is missing; run npm run asbuild first`);
  }
  const t0 = performance.now();
  rmSync(outDir, { recursive: true, force: true, maxRetries: 3 });
  mkdirSync(outDir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { main: 'demo/main.ts', worker: 'demo/worker.ts' },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
    loader: { '.wasm': 'binary', '.wgsl': 'text' },
    // Node-only or peer packages: never bundled; the bench suites log them as skipped when the import fails.
    external: ['webgpu', 'node:*', '@tensorflow/*', 'onnxruntime-web', 'onnxruntime-node', 'benny'],
    plugins: [withoutDebugWasm, withoutBenny],
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'demo', f), join(outDir, f));
  const corpus = await brownSlice(corpusBytes);
  writeFileSync(join(outDir, 'corpus.txt'), corpus);
  if (!quiet) console.log(`demo built in ${outDir} (${((performance.now() - t0) / 1e3).toFixed(1)} s; corpus.txt ${(corpus.length / 1024).toFixed(0)} KB of the Brown corpus)`);
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--corpus-bytes');
  const corpusBytes = i > 0 ? Number(process.argv[i + 1]) : DEFAULT_CORPUS_BYTES;
  if (!Number.isSafeInteger(corpusBytes) || corpusBytes < 1000) {
    console.error(`demo build: --corpus-bytes ${process.argv[i + 1]}: expected an integer >= 1000`);
    process.exit(2);
  }
  buildDemo({ corpusBytes }).catch((e) => {
    console.error(`demo build failed: ${e.message}`);
    process.exit(1);
  });
}
