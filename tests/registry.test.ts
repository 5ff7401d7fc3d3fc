// Every op has all its pieces: reference, wasm kernel, WGSL kernel, gradient (forward ops), test and bench.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPS, type OpName } from '../src/ops/registry.js';
import { VERSION } from '../src/version.js';

const names = Object.keys(OPS) as OpName[];

describe('op registry', () => {
  it.each(names)('%s has every piece', (name) => {
    const op = OPS[name];
    expect(op.name).toBe(name);
    for (const piece of ['shapes', 'reference', 'wasm', 'webgpu', 'cost'] as const) expect(typeof op[piece], `${name}.${piece}`).toBe('function');
    const isBackward = name.endsWith('_bwd');
    const isUpdate = (op.inplace?.length ?? 0) > 0;
    if (isBackward || isUpdate) expect(op.grad, `${name} is a backward or an update: grad must be null`).toBeNull();
    else expect(typeof op.grad, `${name} is a forward op: it needs a gradient`).toBe('function');
    if (isBackward) expect(names, `${name} needs its forward op`).toContain(name.slice(0, -4));
  });

  it.each([...new Set(names.map((n) => OPS[n].family))])('family %s has its five files', (stem) => {
    for (const path of [`src/ops/${stem}.ts`, `assembly/kernels/${stem}.ts`, `shaders/${stem}.wgsl`, `tests/ops/${stem}.test.ts`, `bench/ops/${stem}.bench.ts`]) {
      expect(existsSync(path), `${path} is missing`).toBe(true);
    }
    expect(readFileSync('assembly/index.ts', 'utf8')).toContain(`./kernels/${stem}`);
    expect(readFileSync(`tests/ops/${stem}.test.ts`, 'utf8')).toMatch(/checkOp\(/);
  });

  it('every WGSL entry point a binding names exists in its shader', () => {
    for (const stem of new Set(names.map((n) => OPS[n].family))) {
      const wgsl = readFileSync(`shaders/${stem}.wgsl`, 'utf8');
      const src = readFileSync(`src/ops/${stem}.ts`, 'utf8');
      for (const [, entry] of src.matchAll(/entry:\s*'(\w+)'/g)) expect(wgsl, `${stem}.wgsl lacks entry ${entry}`).toMatch(new RegExp(`fn ${entry}\\s*\\(`));
    }
  });

  it('every wasm export a binding calls exists in both release modules', () => {
    for (const file of ['build/recur.simd.wasm', 'build/recur.relaxed.wasm', 'build/recur.debug.wasm']) {
      const exported = new Set(WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(file))).map((e) => e.name));
      for (const stem of new Set(names.map((n) => OPS[n].family))) {
        const src = readFileSync(`src/ops/${stem}.ts`, 'utf8');
        for (const [, fn] of src.matchAll(/exports\[['"](\w+)['"]\]/g)) expect(exported.has(fn!), `${file} lacks export ${fn} used by src/ops/${stem}.ts`).toBe(true);
      }
    }
  });

  it('the version matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});
