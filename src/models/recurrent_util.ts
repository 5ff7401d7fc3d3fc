// Small pieces shared by the SRU, SRU++, GRU and LSTM layers: parameters from the model's Init stream, the time-major
// linear map (T, B, d_in) -> (T, B, d_out) as one GEMM, dropout masks from ForwardOptions.random, parameter counts.
import type { Parameter } from '../autograd/parameter.js';
import type { BackendName } from '../backends/backend.js';
import { tensor } from '../engine.js';
import { OptionError, ShapeError } from '../errors.js';
import { matmul } from '../ops/api.js';
import { fmtShape, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Init } from './init.js';

/** Where and how a layer's parameters are made: an Init (the model's stream, names prefixed by its scope), or a
 *  fresh stream from `seed` on `backend`. */
export interface LayerInitOptions {
  init?: Init;
  /** Seed of a fresh initialisation stream when no `init` is given (default 1). */
  seed?: number;
  /** Backend that holds the parameters when no `init` is given (default: the scheduler's default). */
  backend?: BackendName;
}

export function layerInit(o: LayerInitOptions): Init {
  return o.init ?? Init.create(o.seed ?? 1, o.backend);
}

/** n values uniform in (−bound, bound) from the init stream. */
export function uniformValues(init: Init, n: number, bound: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * init.rng.next() - 1) * bound;
  return out;
}

/** A Parameter from explicit values (rounded to float32, so every backend starts from the same numbers). */
export function makeParam(init: Init, name: string, values: ArrayLike<number>, shape: Shape): Parameter {
  if (values.length !== sizeOf(shape)) throw new ShapeError(`parameter '${name}': ${values.length} values for shape ${fmtShape(shape)}`);
  return init.fromValues(name, shape, Float32Array.from(values));
}

/** Xavier-uniform bound √(6 / (fan_in + fan_out)). */
export function xavierBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/** Total number of elements of a set of shapes (parameter counts without allocating). */
export function countOf(shapes: Readonly<Record<string, Shape>>): number {
  return Object.values(shapes).reduce((a, s) => a + sizeOf(s), 0);
}

/** x (T, B, d_in) · W (d_in, d_out) [+ bias] -> (T, B, d_out): one GEMM over all T·B rows. */
export function linear(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  const [T, B, d] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || w.shape[0] !== d) throw new ShapeError(`linear: input ${fmtShape(x.shape)} does not match weight ${fmtShape(w.shape)}`);
  const flat = x.reshape([T * B, d]);
  const y = matmul(flat, w, bias ? { bias } : {});
  flat.dispose();
  const out = y.reshape([T, B, w.shape[1]!]);
  y.dispose();
  return out;
}

/** Inverted-dropout keep mask of `shape` on `like`'s backend: Bernoulli(1 − p) / (1 − p). */
export function dropoutMask(shape: Shape, p: number, random: (() => number) | undefined, like: Tensor, what: string): Tensor {
  if (!random) throw new OptionError(`${what}: dropout ${p} in training needs ForwardOptions.random (the trainer's seeded RNG)`);
  const n = sizeOf(shape);
  const v = new Float32Array(n);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) v[i] = random() < p ? 0 : keep;
  return constant(v, shape, like);
}

/**
 * A constant tensor on `like`'s backend that a layer may dispose right after using it, even while a tape records:
 * it is a reshape view (the tape keeps its own view of those), and its source is freed at once. Without a tape,
 * disposing it frees the storage, so inference leaks nothing.
 */
export function constant(values: ArrayLike<number>, shape: Shape, like: Tensor): Tensor {
  const t = tensor(values, shape, { backend: like.backend.name });
  const view = t.reshape(shape);
  t.dispose();
  return view;
}

/** Checks an option is a number in [lo, hi) (or (lo, hi) when open), naming the layer and the option. */
export function checkRange(where: string, name: string, v: number, lo: number, hi: number): void {
  if (!(Number.isFinite(v) && v >= lo && v < hi)) throw new OptionError(`${where}: ${name} must be in [${lo}, ${hi}), got ${v}`);
}

export function checkSize(where: string, name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new OptionError(`${where}: ${name} must be an integer >= 1, got ${v}`);
}

/** Checks x is (T, B, d) with the given d. */
export function checkInput(where: string, x: Tensor, d: number): void {
  if (x.shape.length !== 3 || x.shape[2] !== d) throw new ShapeError(`${where}: input must be (T, B, ${d}), got ${fmtShape(x.shape)}`);
}
