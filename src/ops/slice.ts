// slice: y = x[..., start : start + size, ...] along one axis, and its backward slice_bwd, which scatters dy back
// into zeros of the original extent `dim`. Both are strided row copies in the (outer, n, inner) view of the axis.
// split: x cut along one axis into consecutive pieces, one op with one output per piece; its gradient is a single
// concat of the pieces' gradients (zeros where none arrived), so cutting a (T, ...) tensor into T steps costs O(T)
// forward and backward (T slices would cost O(T²) in the backward: T zero-padded slice_bwd the size of x, summed).
import sliceWgsl from '../../shaders/slice.wgsl';
import { DTypeError, ShapeError } from '../errors.js';
import { runOp, zeros, type CallOptions } from '../engine.js';
import { fmtShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
// concat.ts imports this file too: the cycle is safe, as neither module reads the other's exports at load time.
import { concatOp } from './concat.js';
import type { GpuKernelContext, OpDef, Spec } from './op.js';

export interface SliceParams {
  /** The axis to slice (negative counts from the end). */
  axis: number;
  /** First index kept along the axis, 0 <= start <= dim. */
  start: number;
  /** Number of indices kept, 0 <= size <= dim − start. */
  size: number;
}

/** slice_bwd's params: the forward's, plus the extent `dim` of the axis in the forward's input. */
export interface SliceBwdParams extends SliceParams {
  dim: number;
}

/** Threads per workgroup of the copy kernels (one element each). */
const WG = 256;

/** The axis of `shape` seen as (outer, n, inner): outer = Π shape[:axis], inner = Π shape[axis+1:]. */
export function axisView(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

/** Checks the axis against the rank (negative counts from the end) and returns it in [0, rank). */
export function checkAxis(where: string, shape: readonly number[], axis: number): number {
  const r = shape.length;
  const a = Number.isInteger(axis) && axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) {
    throw new ShapeError(`${where}: axis ${axis} is out of range for shape ${fmtShape(shape)} (rank ${r}: expected an integer in [${-r}, ${r - 1}])`);
  }
  return a;
}

/** f32 or i32 (shape ops copy bits, so ids slice too). */
export function checkCopyDType(where: string, name: string, s: Spec): void {
  if (s.dtype !== 'f32' && s.dtype !== 'i32') throw new DTypeError(`${where}: ${name} must be f32 or i32, got ${s.dtype}`);
}

/** Validates start and size against the extent of the axis. */
function checkRange(where: string, shape: readonly number[], axis: number, p: SliceParams, dim: number): void {
  const { start, size } = p;
  if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 0 || start + size > dim) {
    throw new ShapeError(
      `${where}: range [${start}, ${start} + ${size}) is out of bounds on axis ${axis} of shape ${fmtShape(shape)} (expected integers with 0 <= start, 0 <= size, start + size <= ${dim})`,
    );
  }
}

function one(op: string, name: string, inputs: readonly Spec[]): Spec {
  const where = `${op}(${inputs.map((s, i) => `${i === 0 ? name : `input ${i}`} ${fmtShape(s.shape)}`).join(', ')})`;
  if (inputs.length !== 1) throw new ShapeError(`${where}: expected one input (${name}), got ${inputs.length}`);
  checkCopyDType(where, name, inputs[0]!);
  return inputs[0]!;
}

/**
 * One strided row copy on the GPU: rows of `len` elements from src (row stride srcStride, offset srcOff) into dst
 * (row stride dstStride, offset dstOff); with `fill`, every dst element outside the copied rows is set to 0.
 */
export function gpuCopyRows(
  gpu: GpuKernelContext, shader: string, entry: string, src: GPUBuffer, dst: GPUBuffer,
  rows: number, len: number, srcStride: number, srcOff: number, dstStride: number, dstOff: number, total: number,
): void {
  const groups = Math.ceil(total / WG);
  const x = Math.min(groups, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch({
    shader, entry, buffers: [src, dst],
    uniforms: [rows, len, srcStride, srcOff, dstStride, dstOff, total],
    overrides: { WG },
    workgroups: [x, Math.ceil(groups / Math.max(x, 1))],
  });
}

export const sliceOp: OpDef<SliceParams> = {
  name: 'slice',
  family: 'slice',
  inputNames: ['x'],
  shapes(inputs, p) {
    const x = one('slice', 'x', inputs);
    const where = `slice(x ${fmtShape(x.shape)})`;
    const a = checkAxis(where, x.shape, p.axis);
    checkRange(where, x.shape, a, p, x.shape[a]!);
    return [{ shape: x.shape.map((d, i) => (i === a ? p.size : d)), dtype: x.dtype }];
  },
  reference([x], specs, p) {
    const a = checkAxis('slice', specs.inputs[0]!.shape, p.axis);
    const { outer, n, inner } = axisView(specs.inputs[0]!.shape, a);
    const len = p.size * inner;
    const y = new Float64Array(outer * len);
    for (let o = 0; o < outer; o++) y.set(x!.subarray((o * n + p.start) * inner, (o * n + p.start) * inner + len), o * len);
    return [y];
  },
  grad({ inputs, dOutputs, params }) {
    const dy = dOutputs[0];
    const x = inputs[0]!;
    if (!dy || x.dtype !== 'f32') return [null];
    const a = checkAxis('slice', x.shape, params.axis);
    return [sliceBwd(dy, { axis: a, start: params.start, size: params.size, dim: x.shape[a]! })];
  },
  wasm(k, specs, p) {
    const { outer, n, inner } = axisView(specs.inputs[0]!.shape, checkAxis('slice', specs.inputs[0]!.shape, p.axis));
    if (outer * p.size * inner === 0) return;
    k.exports['slice_fwd_f32']!(k.inputs[0]!, k.outputs[0]!, outer, n, inner, p.start, p.size);
  },
  webgpu(gpu, specs, p) {
    const { outer, n, inner } = axisView(specs.inputs[0]!.shape, checkAxis('slice', specs.inputs[0]!.shape, p.axis));
    const len = p.size * inner;
    if (outer * len === 0) return;
    gpuCopyRows(gpu, sliceWgsl, 'slice_fwd', gpu.inputs[0]!, gpu.outputs[0]!, outer, len, n * inner, p.start * inner, len, 0, outer * len);
  },
  cost(specs) {
    return { flops: 0, bytes: 8 * sizeOf(specs.outputs[0]!.shape) };
  },
};

export const sliceBwdOp: OpDef<SliceBwdParams> = {
  name: 'slice_bwd',
  family: 'slice',
  inputNames: ['dy'],
  shapes(inputs, p) {
    const dy = one('slice_bwd', 'dy', inputs);
    const where = `slice_bwd(dy ${fmtShape(dy.shape)})`;
    const a = checkAxis(where, dy.shape, p.axis);
    if (!Number.isInteger(p.dim) || p.dim < 0) throw new ShapeError(`${where}: dim ${p.dim} must be a non-negative integer (the forward input's extent on axis ${a})`);
    checkRange(where, dy.shape.map((d, i) => (i === a ? p.dim : d)), a, p, p.dim);
    if (dy.shape[a] !== p.size) throw new ShapeError(`${where}: dy must have extent ${p.size} (the slice size) on axis ${a}, got ${dy.shape[a]}`);
    return [{ shape: dy.shape.map((d, i) => (i === a ? p.dim : d)), dtype: dy.dtype }];
  },
  reference([dy], specs, p) {
    const a = checkAxis('slice_bwd', specs.inputs[0]!.shape, p.axis);
    const { outer, inner } = axisView(specs.inputs[0]!.shape, a);
    const len = p.size * inner;
    const dx = new Float64Array(outer * p.dim * inner);
    for (let o = 0; o < outer; o++) dx.set(dy!.subarray(o * len, (o + 1) * len), (o * p.dim + p.start) * inner);
    return [dx];
  },
  grad: null,
  wasm(k, specs, p) {
    const { outer, inner } = axisView(specs.inputs[0]!.shape, checkAxis('slice_bwd', specs.inputs[0]!.shape, p.axis));
    if (outer * p.dim * inner === 0) return;
    k.exports['slice_bwd_f32']!(k.inputs[0]!, k.outputs[0]!, outer, p.dim, inner, p.start, p.size);
  },
  webgpu(gpu, specs, p) {
    const { outer, inner } = axisView(specs.inputs[0]!.shape, checkAxis('slice_bwd', specs.inputs[0]!.shape, p.axis));
    const total = outer * p.dim * inner;
    if (total === 0) return;
    const len = p.size * inner;
    gpuCopyRows(gpu, sliceWgsl, 'slice_bwd', gpu.inputs[0]!, gpu.outputs[0]!, outer, len, len, 0, p.dim * inner, p.start * inner, total);
  },
  cost(specs) {
    return { flops: 0, bytes: 4 * sizeOf(specs.inputs[0]!.shape) + 4 * sizeOf(specs.outputs[0]!.shape) };
  },
};

/** x[..., start : start + size, ...] along `axis` (negative counts from the end); a new tensor (a copy). */
export function slice(x: Tensor, axis: number, start: number, size: number, opts: CallOptions = {}): Tensor {
  return runOp(sliceOp, [x], { axis, start, size }, opts)[0]!;
}

/** The gradient of slice: dy placed at [start, start + size) of axis, zeros elsewhere (extent `dim`). */
export function sliceBwd(dy: Tensor, p: SliceBwdParams, opts: CallOptions = {}): Tensor {
  return runOp(sliceBwdOp, [dy], p, opts)[0]!;
}

export interface SplitParams {
  /** The axis to cut (negative counts from the end). */
  axis: number;
  /** Extents of the consecutive pieces along the axis; non-negative integers adding up to its extent. */
  sizes: readonly number[];
}

/** Validates the sizes against x's shape; returns the axis in [0, rank) and each piece's start. */
function splitLayout(x: Spec, p: SplitParams): { axis: number; starts: number[] } {
  const where = `split(x ${fmtShape(x.shape)})`;
  const a = checkAxis(where, x.shape, p.axis);
  const sizes = Array.isArray(p.sizes) ? p.sizes : [];
  const total = sizes.reduce((s, n) => s + n, 0);
  if (sizes.length < 1 || sizes.some((n) => !Number.isInteger(n) || n < 0) || total !== x.shape[a]) {
    throw new ShapeError(`${where}: sizes [${sizes.join(', ')}] must be non-negative integers adding up to ${x.shape[a]} (axis ${a}), got a total of ${total}`);
  }
  const starts: number[] = [];
  let start = 0;
  for (const n of sizes) {
    starts.push(start);
    start += n;
  }
  return { axis: a, starts };
}

export const splitOp: OpDef<SplitParams> = {
  name: 'split',
  family: 'slice',
  inputNames: ['x'],
  shapes(inputs, p) {
    const x = one('split', 'x', inputs);
    const { axis } = splitLayout(x, p);
    return p.sizes.map((n) => ({ shape: x.shape.map((d, i) => (i === axis ? n : d)), dtype: x.dtype }));
  },
  reference([x], specs, p) {
    const { axis, starts } = splitLayout(specs.inputs[0]!, p);
    const { outer, n, inner } = axisView(specs.inputs[0]!.shape, axis);
    return p.sizes.map((size, j) => {
      const len = size * inner;
      const y = new Float64Array(outer * len);
      for (let o = 0; o < outer; o++) y.set(x!.subarray((o * n + starts[j]!) * inner, (o * n + starts[j]!) * inner + len), o * len);
      return y;
    });
  },
  grad({ inputs, dOutputs, params }) {
    const x = inputs[0]!;
    if (x.dtype !== 'f32' || dOutputs.every((d) => !d)) return [null];
    const { axis } = splitLayout(x, params);
    const pieces = params.sizes.map((n, j) => dOutputs[j] ?? zeros(x.shape.map((d, i) => (i === axis ? n : d)), { backend: x.backend.name }));
    return [runOp(concatOp, pieces, { axis })[0]!];
  },
  wasm(k, specs, p) {
    const { axis, starts } = splitLayout(specs.inputs[0]!, p);
    const { outer, n, inner } = axisView(specs.inputs[0]!.shape, axis);
    p.sizes.forEach((size, j) => {
      if (outer * size * inner > 0) k.exports['slice_fwd_f32']!(k.inputs[0]!, k.outputs[j]!, outer, n, inner, starts[j]!, size);
    });
  },
  webgpu(gpu, specs, p) {
    const { axis, starts } = splitLayout(specs.inputs[0]!, p);
    const { outer, n, inner } = axisView(specs.inputs[0]!.shape, axis);
    p.sizes.forEach((size, j) => {
      const len = size * inner;
      if (outer * len > 0) gpuCopyRows(gpu, sliceWgsl, 'slice_fwd', gpu.inputs[0]!, gpu.outputs[j]!, outer, len, n * inner, starts[j]! * inner, len, 0, outer * len);
    });
  },
  cost(specs) {
    return { flops: 0, bytes: 8 * sizeOf(specs.inputs[0]!.shape) };
  },
};

/** Cuts x along `axis` into consecutive pieces of the given sizes, which must add up to the axis' extent: one op
 *  call (split) whose gradient is one concat. */
export function split(x: Tensor, axis: number, sizes: readonly number[], opts: CallOptions = {}): Tensor[] {
  return runOp(splitOp, [x], { axis, sizes: [...sizes] }, opts);
}
