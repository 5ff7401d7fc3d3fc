// unary: y = f(x) element-wise (activations; g and log g as in models.md §C.3) and unary_bwd: dx = dy·f'(x).
// Every f is written in a form that does not overflow where the math is finite (sigmoid from e^-|x|, and so on).
import unaryWgsl from '../../shaders/unary.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';

export type UnaryFn = 'neg' | 'exp' | 'log' | 'sigmoid' | 'tanh' | 'softplus' | 'relu' | 'gelu' | 'silu' | 'g' | 'log_g';
export interface UnaryParams {
  fn: UnaryFn;
}

/** Kernel ids: the index here (assembly/kernels/unary.ts and shaders/unary.wgsl use the same order). */
export const UNARY_FNS: readonly UnaryFn[] = ['neg', 'exp', 'log', 'sigmoid', 'tanh', 'softplus', 'relu', 'gelu', 'silu', 'g', 'log_g'];
/** Rough flops per element, for the cost model. */
const FLOPS: Record<UnaryFn, number> = { neg: 1, exp: 20, log: 25, sigmoid: 25, tanh: 30, softplus: 50, relu: 1, gelu: 70, silu: 26, g: 27, log_g: 60 };

// ---- float64 math, written from the definitions -------------------------------------------------
export function sigmoid64(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const z = Math.exp(x);
  return z / (1 + z);
}
export function softplus64(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
/** erfc(t): Taylor series of erf below 2.5, Laplace's continued fraction above (about 1e-14 relative). */
export function erfc64(t: number): number {
  if (Number.isNaN(t)) return NaN;
  if (t < 0) return 2 - erfc64(-t);
  if (t < 2.5) {
    let term = t;
    let s = t;
    for (let n = 1; n < 80; n++) {
      term *= (-t * t) / n;
      s += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * s;
  }
  if (t > 27) return 0; // below 2^-1074
  let f = t;
  for (let k = 120; k >= 1; k--) f = t + k / 2 / f;
  return Math.exp(-t * t) / Math.sqrt(Math.PI) / f;
}
/** Φ(x), the standard normal CDF, and φ(x), its density. */
export function normCdf64(x: number): number {
  return 0.5 * erfc64(-x / Math.SQRT2);
}
export function normPdf64(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

export const UNARY_F64: Record<UnaryFn, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sigmoid: sigmoid64,
  tanh: Math.tanh,
  softplus: softplus64,
  relu: (x) => Math.max(x, 0),
  gelu: (x) => x * normCdf64(x),
  silu: (x) => x * sigmoid64(x),
  g: (x) => (x >= 0 ? x + 0.5 : sigmoid64(x)),
  log_g: (x) => (x >= 0 ? Math.log(x + 0.5) : -softplus64(-x)),
};

/** dy·f'(x). */
export const UNARY_BWD_F64: Record<UnaryFn, (x: number, dy: number) => number> = {
  neg: (_x, dy) => -dy,
  exp: (x, dy) => dy * Math.exp(x),
  log: (x, dy) => dy / x,
  sigmoid: (x, dy) => dy * sigmoid64(x) * sigmoid64(-x),
  tanh: (x, dy) => {
    const z = Math.exp(-2 * Math.abs(x)); // 1 - tanh² = 4z/(1+z)²
    return (dy * 4 * z) / ((1 + z) * (1 + z));
  },
  softplus: (x, dy) => dy * sigmoid64(x),
  relu: (x, dy) => (x > 0 ? dy : 0),
  gelu: (x, dy) => dy * (normCdf64(x) + x * normPdf64(x)),
  silu: (x, dy) => dy * sigmoid64(x) * (1 + x * sigmoid64(-x)),
  g: (x, dy) => (x >= 0 ? dy : dy * sigmoid64(x) * sigmoid64(-x)),
  log_g: (x, dy) => (x >= 0 ? dy / (x + 0.5) : dy * sigmoid64(-x)),
};

// ---- shapes ---------------------------------------------------------------------------------------
function fnId(op: string, p: UnaryParams): number {
  const id = UNARY_FNS.indexOf(p?.fn);
  if (id < 0) throw new OptionError(`${op}: unknown fn '${p?.fn}' (expected one of ${UNARY_FNS.join(', ')})`);
  return id;
}

function checkF32(where: string, s: Spec, name: string): void {
  if (s.dtype !== 'f32') throw new DTypeError(`${where}: input ${name} must be f32, got ${s.dtype}`);
}

function unaryShapes(inputs: readonly Spec[], p: UnaryParams): Spec[] {
  const where = `unary(${p?.fn}, x ${fmtShape(inputs[0]?.shape ?? [])})`;
  fnId(where, p);
  if (inputs.length !== 1) throw new ShapeError(`${where}: expected 1 input (x), got ${inputs.length}`);
  checkF32(where, inputs[0]!, 'x');
  return [{ shape: inputs[0]!.shape, dtype: 'f32' }];
}

function unaryBwdShapes(inputs: readonly Spec[], p: UnaryParams): Spec[] {
  const [x, dy] = inputs;
  const where = `unary_bwd(${p?.fn}, x ${fmtShape(x?.shape ?? [])}, dy ${fmtShape(dy?.shape ?? [])})`;
  fnId(where, p);
  if (inputs.length !== 2) throw new ShapeError(`${where}: expected 2 inputs (x, dy), got ${inputs.length}`);
  checkF32(where, x!, 'x');
  checkF32(where, dy!, 'dy');
  if (!sameShape(x!.shape, dy!.shape)) throw new ShapeError(`${where}: dy must have the shape of x`);
  return [{ shape: x!.shape, dtype: 'f32' }];
}

const WG = 256;
function workgroups(n: number, max: number): [number] {
  return [Math.max(1, Math.min(Math.ceil(n / WG), max))];
}

export const unaryOp: OpDef<UnaryParams> = {
  name: 'unary',
  family: 'unary',
  inputNames: ['x'],
  shapes: unaryShapes,
  reference([x], _specs, p) {
    const f = UNARY_F64[p.fn];
    return [x!.map((v) => f(v))];
  },
  grad({ inputs, dOutputs, params }) {
    const dy = dOutputs[0];
    return [dy ? runOp(unaryBwdOp, [inputs[0]!, dy], params)[0]! : null];
  },
  wasm(k, specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    if (n > 0) k.exports['unary_fwd_f32']!(k.inputs[0]!, k.outputs[0]!, n, fnId('unary', p));
  },
  webgpu(g, specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    if (n === 0) return;
    g.dispatch({
      shader: unaryWgsl,
      entry: 'unary_fwd',
      buffers: [g.inputs[0]!, g.outputs[0]!],
      uniforms: [n, fnId('unary', p)],
      overrides: { WG },
      workgroups: workgroups(n, g.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: n * FLOPS[p.fn], bytes: 8 * n };
  },
};

export const unaryBwdOp: OpDef<UnaryParams> = {
  name: 'unary_bwd',
  family: 'unary',
  inputNames: ['x', 'dy'],
  shapes: unaryBwdShapes,
  reference([x, dy], _specs, p) {
    const df = UNARY_BWD_F64[p.fn];
    return [x!.map((v, i) => df(v, dy![i]!))];
  },
  grad: null,
  wasm(k, specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    if (n > 0) k.exports['unary_bwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, n, fnId('unary_bwd', p));
  },
  webgpu(g, specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    if (n === 0) return;
    g.dispatch({
      shader: unaryWgsl,
      entry: 'unary_bwd',
      buffers: [g.inputs[0]!, g.inputs[1]!, g.outputs[0]!],
      uniforms: [n, fnId('unary_bwd', p)],
      overrides: { WG },
      workgroups: workgroups(n, g.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: n * (FLOPS[p.fn] + 2), bytes: 12 * n };
  },
};

// ---- user functions -----------------------------------------------------------------------------
/** f(x) element-wise. */
export function unary(x: Tensor, fn: UnaryFn, opts: CallOptions = {}): Tensor {
  return runOp(unaryOp, [x], { fn }, opts)[0]!;
}
export const neg = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'neg', opts);
export const exp = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'exp', opts);
export const log = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'log', opts);
export const sigmoid = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'sigmoid', opts);
export const tanh = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'tanh', opts);
export const softplus = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'softplus', opts);
export const relu = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'relu', opts);
/** x·Φ(x) (the erf form). */
export const gelu = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'gelu', opts);
export const silu = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'silu', opts);
/** g(x) = x + 0.5 for x ≥ 0, σ(x) below: positive and continuous (minGRU/minLSTM candidate, models.md §C.3). */
export const g = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'g', opts);
/** log g(x) = log(x + 0.5) for x ≥ 0, -softplus(-x) below. */
export const logG = (x: Tensor, opts?: CallOptions): Tensor => unary(x, 'log_g', opts);
