// The autograd tape: gradients of small compositions against central finite differences in float64 on the
// reference backend, then every other backend's gradients against the reference ones; memory and misuse.
import { beforeAll, describe, expect, it } from 'vitest';
import { Parameter } from '../../src/autograd/parameter.js';
import { Tape } from '../../src/autograd/tape.js';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import type { BackendName } from '../../src/backends/backend.js';
import { getBackend, runOp, tensor, tidy } from '../../src/engine.js';
import { AutogradError, DTypeError } from '../../src/errors.js';
import { add, embedding, embeddingBwd, gelu, linearScan, matmul, mean, mul, reduce, softmaxCrossEntropy, sum, tanh } from '../../src/ops/api.js';
import { binaryOp } from '../../src/ops/binary.js';
import type { OpDef } from '../../src/ops/op.js';
import { sizeOf } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { expectClose, type Tol } from '../helpers/allclose.js';
import { setupBackends } from '../helpers/backends.js';
import { generate, Rng, type Gen } from '../helpers/rng.js';

/** Tolerances, once: float64 analytic vs central differences (h = 1e-6); float32 backends vs the reference. */
const TOL: { fd: Tol; f32: Tol } = { fd: { atol: 1e-7, rtol: 1e-6 }, f32: { atol: 2e-5, rtol: 2e-4 } };
const FD_STEP = 1e-6;

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

interface Leaf {
  shape: number[];
  gen?: Gen;
  i32?: boolean;
}
interface GradCase {
  name: string;
  leaves: Leaf[];
  /** Indices of the leaves to differentiate, in order. */
  wrt: number[];
  /** Of those (indices into leaves), the ones the loss does not depend on: their gradient must be null. */
  unused?: number[];
  loss: (xs: Tensor[]) => Tensor;
}

function leafData(c: GradCase, seed = 7): Float64Array[] {
  const rng = new Rng(seed);
  return c.leaves.map((l) => generate(rng, l.gen ?? (l.i32 ? { int: [0, 3] } : 'normal'), sizeOf(l.shape)));
}

function upload(c: GradCase, data: Float64Array[], b: BackendName): Tensor[] {
  // On the reference the float64 values are kept exactly (the perturbations of finite differences survive).
  return data.map((d, i) => {
    const l = c.leaves[i]!;
    if (l.i32) return tensor(Int32Array.from(d), l.shape, { backend: b });
    return tensor(b === 'reference' ? d : Float32Array.from(d), l.shape, { dtype: 'f32', backend: b });
  });
}

/** Loss and gradients on one backend; checks that everything but what it read is freed. */
async function lossAndGrads(c: GradCase, data: Float64Array[], b: BackendName): Promise<{ loss: number; grads: (Float64Array | null)[] }> {
  const before = getBackend(b).liveCount();
  const xs = upload(c, data, b);
  const { loss, grads } = valueAndGrad(() => c.loss(xs), c.wrt.map((i) => xs[i]!));
  const out = { loss: (await loss.dataF64())[0]!, grads: await Promise.all(grads.map((g) => (g ? g.dataF64() : null))) };
  const live = getBackend(b).liveCount() - before;
  const expected = xs.length + 1 + grads.filter((g) => g).length;
  [...xs, loss, ...grads].forEach((t) => t?.dispose());
  expect(live, `${c.name} on ${b}: live allocations after valueAndGrad (leaves + loss + grads)`).toBe(expected);
  expect(getBackend(b).liveCount(), `${c.name} on ${b}: leak`).toBe(before);
  return out;
}

/** The loss in float64 on the reference (dataSync would round it to float32). */
function lossRef(c: GradCase, data: Float64Array[]): number {
  const ref = getBackend('reference');
  return tidy(() => {
    const loss = c.loss(upload(c, data, 'reference'));
    return ref.readF64!(loss.storage(), loss)[0]!;
  });
}

async function checkCase(c: GradCase): Promise<void> {
  const data = leafData(c);
  const ref = await lossAndGrads(c, data, 'reference');
  c.wrt.forEach((leaf, j) => {
    const g = ref.grads[j];
    if (c.unused?.includes(leaf)) return void expect(g, `${c.name}: gradient of unused leaf ${leaf}`).toBeNull();
    if (!g) throw new Error(`${c.name}: gradient of leaf ${leaf} is missing`);
    const fd = new Float64Array(g.length);
    for (let k = 0; k < g.length; k++) {
      const moved = Float64Array.from(data[leaf]!);
      const h = FD_STEP * Math.max(1, Math.abs(moved[k]!));
      const at = (x: number) => {
        moved[k] = x;
        return lossRef(c, data.map((d, i) => (i === leaf ? moved : d)));
      };
      fd[k] = (at(data[leaf]![k]! + h) - at(data[leaf]![k]! - h)) / (2 * h);
    }
    expectClose(g, fd, TOL.fd, `${c.name}: d/d(leaf ${leaf}) analytic vs finite differences`);
  });
  for (const b of backends) {
    const got = await lossAndGrads(c, data, b);
    expectClose([got.loss], [ref.loss], TOL.f32, `${c.name} on ${b}: loss`);
    got.grads.forEach((g, j) => {
      const r = ref.grads[j];
      if (!g || !r) return void expect(g, `${c.name} on ${b}: gradient ${j} null on one backend only`).toBe(r);
      expectClose(g, r, TOL.f32, `${c.name} on ${b}: d/d(leaf ${c.wrt[j]})`);
    });
  }
}

const [N, K, H] = [5, 4, 3];
const CASES: GradCase[] = [
  {
    name: 'matmul → add bias → tanh → softmax_cross_entropy → mean',
    leaves: [{ shape: [N, K] }, { shape: [K, H] }, { shape: [H] }, { shape: [N], i32: true }],
    wrt: [0, 1, 2],
    loss: ([x, w, b, t]) => mean(softmaxCrossEntropy(tanh(add(matmul(x!, w!), b!)), t!), 0),
  },
  {
    name: 'a tensor used several times (W twice in a chain, h in both operands of mul, x on both sides of add)',
    leaves: [{ shape: [N, K] }, { shape: [K, K] }],
    wrt: [0, 1],
    loss: ([x, w]) => {
      const h1 = matmul(x!, w!);
      const h2 = tanh(matmul(h1, w!));
      return mean(sum(add(mul(h2, h2), mul(add(x!, x!), h1)), 1), 0);
    },
  },
  {
    name: 'reshape in the middle (activation and parameter views), bias via matmul',
    leaves: [{ shape: [N, K] }, { shape: [K * 4] }, { shape: [4] }, { shape: [N * 2], i32: true, gen: { int: [0, 2] } }],
    wrt: [0, 1, 2],
    loss: ([x, wFlat, b, t]) => {
      const logits = matmul(x!, wFlat!.reshape([K, 4]), { bias: b! }); // (N, 4)
      return mean(softmaxCrossEntropy(gelu(logits).reshape([N * 2, 2]), t!), 0);
    },
  },
  {
    name: 'an unused parameter gets a null gradient',
    leaves: [{ shape: [N, K] }, { shape: [K, H] }, { shape: [H, H] }],
    wrt: [0, 1, 2],
    unused: [2],
    loss: ([x, w]) => mean(sum(tanh(matmul(x!, w!)), 1), 0),
  },
  {
    name: 'embedding → gelu → matmul → cross-entropy (ids used twice)',
    leaves: [{ shape: [6], i32: true, gen: { int: [0, 5] } }, { shape: [5, 3] }, { shape: [3, 5] }],
    wrt: [1, 2],
    loss: ([ids, table, w]) => {
      const e = embedding(ids!, table!);
      return mean(softmaxCrossEntropy(matmul(gelu(add(e, e)), w!), ids!), 0);
    },
  },
  {
    name: 'multi-output linear_scan: only h used (dhT null), only hT used (dh null), both',
    leaves: [{ shape: [4, 2, 3], gen: { uniform: [0.2, 0.9] } }, { shape: [4, 2, 3] }, { shape: [2, 3] }],
    wrt: [0, 1, 2],
    loss: ([a, b, w]) => {
      const [h] = linearScan(a!, b!);
      const [, hT] = linearScan(b!, a!);
      const [h2, hT2] = linearScan(tanh(a!), b!);
      const s = (t: Tensor) => reduce(t.reshape([-1]), { op: 'sum', axis: 0 });
      return add(add(s(mul(h, h)), s(mul(hT, w!))), add(s(tanh(h2)), s(mul(hT2, hT2))));
    },
  },
];

describe('autograd tape', () => {
  for (const c of CASES) it(c.name, () => checkCase(c));

  it('takes dLoss for a non-scalar loss (the gradient of Σ dLoss·loss)', async () => {
    const [xd, wd, dl] = [generate(new Rng(3), 'normal', N * K), generate(new Rng(4), 'normal', K * H), generate(new Rng(5), 'normal', N)];
    const grad = (scale: number) => {
      const x = tensor(xd, [N, K], { backend: 'reference' });
      const w = tensor(wd, [K, H], { backend: 'reference' });
      const d = tensor(dl.map((v) => v * scale), [N], { backend: 'reference' });
      const tape = new Tape();
      const loss = tape.record(() => sum(tanh(matmul(x, w)), 1));
      const [dw] = tape.backward(loss, [w], { dLoss: d });
      const out = dw!.dataF64();
      [x, w, d, loss, dw!].forEach((t) => t.dispose());
      return out;
    };
    const once = await grad(1);
    expectClose(await grad(2), once.map((v) => 2 * v), TOL.fd, 'dLoss scales the gradient linearly');
  });

  it('frees forward activations and its temporaries without any tidy() (low-level Tape)', () => {
    const ref = getBackend('reference');
    const x = tensor(generate(new Rng(1), 'normal', N * K), [N, K], { backend: 'reference' });
    const w = new Parameter('w', tensor(generate(new Rng(2), 'normal', K * H), [K, H], { backend: 'reference' }));
    const before = ref.liveCount();
    const tape = new Tape();
    const loss = tape.record(() => mean(sum(mul(tanh(matmul(x, w.value)), tanh(matmul(x, w.value))).reshape([N, H]), 1), 0));
    expect(tape.size).toBeGreaterThan(5);
    const [dw, dx] = tape.backward(loss, [w.value, x]);
    expect(ref.liveCount()).toBe(before + 3); // loss, dw, dx
    [loss, dw!, dx!, x].forEach((t) => t.dispose());
    w.dispose();
  });

  it('owns gradients that alias the upstream one (an op whose grad returns dy itself, twice)', () => {
    // twin(a, b) = a + b, with a grad that hands back the very dOutputs tensor for both inputs.
    type NoParams = Record<string, never>;
    const twin: OpDef<NoParams> = {
      ...(binaryOp as unknown as OpDef<NoParams>),
      name: 'twin',
      shapes: (specs) => [{ shape: specs[0]!.shape, dtype: 'f32' }],
      reference: ([a, b]) => [a!.map((v, i) => v + b![i]!)],
      grad: ({ dOutputs }) => [dOutputs[0]!, dOutputs[0]!],
    };
    const x = tensor(generate(new Rng(1), 'normal', N * K), [N, K], { backend: 'reference' });
    const w = tensor(generate(new Rng(2), 'normal', N * K), [N, K], { backend: 'reference' });
    const before = getBackend('reference').liveCount();
    const grads = (f: (a: Tensor, b: Tensor) => Tensor) =>
      valueAndGrad(() => {
        const y = f(f(x, w), x);
        return mean(sum(mul(y, y), 1), 0);
      }, [x, w]);
    const a = grads((p, q) => runOp(twin, [p, q], {}, { backend: 'reference' })[0]!);
    const b = grads((p, q) => add(p, q));
    a.grads.forEach((g, i) => expect(Array.from(g!.dataSync())).toEqual(Array.from(b.grads[i]!.dataSync())));
    [a.loss, b.loss, ...a.grads, ...b.grads].forEach((t) => t!.dispose());
    expect(getBackend('reference').liveCount()).toBe(before);
    [x, w].forEach((t) => t.dispose());
  });

  it('lets the recorded function dispose its intermediates (the tape holds its own views)', async () => {
    const x = tensor(generate(new Rng(1), 'normal', N * K), [N, K], { backend: 'wasm' });
    const w = tensor(generate(new Rng(2), 'normal', K * H), [K, H], { backend: 'wasm' });
    const before = getBackend('wasm').liveCount();
    const run = (disposeEarly: boolean) =>
      valueAndGrad(() => {
        const h = matmul(x, w);
        const flat = h.reshape([N * H]);
        const out = mean(tanh(flat), 0);
        if (disposeEarly) [h, flat].forEach((t) => t.dispose());
        return out;
      }, [w]);
    const [a, b] = [run(false), run(true)];
    expect(Array.from(b.grads[0]!.dataSync())).toEqual(Array.from(a.grads[0]!.dataSync()));
    [a.loss, b.loss, a.grads[0]!, b.grads[0]!].forEach((t) => t.dispose());
    expect(getBackend('wasm').liveCount()).toBe(before);
    [x, w].forEach((t) => t.dispose());
  });

  it('keeps what the recorded function returns (state to carry), and it carries no history', () => {
    const x = tensor(generate(new Rng(1), 'normal', N * K), [N, K], { backend: 'reference' });
    const w = tensor(generate(new Rng(2), 'normal', K * H), [K, H], { backend: 'reference' });
    const { value, grads } = valueAndGrad(() => {
      const h = tanh(matmul(x, w));
      return { loss: mean(sum(h, 1), 0), state: h.reshape([N * H]) };
    }, [w]);
    expect(value.state.disposed).toBe(false);
    expect(value.state.dataSync().length).toBe(N * H);
    [x, w, value.loss, value.state, grads[0]!].forEach((t) => t.dispose());
  });

  it('names misuse: a tape used twice, a disposed input, an op without gradient, bad loss or wrt', () => {
    const x = tensor(generate(new Rng(1), 'normal', N * K), [N, K], { backend: 'reference' });
    const w = tensor(generate(new Rng(2), 'normal', K * H), [K, H], { backend: 'reference' });
    const tape = new Tape();
    const loss = tape.record(() => mean(sum(matmul(x, w), 1), 0));
    tape.backward(loss, [w]).forEach((g) => g?.dispose());
    expect(() => tape.backward(loss, [w])).toThrow(AutogradError);
    expect(() => tape.record(() => loss)).toThrow(/already used by backward\(\) or dispose\(\); make a new Tape for every step/);
    loss.dispose();

    const x2 = tensor(generate(new Rng(1), 'normal', N * K), [N, K], { backend: 'reference' });
    const t2 = new Tape();
    const l2 = t2.record(() => mean(sum(tanh(matmul(x2, w)), 1), 0));
    x2.dispose();
    expect(() => t2.backward(l2, [w])).toThrow(/input 'A' \[5, 4\] of matmul \(call #0 on the tape\) was disposed before backward\(\); tensors a recorded function uses from outside/);
    l2.dispose();

    const ids = tensor(Int32Array.from([0, 1, 1, 2, 0]), [N], { backend: 'reference' });
    const t3 = new Tape();
    const l3 = t3.record(() => mean(sum(embeddingBwd(ids, matmul(x, w), { vocab: 3 }), 1), 0));
    expect(() => t3.backward(l3, [w])).toThrow(/op 'embedding_bwd' \(call #1 on the tape\) has no gradient, but the loss depends on its output/);
    l3.dispose();

    expect(() => valueAndGrad(() => 3 as unknown as Tensor, [w])).toThrow(/fn must return the loss Tensor, or an object \{ loss: Tensor, ... \}/);
    expect(() => valueAndGrad(() => mean(sum(matmul(x, w), 1), 0), [ids])).toThrow(DTypeError);
    expect(() => new Tape().record(async () => 1)).toThrow(/fn must be synchronous/);
    [x, w, ids].forEach((t) => t.dispose());
  });
});
