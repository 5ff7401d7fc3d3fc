// The SRU facts of models.md Part G on every backend: G.8 tiny vector, G.5 scale_x, G.12 padding (equivalence with the
// sequence whose padded steps are removed, outputs and gradients), G.13 bidirectional, and the dropout mask's highway term.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { runOp, tensor } from '../../src/engine.js';
import { sruScaleX, sruScan, sruScanBwdOp, type SruScanConfig, type SruScanOptions } from '../../src/ops/sru_scan.js';
import type { Tensor } from '../../src/tensor.js';
import { expectClose } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { generate, Rng } from '../helpers/rng.js';

/** One tolerance table: HAND for the 6-digit vectors of §G, KERNEL for float32 kernels vs the float64 reference. */
const TOL = { HAND: { atol: 1e-6, rtol: 0 }, KERNEL: { atol: 2e-5, rtol: 1e-4 }, EXACT: { atol: 1e-12, rtol: 0 } };

let all: BackendName[] = [];
beforeAll(async () => {
  all = ['reference', ...(await setupBackends())];
});

const CFG: SruScanConfig = { k: 3, bidirectional: false, scaleX: 1, hasSkip: true, activation: 'identity' };
const tolFor = (b: BackendName) => (b === 'reference' ? TOL.EXACT : TOL.KERNEL);

function rand(seed: number, n: number): number[] {
  return [...generate(new Rng(seed), 'normal', n)];
}

/** Runs sruScan on backend b with plain arrays; returns [h, cLast, C] as float64 arrays. */
async function run(b: BackendName, U: number[], shape: number[], x: number[] | null, wc: number[], bias: number[], cfg: SruScanConfig, o: { c0?: number[]; mask?: number[]; pad?: number[] } = {}): Promise<Float64Array[]> {
  const [T, B, nk] = shape as [number, number, number];
  const n = nk / cfg.k;
  const t = (d: number[], s: number[]) => tensor(d, s, { backend: b });
  const opts: SruScanOptions = { backend: b };
  if (o.c0) opts.c0 = t(o.c0, [B, n]);
  if (o.mask) opts.mask = t(o.mask, [B, n]);
  if (o.pad) opts.pad = t(o.pad, [T, B]);
  const ins = [t(U, shape), ...(x ? [t(x, [T, B, n])] : []), t(wc, [2 * n]), t(bias, [2 * n])];
  const outs = sruScan(ins[0]!, x ? ins[1]! : null, ins[ins.length - 2]!, ins[ins.length - 1]!, cfg, opts);
  const got = await Promise.all(outs.map((y) => y.dataF64()));
  for (const y of [...ins, ...outs, opts.c0, opts.mask, opts.pad]) y?.dispose();
  return got;
}

describe('sru_scan facts (models.md Part G)', () => {
  it('G.8 tiny vector: h and c to 1e-6 on every backend', async () => {
    const U = [0.5, 0, 0, 1, -1, 1, -0.5, 1, -1, 0, 0.5, 0.5];
    const x = [1, -1, 0.5, 0.25];
    for (const b of all) {
      const [h, cLast, C] = await run(b, U, [2, 1, 6], x, [0.5, -0.5, 1, 0], [0, 0, -2, -2], CFG, { c0: [0.1, -0.2] });
      expectClose(h!, [0.908274, -0.555402, 0.475145, 0.269121], TOL.HAND, `G.8 h on ${b}`);
      expectClose(C!, [0.295001, 0.653139, 0.103449, 0.354817], TOL.HAND, `G.8 c on ${b}`);
      expectClose(cLast!, [0.103449, 0.354817], TOL.HAND, `G.8 c_T on ${b}`);
    }
  });

  it('G.5 scale_x for highway bias 0, −1, −2, −3', () => {
    expectClose([0, -1, -2, -3].map(sruScaleX), [1.732051, 1.317482, 1.12724, 1.048606], TOL.HAND, 'scale_x');
  });

  it('the dropout mask scales the highway complement: h = m·r·g(c) + (1 − m·r)·x′; m = 0 gives h = x′', async () => {
    const [T, B, H] = [3, 2, 5];
    const U = rand(1, T * B * H * 4);
    const x = rand(2, T * B * H);
    const wc = rand(3, 2 * H);
    const bias = rand(4, 2 * H);
    for (const b of all) {
      const zero = new Array(B * H).fill(0);
      const [h3, , C3] = await run(b, U.slice(0, T * B * H * 3), [T, B, H * 3], x, wc, bias, { ...CFG, scaleX: 1.5 }, { mask: zero });
      expectClose(h3!, x.map((v) => 1.5 * v), tolFor(b), `k=3 m=0 on ${b}`);
      const [h4] = await run(b, U, [T, B, H * 4], null, wc, bias, { ...CFG, k: 4 }, { mask: zero });
      expectClose(h4!, U.filter((_, i) => i % 4 === 3), tolFor(b), `k=4 m=0 on ${b}`);
      // m = 2 against the formula on the unmasked run's c (the mask never touches c).
      const [h, , C] = await run(b, U.slice(0, T * B * H * 3), [T, B, H * 3], x, wc, bias, { ...CFG, scaleX: 1.5 }, { mask: zero.map(() => 2) });
      expectClose(C!, C3!, tolFor(b), `mask leaves c alone on ${b}`);
      const want = h!.map((_, o) => {
        const [bb, j] = [Math.floor(o / H) % B, o % H];
        const cp = o < B * H ? 0 : C![o - B * H]!;
        const r = 1 / (1 + Math.exp(-(U[o * 3 + 2]! + wc[H + j]! * cp + bias[H + j]!)));
        return 2 * r * C![o]! + (1 - 2 * r) * 1.5 * x[o]! + 0 * bb;
      });
      expectClose(h!, want, tolFor(b), `h with m = 2 on ${b}`);
    }
  });

  it('G.12 padding: c carries over, h = 0, and outputs and gradients equal those of the unpadded sequence', async () => {
    const [T, H] = [7, 5];
    const padAt = [0, 1, 0, 0, 1, 1, 0]; // steps 1, 4, 5 are padding (B = 1)
    const keep = padAt.map((p, t) => (p ? -1 : t)).filter((t) => t >= 0);
    const L = keep.length;
    for (const bidirectional of [false, true]) {
      const n = (bidirectional ? 2 : 1) * H;
      const cfg = { ...CFG, bidirectional, activation: 'tanh' as const, scaleX: 1.2 };
      const U = rand(11, T * n * 3);
      const x = rand(12, T * n);
      const [wc, bias, c0, dh] = [rand(13, 2 * n), rand(14, 2 * n), rand(15, n), rand(16, T * n)];
      const rows = <X>(a: X[], w: number) => keep.flatMap((t) => a.slice(t * w, (t + 1) * w));
      for (const b of all) {
        const what = `${bidirectional ? 'bidirectional' : 'forward'} on ${b}`;
        const [h, cLast, C] = await run(b, U, [T, 1, 3 * n], x, wc, bias, cfg, { c0, pad: padAt });
        const [hs, cLs] = await run(b, rows(U, 3 * n), [L, 1, 3 * n], rows(x, n), wc, bias, cfg, { c0 });
        expectClose(rows([...h!], n), hs!, tolFor(b), `h at kept steps, ${what}`);
        expectClose(cLast!, cLs!, tolFor(b), `cLast, ${what}`);
        for (let t = 0; t < T; t++) {
          if (!padAt[t]) continue;
          expect([...h!.slice(t * n, (t + 1) * n)].every((v) => v === 0), `h = 0 at padded step ${t}, ${what}`).toBe(true);
          // forward half: c_t = c_{t−1}; reverse half: c_t = c_{t+1}
          for (let col = 0; col < n; col++) {
            const from = col < H ? (t > 0 ? C![(t - 1) * n + col]! : c0[col]!) : t < T - 1 ? C![(t + 1) * n + col]! : c0[col]!;
            expect(C![t * n + col], `c carried at padded step ${t}, ${what}`).toBe(from);
          }
        }
        // Gradients of L = Σ dh·h (dh over kept steps only) on both sequences.
        const g = await bwd(b, U, [T, 1, 3 * n], x, wc, bias, c0, C!, dh.map((v, i) => (padAt[Math.floor(i / n)] ? 0 : v)), cfg, padAt);
        const gs = await bwd(b, rows(U, 3 * n), [L, 1, 3 * n], rows(x, n), wc, bias, c0, null, rows(dh, n), cfg, null);
        expectClose(rows([...g[0]!], 3 * n), gs[0]!, tolFor(b), `dU at kept steps, ${what}`);
        expect(padAt.every((p, t) => !p || g[0]!.slice(t * 3 * n, (t + 1) * 3 * n).every((v) => v === 0)), `dU = 0 at padded steps, ${what}`).toBe(true);
        for (let i = 1; i < 5; i++) expectClose(i === 1 ? rows([...g[1]!], n) : g[i]!, gs[i]!, tolFor(b), `gradient ${['dU', 'dx', 'dweight_c', 'dbias', 'dc0'][i]}, ${what}`);
      }
    }
  });

  it('G.13 bidirectional: the reverse half ends at t = 0; with equal direction parameters, reversing time reverses h and swaps halves', async () => {
    const [T, B, H] = [6, 2, 5];
    const n = 2 * H;
    const cfg = { ...CFG, bidirectional: true, activation: 'tanh' as const };
    const half = (a: number[], w: number) => a.flatMap((_, i) => (i % w === 0 ? [...a.slice(i, i + w), ...a.slice(i, i + w)] : []));
    const U = half(rand(21, T * B * H * 3), H * 3); // both directions see the same projections
    const x = half(rand(22, T * B * H), H);
    const v = rand(23, 2 * H);
    const wc = [...v.slice(0, H), ...v.slice(0, H), ...v.slice(H), ...v.slice(H)];
    const bb = rand(24, 2 * H);
    const bias = [...bb.slice(0, H), ...bb.slice(0, H), ...bb.slice(H), ...bb.slice(H)];
    const c0 = half(rand(25, B * H), H);
    const flipT = (a: ArrayLike<number>, w: number) => Array.from({ length: T }, (_, t) => [...Array.prototype.slice.call(a, (T - 1 - t) * w, (T - t) * w)]).flat() as number[];
    const swap = (a: ArrayLike<number>) => Array.from(a, (_, i) => a[i - (i % n) + ((i % n) + H) % n]!);
    for (const b of all) {
      const [h, cLast, C] = await run(b, U, [T, B, 3 * n], x, wc, bias, cfg, { c0 });
      const rev = Array.from({ length: B * n }, (_, i) => (i % n < H ? C![(T - 1) * B * n + i]! : C![i]!));
      expectClose(cLast!, rev, TOL.EXACT, `cLast = [c_fwd(T−1), c_bwd(0)] on ${b}`);
      const [h2] = await run(b, flipT(U, B * 3 * n), [T, B, 3 * n], flipT(x, B * n), wc, bias, cfg, { c0 });
      expectClose(h2!, swap(flipT(h!, B * n)), tolFor(b), `time-reversed input on ${b}`);
    }
  });
});

/** sru_scan_bwd with dh only, on backend b: [dU, dx, dweight_c, dbias, dc0]. C is recomputed when null. */
async function bwd(b: BackendName, U: number[], shape: number[], x: number[], wc: number[], bias: number[], c0: number[], C: Float64Array | null, dh: number[], cfg: SruScanConfig, pad: number[] | null): Promise<Float64Array[]> {
  const [T, B, nk] = shape as [number, number, number];
  const n = nk / 3;
  const Cv = C ? [...C] : [...(await run(b, U, shape, x, wc, bias, cfg, { c0 }))[2]!];
  const t = (d: number[], s: number[]) => tensor(d, s, { backend: b });
  const ins: Tensor[] = [t(U, shape), t(x, [T, B, n]), t(wc, [2 * n]), t(bias, [2 * n]), t(c0, [B, n]), ...(pad ? [t(pad, [T, B])] : []), t(Cv, [T, B, n]), t(dh, [T, B, n])];
  const outs = runOp(sruScanBwdOp, ins, { ...cfg, hasC0: true, hasPad: !!pad, hasDH: true, hasDCLast: false, hasDC: false }, { backend: b });
  const got = await Promise.all(outs.map((y) => y.dataF64()));
  [...ins, ...outs].forEach((y) => y.dispose());
  return got;
}
