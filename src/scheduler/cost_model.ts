// The scheduler's cost model: op classes, calibrated rates per backend and link, and predicted times.
// Pure arithmetic, no measurement (calibrate.ts measures) and no state (scheduler.ts decides).
import type { BackendName } from '../backends/backend.js';
import type { Cost, OpDef, Specs } from '../ops/op.js';

/** Op classes with their own measured throughput: matmul by shape, elementwise (and rows), scans, attention. */
export type OpClass = 'matvec' | 'matmul_small' | 'matmul_large' | 'elementwise' | 'scan' | 'attention';
export const OP_CLASSES: readonly OpClass[] = ['matvec', 'matmul_small', 'matmul_large', 'elementwise', 'scan', 'attention'];

/** One op class on one backend: seconds per call (launch, encode) plus the work over its rates. */
export interface ClassRate {
  /** Fixed seconds per call. */
  latency: number;
  /** Floating-point operations per second. */
  flops: number;
  /** Bytes touched per second. */
  bytes: number;
}

/** A data path between two backends: seconds per move plus bytes over bandwidth. */
export interface LinkRate {
  latency: number;
  bytesPerSecond: number;
}

export type LinkName = `${BackendName}->${BackendName}`;

export interface Calibration {
  /** What was measured (adapter, engine version, wasm module variant); a change means re-measure. */
  identity: string;
  /** ISO time of the measurement. */
  measuredAt: string;
  /** Milliseconds the measurement took. */
  tookMs: number;
  backends: Partial<Record<BackendName, Partial<Record<OpClass, ClassRate>>>>;
  links: Partial<Record<LinkName, LinkRate>>;
  /** Classes not timed because the backend ran over its time budget (assumed as slow as its slowest class). */
  estimated?: Partial<Record<BackendName, OpClass[]>>;
}

const SCAN_FAMILIES = new Set(['linear_scan', 'mingru_scan', 'minlstm_scan', 'sru_scan']);
/** Below this many output rows a matmul is a matrix-vector product (single-token generation). */
export const MATVEC_ROWS = 4;
/** Below this many flops a matmul is small (launch-bound on a GPU). */
export const SMALL_MATMUL_FLOPS = 1 << 22;

/** The class whose calibrated rates predict this call. */
export function opClass(op: Pick<OpDef<unknown>, 'family'>, specs: Specs, cost: Cost): OpClass {
  if (op.family === 'matmul') {
    const out = specs.outputs[0]?.shape ?? [];
    const rows = out.length >= 2 ? out.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
    if (rows <= MATVEC_ROWS) return 'matvec';
    return cost.flops < SMALL_MATMUL_FLOPS ? 'matmul_small' : 'matmul_large';
  }
  if (SCAN_FAMILIES.has(op.family)) return 'scan';
  if (op.family === 'attention') return 'attention';
  return 'elementwise';
}

/** Predicted kernel seconds: latency + the slower of compute and memory traffic. */
export function kernelSeconds(rate: ClassRate, cost: Cost): number {
  return rate.latency + Math.max(cost.flops / rate.flops, cost.bytes / rate.bytes);
}

/** Predicted seconds to move `bytes` over a link (0 bytes: nothing to move). */
export function moveSeconds(link: LinkRate, bytes: number): number {
  return bytes > 0 ? link.latency + bytes / link.bytesPerSecond : 0;
}
