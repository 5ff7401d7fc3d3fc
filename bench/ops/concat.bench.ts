// concat GB/s (op cost model: bytes read + written): joining two halves along the last axis (a bidirectional
// layer's outputs, strided rows) and along the first (one contiguous run each), on recur-wasm, recur-webgpu (when
// up; only the first case on an emulated GPU) and tfjs-wasm (tf.concat).
import { concatOp } from '../../src/ops/concat.js';
import { OpBench, opBytes, rowCases, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('concat', opts, { tfjs: true });
  return bench.each(rowCases(opts), async ([N, D], ci) => {
    const inputs: HostInput[] = [[uniformF32(N * D, 1), [N, D]], [uniformF32(N * D, 2), [N, D]]];
    const on = bench.upload(bench.backends(ci), inputs);
    for (const axis of [-1, 0]) {
      const impls = { ...bench.recur(concatOp, on, { axis }), ...bench.tfjs(inputs, (tf, xs) => tf.concat(xs, axis)) };
      await bench.time(`[${N},${D}] | [${N},${D}] axis ${axis}`, impls, opBytes(concatOp, inputs, { axis }));
    }
  });
}

export const suite: BenchSuite = { name: 'concat', run };
