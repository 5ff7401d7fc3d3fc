// assembly/lib/vmath.ts through the unary op on wasm: ulp error against float64 Math over dense sweeps of the f32
// range (subnormal results and inputs included), and the IEEE special values (NaN, ±Inf, ±0, overflow, underflow).
import { beforeAll, describe, expect, it } from 'vitest';
import { relaxedSimdSupported, type WasmVariant } from '../../src/backends/wasm/module.js';
import { runOp, tensor } from '../../src/engine.js';
import { init } from '../../src/index.js';
import { unary, unaryBwdOp, UNARY_BWD_F64, UNARY_F64, type UnaryFn } from '../../src/ops/unary.js';
import { setupBackends } from '../helpers/backends.js';

/** Measured bounds (ulp of the float32 result, subnormal spacing below 2^-126); gelu and its kin in relative error
 *  where the result is not near a zero of the function. The one table of this file. */
const BOUND = { exp: 1.5, log: 1, tanh: 2, sigmoid: 3, softplus: 3, log_g: 3, geluRel: 1e-6 } as const;

beforeAll(async () => {
  await setupBackends();
});
const variants: WasmVariant[] = (await relaxedSimdSupported()) ? ['simd', 'relaxed'] : ['simd'];

function ulp32(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

function linspace(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}
/** Positive floats spread evenly in exponent from 2^-149 to 2^128. */
function logspace(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 2 ** (-149 + (277 * i) / (n - 1)));
}

function wasmUnary(fn: UnaryFn, xs: Float32Array, bwd = false): Float32Array {
  const x = tensor(xs, [xs.length], { backend: 'wasm' });
  const dy = tensor(new Float32Array(xs.length).fill(1), [xs.length], { backend: 'wasm' });
  const y = bwd ? runOp(unaryBwdOp, [x, dy], { fn }, { backend: 'wasm' })[0]! : unary(x, fn, { backend: 'wasm' });
  const out = y.dataSync() as Float32Array;
  [x, dy, y].forEach((t) => t.dispose());
  return out;
}

/** Largest error in ulps over the sweep (finite float32 results only; non-finite ones must match exactly). */
function maxUlp(fn: UnaryFn, xs: Float32Array): { ulp: number; at: number } {
  const got = wasmUnary(fn, xs);
  let worst = { ulp: 0, at: NaN };
  xs.forEach((x, i) => {
    const want = UNARY_F64[fn](x);
    const w32 = Math.fround(want);
    if (!Number.isFinite(w32)) {
      expect(got[i], `${fn}(${x})`).toBe(w32);
      return;
    }
    const u = Math.abs(got[i]! - want) / ulp32(want);
    if (!(u <= worst.ulp)) worst = { ulp: u, at: x };
  });
  return worst;
}

const N = 1 << 18;
describe.each(variants)('vmath (wasm, %s module)', (variant) => {
  beforeAll(async () => {
    await init({ wasm: { variant } });
  });

  const sweeps: [UnaryFn, Float32Array[]][] = [
    ['exp', [linspace(-104, 89, N), linspace(-1, 1, N / 4)]],
    ['log', [logspace(N), linspace(0.5, 2, N / 4)]],
    ['tanh', [linspace(-10, 10, N), linspace(-0.7, 0.7, N / 4)]],
    ['sigmoid', [linspace(-104, 104, N), linspace(-4, 4, N / 4)]],
    ['softplus', [linspace(-104, 104, N), linspace(-4, 4, N / 4)]],
    ['log_g', [linspace(-104, 1e4, N), linspace(-2, 2, N / 4), logspace(N / 4)]],
  ];
  for (const [fn, xss] of sweeps) {
    it(`${fn} within ${BOUND[fn as keyof typeof BOUND]} ulp`, () => {
      for (const xs of xss) {
        const r = maxUlp(fn, xs);
        expect(r.ulp, `${fn}: ${r.ulp.toFixed(2)} ulp at x = ${r.at}`).toBeLessThanOrEqual(BOUND[fn as keyof typeof BOUND]);
      }
    });
  }

  it(`x·Φ(x) (gelu) and its derivative within ${BOUND.geluRel} relative error`, () => {
    const xs = linspace(-13, 13, N);
    const y = wasmUnary('gelu', xs);
    const dy = wasmUnary('gelu', xs, true);
    let worst = { err: 0, what: '' };
    xs.forEach((x, i) => {
      const want = UNARY_F64.gelu(x);
      const e1 = Math.abs(y[i]! - want) / (Math.abs(want) + 2 ** -149);
      const d = UNARY_BWD_F64.gelu(x, 1); // the derivative has a zero near -0.75: judged against its scale there
      const e2 = Math.abs(dy[i]! - d) / Math.max(Math.abs(d), 0.2);
      if (e1 > worst.err) worst = { err: e1, what: `gelu(${x})` };
      if (e2 > worst.err) worst = { err: e2, what: `gelu'(${x})` };
    });
    expect(worst.err, worst.what).toBeLessThanOrEqual(BOUND.geluRel);
  });

  it('IEEE special values: NaN in gives NaN out, overflow only where the true value overflows', () => {
    const at = (fn: UnaryFn, xs: number[]): number[] => Array.from(wasmUnary(fn, Float32Array.from(xs)));
    for (const fn of ['exp', 'log', 'sigmoid', 'tanh', 'softplus', 'gelu', 'silu', 'g', 'log_g', 'relu'] as UnaryFn[]) {
      expect(at(fn, [NaN]).every(Number.isNaN), `${fn}(NaN)`).toBe(true);
    }
    expect(at('exp', [Infinity, -Infinity, 0, -0, 88.72, 88.73, -87.3, -103.9, -104])).toEqual([
      Infinity, 0, 1, 1, Math.fround(Math.exp(Math.fround(88.72))), Infinity, Math.fround(Math.exp(Math.fround(-87.3))), 2 ** -149, 0,
    ]);
    expect(at('log', [Infinity, 0, -0, -1, -Infinity, 1, 2 ** -149])).toEqual([Infinity, -Infinity, -Infinity, NaN, NaN, 0, Math.fround(-149 * Math.LN2)]);
    expect(at('sigmoid', [Infinity, -Infinity, 0])).toEqual([1, 0, 0.5]);
    expect(at('tanh', [Infinity, -Infinity, 1e-30])).toEqual([1, -1, Math.fround(1e-30)]);
    expect(at('softplus', [Infinity, -Infinity, 3e38])).toEqual([Infinity, 0, Math.fround(3e38)]);
  });
});
