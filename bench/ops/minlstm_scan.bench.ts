// The `minlstm_scan` suite: the fused minLSTM scan (normalised, and the official un-normalised form) in GB/s (forward:
// u_f, u_i, p read, h written; backward: u_f, u_i, p, h, dh read, du_f, du_i, dp written) against a copy of the
// forward's bytes measured in the same run, as a % row (helpers shared with the `scan` suite).
import { runOp } from '../../src/engine.js';
import type { BackendName, Tensor } from '../../src/index.js';
import { minlstmScan, minlstmScanBwd, minlstmScanOp } from '../../src/ops/minlstm_scan.js';
import { isEmulatedGpu, OpBench } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';
import { scanCall, scanThroughput } from './mingru_scan.bench.js';

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('minlstm_scan', opts);
  const sizes = opts.smoke ? [[17, 2, 5]] : opts.quick ? [[256, 32, 256]] : [[256, 32, 256], [1024, 32, 256]];
  const cases = sizes.flatMap((s) => [true, false].map((normalize) => ({ s, normalize })));
  return bench.each(cases, async ({ s: [T, B, D], normalize }, ci) => {
    const n = T! * B! * D!;
    const shape = [T!, B!, D!];
    const backends = bench.backends(ci).filter((b) => b !== 'webgpu' || !isEmulatedGpu());
    const on = bench.upload(backends, [0, 1, 2, 3].map((i) => [uniformF32(n, i + 1), shape] as [Float32Array, number[]]).concat([[uniformF32(B! * D!, 9), [B!, D!]]]));
    const fwd = (xs: Tensor[], b: BackendName) => runOp(minlstmScanOp, xs.slice(0, 3), { h0Mode: 'none', normalize }, { backend: b });
    const both = (xs: Tensor[], b: BackendName) => {
      const [h, hT] = minlstmScan(xs[0]!, xs[1]!, xs[2]!, { normalize, backend: b });
      return minlstmScanBwd(xs[0]!, xs[1]!, xs[2]!, h, xs[3]!, xs[4]!, { normalize, backend: b }).concat([hT]);
    };
    const impls = (f: typeof fwd, wb: boolean): Record<string, Timed> => Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, scanCall(wb, xs, b, f)]));
    const name = `${normalize ? 'normalised' : 'plain'} T=${T} B=${B} D=${D}`;
    await scanThroughput(bench, name, { fwd: impls(fwd, false), both: impls(both, true) }, 16 * n, 32 * n);
  });
}

export const suite: BenchSuite = { name: 'minlstm_scan', run };
