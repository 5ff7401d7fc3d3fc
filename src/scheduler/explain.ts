// The scheduler's account of itself: every distinct decision with the predicted times that made it, a per-op
// summary (op, backend, calls, seconds), one-time warnings, and the RECUR_DEBUG=1 trace. No decisions here.
import type { BackendName } from '../backends/backend.js';
import type { OpClass } from './cost_model.js';

export type DecisionReason = 'pin' | 'only' | 'cost' | 'residency' | 'default' | 'fallback';

export interface Decision {
  op: string;
  /** Input shapes, for reading (e.g. '[1,64]x[64,256]'). */
  shapes: string;
  backend: BackendName;
  why: DecisionReason;
  opClass?: OpClass;
  /** Predicted seconds per backend considered (kernel + moving non-resident inputs); absent when uncalibrated. */
  predicted: Partial<Record<BackendName, number>>;
  /** Why the preferred backend was passed over (fallbacks). */
  note?: string;
  /** Calls made with this decision since the last reset (the engine counts). */
  calls: number;
  /** Measured host seconds of those calls (only while tracing; GPU work is queued, not waited for). */
  seconds: number;
}

export interface OpSummaryRow {
  op: string;
  backend: BackendName;
  calls: number;
  /** Measured seconds in the engine (host time: GPU work is queued, not waited for); 0 unless tracing. */
  seconds: number;
  /** Sum of the predicted seconds of the chosen backend. */
  predictedSeconds: number;
}

export interface ExplainReport {
  /** Distinct decisions, most recent last (at most MAX_DECISIONS). */
  decisions: Decision[];
  summary: OpSummaryRow[];
}

const MAX_DECISIONS = 512;
const decisions: Decision[] = [];
/**
 * Every decision called since the last reset (the engine adds one on its first call), whether or not it is still
 * among the listed `decisions`; past MAX_ACTIVE their counts are folded into `retired` rows, so memory stays bounded.
 */
const active: Decision[] = [];
const MAX_ACTIVE = 4096;
const retired = new Map<string, OpSummaryRow>();
const warned = new Set<string>();
let tracing = debugEnv() >= 1;

function debugEnv(): number {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['RECUR_DEBUG'];
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Turns per-op timing on or off (on with RECUR_DEBUG=1; `--explain` turns it on). */
export function setTracing(on: boolean): void {
  tracing = on;
}
export function isTracing(): boolean {
  return tracing;
}

/** A new distinct decision (the scheduler calls this on a cache miss); the engine counts its calls on it. */
export function recordDecision(d: Decision): void {
  decisions.push(d);
  if (decisions.length > MAX_DECISIONS) decisions.splice(0, decisions.length - MAX_DECISIONS);
  if (debugEnv() >= 1) console.error(`[recur] ${formatDecision(d)}`);
}

/** The engine calls this on a decision's first call since the last reset (its `calls` went from 0 to 1). */
export function markCalled(d: Decision): void {
  if (active.length >= MAX_ACTIVE) {
    for (const a of active.splice(0)) {
      addTo(retired, a);
      a.calls = 0; // counted in `retired` now; its next call marks it again
      a.seconds = 0;
    }
  }
  active.push(d);
}

function addTo(rows: Map<string, OpSummaryRow>, d: Decision): void {
  const key = `${d.op}|${d.backend}`;
  let row = rows.get(key);
  if (!row) rows.set(key, (row = { op: d.op, backend: d.backend, calls: 0, seconds: 0, predictedSeconds: 0 }));
  row.calls += d.calls;
  row.seconds += d.seconds;
  row.predictedSeconds += d.calls * (d.predicted[d.backend] ?? 0);
}

/** Warns once per key (fallbacks, device loss). */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`recur: ${message}`);
}

/** What the scheduler decided and why, and a per-op summary of the calls since the last reset. */
export function explain(opts: { reset?: boolean } = {}): ExplainReport {
  const rows = new Map<string, OpSummaryRow>([...retired].map(([k, r]) => [k, { ...r }]));
  for (const d of active) if (d.calls > 0) addTo(rows, d);
  const report = { decisions: decisions.map((d) => ({ ...d, predicted: { ...d.predicted } })), summary: [...rows.values()] };
  report.summary.sort((a, b) => b.seconds - a.seconds || b.calls - a.calls);
  if (opts.reset) resetExplain();
  return report;
}

/** Zeroes the call counts and times (the decisions stay listed). */
export function resetExplain(): void {
  for (const d of active.splice(0)) {
    d.calls = 0;
    d.seconds = 0;
  }
  retired.clear();
}

/** Clears the one-time warnings (tests). */
export function resetWarnings(): void {
  warned.clear();
}

export function fmtSeconds(s: number): string {
  if (s < 1e-6) return `${(s * 1e9).toFixed(0)}ns`;
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)}µs`;
  if (s < 1) return `${(s * 1e3).toFixed(2)}ms`;
  return `${s.toFixed(2)}s`;
}

export function formatDecision(d: Decision): string {
  const pred = Object.entries(d.predicted).map(([b, s]) => `${b} ${fmtSeconds(s!)}`).join(', ');
  return `${d.op} ${d.shapes} -> ${d.backend} (${d.why}${pred ? `: ${pred}` : ''}${d.note ? `; ${d.note}` : ''})`;
}

/** The per-op summary as a text table (recur train/sample --explain). */
export function formatSummary(rows: readonly OpSummaryRow[] = explain().summary): string {
  const head = ['op', 'backend', 'calls', 'time', 'predicted'];
  const body = rows.map((r) => [r.op, r.backend, String(r.calls), fmtSeconds(r.seconds), r.predictedSeconds > 0 ? fmtSeconds(r.predictedSeconds) : '-']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
