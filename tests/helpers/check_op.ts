// The op harness: for each case, (1) every backend's forward vs the float64 reference, (2) the reference
// gradient vs central finite differences in float64, (3) every backend's gradient vs the reference gradient.
// Failures name the case, backend, output and the first bad index. Leaks (live allocations) fail too.
import type { BackendName } from '../../src/backends/backend.js';
import type { DType } from '../../src/dtype.js';
import { getBackend, runOp, tensor, tidy } from '../../src/engine.js';
import type { OpDef, Spec, Specs } from '../../src/ops/op.js';
import { fmtShape, sizeOf } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { expectClose, type Tol } from './allclose.js';
import { generate, Rng, type Gen } from './rng.js';

export interface InputSpec {
  shape: number[];
  dtype?: DType;
  gen?: Gen;
}

export interface OpTolerances {
  /** float32 forward against the float64 reference. */
  fwd: Tol;
  /** float32 gradients against the float64 reference gradients. */
  bwd: Tol;
  /** float64 analytic gradient against central finite differences. */
  fd?: Tol;
}

export interface OpCase<P> {
  name: string;
  op: OpDef<P>;
  inputs: InputSpec[];
  params: P;
  tol: OpTolerances;
  seed?: number;
  /** Inputs not to differentiate (integer ids, or inputs with kinks at sampled points). */
  noGrad?: number[];
  /** Finite-difference step (relative to max(1, |x|)). */
  fdStep?: number;
  /** At most this many elements per input are probed by finite differences. */
  fdSamples?: number;
}

const FD_TOL: Tol = { atol: 1e-6, rtol: 1e-5 };

export function makeInputs<P>(c: OpCase<P>): { data: Float64Array[]; specs: Spec[] } {
  const rng = new Rng(c.seed ?? 1234);
  const data = c.inputs.map((s) => generate(rng, s.gen ?? (s.dtype === 'i32' ? { int: [0, 4] } : 'normal'), sizeOf(s.shape)));
  const specs = c.inputs.map((s) => ({ shape: s.shape, dtype: s.dtype ?? ('f32' as DType) }));
  return { data, specs };
}

function upload(data: Float64Array[], specs: Spec[], backend: BackendName): Tensor[] {
  return data.map((d, i) => tensor(specs[i]!.dtype === 'i32' ? Int32Array.from(d) : Float32Array.from(d), specs[i]!.shape, { dtype: specs[i]!.dtype, backend }));
}

function label<P>(c: OpCase<P>): string {
  return `${c.op.name} ${c.name} (${c.inputs.map((s) => fmtShape(s.shape)).join(', ')})`;
}

/** Runs the op (and its in-place updates) on a backend; returns every output as float64. */
async function forwardOn<P>(c: OpCase<P>, data: Float64Array[], specs: Spec[], backend: BackendName): Promise<Float64Array[]> {
  const xs = upload(data, specs, backend);
  try {
    const outs = runOp(c.op, xs, c.params, { backend });
    const results = await Promise.all(outs.map((t) => t.dataF64()));
    for (const i of c.op.inplace ?? []) results.push(await xs[i]!.dataF64());
    outs.forEach((t) => t.dispose());
    return results;
  } finally {
    xs.forEach((t) => t.dispose());
  }
}

/** Gradients of L = Σ_j w_j · out_j w.r.t. each input, computed with op.grad on one backend. */
async function gradOn<P>(c: OpCase<P>, data: Float64Array[], specs: Spec[], weights: Float64Array[], backend: BackendName): Promise<(Float64Array | null)[]> {
  const xs = upload(data, specs, backend);
  const outs = runOp(c.op, xs, c.params, { backend });
  const dOut = weights.map((w, i) => tensor(Float32Array.from(w), outs[i]!.shape, { backend }));
  // Like the autograd tape: a gradient's intermediates are freed when it returns.
  const grads = tidy(() => c.op.grad!({ inputs: xs, outputs: outs, dOutputs: dOut, params: c.params }));
  const result = await Promise.all(grads.map((g) => (g ? g.dataF64() : null)));
  const seen = new Set<Tensor>();
  for (const t of [...xs, ...outs, ...dOut, ...grads]) if (t && !seen.has(t)) (seen.add(t), t.dispose());
  return result;
}

function lossRef<P>(c: OpCase<P>, data: Float64Array[], specs: Specs, weights: Float64Array[]): number {
  const outs = c.op.reference(data.map((d) => Float64Array.from(d)), specs, c.params);
  let s = 0;
  outs.forEach((o, j) => o.forEach((v, k) => (s += v * weights[j]![k]!)));
  return s;
}

export async function checkOp<P>(c: OpCase<P>, backends: readonly BackendName[]): Promise<void> {
  const { data, specs } = makeInputs(c);
  const outSpecs = c.op.shapes(specs, c.params);
  const specsAll: Specs = { inputs: specs, outputs: outSpecs };
  const what = label(c);
  const live = new Map(['reference' as BackendName, ...backends].map((b) => [b, getBackend(b).liveCount()]));

  // (1) forward on every backend against the float64 reference (plus in-place results, after outputs).
  const expected = await forwardOn(c, data, specs, 'reference');
  for (const b of backends) {
    const got = await forwardOn(c, data, specs, b);
    got.forEach((g, j) => expectClose(g, expected[j]!, c.tol.fwd, `${what} on ${b}: output ${j}`));
  }
  if (!c.op.grad) return checkLeaks(live, what);

  // (2) the reference gradient against central finite differences, all in float64.
  const rng = new Rng((c.seed ?? 1234) + 1);
  const weights = outSpecs.map((s) => generate(rng, 'normal', sizeOf(s.shape)));
  const refGrads = await gradOn(c, data, specs, weights, 'reference');
  const fdTol = c.tol.fd ?? FD_TOL;
  for (let i = 0; i < data.length; i++) {
    if (specs[i]!.dtype !== 'f32' || c.noGrad?.includes(i)) continue;
    const g = refGrads[i];
    if (!g) throw new Error(`${what}: gradient for input ${c.op.inputNames[i]} is missing`);
    const n = data[i]!.length;
    const probes = n <= (c.fdSamples ?? 64) ? [...Array(n).keys()] : Array.from({ length: c.fdSamples ?? 64 }, () => rng.int(0, n));
    const fd = new Float64Array(probes.length);
    const an = new Float64Array(probes.length);
    probes.forEach((k, p) => {
      const x = data[i]![k]!;
      const h = (c.fdStep ?? 1e-6) * Math.max(1, Math.abs(x));
      const moved = Float64Array.from(data[i]!);
      const plus = data.map((d, j) => (j === i ? moved : d));
      moved[k] = x + h;
      const lp = lossRef(c, plus, specsAll, weights);
      moved[k] = x - h;
      const lm = lossRef(c, plus, specsAll, weights);
      fd[p] = (lp - lm) / (2 * h);
      an[p] = g[k]!;
    });
    expectClose(an, fd, fdTol, `${what}: d/d${c.op.inputNames[i]} analytic vs finite differences (probes ${probes.slice(0, 8).join(',')}…)`);
  }

  // (3) every backend's gradient against the reference gradient.
  for (const b of backends) {
    const got = await gradOn(c, data, specs, weights, b);
    got.forEach((g, i) => {
      const r = refGrads[i];
      if (!g || !r) return void (g !== r && fail(`${what} on ${b}: gradient ${i} present on one backend only`));
      expectClose(g, r, c.tol.bwd, `${what} on ${b}: d/d${c.op.inputNames[i]}`);
    });
  }
  checkLeaks(live, what);
}

function fail(msg: string): never {
  throw new Error(msg);
}

function checkLeaks(before: Map<BackendName, number>, what: string): void {
  for (const [b, n] of before) {
    const now = getBackend(b).liveCount();
    if (now !== n) throw new Error(`${what}: ${b} backend leaked ${now - n} allocations`);
  }
}

/** Odd sizes that hit SIMD (4-lane) and workgroup tails. */
export const ODD_SIZES = [1, 3, 5, 17, 33] as const;
