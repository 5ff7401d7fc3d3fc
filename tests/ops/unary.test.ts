// unary and unary_bwd through the op harness: every fn on odd sizes against the float64 reference, gradients by
// finite differences, large magnitudes (±80, ±1e4, ±3e38) finite where the math is, and models.md Part G item 6.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { runOp, tensor } from '../../src/engine.js';
import { DTypeError, OptionError, ShapeError } from '../../src/errors.js';
import { g, gelu, logG, sigmoid, softplus, unary, unaryBwdOp, unaryOp, UNARY_F64, UNARY_FNS, type UnaryFn, type UnaryParams } from '../../src/ops/unary.js';
import { expectClose, type Tol } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { checkOp, ODD_SIZES, type OpCase, type OpTolerances } from '../helpers/check_op.js';
import type { Gen } from '../helpers/rng.js';

/** One tolerance table: float32 polynomials measured at ≤ 3 ulp (gelu ≤ 1e-6 relative); atol covers the zeros of
 *  gelu' and silu' where relative error is unbounded. */
const TOL: Record<UnaryFn | 'hand', OpTolerances> = {
  neg: { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } },
  relu: { fwd: { atol: 0, rtol: 0 }, bwd: { atol: 0, rtol: 0 } },
  exp: { fwd: { atol: 1e-30, rtol: 1e-6 }, bwd: { atol: 1e-30, rtol: 2e-6 } },
  log: { fwd: { atol: 1e-7, rtol: 1e-6 }, bwd: { atol: 1e-7, rtol: 1e-6 } },
  sigmoid: { fwd: { atol: 1e-7, rtol: 1e-6 }, bwd: { atol: 1e-7, rtol: 2e-6 } },
  tanh: { fwd: { atol: 1e-7, rtol: 1e-6 }, bwd: { atol: 1e-7, rtol: 2e-6 } },
  softplus: { fwd: { atol: 1e-7, rtol: 1e-6 }, bwd: { atol: 1e-7, rtol: 2e-6 } },
  gelu: { fwd: { atol: 1e-6, rtol: 3e-6 }, bwd: { atol: 1e-6, rtol: 3e-6 } },
  silu: { fwd: { atol: 1e-6, rtol: 2e-6 }, bwd: { atol: 1e-6, rtol: 3e-6 } },
  g: { fwd: { atol: 1e-7, rtol: 1e-6 }, bwd: { atol: 1e-7, rtol: 2e-6 } },
  log_g: { fwd: { atol: 1e-7, rtol: 1e-6 }, bwd: { atol: 1e-7, rtol: 2e-6 } },
  hand: { fwd: { atol: 1e-12, rtol: 1e-12 }, bwd: { atol: 1e-12, rtol: 1e-12 } },
};

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

/** Inputs per fn: log needs x > 0; exp is kept where its float64 finite differences stay meaningful. */
const GEN: Partial<Record<UnaryFn, Gen>> = { log: { uniform: [1e-3, 50] }, exp: { uniform: [-5, 5] } };

function uc(fn: UnaryFn, shape: number[], gen: Gen = GEN[fn] ?? 'normal', seed?: number): OpCase<UnaryParams> {
  return { name: `${fn} ${gen === 'large' ? 'large ' : ''}[${shape}]`, op: unaryOp, inputs: [{ shape, gen }], params: { fn }, tol: TOL[fn], seed };
}

async function on(b: BackendName, fn: UnaryFn, xs: number[], bwd = false): Promise<Float64Array> {
  const x = tensor(xs, [xs.length], { backend: b });
  const dy = tensor(xs.map(() => 1), [xs.length], { backend: b });
  const y = bwd ? runOp(unaryBwdOp, [x, dy], { fn }, { backend: b })[0]! : unary(x, fn, { backend: b });
  const out = await y.dataF64();
  [x, dy, y].forEach((t) => t.dispose());
  return out;
}

describe('unary', () => {
  it('matches hand-computed values on the reference', async () => {
    const xs = [-1, 0, 1, 2];
    const want: Record<UnaryFn, number[]> = {
      neg: [1, -0, -1, -2],
      exp: [0.36787944117144233, 1, 2.718281828459045, 7.38905609893065],
      log: [NaN, -Infinity, 0, 0.6931471805599453],
      sigmoid: [0.2689414213699951, 0.5, 0.7310585786300049, 0.8807970779778823],
      tanh: [-0.7615941559557649, 0, 0.7615941559557649, 0.9640275800758169],
      softplus: [0.31326168751822286, 0.6931471805599453, 1.3132616875182228, 2.1269280110429727],
      relu: [0, 0, 1, 2],
      gelu: [-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416],
      silu: [-0.2689414213699951, 0, 0.7310585786300049, 1.7615941559557646],
      g: [0.2689414213699951, 0.5, 1.5, 2.5],
      log_g: [-1.3132616875182228, -0.6931471805599453, 0.4054651081081644, 0.9162907318741551],
    };
    for (const fn of UNARY_FNS) expectClose(await on('reference', fn, xs), want[fn], TOL.hand.fwd, fn);
    // derivatives at the same points: σ' = σ(1-σ), gelu' = Φ + xφ, silu' = σ(1 + x(1-σ)), log_g' = σ(-x) | 1/(x+½)
    expectClose(await on('reference', 'sigmoid', [0], true), [0.25], TOL.hand.bwd, "sigmoid'");
    expectClose(await on('reference', 'gelu', [1], true), [0.8413447460685429 + 0.24197072451914337], TOL.hand.bwd, "gelu'");
    expectClose(await on('reference', 'silu', [1], true), [0.7310585786300049 * (1 + 0.2689414213699951)], TOL.hand.bwd, "silu'");
    expectClose(await on('reference', 'log_g', [-1, 1], true), [0.7310585786300049, 1 / 1.5], TOL.hand.bwd, "log_g'");
  });

  it('g and log g: models.md Part G item 6, on every backend', async () => {
    for (const b of ['reference', ...backends] as BackendName[]) {
      const [g0] = await on(b, 'g', [0]);
      const [lg0] = await on(b, 'log_g', [0]);
      expect(g0).toBe(0.5);
      expect(lg0).toBeCloseTo(-0.693147, 6);
      // continuous at 0; derivative 0.25 from the left, 1 from the right
      const near = await on(b, 'g', [-1e-6, 1e-6]);
      expect(Math.abs(near[0]! - 0.5)).toBeLessThan(2e-6);
      expect(Math.abs(near[1]! - 0.5)).toBeLessThan(2e-6);
      const d = await on(b, 'g', [-1e-30, 0, 1e-30], true);
      expect(Array.from(d)).toEqual([0.25, 1, 1]);
      // g > 0 wherever σ(x) is a normal f32 (x > -87.3; GPUs may flush subnormals, the CPU keeps them to x > -103);
      // below that, log g stays finite and exact.
      const lo = b === 'webgpu' ? -87 : -103;
      const xs = Array.from({ length: 400 }, (_, i) => lo + i * 0.51);
      expect((await on(b, 'g', xs)).every((v) => v > 0)).toBe(true);
      expect(Array.from(await on(b, 'log_g', [-1e4, Math.fround(-3e38)]))).toEqual([-1e4, Math.fround(-3e38)]);
    }
  });

  it('large |x| gives finite, correct values where the math is finite (every fn, fwd and bwd)', async () => {
    const xs = [80, -80, 1e4, -1e4, 3e38, -3e38, 88.7, -87.5, 1e-30, -1e-30].map(Math.fround);
    for (const fn of UNARY_FNS) {
      const inputs = fn === 'log' ? xs.filter((v) => v > 0) : xs;
      for (const bwd of [false, true]) {
        const want = await on('reference', fn, inputs, bwd);
        for (const b of backends) {
          const got = await on(b, fn, inputs, bwd);
          got.forEach((v, i) => {
            if (Number.isFinite(Math.fround(want[i]!))) expect(Number.isFinite(v), `${fn}${bwd ? "'" : ''}(${inputs[i]}) on ${b} = ${v}`).toBe(true);
          });
          expectClose(got, want.map(Math.fround), bwd ? TOL[fn].bwd : TOL[fn].fwd, `${fn}${bwd ? "'" : ''} on ${b}`);
        }
      }
    }
    // the named cases of the brief, on every backend
    for (const b of ['reference', ...backends] as BackendName[]) {
      const x = tensor([-1e4, 1e4, -80], [3], { backend: b });
      const expectFn = async (y: ReturnType<typeof sigmoid>, fn: UnaryFn, want: number[]): Promise<void> => {
        expectClose(await y.dataF64(), want, TOL[fn].fwd, `${fn} on ${b}`);
        y.dispose();
      };
      await expectFn(sigmoid(x), 'sigmoid', [0, 1, 1 / (1 + Math.exp(80))]);
      await expectFn(softplus(x), 'softplus', [0, 1e4, Math.log1p(Math.exp(-80))]);
      await expectFn(logG(x), 'log_g', [-1e4, Math.log(1e4 + 0.5), -80]);
      await expectFn(gelu(x), 'gelu', [0, 1e4, 0]);
      x.dispose();
    }
  });

  const cases: OpCase<UnaryParams>[] = [];
  for (const fn of UNARY_FNS) {
    for (const n of [...ODD_SIZES, 300]) cases.push(uc(fn, [n]));
    cases.push(uc(fn, [2, 3, 5], undefined, 7));
    if (!GEN[fn]) cases.push(uc(fn, [257], 'large'));
  }
  for (const c of cases) it(c.name, () => checkOp(c, backends));

  it('names the op, the shapes and what was expected on bad input', () => {
    const x = tensor(new Float32Array(6), [2, 3], { backend: 'reference' });
    const ids = tensor(new Int32Array(6), [2, 3], { backend: 'reference', dtype: 'i32' });
    expect(() => unary(ids, 'exp')).toThrow(DTypeError);
    expect(() => unary(ids, 'exp')).toThrow(/unary\(exp, x \[2, 3\]\): input x must be f32, got i32/);
    expect(() => unary(x, 'cosh' as UnaryFn)).toThrow(OptionError);
    expect(() => unary(x, 'cosh' as UnaryFn)).toThrow(/unknown fn 'cosh'/);
    const dy = tensor(new Float32Array(6), [3, 2], { backend: 'reference' });
    expect(() => runOp(unaryBwdOp, [x, dy], { fn: 'tanh' })).toThrow(ShapeError);
    expect(() => runOp(unaryBwdOp, [x, dy], { fn: 'tanh' })).toThrow(/unary_bwd\(tanh, x \[2, 3\], dy \[3, 2\]\): dy must have the shape of x/);
    expect(g(x).shape).toEqual([2, 3]);
  });
});

/** For the file's tolerance table to be the only one: the reference math itself, spot-checked in float64. */
describe('unary float64 reference', () => {
  it('agrees with closed forms', () => {
    const tol: Tol = TOL.hand.fwd;
    expectClose([UNARY_F64.gelu(-10)], [-10 * 7.619853024160527e-24], tol, 'gelu(-10)');
    expectClose([UNARY_F64.softplus(-40)], [Math.exp(-40)], tol, 'softplus(-40)');
  });
});
