// minlstm_scan and minlstm_scan_bwd, normalised and not: models.md G.7, the harness (every backend vs the float64
// reference, finite differences of every input in every h0 mode), both WebGPU paths, long T, step-by-step = parallel.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import type { H0Mode } from '../../src/ops/mingru_scan.js';
import { minlstmScan, minlstmScanBwd, minlstmScanBwdOp, minlstmScanOp, type MinLstmScanParams } from '../../src/ops/minlstm_scan.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, type InputSpec, type OpCase } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';
import { expectLongTAccuracy, expectVeryLongTOnWasm, G7, LONG_T_REL, runScan, seeded, STEPWISE, TOL, VERY_LONG_T_REL, withGpuPath, type GpuPath } from '../helpers/scan.js';

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

function scanCase(name: string, [T, B, D]: number[], h0Mode: H0Mode, normalize: boolean, gen: Gen = 'normal'): OpCase<MinLstmScanParams> {
  const inputs: InputSpec[] = [0, 1, 2].map(() => ({ shape: [T!, B!, D!], gen }));
  if (h0Mode !== 'none') inputs.push({ shape: [B!, D!], gen: h0Mode === 'state' ? 'positive' : gen });
  return { name: `${name}, ${normalize ? 'normalised' : 'plain'}, h0 ${h0Mode}`, op: minlstmScanOp, inputs, params: { h0Mode, normalize }, tol: TOL };
}

const G7_K = [0, 1, -1, 2, 0.5, -0.5];
const G7_P = [1, -1, 0, 2, -2, 0.5];

describe('minlstm_scan', () => {
  it('reproduces models.md G.7 (normalised, u_f = k, u_i = 0.3 − k, h0 = 0) on every backend', async () => {
    const ui = G7_K.map((v) => 0.3 - v);
    for (const b of ['reference', ...backends] as BackendName[]) {
      const [h, hT] = await runScan(b, [[G7_K, [3, 1, 2]], [ui, [3, 1, 2]], [G7_P, [3, 1, 2]]], ([f, i, p]) => minlstmScan(f!, i!, p!, { backend: b }));
      expectClose(h!, [0.801964, 0.083959, 0.576993, 0.444442, 0.384865, 0.80352], G7, `G.7 minLSTM on ${b}`);
      expectClose(hT!, [0.384865, 0.80352], G7, `G.7 minLSTM hT on ${b}`);
    }
  });

  const cases: OpCase<MinLstmScanParams>[] = [];
  for (const norm of [true, false]) {
    for (const mode of ['none', 'preactivation', 'state'] as const) {
      for (const dims of [[5, 2, 3], [1, 1, 1], [7, 1, 17], [3, 3, 33]]) cases.push(scanCase(`${dims.join('x')}`, dims, mode, norm));
      cases.push(scanCase('large magnitudes 6x2x5', [6, 2, 5], mode, norm, 'large'));
    }
    cases.push(scanCase('D not a multiple of the workgroup 3x1x257', [3, 1, 257], 'preactivation', norm));
  }
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('the backward op alone (arbitrary h, dh, dhT) matches the reference on every backend', () =>
    checkOp({ name: 'bwd 9x2x7', op: minlstmScanBwdOp, inputs: [0, 1, 2, 3, 4, 5, 6].map((i) => ({ shape: i < 5 ? [9, 2, 7] : [2, 7] })), params: { h0Mode: 'preactivation', normalize: true }, tol: TOL }, backends));

  for (const path of ['per-channel', 'chunked'] as GpuPath[]) {
    for (const [T, mode, norm] of [[37, 'preactivation', true], [37, 'state', false], [16, 'state', true], [1, 'none', true], [9, 'none', false]] as const) {
      it(`WebGPU ${path} path: T=${T} (chunk 8), h0 ${mode}, ${norm ? 'normalised' : 'plain'}`, () => withGpuPath(path, () => checkOp(scanCase(`${path} T=${T}`, [T, 2, 3], mode, norm), backends)));
    }
  }

  for (const path of ['per-channel', 'chunked'] as GpuPath[]) {
    it(`T=4096: relative error <= ${LONG_T_REL} on every backend (WebGPU ${path}, chunk 64), forward and backward`, async () => {
      const [T, B, D] = [4096, 2, 3];
      const n = T * B * D;
      const [ui, p, dh] = seeded(7, n, 3);
      const k = seeded(9, n, 1, { uniform: [-2, 6] })[0]; // f near 1: long memory
      const h0 = seeded(8, B * D, 1)[0]!;
      const data: [Float64Array, number[]][] = [[k!, [T, B, D]], [ui!, [T, B, D]], [p!, [T, B, D]], [h0, [B, D]], [dh!, [T, B, D]]];
      const run = (b: BackendName) =>
        runScan(b, data, ([ft, it, pt, h0t, dht]) => {
          const [h, hT] = minlstmScan(ft!, it!, pt!, { h0: h0t, backend: b });
          const grads = minlstmScanBwd(ft!, it!, pt!, h, dht!, hT, { h0: h0t, backend: b });
          return [h, ...grads, hT];
        });
      await expectLongTAccuracy(path, backends, run, LONG_T_REL);
    });
  }

  it(`T=65536 on wasm: relative error <= ${VERY_LONG_T_REL}`, async () => {
    const [T, B, D] = [65536, 1, 4];
    const [f, i, p] = seeded(11, T * B * D, 3);
    const data: [Float64Array, number[]][] = [[f!, [T, B, D]], [i!, [T, B, D]], [p!, [T, B, D]]];
    await expectVeryLongTOnWasm('minlstm_scan', backends, data, ([ft, it, pt], backend) => minlstmScan(ft!, it!, pt!, { backend })[0]!);
  });

  it('step by step (T = 1 calls carrying hT as a state h0) equals the parallel forward (models.md G.9)', async () => {
    const [T, B, D] = [6, 2, 3];
    const N = B * D;
    const [k, ui, p] = seeded(21, T * N, 3);
    const h0 = seeded(22, N, 1)[0]!;
    for (const b of ['reference', ...backends] as BackendName[]) {
      const [whole] = await runScan(b, [[k!, [T, B, D]], [ui!, [T, B, D]], [p!, [T, B, D]], [h0, [B, D]]], ([ft, it, pt, h0t]) => [minlstmScan(ft!, it!, pt!, { h0: h0t, backend: b })[0]!]);
      let state: Float64Array = h0;
      const steps: number[] = [];
      for (let t = 0; t < T; t++) {
        const at = (x: Float64Array): [Float64Array, number[]] => [x.slice(t * N, (t + 1) * N), [1, B, D]];
        const data: [Float64Array, number[]][] = [at(k!), at(ui!), at(p!), [state, [B, D]]];
        const mode = t === 0 ? 'preactivation' : 'state';
        [, state] = (await runScan(b, data, ([ft, it, pt, h0t]) => minlstmScan(ft!, it!, pt!, { h0: h0t, h0Mode: mode, backend: b }))) as [Float64Array, Float64Array];
        steps.push(...state);
      }
      expectClose(steps, whole!, STEPWISE, `step by step vs parallel on ${b}`);
    }
  });

  it('names the op, the shapes and what was expected on bad input', () => {
    const ref = { backend: 'reference' as const };
    const x = tensor(new Float32Array(12), [3, 2, 2], ref);
    expect(() => minlstmScan(x, x, tensor(new Float32Array(12), [3, 4], ref))).toThrow(ShapeError);
    expect(() => minlstmScan(x, x, x, { h0: tensor(new Float32Array(3), [3], ref) })).toThrow(
      /minlstm_scan\(uf \[3, 2, 2\], ui \[3, 2, 2\], p \[3, 2, 2\], h0 \[3\], h0Mode preactivation\): h0 must have shape \[2, 2\], got \[3\]/,
    );
    expect(() => minlstmScan(x, tensor(new Int32Array(12), [3, 2, 2], { ...ref, dtype: 'i32' }), x)).toThrow(DTypeError);
    const specs = [x, x, x].map((t) => ({ shape: t.shape, dtype: t.dtype }));
    expect(() => minlstmScanOp.shapes(specs, { h0Mode: 'none', normalize: 1 as unknown as boolean })).toThrow(OptionError);
    expect(() => minlstmScanOp.shapes(specs.slice(0, 2), { h0Mode: 'none', normalize: true })).toThrow(/expected inputs \(uf, ui, p\), got 2/);
  });
});
