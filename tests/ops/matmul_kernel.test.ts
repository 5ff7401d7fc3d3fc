// The wasm matmul kernels called directly (each path forced: small-M rows/dot and the packed GEMM), on the
// plain-SIMD and relaxed-SIMD modules, against a float64 loop over the same float32 inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from '../../src/backends/wasm/backend.js';
import type { WasmVariant } from '../../src/backends/wasm/module.js';
import { foldSharedBatch, matmulWasm, matmulWasmPath, type MatmulGeometry, type MatmulWasmPath } from '../../src/ops/matmul.js';
import type { WasmKernelContext } from '../../src/ops/op.js';
import { Rng } from '../helpers/rng.js';

/**
 * The one tolerance table: |C - ref| <= factor * sqrt(max(K, 1)) * EPS32 * (sum_k |a_mk * b_kn| + |bias_n|),
 * the usual random-walk bound of float32 accumulation; ref is float64 over the float32-rounded inputs.
 */
const TOL: Record<WasmVariant, number> = { simd: 4, relaxed: 4, debug: 4 };
const EPS32 = 2 ** -24;

const VARIANTS: WasmVariant[] = ['simd', 'relaxed'];
const ODD = [1, 3, 5, 17, 33, 67];

interface Case {
  batchA: number; batchB: number;
  M: number; N: number; K: number;
  transA: boolean; transB: boolean; bias: boolean;
}

function geometry(c: Case): MatmulGeometry {
  const { M, N, K } = c;
  return {
    batch: Math.max(c.batchA, c.batchB), M, N, K,
    sAb: c.batchA > 1 ? M * K : 0, sAm: c.transA ? 1 : K, sAk: c.transA ? M : 1,
    sBb: c.batchB > 1 ? K * N : 0, sBk: c.transB ? 1 : N, sBn: c.transB ? K : 1,
    hasBias: c.bias,
  };
}

const backends = new Map<WasmVariant, WasmBackend>();
beforeAll(async () => {
  for (const v of VARIANTS) backends.set(v, await WasmBackend.create({ variant: v }));
});

/** Runs one case on one module and path; returns a description of the first bad element, or null. */
function runCase(variant: WasmVariant, c: Case, path: MatmulWasmPath | undefined, rng: Rng): string | null {
  const be = backends.get(variant)!;
  const g = geometry(c);
  const lenA = c.batchA * c.M * c.K;
  const lenB = c.batchB * c.K * c.N;
  const lenC = g.batch * c.M * c.N;
  const A = Float32Array.from({ length: lenA }, () => rng.uniform(-1, 1));
  const B = Float32Array.from({ length: lenB }, () => rng.uniform(-1, 1));
  const bias = Float32Array.from({ length: c.N }, () => rng.uniform(-1, 1));
  const ptrs = [lenA, lenB, c.bias ? c.N : 0, lenC].map((n) => be.arena.alloc(Math.max(n, 1) * 4));
  const [pa, pb, pbias, pc] = ptrs as [number, number, number, number];
  be.f32(pa, lenA).set(A);
  be.f32(pb, lenB).set(B);
  if (c.bias) be.f32(pbias, c.N).set(bias);
  be.f32(pc, lenC).fill(Number.NaN); // an element the kernel forgets stays NaN
  const scratch: number[] = [];
  const ctx: WasmKernelContext = {
    exports: be.module.exports,
    inputs: [pa, pb, pbias],
    outputs: [pc],
    scratch: (bytes) => {
      scratch.push(be.arena.alloc(bytes));
      return scratch.at(-1)!;
    },
    f32: (p, n) => be.f32(p, n),
  };
  try {
    matmulWasm(ctx, g, pa, pb, c.bias ? pbias : 0, pc, path);
    const C = be.f32(pc, lenC).slice();
    return firstBad(C, A, B, c.bias ? bias : null, g, TOL[variant]);
  } finally {
    for (const p of [...scratch, ...ptrs]) be.arena.free(p);
  }
}

function firstBad(C: Float32Array, A: Float32Array, B: Float32Array, bias: Float32Array | null, g: MatmulGeometry, factor: number): string | null {
  let worst = 0;
  let report: string | null = null;
  for (let bt = 0; bt < g.batch; bt++) {
    for (let m = 0; m < g.M; m++) {
      for (let n = 0; n < g.N; n++) {
        let s = bias ? bias[n]! : 0;
        let mag = Math.abs(s);
        for (let k = 0; k < g.K; k++) {
          const p = A[bt * g.sAb + m * g.sAm + k * g.sAk]! * B[bt * g.sBb + k * g.sBk + n * g.sBn]!;
          s += p;
          mag += Math.abs(p);
        }
        const i = (bt * g.M + m) * g.N + n;
        const err = Math.abs(C[i]! - s);
        const tol = factor * Math.sqrt(Math.max(g.K, 1)) * EPS32 * mag + 1e-30;
        if (!(err <= tol) && (report === null || err / tol > worst)) {
          worst = Number.isNaN(err) ? Infinity : err / tol;
          report = `C[${bt}, ${m}, ${n}] = ${C[i]} but expected ${s} (err ${err.toExponential(2)}, tol ${tol.toExponential(2)})`;
        }
      }
    }
  }
  return report;
}

function label(c: Case, path: string | undefined): string {
  const batch = c.batchA > 1 || c.batchB > 1 ? ` batch ${c.batchA}/${c.batchB}` : '';
  return `${path ?? 'auto'} ${c.M}x${c.K}x${c.N}${c.transA ? ' transA' : ''}${c.transB ? ' transB' : ''}${c.bias ? ' +bias' : ''}${batch}`;
}

/** Runs every case on both modules; fails listing the first few bad cases with their worst element. */
function expectAll(cases: Case[], paths: (MatmulWasmPath | 'small' | undefined)[], seed: number): void {
  const failures: string[] = [];
  let ran = 0;
  for (const variant of VARIANTS) {
    const rng = new Rng(seed);
    for (const c of cases) {
      for (const p of paths) {
        const path = p === 'small' ? (c.transB ? 'dot' : 'rows') : p;
        const bad = runCase(variant, c, path, rng);
        ran++;
        if (bad) failures.push(`${variant} ${label(c, path)}: ${bad}`);
      }
    }
  }
  expect(ran).toBeGreaterThan(0);
  expect(failures.slice(0, 8), `${failures.length} of ${ran} cases failed`).toEqual([]);
}

function grid(Ms: number[], Ns: number[], Ks: number[], extra: Partial<Case> = {}): Case[] {
  const out: Case[] = [];
  for (const M of Ms) for (const N of Ns) for (const K of Ks) {
    for (const transA of [false, true]) for (const transB of [false, true]) {
      out.push({ batchA: 1, batchB: 1, M, N, K, transA, transB, bias: (M + N + K + (transA ? 1 : 0)) % 2 === 0, ...extra });
    }
  }
  return out;
}

describe('wasm matmul kernels (simd and relaxed modules)', () => {
  it('reports the module variant it was asked for', () => {
    for (const v of VARIANTS) expect(backends.get(v)!.variant).toBe(v);
  });

  it('packed GEMM: every transA/transB, bias on and off, M/N/K in {1, 3, 5, 17, 33, 67}', () => {
    const cases = grid(ODD, ODD, ODD);
    expectAll(cases.concat(cases.map((c) => ({ ...c, bias: !c.bias }))), ['packed'], 1);
  });

  it('small-M kernels (rows for B row-major, dot for B transposed) on the same grid, M <= 16', () => {
    const cases = grid([1, 2, 3, 4, 5, 7, 8, 16], ODD, ODD);
    expectAll(cases.concat(cases.map((c) => ({ ...c, bias: !c.bias }))), ['small'], 2);
  });

  it('M = 1 decode step: long K and N, odd tails, through the path the op picks', () => {
    const cases = grid([1], [1, 4, 15, 16, 17, 1029], [1, 2, 4, 7, 8, 9, 515]);
    expectAll(cases, [undefined], 3);
  });

  it('packed GEMM across cache blocks: M > MC (120), K > KC (256), N > NC (4096)', () => {
    const cases: Case[] = [
      ...grid([250], [130], [600]),
      { batchA: 1, batchB: 1, M: 7, N: 4100, K: 300, transA: false, transB: false, bias: true },
      { batchA: 1, batchB: 1, M: 13, N: 4111, K: 9, transA: true, transB: true, bias: true },
      { batchA: 1, batchB: 1, M: 121, N: 9, K: 513, transA: false, transB: true, bias: false },
    ];
    expectAll(cases, ['packed'], 4);
  });

  it('batched: B shared (folded into M, or per batch when A is transposed), A shared, both batched', () => {
    const cases: Case[] = [];
    for (const [batchA, batchB] of [[3, 1], [1, 3], [3, 3]] as const) {
      for (const [M, N, K] of [[1, 5, 17], [4, 9, 33], [7, 33, 300], [130, 70, 260], [2, 3, 1]] as const) {
        cases.push(...grid([M], [N], [K], { batchA, batchB }));
      }
    }
    expectAll(cases, [undefined, 'packed'], 5);
    expectAll(cases.filter((c) => c.M <= 16), ['small'], 6);
  });

  it('K = 0 writes the bias (or zeros)', () => {
    expectAll(grid([1, 5, 40], [3, 9], [0]), [undefined], 7);
  });

  it('picks the small-M kernels for decode shapes and the packed GEMM for large ones', () => {
    const g = (c: Partial<Case>) => geometry({ batchA: 1, batchB: 1, M: 1, N: 1, K: 1, transA: false, transB: false, bias: false, ...c });
    expect(matmulWasmPath(g({ M: 1, K: 1024, N: 3072 }))).toBe('rows');
    expect(matmulWasmPath(g({ M: 1, K: 1024, N: 3072, transB: true }))).toBe('dot');
    expect(matmulWasmPath(g({ M: 64, K: 512, N: 1536 }))).toBe('packed');
    expect(matmulWasmPath(g({ M: 16, K: 4096, N: 4096 }))).toBe('packed'); // B too large for 4 passes
    const folded = foldSharedBatch(g({ batchA: 8, M: 16, K: 64, N: 64 }));
    expect([folded.batch, folded.M, folded.sAb]).toEqual([1, 128, 0]);
    expect(matmulWasmPath(folded)).toBe('packed');
    expect(foldSharedBatch(g({ batchA: 8, M: 16, K: 64, N: 64, transA: true })).batch).toBe(8);
  });

  it('refuses a forced path that cannot run the strides', () => {
    const c: Case = { batchA: 1, batchB: 1, M: 2, N: 3, K: 4, transA: false, transB: true, bias: false };
    expect(() => runCase('simd', c, 'rows', new Rng(8))).toThrow(/wasm path 'rows' cannot run/);
  });

  it('exports a register-only f32x4 peak kernel', () => {
    for (const v of VARIANTS) {
      const peak = backends.get(v)!.module.exports['peak_f32x4']!;
      expect(Number.isFinite(peak(100, 0.5) as number)).toBe(true);
    }
  });
});
