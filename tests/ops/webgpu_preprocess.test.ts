// The WGSL `//!include` step of the WebGPU pipeline cache (src/backends/webgpu/preprocess.ts), without a GPU.
import { describe, expect, it } from 'vitest';
import { expandIncludes } from '../../src/backends/webgpu/preprocess.js';
import { RecurError } from '../../src/errors.js';

const LIB = { a: 'fn a() {}\n', b: 'fn b() {}' };

describe('webgpu shader includes', () => {
  it('replaces each //!include line with the library text and leaves the rest alone', () => {
    const src = 'override WG: u32 = 64;\n//!include a\n// //!include b is not a directive here\n//!include b\nfn main() {}\n';
    expect(expandIncludes(src, LIB)).toBe('override WG: u32 = 64;\nfn a() {}\n// //!include b is not a directive here\nfn b() {}\nfn main() {}\n');
  });

  it('includes a library once', () => {
    expect(expandIncludes('//!include a\n//!include a\n', LIB)).toBe('fn a() {}\n// (a included above)\n');
  });

  it('names an unknown library', () => {
    expect(() => expandIncludes('//!include nope\n', LIB)).toThrow(RecurError);
    expect(() => expandIncludes('//!include nope\n', LIB)).toThrow(/unknown library 'nope' \(known: a, b\)/);
  });

  it('knows the libraries the shipped shaders include', () => {
    const code = expandIncludes('//!include row_reduce\n//!include inv_scale\n');
    expect(code).toMatch(/fn reduce_wg\(/);
    expect(code).toMatch(/fn reduce_wg2\(/);
    expect(code).toMatch(/fn inv_scale\(/);
    expect(code).not.toMatch(/^\/\/!include/m);
  });
});
