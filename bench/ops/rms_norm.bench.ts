// rms_norm GB/s (op cost model) over the last axis and its fused backward on recur-wasm and recur-webgpu (when
// up; only the first case on an emulated GPU). No peer: tfjs-core has no RMSNorm. Timed by the runner.
import { rmsNormBwdOp, rmsNormOp } from '../../src/ops/rms_norm.js';
import { OpBench, opBytes, rowCases, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('rms_norm', opts);
  const p = { eps: 1e-6 };
  return bench.each(rowCases(opts), async ([N, D], ci) => {
    const inputs: HostInput[] = [[uniformF32(N * D, 1).map((v) => 4 * v), [N, D]], [uniformF32(D, 2), [D]], [uniformF32(N * D, 4), [N, D]]];
    const on = bench.upload(bench.backends(ci), inputs);
    await bench.time(`fwd N=${N} D=${D}`, bench.recur(rmsNormOp, on, p, (xs) => xs.slice(0, 2)), opBytes(rmsNormOp, inputs.slice(0, 2), p));
    await bench.time(`bwd N=${N} D=${D}`, bench.recur(rmsNormBwdOp, on, p), opBytes(rmsNormBwdOp, inputs, p));
  });
}

export const suite: BenchSuite = { name: 'rms_norm', run };
