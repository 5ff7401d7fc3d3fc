// esbuild options of the library builds (index: the full API, infer: inference only) for each runtime; shared by
// scripts/bundle.mjs (writes dist/) and scripts/size.mjs (measures the inline inference bundle in memory).

export const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  loader: { '.wasm': 'binary', '.wgsl': 'text' },
  // The Dawn bindings find their native dawn.node relative to their own files: never bundle them.
  external: ['webgpu'],
};

/** Leaves the debug wasm module (assertions on) out of a bundle: its import becomes null. */
export const withoutDebugWasm = {
  name: 'without-debug-wasm',
  setup(b) {
    b.onResolve({ filter: /recur\.debug\.wasm$/ }, (args) => ({ path: args.path, namespace: 'no-debug-wasm' }));
    b.onLoad({ filter: /.*/, namespace: 'no-debug-wasm' }, () => ({ contents: 'export default null;', loader: 'js' }));
  },
};

const web = { external: ['webgpu', 'node:*'], plugins: [withoutDebugWasm] };

/** Leaves the relaxed-SIMD module out too: the inline/browser inference bundles ship the plain SIMD module only. */
const withoutRelaxedWasm = {
  name: 'without-relaxed-wasm',
  setup(b) {
    b.onResolve({ filter: /recur\.relaxed\.wasm$/ }, (args) => ({ path: args.path, namespace: 'no-relaxed-wasm' }));
    b.onLoad({ filter: /.*/, namespace: 'no-relaxed-wasm' }, () => ({ contents: 'export default null;', loader: 'js' }));
  },
};

/**
 * The inference bundles for browsers and the default condition: one wasm module (plain SIMD; the relaxed-SIMD one
 * would add ~25 KB gzip), minified with names kept (errors report their class name).
 */
const smallInfer = { ...web, plugins: [withoutDebugWasm, withoutRelaxedWasm], minify: true, keepNames: true };

/**
 * dist/<runtime>/{index,infer}.js. Node's entries add the file system: calibrations cached on disk (src/node/index.ts)
 * and checkpoints loaded from a directory path (src/node/infer.ts).
 */
export function libraryBuilds() {
  const workerd = { ...common, ...web, platform: 'neutral', outdir: 'dist/workerd', loader: { '.wasm': 'copy', '.wgsl': 'text' }, assetNames: '[name]' };
  return [
    { ...common, platform: 'node', entryPoints: { index: 'src/node/index.ts', infer: 'src/node/infer.ts' }, outdir: 'dist/node' },
    { ...common, ...web, platform: 'browser', entryPoints: { index: 'src/index.ts' }, outdir: 'dist/browser' },
    { ...common, ...smallInfer, platform: 'browser', entryPoints: { infer: 'src/infer.ts' }, outdir: 'dist/browser' },
    // workerd forbids compiling wasm from bytes at run time: keep `import m from './x.wasm'` (a compiled Module there).
    { ...workerd, entryPoints: { index: 'src/index.ts', infer: 'src/infer.ts' } },
    { ...common, ...web, platform: 'neutral', entryPoints: { index: 'src/index.ts' }, outdir: 'dist/inline' },
    inlineInferBuild(),
  ];
}

/** The default (inline wasm) inference bundle, as `npm run size` measures it. */
export function inlineInferBuild() {
  return { ...common, ...smallInfer, platform: 'neutral', entryPoints: { infer: 'src/infer.ts' }, outdir: 'dist/inline' };
}
