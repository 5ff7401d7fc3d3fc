// layer_norm GB/s (op cost model) over the last axis and its fused backward on recur-wasm and recur-webgpu (when
// up; only the first case on an emulated GPU). No peer: tfjs-core has no fused LayerNorm. Timed by the runner.
import { layerNormBwdOp, layerNormOp } from '../../src/ops/layer_norm.js';
import { OpBench, opBytes, rowCases, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('layer_norm', opts);
  const p = { eps: 1e-5 };
  return bench.each(rowCases(opts), async ([N, D], ci) => {
    // x, gamma, beta, dy: the forward takes the first three, the backward x, gamma, dy.
    const inputs: HostInput[] = [[uniformF32(N * D, 1).map((v) => 4 * v), [N, D]], [uniformF32(D, 2), [D]], [uniformF32(D, 3), [D]], [uniformF32(N * D, 4), [N, D]]];
    const bwd = <T>(xs: T[]) => [xs[0]!, xs[1]!, xs[3]!];
    const on = bench.upload(bench.backends(ci), inputs);
    await bench.time(`fwd N=${N} D=${D}`, bench.recur(layerNormOp, on, p, (xs) => xs.slice(0, 3)), opBytes(layerNormOp, inputs.slice(0, 3), p));
    await bench.time(`bwd N=${N} D=${D}`, bench.recur(layerNormBwdOp, on, p, bwd), opBytes(layerNormBwdOp, bwd(inputs), p));
  });
}

export const suite: BenchSuite = { name: 'layer_norm', run };
