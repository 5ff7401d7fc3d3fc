// softmax cross-entropy GB/s (op cost model): fused per-row loss and its backward on recur-wasm, recur-webgpu
// (when up; only the smallest case on an emulated GPU) and tfjs-wasm (tf.losses.softmaxCrossEntropy on one-hot
// labels, reduction NONE, forward only). Implementations are timed by the runner.
import { softmaxCrossEntropyBwdOp, softmaxCrossEntropyOp } from '../../src/ops/softmax_cross_entropy.js';
import { OpBench, opBytes, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

type Case = [N: number, V: number];
const ALL: Case[] = [[8192, 256], [1024, 5000], [256, 32768]];
const QUICK: Case[] = [[1024, 256], [256, 5000]];
const SMOKE: Case[] = [[16, 33]];

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('softmax_cross_entropy', opts, { tfjs: true });
  return bench.each(opts.smoke ? SMOKE : opts.quick ? QUICK : ALL, async ([N, V], ci) => {
    const t = Int32Array.from(uniformF32(N, 2), (u) => Math.min(V - 1, Math.floor(((u + 1) / 2) * V)));
    const inputs: HostInput[] = [[uniformF32(N * V, 1).map((v) => 4 * v), [N, V]], [t, [N]], [uniformF32(N, 3), [N]]];
    const oneHot = new Float32Array(N * V);
    t.forEach((c, n) => (oneHot[n * V + c] = 1));
    const on = bench.upload(bench.backends(ci), inputs);
    const tfFwd = bench.tfjs([[oneHot, [N, V]], inputs[0]!], (tf, [l, x]) => tf.losses.softmaxCrossEntropy(l!, x!, undefined, 0, tf.Reduction.NONE));
    const fwd = { ...bench.recur(softmaxCrossEntropyOp, on, {}, (xs) => xs.slice(0, 2)), ...tfFwd };
    await bench.time(`fwd N=${N} V=${V}`, fwd, opBytes(softmaxCrossEntropyOp, inputs.slice(0, 2), {}));
    await bench.time(`bwd N=${N} V=${V}`, bench.recur(softmaxCrossEntropyBwdOp, on, {}), opBytes(softmaxCrossEntropyBwdOp, inputs, {}));
  });
}

export const suite: BenchSuite = { name: 'softmax_cross_entropy', run };
