// The line budget (tinygrad's sz.py idea): fails when a source file grows past the limit.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LIMIT = 450; // style.md asks for about 400; this is the hard stop
const ROOTS = ['src', 'assembly', 'shaders', 'tests', 'bench', 'scripts', 'bin'];
const EXT = /\.(ts|mjs|js|wgsl)$/;

function* files(dir) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (EXT.test(f)) yield p;
  }
}

const over = [];
let total = 0;
for (const root of ROOTS) {
  try {
    statSync(root);
  } catch {
    continue;
  }
  for (const f of files(root)) {
    const n = readFileSync(f, 'utf8').split('\n').length;
    total += n;
    if (n > LIMIT) over.push(`${f}: ${n} lines (limit ${LIMIT})`);
  }
}
if (over.length) {
  console.error(`lines: ${over.length} file(s) over the line budget:\n  ${over.join('\n  ')}`);
  process.exit(1);
}
console.log(`lines: ${total} lines, every file within ${LIMIT}`);
