// softmax GB/s (op cost model) over the last axis and its fused backward on recur-wasm, recur-webgpu (when up;
// only the first case on an emulated GPU) and tfjs-wasm (tf.softmax, forward only). Timed by the runner.
import { softmaxBwdOp, softmaxOp } from '../../src/ops/softmax.js';
import { OpBench, opBytes, rowCases, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

/** Row-wise softmax on the host (the backward's y input). */
function hostSoftmax(x: Float32Array, D: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += D) {
    const row = x.subarray(r, r + D);
    const m = Math.max(...row);
    let s = 0;
    for (let i = 0; i < D; i++) s += y[r + i] = Math.exp(row[i]! - m);
    for (let i = 0; i < D; i++) y[r + i]! /= s;
  }
  return y;
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('softmax', opts, { tfjs: true });
  return bench.each(rowCases(opts), async ([N, D], ci) => {
    const x = uniformF32(N * D, 1).map((v) => 4 * v);
    const inputs: HostInput[] = [[x, [N, D]], [hostSoftmax(x, D), [N, D]], [uniformF32(N * D, 2), [N, D]]];
    const on = bench.upload(bench.backends(ci), inputs);
    const fwd = { ...bench.recur(softmaxOp, on, {}, (xs) => xs.slice(0, 1)), ...bench.tfjs(inputs.slice(0, 1), (tf, [t]) => tf.softmax(t!)) };
    await bench.time(`fwd N=${N} D=${D}`, fwd, opBytes(softmaxOp, inputs.slice(0, 1), {}));
    await bench.time(`bwd N=${N} D=${D}`, bench.recur(softmaxBwdOp, on, {}, (xs) => xs.slice(1)), opBytes(softmaxBwdOp, inputs.slice(1), {}));
  });
}

export const suite: BenchSuite = { name: 'softmax', run };
