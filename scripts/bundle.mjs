// Bundles src/ with esbuild for each runtime: node, browser, workerd (wasm as imported modules: workerd
// forbids compiling wasm from bytes at run time) and a default build with the wasm inlined, each with the full API
// (index.js) and the inference entry (infer.js); options in scripts/bundle-targets.mjs. Plus the CLI.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { common, libraryBuilds } from './bundle-targets.mjs';

/** Peers and tools the CLI's bench command loads from node_modules at run time. */
const cliExternals = ['webgpu', 'commander', 'cli-progress', 'benny', '@tensorflow/*', 'onnxruntime-web', 'onnxruntime-node'];

// Only the folders written here: dist/types (tsc) and dist/demo (the demo build) are left alone.
for (const d of ['node', 'browser', 'workerd', 'inline']) rmSync(`dist/${d}`, { recursive: true, force: true, maxRetries: 3 });
await Promise.all([
  ...libraryBuilds().map((o) => build(o)),
  build({
    ...common,
    platform: 'node',
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist/node',
    external: cliExternals,
    banner: { js: "import { createRequire as __recurCreateRequire } from 'node:module'; const require = __recurCreateRequire(import.meta.url);" },
  }),
]);
