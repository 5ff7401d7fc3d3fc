// mingru_scan and mingru_scan_bwd: models.md G.7 vectors, the harness (every backend vs the float64 reference, finite
// differences of every input in every h0 mode), both WebGPU paths, long T accuracy, and step-by-step = parallel (G.9).
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { mingruScan, mingruScanBwd, mingruScanBwdOp, mingruScanOp, type H0Mode, type MinGruScanParams } from '../../src/ops/mingru_scan.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, type InputSpec, type OpCase } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';
import { expectLongTAccuracy, expectVeryLongTOnWasm, G7, LONG_T_REL, runScan, seeded, STEPWISE, TOL, VERY_LONG_T_REL, withGpuPath, type GpuPath } from '../helpers/scan.js';

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function scanCase(name: string, [T, B, D]: number[], h0Mode: H0Mode, gen: Gen = 'normal'): OpCase<MinGruScanParams> {
  const inputs: InputSpec[] = [{ shape: [T!, B!, D!], gen }, { shape: [T!, B!, D!], gen }];
  if (h0Mode !== 'none') inputs.push({ shape: [B!, D!], gen: h0Mode === 'state' ? 'positive' : gen });
  return { name: `${name}, h0 ${h0Mode}`, op: mingruScanOp, inputs, params: { h0Mode }, tol: TOL };
}

const G7_K = [0, 1, -1, 2, 0.5, -0.5];
const G7_P = [1, -1, 0, 2, -2, 0.5];

describe('mingru_scan', () => {
  it('reproduces models.md G.7 on every backend (h0 = 0, and post-activation h0 as state)', async () => {
    for (const b of ['reference', ...backends] as BackendName[]) {
      const [h] = await runScan(b, [[G7_K, [3, 1, 2]], [G7_P, [3, 1, 2]]], ([k, p]) => mingruScan(k!, p!, { backend: b }));
      expectClose(h!, [0.75, 0.196612, 0.682765, 2.225429, 0.33197, 1.76278], G7, `G.7 h0 = 0 on ${b}`);
      const [hs, hT] = await runScan(b, [[G7_K, [3, 1, 2]], [G7_P, [3, 1, 2]], [[0.25, 1.0], [1, 2]]], ([k, p, h0]) =>
        mingruScan(k!, p!, { h0, h0Mode: 'state', backend: b }),
      );
      expectClose(hs!, [0.875, 0.465553, 0.774147, 2.257488, 0.366471, 1.782735], G7, `G.7 state h0 on ${b}`);
      expectClose(hT!, [0.366471, 1.782735], G7, `G.7 hT on ${b}`);
    }
  });

  const cases: OpCase<MinGruScanParams>[] = [];
  for (const mode of ['none', 'preactivation', 'state'] as const) {
    for (const dims of [[5, 2, 3], [1, 1, 1], [7, 1, 17], [3, 3, 33], [4, 1, 5]]) cases.push(scanCase(`${dims.join('x')}`, dims, mode));
    cases.push(scanCase('large magnitudes 6x2x5', [6, 2, 5], mode, 'large'));
  }
  cases.push(scanCase('D not a multiple of the workgroup 3x1x257', [3, 1, 257], 'preactivation'));
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('the backward op alone (arbitrary h, dh, dhT) matches the reference on every backend', () =>
    checkOp({ name: 'bwd 9x2x7', op: mingruScanBwdOp, inputs: [7, 7, 7, 7, 1, 1].map((_, i) => ({ shape: i < 4 ? [9, 2, 7] : [2, 7] })), params: { h0Mode: 'preactivation' }, tol: TOL }, backends));

  for (const path of ['per-channel', 'chunked'] as GpuPath[]) {
    for (const [T, mode] of [[37, 'preactivation'], [16, 'state'], [1, 'none'], [9, 'none']] as const) {
      it(`WebGPU ${path} path: T=${T} (chunk 8), h0 ${mode}`, () => withGpuPath(path, () => checkOp(scanCase(`${path} T=${T}`, [T, 2, 3], mode), backends)));
    }
  }

  for (const path of ['per-channel', 'chunked'] as GpuPath[]) {
    it(`T=4096: relative error <= ${LONG_T_REL} on every backend (WebGPU ${path}, chunk 64), forward and backward`, async () => {
      const [T, B, D] = [4096, 2, 3];
      const n = T * B * D;
      const [p, dh] = seeded(7, n, 2);
      const k = seeded(9, n, 1, { uniform: [-6, 2] })[0]; // z down to 0.0025: long memory
      const h0 = seeded(8, B * D, 1)[0]!;
      const data: [Float64Array, number[]][] = [[k!, [T, B, D]], [p!, [T, B, D]], [h0, [B, D]], [dh!, [T, B, D]]];
      const run = (b: BackendName) =>
        runScan(b, data, ([kt, pt, h0t, dht]) => {
          const [h, hT] = mingruScan(kt!, pt!, { h0: h0t, backend: b });
          const grads = mingruScanBwd(kt!, pt!, h, dht!, hT, { h0: h0t, backend: b });
          return [h, ...grads, hT];
        });
      await expectLongTAccuracy(path, backends, run, LONG_T_REL);
    });
  }

  it(`T=65536 on wasm: relative error <= ${VERY_LONG_T_REL}`, async () => {
    const [T, B, D] = [65536, 1, 4];
    const [k, p] = seeded(11, T * B * D, 2);
    const data: [Float64Array, number[]][] = [[k!, [T, B, D]], [p!, [T, B, D]]];
    await expectVeryLongTOnWasm('mingru_scan', backends, data, ([kt, pt], backend) => mingruScan(kt!, pt!, { backend })[0]!);
  });

  it('step by step (T = 1 calls carrying hT as a state h0) equals the parallel forward (models.md G.9)', async () => {
    const [T, B, D] = [6, 2, 3];
    const N = B * D;
    const [k, p] = seeded(21, T * N, 2);
    const h0 = seeded(22, N, 1)[0]!;
    for (const b of ['reference', ...backends] as BackendName[]) {
      const [whole] = await runScan(b, [[k!, [T, B, D]], [p!, [T, B, D]], [h0, [B, D]]], ([kt, pt, h0t]) => [mingruScan(kt!, pt!, { h0: h0t, backend: b })[0]]);
      let state: Float64Array = h0;
      const steps: number[] = [];
      for (let t = 0; t < T; t++) {
        const data: [Float64Array, number[]][] = [[k!.slice(t * N, (t + 1) * N), [1, B, D]], [p!.slice(t * N, (t + 1) * N), [1, B, D]], [state, [B, D]]];
        const mode = t === 0 ? 'preactivation' : 'state';
        [, state] = (await runScan(b, data, ([kt, pt, h0t]) => mingruScan(kt!, pt!, { h0: h0t, h0Mode: mode, backend: b }))) as [Float64Array, Float64Array];
        steps.push(...state);
      }
      expectClose(steps, whole!, STEPWISE, `step by step vs parallel on ${b}`);
    }
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const ref = { backend: 'reference' as const };
    const k = tensor(new Float32Array(12), [3, 2, 2], ref);
    expect(() => mingruScan(k, tensor(new Float32Array(12), [3, 4], ref))).toThrow(ShapeError);
    expect(() => mingruScan(k, tensor(new Float32Array(12), [3, 2, 2], ref), { h0: tensor(new Float32Array(3), [3], ref) })).toThrow(
      /mingru_scan\(k \[3, 2, 2\], p \[3, 2, 2\], h0 \[3\], h0Mode preactivation\): h0 must have shape \[2, 2\], got \[3\]/,
    );
    expect(() => mingruScan(tensor(new Float32Array(12), [12], ref), tensor(new Float32Array(12), [12], ref))).toThrow(/k must be time-major \(T, B, D\), got rank 1/);
    expect(() => mingruScan(k, tensor(new Int32Array(12), [3, 2, 2], { ...ref, dtype: 'i32' }))).toThrow(DTypeError);
    const p = tensor(new Float32Array(12), [3, 2, 2], ref);
    expect(() => mingruScanOp.shapes([k, p, p].map((t) => ({ shape: t.shape, dtype: t.dtype })), { h0Mode: 'none' })).toThrow(/expected inputs \(k, p\), got 3/);
    expect(() => mingruScanOp.shapes([k, p].map((t) => ({ shape: t.shape, dtype: t.dtype })), { h0Mode: 'bogus' as H0Mode })).toThrow(OptionError);
  });
});
