// The bench contract and its plumbing: a suite returns rows; implementations of one case are timed round-robin
// in one process (warm-up, calibrated repetitions, median of samples), or by benny on request; rows print as a
// side-by-side table.

/** One measurement: `value` in `unit` for implementation `impl` on `case` of `suite`. */
export interface BenchRow {
  suite: string;
  case: string;
  impl: string;
  value: number;
  unit: string;
}

/** How the impls of a case are timed: our round-robin sampler (the default) or benny (benchmark.js). */
export type BenchEngine = 'round-robin' | 'benny';
export const ENGINES: readonly BenchEngine[] = ['round-robin', 'benny'];

/** smoke: tiny sizes and one iteration, only proves the suite runs (CI). quick: fewer cases and samples. */
export interface BenchOptions {
  quick: boolean;
  smoke: boolean;
  /** Default 'round-robin'. */
  engine?: BenchEngine;
}

export interface BenchSuite {
  name: string;
  run(opts: BenchOptions): Promise<BenchRow[]>;
}

export interface TimingPlan {
  engine: BenchEngine;
  /** Samples per implementation; the median is reported. */
  samples: number;
  /** Each sample repeats the call until at least this long (calibrated once after warm-up). */
  minSampleMs: number;
  /** Warm-up per implementation before calibration (wasm tier-up, caches, lazy init). */
  warmupMs: number;
}

export function timingPlan(opts: BenchOptions): TimingPlan {
  const engine = opts.engine ?? 'round-robin';
  if (opts.smoke) return { engine, samples: 1, minSampleMs: 0, warmupMs: 0 };
  if (opts.quick) return { engine, samples: 5, minSampleMs: 40, warmupMs: 100 };
  return { engine, samples: 9, minSampleMs: 100, warmupMs: 300 };
}

/** A call to time; it may return a promise (GPU reads, onnxruntime), which is awaited. */
export type Timed = () => unknown;

async function call(fn: Timed): Promise<void> {
  const r = fn();
  if (r && typeof (r as Promise<unknown>).then === 'function') await r;
}

/**
 * Median seconds per call of each implementation, sampled round-robin so load changes hit all alike; with
 * `plan.engine` 'benny', timed by benny instead (one impl after the other), its results saved as `label`.
 */
export async function timeRoundRobin(impls: Record<string, Timed>, plan: TimingPlan, label?: string): Promise<Record<string, number>> {
  if (plan.engine === 'benny') return (await import('./benny.js')).timeBenny(impls, plan, label);
  const names = Object.keys(impls);
  const reps: Record<string, number> = {};
  for (const name of names) {
    const fn = impls[name]!;
    reps[name] = 1;
    if (plan.minSampleMs <= 0) continue; // smoke: one call per sample, no warm-up
    const t0 = performance.now();
    for (let calls = 0; calls < 2 || performance.now() - t0 < plan.warmupMs; calls++) await call(fn);
    const t1 = performance.now();
    await call(fn);
    reps[name] = Math.max(1, Math.ceil(plan.minSampleMs / Math.max(performance.now() - t1, 1e-3)));
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let s = 0; s < plan.samples; s++) {
    for (const name of names) {
      const fn = impls[name]!;
      const n = reps[name]!;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await call(fn);
      samples[name]!.push((performance.now() - t0) / 1e3 / n);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Seeded uniform numbers in [-1, 1) (mulberry32), so every impl sees the same inputs run to run. */
export function uniformF32(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Runs the named suites (or all) in order; unknown names are the caller's to reject first. */
export async function runSuites(suites: readonly BenchSuite[], opts: BenchOptions, log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const s of suites) {
    const t0 = performance.now();
    const got = await s.run(opts);
    log(`${s.name}: ${got.length} rows in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
    rows.push(...got);
  }
  return rows;
}

/** The impl that ratio columns compare against, when a line has it. */
export const RATIO_BASE = 'tfjs-wasm';

/**
 * Side-by-side text table: one block per suite, one line per (case, unit), one column per impl, then
 * `<impl> / tfjs-wasm` for every recur-* impl on lines that have a tfjs-wasm value (not on % lines).
 */
export function formatTable(rows: readonly BenchRow[]): string {
  const out: string[] = [];
  for (const suite of unique(rows.map((r) => r.suite))) {
    const mine = rows.filter((r) => r.suite === suite);
    const impls = unique(mine.map((r) => r.impl));
    const ratioOf = mine.some((r) => r.impl === RATIO_BASE) ? impls.filter((i) => i.startsWith('recur-')) : [];
    const header = [suite, 'unit', ...impls, ...ratioOf.map((i) => `${i.replace(/^recur-/, '')} / ${RATIO_BASE.replace(/-wasm$/, '')}`)];
    const lines: string[][] = [header];
    for (const key of unique(mine.map((r) => `${r.case}\u0000${r.unit}`))) {
      const [name, unit] = key.split('\u0000') as [string, string];
      const at = (impl: string) => mine.find((r) => r.case === name && r.unit === unit && r.impl === impl)?.value;
      const base = at(RATIO_BASE);
      lines.push([
        name,
        unit,
        ...impls.map((i) => fmt(at(i))),
        ...ratioOf.map((i) => (base && at(i) !== undefined && !unit.startsWith('%') ? `${(at(i)! / base).toFixed(2)}x` : '')),
      ]);
    }
    const widths = header.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
    for (const l of lines) out.push(l.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
    out.push('');
  }
  return out.join('\n');
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
