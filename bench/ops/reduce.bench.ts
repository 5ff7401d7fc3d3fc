// reduce GB/s (op cost model): row sums, column sums (the bias gradient), row max, one long sum, and each backward,
// on recur-wasm, recur-webgpu (when up; only the first case on an emulated GPU) and tfjs-wasm (tf.sum/max, fwd).
import { reduceBwdOp, reduceGeometry, reduceOp, type ReduceParams } from '../../src/ops/reduce.js';
import { OpBench, opBytes, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

type Case = [name: string, shape: number[], p: ReduceParams];

/** The forward result on the host (the backward's y input; exact for max, which is all the backward compares). */
function hostReduce(x: Float32Array, shape: number[], p: ReduceParams): Float32Array {
  const { outer, n, inner } = reduceGeometry(shape, p);
  const y = new Float32Array(outer * inner).fill(p.op === 'max' ? -Infinity : 0);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < inner; i++) {
        const v = x[(o * n + k) * inner + i]!;
        const j = o * inner + i;
        y[j] = p.op === 'max' ? Math.max(y[j]!, v) : y[j]! + v;
      }
    }
  }
  if (p.op === 'mean') y.forEach((v, j) => (y[j] = v / n));
  return y;
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('reduce', opts, { tfjs: true });
  const R = opts.smoke ? 8 : opts.quick ? 1024 : 4096;
  const D = opts.smoke ? 33 : 256;
  const L = opts.smoke ? 1000 : opts.quick ? 1 << 18 : 1 << 20;
  const cases: Case[] = [
    ['rows sum', [R, D], { op: 'sum', axis: 1 }],
    ['columns sum (bias grad)', [R, D], { op: 'sum', axis: 0 }],
    ['rows max', [R, D], { op: 'max', axis: 1 }],
    ['long sum', [L], { op: 'sum', axis: 0 }],
  ];
  return bench.each(cases, async ([name, shape, p], ci) => {
    const x = uniformF32(shape.reduce((a, d) => a * d, 1), 1);
    const y = hostReduce(x, shape, p);
    const yShape = reduceOp.shapes([{ shape, dtype: 'f32' }], p)[0]!.shape as number[];
    const inputs: HostInput[] = [[x, shape], [y, yShape], [uniformF32(y.length, 2), yShape]];
    const on = bench.upload(bench.backends(ci), inputs);
    const fwd = { ...bench.recur(reduceOp, on, p, (xs) => xs.slice(0, 1)), ...bench.tfjs(inputs.slice(0, 1), (tf, [t]) => tf[p.op === 'max' ? 'max' : 'sum'](t!, p.axis)) };
    await bench.time(`${name} [${shape}]`, fwd, opBytes(reduceOp, inputs.slice(0, 1), p));
    await bench.time(`${name} bwd [${shape}]`, bench.recur(reduceBwdOp, on, p), opBytes(reduceBwdOp, inputs, p));
  });
}

export const suite: BenchSuite = { name: 'reduce', run };
