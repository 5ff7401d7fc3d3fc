// The one WGSL preprocessing step: a line `//!include <name>` is replaced by shaders/lib/<name>.wgsl, so shared
// helpers (workgroup reductions, ...) live in one file. Shaders stay plain WGSL files; the directive is a comment.
import gates from '../../../shaders/lib/gates.wgsl';
import invScale from '../../../shaders/lib/inv_scale.wgsl';
import linearScanChunks from '../../../shaders/lib/linear_scan_chunks.wgsl';
import rowReduce from '../../../shaders/lib/row_reduce.wgsl';
import { RecurError } from '../../errors.js';

/** shaders/lib/<name>.wgsl by name: add a library here when you add its file. */
const LIBRARY: Readonly<Record<string, string>> = { gates, inv_scale: invScale, linear_scan_chunks: linearScanChunks, row_reduce: rowReduce };

const INCLUDE = /^\/\/!include[ \t]+(\w+)[ \t]*$/gm;

/** The source with every `//!include name` line replaced by that library's text (each library once, not nested). */
export function expandIncludes(source: string, library: Readonly<Record<string, string>> = LIBRARY): string {
  const seen = new Set<string>();
  return source.replace(INCLUDE, (_line, name: string) => {
    const text = library[name];
    if (text === undefined) throw new RecurError(`webgpu: shader includes unknown library '${name}' (known: ${Object.keys(library).join(', ')})`);
    if (seen.has(name)) return `// (${name} included above)`;
    seen.add(name);
    return text.replace(/\n$/, '');
  });
}
