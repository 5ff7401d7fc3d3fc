// slice GB/s (op cost model: bytes read + written): a gate's columns out of a fused projection (short strided rows),
// a block of leading rows (one contiguous run) and the backward's scatter into zeros, on recur-wasm, recur-webgpu
// (when up; only the first case on an emulated GPU) and tfjs-wasm (tf.slice; forward only; it may return a view);
// split of the same x into its rows in 8 pieces (one op, 8 outputs) against tf.split.
import { sliceBwdOp, sliceOp, splitOp } from '../../src/ops/slice.js';
import { OpBench, opBytes, rowCases, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('slice', opts, { tfjs: true });
  return bench.each(rowCases(opts), async ([N, D], ci) => {
    // x (N, 2D) = [k | p] as minGRU's fused projection; dy (N, D) the gradient of one half.
    const inputs: HostInput[] = [[uniformF32(N * 2 * D, 1), [N, 2 * D]], [uniformF32(N * D, 2), [N, D]]];
    const on = bench.upload(bench.backends(ci), inputs);
    const cols = { axis: -1, start: D, size: D };
    const fwdCols = { ...bench.recur(sliceOp, on, cols, (xs) => xs.slice(0, 1)), ...bench.tfjs(inputs.slice(0, 1), (tf, [x]) => tf.slice(x!, [0, D], [N, D])) };
    await bench.time(`columns [${N},${2 * D}][:, ${D}:]`, fwdCols, opBytes(sliceOp, inputs.slice(0, 1), cols));
    const rows = { axis: 0, start: N >> 2, size: N >> 1 };
    const fwdRows = { ...bench.recur(sliceOp, on, rows, (xs) => xs.slice(0, 1)), ...bench.tfjs(inputs.slice(0, 1), (tf, [x]) => tf.slice(x!, [N >> 2, 0], [N >> 1, 2 * D])) };
    await bench.time(`rows [${N},${2 * D}][${N >> 2}:${(N >> 2) + (N >> 1)}]`, fwdRows, opBytes(sliceOp, inputs.slice(0, 1), rows));
    const pieces = { axis: 0, sizes: Array.from({ length: 8 }, (_, i) => (N >> 3) + (i < N % 8 ? 1 : 0)) };
    const fwdSplit = { ...bench.recur(splitOp, on, pieces, (xs) => xs.slice(0, 1)), ...bench.tfjs(inputs.slice(0, 1), (tf, [x]) => tf.split(x!, pieces.sizes, 0)) };
    await bench.time(`split [${N},${2 * D}] into 8 row blocks`, fwdSplit, opBytes(splitOp, inputs.slice(0, 1), pieces));
    const back = { ...cols, axis: 1, dim: 2 * D };
    await bench.time(`bwd [${N},${D}] -> [${N},${2 * D}]`, bench.recur(sliceBwdOp, on, back, (xs) => xs.slice(1)), opBytes(sliceBwdOp, inputs.slice(1), back));
  });
}

export const suite: BenchSuite = { name: 'slice', run };
