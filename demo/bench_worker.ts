// The benchmark tab's engine side: runs bench/suites.ts SUITES (the same code as `recur bench`) inside the
// worker; the rows are the CLI's {suite, case, impl, value, unit}. Peers (tfjs, onnxruntime) are external to
// the demo bundle, so their suites log "skipped" for them and time recur's backends only.
import { formatTable, runSuites, type BenchOptions } from '../bench/runner.js';
import { SUITES } from '../bench/suites.js';
import { setBackend } from '../src/index.js';
import type { BenchMode, FromWorker } from './protocol.js';
import { setStderrSink } from './process_shim.js';

/** The suites a "quick" run in the page picks by default: matmul, scan, and models when the tree has it. */
export const DEFAULT_SUITES = ['matmul', 'scan', 'models'].filter((n) => SUITES.some((s) => s.name === n));

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name);
}

export async function runBench(names: readonly string[], mode: BenchMode, post: (m: FromWorker) => void): Promise<void> {
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length) throw new Error(`bench: unknown suite(s) ${unknown.join(', ')} (known: ${suiteNames().join(', ')})`);
  if (names.length === 0) throw new Error('bench: pick at least one suite');
  const suites = SUITES.filter((s) => names.includes(s.name));
  const opts: BenchOptions = { quick: mode === 'quick', smoke: mode === 'smoke' };
  setBackend('auto'); // the suites place every tensor themselves; a pin left by training would override them
  setStderrSink((line) => post({ type: 'bench-log', line }));
  const t0 = performance.now();
  try {
    const rows = await runSuites(suites, opts, (line) => post({ type: 'bench-log', line }));
    post({ type: 'bench-done', rows, table: formatTable(rows), seconds: (performance.now() - t0) / 1e3 });
  } finally {
    setStderrSink((line) => console.log(line));
  }
}
