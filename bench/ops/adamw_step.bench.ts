// AdamW GB/s (op cost model: 4 streams read, 3 written): one in-place step over n parameters on recur-wasm and
// recur-webgpu (when up; only the smallest case on an emulated GPU). Timed by the runner; the step count
// advances every call, as in training. No peer: tfjs has Adam but no decoupled-decay AdamW.
import { runOp } from '../../src/engine.js';
import type { BackendName, Tensor } from '../../src/index.js';
import { adamwStepOp, type AdamWParams } from '../../src/ops/adamw_step.js';
import { OpBench, opBytes, synced, type HostInput } from '../op_timing.js';
import { uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';

const ALL = [1 << 20, 10_000_003];
const QUICK = [1 << 20];
const SMOKE = [1001];

/** One in-place step on backend b (the GPU waits for it); `step` counts up from 1. */
function stepCall(xs: Tensor[], p: AdamWParams, b: BackendName): Timed {
  let step = 0;
  return synced(b, () => runOp(adamwStepOp, xs, { ...p, step: ++step }, { backend: b }));
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('adamw_step', opts);
  const p: AdamWParams = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, step: 1 };
  return bench.each(opts.smoke ? SMOKE : opts.quick ? QUICK : ALL, async (n, ci) => {
    const inputs: HostInput[] = [uniformF32(n, 1), uniformF32(n, 2), uniformF32(n, 3).map((x) => 0.1 * x), uniformF32(n, 4).map((x) => 0.01 * (x + 1))].map((d) => [d, [n]]);
    const impls = Object.fromEntries([...bench.upload(bench.backends(ci), inputs)].map(([b, xs]) => [`recur-${b}`, stepCall(xs, p, b)]));
    await bench.time(`n=${n}`, impls, opBytes(adamwStepOp, inputs, p));
  });
}

export const suite: BenchSuite = { name: 'adamw_step', run };
