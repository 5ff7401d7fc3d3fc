// causal_conv1d GB/s (op cost model: read x, write y, plus the taps) and its backward (read x, dy, write dx, dw, dbias)
// on recur-wasm and recur-webgpu (when up; only the first case on an emulated GPU). Time-major (T, B, D), K taps.
import { causalConv1dBwdOp, causalConv1dOp } from '../../src/ops/causal_conv1d.js';
import { OpBench, opBytes, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

type Case = [T: number, B: number, D: number, K: number];

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('causal_conv1d', opts);
  const cases: Case[] = opts.smoke ? [[9, 2, 5, 3]] : opts.quick ? [[256, 32, 256, 4]] : [[256, 32, 256, 4], [1024, 8, 768, 4], [256, 32, 256, 3]];
  return bench.each(cases, async ([T, B, D, K], ci) => {
    const n = T * B * D;
    const x: HostInput = [uniformF32(n, 1), [T, B, D]];
    const w: HostInput = [uniformF32(K * D, 2), [K, D]];
    const bias: HostInput = [uniformF32(D, 3), [D]];
    const dy: HostInput = [uniformF32(n, 4), [T, B, D]];
    const on = bench.upload(bench.backends(ci), [x, w, bias, dy]);
    const name = `T=${T} B=${B} D=${D} K=${K}`;
    await bench.time(`fwd ${name}`, bench.recur(causalConv1dOp, on, {}, (xs) => xs.slice(0, 3)), opBytes(causalConv1dOp, [x, w, bias], {}));
    await bench.time(`bwd ${name}`, bench.recur(causalConv1dBwdOp, on, {}, (xs) => [xs[0]!, xs[1]!, xs[3]!]), opBytes(causalConv1dBwdOp, [x, w, dy], {}));
  });
}

export const suite: BenchSuite = { name: 'causal_conv1d', run };
