// transpose GB/s (op cost model: bytes read + written): (B, T, D) -> (T, B, D) (runs of D), and a 2-D (N, D) -> (D, N)
// (4×4 SIMD tiles), on recur-wasm, recur-webgpu (when up; only the first case on an emulated GPU) and tfjs-wasm
// (tf.transpose with the same permutation).
import { transposeOp } from '../../src/ops/transpose.js';
import { OpBench, opBytes, rowCases, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('transpose', opts, { tfjs: true });
  return bench.each(rowCases(opts), async ([N, D], ci) => {
    const B = Math.min(16, N);
    const btd: HostInput[] = [[uniformF32(N * D, 1), [B, N / B, D]]];
    const nd: HostInput[] = [[uniformF32(N * D, 2), [N, D]]];
    const p = { axis0: 0, axis1: 1 };
    const impls3 = { ...bench.recur(transposeOp, bench.upload(bench.backends(ci), btd), p), ...bench.tfjs(btd, (tf, [x]) => tf.transpose(x!, [1, 0, 2])) };
    await bench.time(`(B, T, D) [${B},${N / B},${D}] -> (T, B, D)`, impls3, opBytes(transposeOp, btd, p));
    const impls2 = { ...bench.recur(transposeOp, bench.upload(bench.backends(ci), nd), p), ...bench.tfjs(nd, (tf, [x]) => tf.transpose(x!, [1, 0])) };
    await bench.time(`2-D [${N},${D}] -> [${D},${N}]`, impls2, opBytes(transposeOp, nd, p));
  });
}

export const suite: BenchSuite = { name: 'transpose', run };
