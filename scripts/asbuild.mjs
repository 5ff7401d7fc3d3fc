// Compiles assembly/ into three modules: plain SIMD, relaxed SIMD (fused multiply-add), and debug (assertions on).
// The entry is given per target on the command line (a top-level "entries" in asconfig.json would merge them).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('build', { recursive: true });
for (const target of ['simd', 'relaxed', 'debug']) {
  const r = spawnSync(process.execPath, ['node_modules/assemblyscript/bin/asc.js', 'assembly/index.ts', '--config', 'asconfig.json', '--target', target], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`asbuild: target '${target}' failed`);
    process.exit(r.status ?? 1);
  }
}
