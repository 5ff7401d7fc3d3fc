// Runs `npm run build` when a build output is missing or older than any source it is made from.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['assembly', 'src', 'shaders', 'bench', 'asconfig.json', 'package.json', 'scripts/bundle.mjs', 'scripts/bundle-targets.mjs', 'scripts/asbuild.mjs'];
const OUTPUTS = ['build/recur.simd.wasm', 'build/recur.relaxed.wasm', 'build/recur.debug.wasm', 'dist/node/index.js', 'dist/node/cli.js', 'dist/browser/index.js', 'dist/workerd/index.js', 'dist/inline/index.js', 'dist/node/infer.js', 'dist/browser/infer.js', 'dist/workerd/infer.js', 'dist/inline/infer.js', 'dist/types/index.d.ts', 'dist/types/infer.d.ts'];

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const missing = OUTPUTS.filter((o) => !existsSync(o));
const srcTime = Math.max(...SOURCES.filter(existsSync).map(newest));
const outTime = missing.length ? 0 : Math.min(...OUTPUTS.map((o) => statSync(o).mtimeMs));
if (missing.length || srcTime > outTime) {
  console.error(missing.length ? `build: missing ${missing.join(', ')}; building` : 'build: sources changed; rebuilding');
  const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}
