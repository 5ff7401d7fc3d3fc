// embedding GB/s (op cost model): row lookup and its scatter-add gradient on recur-wasm, recur-webgpu (when up;
// only the smallest case on an emulated GPU, where the backward's V·N id scan takes seconds) and tfjs-wasm
// (tf.gather, forward only). Implementations are timed by the runner; GPU calls include a sync.
import { embeddingBwdOp, embeddingOp } from '../../src/ops/embedding.js';
import { OpBench, opBytes, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite } from '../runner.js';

type Case = [N: number, V: number, D: number];
const ALL: Case[] = [[8192, 256, 512], [4096, 5000, 256], [512, 32768, 512]];
const QUICK: Case[] = [[2048, 256, 256], [1024, 5000, 256]];
const SMOKE: Case[] = [[64, 17, 9]];

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('embedding', opts, { tfjs: true });
  return bench.each(opts.smoke ? SMOKE : opts.quick ? QUICK : ALL, async ([N, V, D], ci) => {
    const ids: HostInput = [Int32Array.from(uniformF32(N, 1), (x) => Math.min(V - 1, Math.floor(((x + 1) / 2) * V))), [N]];
    const table: HostInput = [uniformF32(V * D, 2), [V, D]];
    const dy: HostInput = [uniformF32(N * D, 3), [N, D]];
    const on = bench.upload(bench.backends(ci), [ids, table, dy]);
    const fwd = { ...bench.recur(embeddingOp, on, {}, (xs) => xs.slice(0, 2)), ...bench.tfjs([ids, table], (tf, [i, t]) => tf.gather(t!, i!)) };
    await bench.time(`fwd N=${N} V=${V} D=${D}`, fwd, opBytes(embeddingOp, [ids, table], {}));
    const bwd = bench.recur(embeddingBwdOp, on, { vocab: V }, ([i, , d]) => [i!, d!]);
    await bench.time(`bwd N=${N} V=${V} D=${D}`, bwd, opBytes(embeddingBwdOp, [ids, dy], { vocab: V }));
  });
}

export const suite: BenchSuite = { name: 'embedding', run };
