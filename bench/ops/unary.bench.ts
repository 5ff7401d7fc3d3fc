// unary GB/s (op cost model): y = f(x) and dx = dy·f'(x) over n f32 on recur-wasm, recur-webgpu (when up; only
// the first fn on an emulated GPU) and tfjs-wasm (forward, for the fns tfjs has). Timed by the runner.
import { unaryBwdOp, unaryOp, type UnaryFn } from '../../src/ops/unary.js';
import { OpBench, opBytes, type HostInput, type Tfjs } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

const ALL: UnaryFn[] = ['relu', 'exp', 'sigmoid', 'tanh', 'softplus', 'gelu', 'silu', 'log_g'];
/** tfjs-core's counterpart of each fn it has (gelu, silu and log_g it has not). */
const TF: Partial<Record<UnaryFn, (tf: Tfjs, x: import('@tensorflow/tfjs-core').Tensor) => unknown>> = {
  relu: (tf, x) => tf.relu(x),
  exp: (tf, x) => tf.exp(x),
  sigmoid: (tf, x) => tf.sigmoid(x),
  tanh: (tf, x) => tf.tanh(x),
  softplus: (tf, x) => tf.softplus(x),
};

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('unary', opts, { tfjs: true });
  const n = opts.smoke ? 1000 : opts.quick ? 1 << 18 : 1 << 20;
  const fns: UnaryFn[] = opts.smoke ? ['exp', 'gelu'] : ALL;
  const x = uniformF32(n, 1).map((v) => 4 * v);
  const dy = uniformF32(n, 2);
  return bench.each(fns, async (fn, ci) => {
    const inputs: HostInput[] = [[x, [n]], [dy, [n]]];
    const on = bench.upload(bench.backends(ci), inputs);
    const tfFn = TF[fn];
    const fwd = { ...bench.recur(unaryOp, on, { fn }, (xs) => xs.slice(0, 1)), ...(tfFn ? bench.tfjs(inputs.slice(0, 1), (tf, [t]) => tfFn(tf, t!)) : {}) };
    await bench.time(`${fn} n=${n}`, fwd, opBytes(unaryOp, inputs.slice(0, 1), { fn }));
    await bench.time(`${fn}' n=${n}`, bench.recur(unaryBwdOp, on, { fn }), opBytes(unaryBwdOp, inputs, { fn }));
  });
}

export const suite: BenchSuite = { name: 'unary', run };
