// sru_scan GB/s (the op's cost model: U, x read, h, C written; backward: U, x, C, dh read, dU, dx written) and tokens/s
// (T·B per second) on recur-wasm and recur-webgpu, forward and forward+backward, beside a JS copy of the forward's bytes
// in the same run. SRU's recurrence is non-linear in c, so it is sequential in T on every backend (models.md §A.1).
import { runOp } from '../../src/engine.js';
import { getBackend, type BackendName, type Tensor } from '../../src/index.js';
import { sruScanBwdOp, sruScanOp, type SruScanParams } from '../../src/ops/sru_scan.js';
import { opBytes, OpBench, recurCall, type HostInput } from '../op_timing.js';
import { timeRoundRobin, uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';

type Case = [T: number, B: number, H: number, k: 3 | 4, bidirectional: boolean];

function params(k: 3 | 4, bidirectional: boolean): SruScanParams {
  return { k, bidirectional, scaleX: 1, hasSkip: true, activation: 'identity', hasC0: true };
}

/** Forward then the fused backward with dh only (a training step's recurrence; outputs disposed). */
function fwdBwd(xs: Tensor[], dh: Tensor, p: SruScanParams, b: BackendName): Timed {
  const once = () => {
    const [h, cLast, C] = runOp(sruScanOp, xs, p, { backend: b });
    const grads = runOp(sruScanBwdOp, [...xs, C!, dh], { ...p, hasDH: true, hasDCLast: false, hasDC: false }, { backend: b });
    [h!, cLast!, C!, ...grads].forEach((t) => t.dispose());
  };
  if (b !== 'webgpu') return once;
  return async () => {
    once();
    await getBackend(b).sync();
  };
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('sru_scan', opts);
  const cases: Case[] = opts.smoke ? [[5, 2, 17, 3, true]] : opts.quick ? [[256, 32, 256, 3, false]] : [[256, 32, 256, 3, false], [256, 32, 256, 4, true], [1024, 8, 512, 3, false]];
  return bench.each(cases, async ([T, B, H, k, bidirectional], ci) => {
    const n = (bidirectional ? 2 : 1) * H;
    const p = params(k, bidirectional);
    const inputs: HostInput[] = [[uniformF32(T * B * n * k, 1), [T, B, n * k]]];
    if (k === 3) inputs.push([uniformF32(T * B * n, 2), [T, B, n]]);
    inputs.push([uniformF32(2 * n, 3), [2 * n]], [uniformF32(2 * n, 4), [2 * n]], [uniformF32(B * n, 5), [B, n]]);
    const dhHost: HostInput = [uniformF32(T * B * n, 6), [T, B, n]];
    const on = bench.upload(bench.backends(ci), [...inputs, dhHost]);
    const name = `T=${T} B=${B} H=${H} k=${k}${bidirectional ? ' bidir' : ''}`;
    const fwdBytes = opBytes(sruScanOp, inputs, p);
    const C: HostInput = [new Float32Array(T * B * n), [T, B, n]];
    const bwdBytes = opBytes(sruScanBwdOp, [...inputs, C, dhHost], { ...p, hasDH: true, hasDCLast: false, hasDC: false });
    const fwd = Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, recurCall(sruScanOp, xs.slice(0, -1), p, b)]));
    const both = Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, fwdBwd(xs.slice(0, -1), xs[xs.length - 1]!, p, b)]));
    await bench.time(`fwd ${name}`, fwd, fwdBytes);
    await bench.time(`fwd+bwd ${name}`, both, fwdBytes + bwdBytes);
    // tokens/s from the GB/s rows just made: (T·B tokens) per (bytes / (GB/s·1e9)) seconds.
    for (const r of bench.rows.filter((x) => x.case.endsWith(name) && x.unit === 'GB/s')) {
      const bytes = r.case.startsWith('fwd+bwd') ? fwdBytes + bwdBytes : fwdBytes;
      bench.rows.push({ suite: 'sru_scan', case: r.case, impl: r.impl, value: (T * B * r.value * 1e9) / bytes, unit: 'tokens/s' });
    }
    const m = Math.ceil(fwdBytes / 8); // copy baseline: as many bytes read and written as the forward moves
    const src = uniformF32(m, 7);
    const dst = new Float32Array(m);
    const secs = await timeRoundRobin({ 'js-copy': () => dst.set(src) }, bench.plan, `sru_scan-copy-${name}`);
    const copy = (8 * m) / secs['js-copy']! / 1e9;
    bench.rows.push({ suite: 'sru_scan', case: `copy ${name}`, impl: 'js-copy', value: copy, unit: 'GB/s' });
    for (const r of bench.rows.filter((x) => x.case === `fwd ${name}` && x.impl === 'recur-wasm' && x.unit === 'GB/s')) {
      bench.rows.push({ suite: 'sru_scan', case: `fwd ${name} / copy`, impl: 'recur-wasm', value: (100 * r.value) / copy, unit: '% of copy' });
    }
  });
}

export const suite: BenchSuite = { name: 'sru_scan', run };
