// The benny timing engine (`recur bench --engine benny`): the impls of one case run as one benny suite (one
// impl after the other, not round-robin), results saved to bench-results/<label>.json; median s/call per impl.
import type { Timed, TimingPlan } from './runner.js';

type Benny = typeof import('benny');

/** File stems used so far in this process: a second case that sanitizes to the same stem gets a suffix. */
const used = new Set<string>();

/** A file stem for `label`: word characters, `.=+-`, the rest as `_`; unique within the process. */
function fileStem(label: string): string {
  const base = label.replace(/'/g, '_prime').replace(/[^\w.=+-]+/g, '_');
  let stem = base;
  for (let i = 2; used.has(stem); i++) stem = `${base}-${i}`;
  used.add(stem);
  return stem;
}

/** benny's case options for a plan: smoke is a token run; otherwise about as long as the round-robin plan. */
export function bennyCaseOptions(plan: TimingPlan): { maxTime: number; minSamples: number; minTime?: number } {
  if (plan.minSampleMs <= 0) return { maxTime: 0.001, minSamples: 1, minTime: 0.001 };
  return { maxTime: (plan.warmupMs + plan.samples * plan.minSampleMs) / 1e3, minSamples: plan.samples };
}

/** A benny-ready case: benny inspects what a call returns, so async impls must look async and sync ones not. */
async function asCase(fn: Timed): Promise<() => unknown> {
  const r = fn();
  if (!r || typeof (r as Promise<unknown>).then !== 'function') return () => void fn();
  await r;
  return async () => void (await fn());
}

/** Median seconds per call of each impl from benny's `details.median`; its console chatter goes to stderr. */
export async function timeBenny(impls: Record<string, Timed>, plan: TimingPlan, label = 'bench'): Promise<Record<string, number>> {
  const mod = (await import('benny')) as Benny & { default?: Benny };
  const b = mod.default ?? mod;
  const names = Object.keys(impls);
  const cases = await Promise.all(names.map((n) => asCase(impls[n]!)));
  const file = fileStem(label);
  const log = console.log;
  console.log = (...args: unknown[]) => void process.stderr.write(`${args.map(String).join(' ')}\n`);
  try {
    const summary = await b.suite(
      file,
      ...names.map((n, i) => b.add(n, cases[i]!)),
      b.configure({ cases: bennyCaseOptions(plan) }),
      b.save({ folder: 'bench-results', file, format: 'json' }),
    );
    const out: Record<string, number> = {};
    for (const r of summary.results) out[r.name] = r.details.median;
    const missing = names.filter((n) => !(out[n]! > 0));
    if (missing.length) throw new Error(`benny gave no samples for ${missing.join(', ')} on ${label}`);
    return out;
  } finally {
    console.log = log;
  }
}
