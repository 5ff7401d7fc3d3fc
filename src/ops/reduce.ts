// reduce: sum | mean | max over one axis (x seen as (outer, n, inner)), and reduce_bwd: dx from (x, y, dy).
// Tie rule for max: the whole gradient goes to the FIRST index along the axis where x equals the max (or is NaN).
import reduceWgsl from '../../shaders/reduce.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { fmtShape, normAxis, sameShape, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { GpuKernelContext, OpDef, Spec, Specs } from './op.js';

export interface ReduceParams {
  op: 'sum' | 'mean' | 'max';
  /** Negative counts from the end. */
  axis: number;
  /** Keep the reduced axis with size 1. */
  keepDims?: boolean;
}
const OPS = ['sum', 'mean', 'max'] as const;

export interface ReduceGeometry {
  outer: number;
  n: number;
  inner: number;
  axis: number;
}

export function reduceGeometry(shape: Shape, p: ReduceParams, where = 'reduce'): ReduceGeometry {
  const axis = normAxis(where, p.axis, shape.length);
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)), axis };
}

function reducedShape(shape: Shape, axis: number, keepDims: boolean | undefined): number[] {
  return keepDims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

function describe(p: ReduceParams): string {
  return `${p?.op}, axis ${p?.axis}${p?.keepDims ? ', keepDims' : ''}`;
}

function checkParams(where: string, p: ReduceParams, shape: Shape): ReduceGeometry {
  if (!OPS.includes(p?.op)) throw new OptionError(`${where}: unknown op '${p?.op}' (expected one of ${OPS.join(', ')})`);
  if (shape.length === 0) throw new ShapeError(`${where}: x must have rank >= 1 (got a scalar)`);
  const g = reduceGeometry(shape, p, where);
  if (g.n === 0 && p.op !== 'sum') throw new ShapeError(`${where}: ${p.op} over an empty axis (axis ${g.axis} of ${fmtShape(shape)} has size 0)`);
  return g;
}

function reduceShapes(inputs: readonly Spec[], p: ReduceParams): Spec[] {
  const x = inputs[0];
  const where = `reduce(${describe(p)}; x ${fmtShape(x?.shape ?? [])})`;
  if (inputs.length !== 1) throw new ShapeError(`${where}: expected 1 input (x), got ${inputs.length}`);
  if (x!.dtype !== 'f32') throw new DTypeError(`${where}: input x must be f32, got ${x!.dtype}`);
  const g = checkParams(where, p, x!.shape);
  return [{ shape: reducedShape(x!.shape, g.axis, p.keepDims), dtype: 'f32' }];
}

function reduceBwdShapes(inputs: readonly Spec[], p: ReduceParams): Spec[] {
  const [x, y, dy] = inputs;
  const where = `reduce_bwd(${describe(p)}; x ${fmtShape(x?.shape ?? [])}, y ${fmtShape(y?.shape ?? [])}, dy ${fmtShape(dy?.shape ?? [])})`;
  if (inputs.length !== 3) throw new ShapeError(`${where}: expected 3 inputs (x, y, dy), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: input ${['x', 'y', 'dy'][i]} must be f32, got ${s.dtype}`);
  });
  const g = checkParams(where, p, x!.shape);
  const want = reducedShape(x!.shape, g.axis, p.keepDims);
  if (!sameShape(y!.shape, want) || !sameShape(dy!.shape, want)) throw new ShapeError(`${where}: y and dy must have shape ${fmtShape(want)}`);
  return [{ shape: x!.shape, dtype: 'f32' }];
}

function reduceReference([x]: readonly Float64Array[], specs: Specs, p: ReduceParams): Float64Array[] {
  const { outer, n, inner } = reduceGeometry(specs.inputs[0]!.shape, p);
  const y = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc = p.op === 'max' ? -Infinity : 0;
      for (let k = 0; k < n; k++) {
        const v = x![(o * n + k) * inner + j]!;
        acc = p.op === 'max' ? (Number.isNaN(v) || v > acc ? v : acc) : acc + v;
        if (Number.isNaN(acc)) break;
      }
      y[o * inner + j] = p.op === 'mean' ? acc / n : acc;
    }
  }
  return [y];
}

function reduceBwdReference([x, y, dy]: readonly Float64Array[], specs: Specs, p: ReduceParams): Float64Array[] {
  const { outer, n, inner } = reduceGeometry(specs.inputs[0]!.shape, p);
  const dx = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const g = dy![o * inner + j]!;
      if (p.op !== 'max') {
        for (let k = 0; k < n; k++) dx[(o * n + k) * inner + j] = p.op === 'mean' ? g / n : g;
        continue;
      }
      const m = y![o * inner + j]!;
      for (let k = 0; k < n; k++) {
        const v = x![(o * n + k) * inner + j]!;
        if (v === m || Number.isNaN(v)) {
          dx[(o * n + k) * inner + j] = g;
          break;
        }
      }
    }
  }
  return [dx];
}

const OP_ID = { sum: 0, mean: 1, max: 2 } as const;

/** Workgroup size: a power of two, no wider than needed for short axes. */
function wgFor(n: number): number {
  return n <= 32 ? 32 : n <= 64 ? 64 : n <= 128 ? 128 : 256;
}

/** The WebGPU dispatch: a thread per output where neighbours read neighbouring columns (inner ≥ 16) or the axis
 *  is short; else a workgroup per output (long rows), as a 2-D grid past the per-dimension limit. */
type Entry = { entry: string };
function gpuReduce(g: GpuKernelContext, [wgEntry, colsEntry]: [Entry, Entry], buffers: GPUBuffer[], { outer, n, inner }: ReduceGeometry, p: ReduceParams): void {
  const count = outer * inner;
  const max = g.limits.maxComputeWorkgroupsPerDimension;
  const uniforms = [outer, n, inner, OP_ID[p.op]];
  if (inner >= 16 || n <= 16) {
    const WG = 64;
    g.dispatch({ shader: reduceWgsl, ...colsEntry, buffers, uniforms, overrides: { WG }, workgroups: [Math.max(1, Math.min(Math.ceil(count / WG), max))] });
  } else {
    const x = Math.max(1, Math.min(count, max));
    g.dispatch({ shader: reduceWgsl, ...wgEntry, buffers, uniforms, overrides: { WG: wgFor(n) }, workgroups: [x, Math.ceil(count / x)] });
  }
}

export const reduceOp: OpDef<ReduceParams> = {
  name: 'reduce',
  family: 'reduce',
  inputNames: ['x'],
  shapes: reduceShapes,
  reference: reduceReference,
  grad({ inputs, outputs, dOutputs, params }) {
    const dy = dOutputs[0];
    return [dy ? runOp(reduceBwdOp, [inputs[0]!, outputs[0]!, dy], params)[0]! : null];
  },
  wasm(k, specs, p) {
    const { outer, n, inner } = reduceGeometry(specs.inputs[0]!.shape, p);
    if (outer * inner === 0) return;
    const acc = inner > 1 && p.op !== 'max' ? k.scratch(12 * inner) : 0; // f64 sums + an f32 block row
    k.exports['reduce_fwd_f32']!(k.inputs[0]!, k.outputs[0]!, outer, n, inner, OP_ID[p.op], acc);
  },
  webgpu(g, specs, p) {
    const geo = reduceGeometry(specs.inputs[0]!.shape, p);
    if (geo.outer * geo.inner === 0) return;
    gpuReduce(g, [{ entry: 'reduce_fwd' }, { entry: 'reduce_fwd_cols' }], [g.inputs[0]!, g.outputs[0]!], geo, p);
  },
  cost(specs) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: n, bytes: 4 * (n + sizeOf(specs.outputs[0]!.shape)) };
  },
};

export const reduceBwdOp: OpDef<ReduceParams> = {
  name: 'reduce_bwd',
  family: 'reduce',
  inputNames: ['x', 'y', 'dy'],
  shapes: reduceBwdShapes,
  reference: reduceBwdReference,
  grad: null,
  wasm(k, specs, p) {
    const { outer, n, inner } = reduceGeometry(specs.inputs[0]!.shape, p);
    if (outer * n * inner === 0) return;
    const [x, y, dy] = k.inputs as [number, number, number];
    k.exports['reduce_bwd_f32']!(x, y, dy, k.outputs[0]!, outer, n, inner, OP_ID[p.op]);
  },
  webgpu(g, specs, p) {
    const geo = reduceGeometry(specs.inputs[0]!.shape, p);
    if (geo.outer * geo.n * geo.inner === 0) return;
    gpuReduce(g, [{ entry: 'reduce_bwd' }, { entry: 'reduce_bwd_cols' }], [...g.inputs, g.outputs[0]!], geo, p);
  },
  cost(specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    const m = sizeOf(specs.inputs[1]!.shape);
    return { flops: n, bytes: 4 * (n + 2 * m + (p.op === 'max' ? 2 * n : n)) };
  },
};

// ---- user functions -----------------------------------------------------------------------------
/** Reduces x over one axis. */
export function reduce(x: Tensor, params: ReduceParams, opts: CallOptions = {}): Tensor {
  return runOp(reduceOp, [x], { op: params.op, axis: params.axis, keepDims: !!params.keepDims }, opts)[0]!;
}
export const sum = (x: Tensor, axis: number, keepDims = false, opts?: CallOptions): Tensor => reduce(x, { op: 'sum', axis, keepDims }, opts);
export const mean = (x: Tensor, axis: number, keepDims = false, opts?: CallOptions): Tensor => reduce(x, { op: 'mean', axis, keepDims }, opts);
/** Maximum over an axis; its gradient goes to the first maximal element. */
export const max = (x: Tensor, axis: number, keepDims = false, opts?: CallOptions): Tensor => reduce(x, { op: 'max', axis, keepDims }, opts);
