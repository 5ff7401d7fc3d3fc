// concat: joins N >= 1 tensors along one axis, y = [x0 | x1 | ...]; each input is a strided row copy into its
// place in the (outer, Σ n_i, inner) view of y. Its gradient is one split of dy, so there is no concat_bwd.
import concatWgsl from '../../shaders/concat.wgsl';
import { DTypeError, ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec, Specs } from './op.js';
import { axisView, checkAxis, checkCopyDType, gpuCopyRows, split } from './slice.js';

export interface ConcatParams {
  /** The axis to join along (negative counts from the end). */
  axis: number;
}

/** Input names for messages; concat takes any number of inputs (past these, the engine names them by index). */
const NAMES = Array.from({ length: 64 }, (_, i) => `x${i}`);

function where(inputs: readonly Spec[]): string {
  return `concat(${inputs.map((s, i) => `x${i} ${fmtShape(s.shape)}`).join(', ')})`;
}

/** The axis in [0, rank) and each input's offset along it; validated. */
function layout(specs: Specs | readonly Spec[], p: ConcatParams): { axis: number; offsets: number[]; total: number } {
  const inputs = 'inputs' in specs ? specs.inputs : specs;
  const w = where(inputs);
  if (inputs.length < 1) throw new ShapeError(`${w}: expected at least one input`);
  const x0 = inputs[0]!;
  const axis = checkAxis(w, x0.shape, p.axis);
  const offsets: number[] = [];
  let total = 0;
  inputs.forEach((s, i) => {
    checkCopyDType(w, `x${i}`, s);
    if (s.dtype !== x0.dtype) throw new DTypeError(`${w}: every input must have the dtype of x0 (${x0.dtype}), x${i} is ${s.dtype}`);
    const same = s.shape.length === x0.shape.length && s.shape.every((d, k) => k === axis || d === x0.shape[k]);
    if (!same) {
      throw new ShapeError(`${w}: x${i} ${fmtShape(s.shape)} must match x0 ${fmtShape(x0.shape)} on every axis but the concat axis ${axis}`);
    }
    offsets.push(total);
    total += s.shape[axis]!;
  });
  return { axis, offsets, total };
}

export const concatOp: OpDef<ConcatParams> = {
  name: 'concat',
  family: 'concat',
  inputNames: NAMES,
  shapes(inputs, p) {
    const { axis, total } = layout(inputs, p);
    return [{ shape: inputs[0]!.shape.map((d, k) => (k === axis ? total : d)), dtype: inputs[0]!.dtype }];
  },
  reference(xs, specs, p) {
    const { axis, offsets, total } = layout(specs, p);
    const y = new Float64Array(sizeOf(specs.outputs[0]!.shape));
    specs.inputs.forEach((s, i) => {
      const { outer, n, inner } = axisView(s.shape, axis);
      for (let o = 0; o < outer; o++) y.set(xs[i]!.subarray(o * n * inner, (o + 1) * n * inner), (o * total + offsets[i]!) * inner);
    });
    return [y];
  },
  grad({ inputs, dOutputs, params }) {
    const dy = dOutputs[0];
    if (!dy) return inputs.map(() => null);
    const { axis } = layout(inputs, params);
    // One split op (not one slice per input): joining T steps costs O(T) decisions and calls in the backward too.
    const pieces = split(dy, axis, inputs.map((x) => x.shape[axis]!));
    return inputs.map((x, i) => (x.dtype === 'f32' ? pieces[i]! : null));
  },
  wasm(k, specs, p) {
    const { axis, offsets, total } = layout(specs, p);
    specs.inputs.forEach((s, i) => {
      const { outer, n, inner } = axisView(s.shape, axis);
      if (outer * n * inner === 0) return;
      k.exports['concat_fwd_f32']!(k.inputs[i]!, k.outputs[0]!, outer, n * inner, total * inner, offsets[i]! * inner);
    });
  },
  webgpu(gpu, specs, p) {
    const { axis, offsets, total } = layout(specs, p);
    specs.inputs.forEach((s, i) => {
      const { outer, n, inner } = axisView(s.shape, axis);
      if (outer * n * inner === 0) return;
      gpuCopyRows(gpu, concatWgsl, 'concat_fwd', gpu.inputs[i]!, gpu.outputs[0]!, outer, n * inner, n * inner, 0, total * inner, offsets[i]! * inner, outer * n * inner);
    });
  },
  cost(specs) {
    return { flops: 0, bytes: 8 * sizeOf(specs.outputs[0]!.shape) };
  },
};

/** Joins tensors along `axis` (negative counts from the end); all other dims must agree. */
export function concat(xs: readonly Tensor[], axis: number, opts: CallOptions = {}): Tensor {
  return runOp(concatOp, xs, { axis }, opts)[0]!;
}
