// sru_scan and sru_scan_bwd through the op harness: every backend against the float64 reference, gradients of every
// input by finite differences; k = 3 / 4, identity / tanh, c0, dropout mask, padding, bidirectional, odd H, long T.
// The exact facts of models.md §G (G.5, G.8, G.12, G.13) are in tests/ops/sru_scan_facts.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { sruScan, sruScanBwdOp, sruScanOp, sruSlots, type SruScanBwdParams, type SruScanParams } from '../../src/ops/sru_scan.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type InputSpec, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/** One tolerance table for the family. Gradients sum δf·c, δr·c over T and B (dv, db), hence looser bwd. */
const TOL: OpTolerances = { fwd: { atol: 1e-5, rtol: 1e-5 }, bwd: { atol: 5e-5, rtol: 1e-4 } };
/** T = 2048, float32 kernels against the float64 reference: the state is contractive (f < 1), errors stay local. */
const TOL_LONG: OpTolerances = { fwd: { atol: 2e-5, rtol: 2e-5 }, bwd: { atol: 5e-4, rtol: 5e-4 } };

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

export interface SruCaseOpts {
  T: number;
  B: number;
  H: number;
  k?: 3 | 4;
  bidirectional?: boolean;
  hasSkip?: boolean;
  activation?: 'identity' | 'tanh';
  scaleX?: number;
  c0?: boolean;
  mask?: boolean;
  pad?: boolean;
  uGen?: Gen;
}

/** Input specs and params of one forward case (dropout-mask values 0 and 1/(1−p), pads sprinkled over (t, b)). */
export function sruCase(name: string, o: SruCaseOpts, tol: OpTolerances = TOL): OpCase<SruScanParams> {
  const k = o.k ?? 3;
  const nd = o.bidirectional ? 2 : 1;
  const n = nd * o.H;
  const p: SruScanParams = {
    k, bidirectional: !!o.bidirectional, scaleX: o.scaleX ?? 1, hasSkip: o.hasSkip ?? true, activation: o.activation ?? 'identity',
    hasC0: !!o.c0, hasMask: !!o.mask, hasPad: !!o.pad,
  };
  const s = sruSlots(p);
  const inputs: InputSpec[] = [];
  inputs[s.U] = { shape: [o.T, o.B, n * k], gen: o.uGen ?? 'normal' };
  if (s.x >= 0) inputs[s.x] = { shape: [o.T, o.B, n] };
  inputs[s.wc] = { shape: [2 * n] };
  inputs[s.bias] = { shape: [2 * n] };
  if (s.c0 >= 0) inputs[s.c0] = { shape: [o.B, n] };
  if (s.mask >= 0) inputs[s.mask] = { shape: [o.B, n], gen: { values: [1.25, 0, 1.25, 1.25, 1.25, 0, 1.25] } };
  if (s.pad >= 0) inputs[s.pad] = { shape: [o.T, o.B], gen: { values: [0, 0, 1, 0, 1, 0, 0] } };
  const noGrad = [s.mask, s.pad].filter((i) => i >= 0);
  return { name, op: sruScanOp, inputs, params: p, tol, noGrad, fdSamples: 48 };
}

/** A direct sru_scan_bwd case (forward only: every backend's kernel against the float64 reference). */
function bwdCase(name: string, o: SruCaseOpts, up: { dh: boolean; dcl: boolean; dC: boolean }): OpCase<SruScanBwdParams> {
  const f = sruCase(name, o);
  const g = f.inputs[0]!.shape;
  const n = g[2]! / f.params.k;
  const p: SruScanBwdParams = { ...f.params, hasDH: up.dh, hasDCLast: up.dcl, hasDC: up.dC };
  const tbn = [o.T, o.B, n];
  const inputs = [...f.inputs, { shape: tbn }];
  if (up.dh) inputs.push({ shape: tbn });
  if (up.dcl) inputs.push({ shape: [o.B, n] });
  if (up.dC) inputs.push({ shape: tbn });
  return { name, op: sruScanBwdOp, inputs, params: p, tol: TOL };
}

describe('sru_scan', () => {
  const cases: OpCase<SruScanParams>[] = [];
  for (const H of ODD_SIZES) {
    cases.push(sruCase(`H=${H} k=3`, { T: 4, B: 2, H, c0: true }));
    cases.push(sruCase(`H=${H} k=4 tanh bidirectional`, { T: 3, B: 3, H, k: 4, activation: 'tanh', bidirectional: true, c0: true }));
  }
  cases.push(sruCase('T=1 B=1', { T: 1, B: 1, H: 5, c0: true }));
  cases.push(sruCase('T=0: cLast = c0, gradient dc0 = dcLast', { T: 0, B: 2, H: 3, c0: true, bidirectional: true }));
  cases.push(sruCase('no c0 (zero state)', { T: 5, B: 2, H: 6 }));
  cases.push(sruCase('k=3 scale_x √3, mask, tanh', { T: 5, B: 3, H: 7, scaleX: Math.sqrt(3), mask: true, activation: 'tanh', c0: true }));
  cases.push(sruCase('k=4 mask', { T: 5, B: 2, H: 9, k: 4, mask: true, c0: true }));
  cases.push(sruCase('no skip term', { T: 5, B: 2, H: 5, hasSkip: false, c0: true, mask: true }));
  cases.push(sruCase('no skip, bidirectional, tanh', { T: 4, B: 2, H: 3, hasSkip: false, bidirectional: true, activation: 'tanh' }));
  cases.push(sruCase('padding', { T: 7, B: 3, H: 5, pad: true, c0: true }));
  cases.push(sruCase('padding, bidirectional k=4, mask', { T: 7, B: 3, H: 6, k: 4, bidirectional: true, pad: true, mask: true, c0: true }));
  cases.push(sruCase('everything, k=3 bidirectional', { T: 6, B: 2, H: 17, bidirectional: true, pad: true, mask: true, c0: true, scaleX: 1.317482, activation: 'tanh' }));
  cases.push(sruCase('large pre-activations', { T: 6, B: 2, H: 5, uGen: 'large', c0: true }));
  cases.push(sruCase('B·n past one workgroup (B=3, n=2·50)', { T: 3, B: 3, H: 50, bidirectional: true, c0: true }));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('long T = 2048: float32 kernels within 2e-5 of float64 (forward) and their gradients', () => {
    const c = sruCase('T=2048', { T: 2048, B: 2, H: 5, bidirectional: true, c0: true, activation: 'tanh' }, TOL_LONG);
    return checkOp({ ...c, noGrad: c.inputs.map((_, i) => i) }, backends);
  });

  const bwds = [
    bwdCase('bwd dh only', { T: 5, B: 2, H: 7, c0: true }, { dh: true, dcl: false, dC: false }),
    bwdCase('bwd dcLast only, k=4 bidirectional', { T: 5, B: 2, H: 5, k: 4, bidirectional: true }, { dh: false, dcl: true, dC: false }),
    bwdCase('bwd dC only, padded', { T: 6, B: 3, H: 3, pad: true, c0: true }, { dh: false, dcl: false, dC: true }),
    bwdCase('bwd all three, mask, tanh', { T: 5, B: 2, H: 17, mask: true, activation: 'tanh', c0: true }, { dh: true, dcl: true, dC: true }),
  ];
  for (const c of bwds) it(c.name, () => checkOp(c, backends));

  it('names the op and the shapes when inputs do not fit', () => {
    const ref = { backend: 'reference' as const };
    const f = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, ref);
    const cfg = { k: 3 as const, bidirectional: false, scaleX: 1, hasSkip: true, activation: 'identity' as const };
    const U = f([4, 2, 9]);
    const x = f([4, 2, 3]);
    expect(() => sruScan(f([4, 2, 8]), x, f([6]), f([6]), cfg)).toThrow(ShapeError);
    expect(() => sruScan(f([4, 2, 8]), x, f([6]), f([6]), cfg)).toThrow(/sru_scan\(U \[4, 2, 8\], x \[4, 2, 3\].*\): U must be \(T, B, ndir·H·k\) with ndir 1, k 3, got \[4, 2, 8\]/);
    expect(() => sruScan(U, f([4, 2, 4]), f([6]), f([6]), cfg)).toThrow(/x \(the highway input, k = 3 needs d_in = n_out\) must have shape \[4, 2, 3\], got \[4, 2, 4\]/);
    expect(() => sruScan(U, x, f([3]), f([6]), cfg)).toThrow(/weight_c \(\[v_f; v_r\]\) must have shape \[6\], got \[3\]/);
    expect(() => sruScan(U, x, f([6]), f([6]), cfg, { c0: f([3, 2]) })).toThrow(/c0 must have shape \[2, 3\], got \[3, 2\]/);
    expect(() => sruScan(U, x, f([6]), f([6]), cfg, { pad: f([2, 4]) })).toThrow(/pad must have shape \[4, 2\], got \[2, 4\]/);
    expect(() => sruScan(U, x, f([6]), f([6]), { ...cfg, bidirectional: true })).toThrow(/with ndir 2, k 3, got \[4, 2, 9\]/);
    expect(() => sruScan(U, null, f([6]), f([6]), { ...cfg, k: 4 })).toThrow(/with ndir 1, k 4, got \[4, 2, 9\]/);
    expect(() => sruScan(f([4, 2, 12]), x, f([6]), f([6]), { ...cfg, k: 4 })).toThrow(/expected inputs \(U, weight_c, bias\), got 4/);
    expect(() => sruScan(U, null, f([6]), f([6]), cfg)).toThrow(/expected inputs \(U, x, weight_c, bias\), got 3/);
    expect(() => sruScan(f([4, 2, 8]), null, f([4]), f([4]), { ...cfg, k: 4, hasSkip: false })).toThrow(OptionError);
    expect(() => sruScan(U, x, f([6]), f([6]), { ...cfg, activation: 'relu' as 'tanh' })).toThrow(/activation must be 'identity' or 'tanh'/);
    const ids = tensor(new Int32Array(6), [6], { ...ref, dtype: 'i32' });
    expect(() => sruScan(U, x, ids, f([6]), cfg)).toThrow(DTypeError);
    expect(() => sruScan(U, x, ids, f([6]), cfg)).toThrow(/weight_c must be f32, got i32/);
  });
});
