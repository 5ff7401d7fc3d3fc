// linear_scan GB/s (bytes: read a, b, write h; backward read a, h, dh, write da, db) on recur-wasm and recur-webgpu,
// against a copy measured in the same run (Float32Array.prototype.set over as many bytes as the forward moves), with
// the ratio to it as a % row. Time-major (T, B, D); the long-T, few-channel case takes the chunked WebGPU scan.
import { runOp } from '../../src/engine.js';
import { getBackend, type BackendName, type Tensor } from '../../src/index.js';
import { linearScanBwdOp, linearScanOp } from '../../src/ops/linear_scan.js';
import { OpBench, recurCall } from '../op_timing.js';
import { timeRoundRobin, uniformF32, type BenchOptions, type BenchRow, type BenchSuite, type Timed } from '../runner.js';

type Tbd = [T: number, B: number, D: number];

/** Forward then backward of one scan (outputs disposed); on the GPU it waits for the work. */
function fwdBwd(xs: Tensor[], b: BackendName): Timed {
  const once = () => {
    const [h, hT] = runOp(linearScanOp, xs.slice(0, 2), {}, { backend: b });
    const grads = runOp(linearScanBwdOp, [xs[0]!, h!, xs[2]!, xs[3]!], {}, { backend: b });
    [h!, hT!, ...grads].forEach((t) => t.dispose());
  };
  if (b !== 'webgpu') return once;
  return async () => {
    once();
    await getBackend(b).sync();
  };
}

async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const bench = await OpBench.start('linear_scan', opts);
  const cases: Tbd[] = opts.smoke ? [[17, 2, 5]] : opts.quick ? [[256, 32, 256]] : [[256, 32, 256], [1024, 32, 256], [4096, 1, 64]];
  return bench.each(cases, async ([T, B, D], ci) => {
    const n = T * B * D;
    // minGRU-like coefficients in (0, 1); b, dh and dhT of unit size.
    const a = uniformF32(n, 1).map((v) => 0.5 + 0.45 * v);
    const on = bench.upload(bench.backends(ci), [[a, [T, B, D]], [uniformF32(n, 2), [T, B, D]], [uniformF32(n, 3), [T, B, D]], [uniformF32(B * D, 4), [B, D]]]);
    const name = `T=${T} B=${B} D=${D}`;
    const fwd = Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, recurCall(linearScanOp, xs.slice(0, 2), {}, b)]));
    const both = Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, fwdBwd(xs, b)]));
    await bench.time(`fwd ${name}`, fwd, 4 * 3 * n);
    await bench.time(`fwd+bwd ${name}`, both, 4 * 8 * n);
    // The copy baseline over the forward's bytes: 1.5·n floats read and written.
    const m = Math.ceil(1.5 * n);
    const src = uniformF32(m, 5);
    const dst = new Float32Array(m);
    const secs = await timeRoundRobin({ 'js-copy': () => dst.set(src) }, bench.plan, `linear_scan-copy-${name}`);
    const copy = (8 * m) / secs['js-copy']! / 1e9;
    bench.rows.push({ suite: 'linear_scan', case: `copy ${name}`, impl: 'js-copy', value: copy, unit: 'GB/s' });
    for (const r of bench.rows.filter((x) => x.case.endsWith(name) && x.impl === 'recur-wasm' && x.unit === 'GB/s')) {
      bench.rows.push({ suite: 'linear_scan', case: `${r.case.split(' ')[0]} ${name} / copy`, impl: 'recur-wasm', value: (100 * r.value) / copy, unit: '% of copy' });
    }
  });
}

export const suite: BenchSuite = { name: 'linear_scan', run };
