// binary GB/s (op cost model): same-shape add and div, a bias row, a scalar, an outer product, a per-row scale on
// recur-wasm, recur-webgpu (when up; only the first case on an emulated GPU) and tfjs-wasm (tf.add/sub/mul/div, same broadcast).
import { binaryOp, type BinaryFn } from '../../src/ops/binary.js';
import { OpBench, opBytes, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

type Case = [name: string, fn: BinaryFn, a: number[], b: number[]];

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('binary', opts, { tfjs: true });
  const R = opts.smoke ? 8 : opts.quick ? 1024 : 4096;
  const D = opts.smoke ? 33 : 256;
  const cases: Case[] = [
    ['same shape', 'add', [R, D], [R, D]],
    ['bias row', 'add', [R, D], [D]],
    ['scalar', 'mul', [R, D], []],
    ['div same shape', 'div', [R, D], [R, D]],
    ['outer product', 'mul', [R, 1], [1, D]],
    ['per-row scale', 'mul', [R, D], [R, 1]],
  ];
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  return bench.each(cases, async ([name, fn, sa, sb], ci) => {
    // Divisors kept away from 0: shifted into [0.5, 1.5).
    const inputs: HostInput[] = [[uniformF32(size(sa), 1), sa], [uniformF32(size(sb), 2).map((v) => v / 2 + 1), sb]];
    const impls = { ...bench.recur(binaryOp, bench.upload(bench.backends(ci), inputs), { fn }), ...bench.tfjs(inputs, (tf, [a, b]) => tf[fn](a!, b!)) };
    await bench.time(`${name} ${fn} [${sa}]∘[${sb}]`, impls, opBytes(binaryOp, inputs, { fn }));
  });
}

export const suite: BenchSuite = { name: 'binary', run };
