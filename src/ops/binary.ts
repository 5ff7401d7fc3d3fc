// binary: c = a ∘ b element-wise (add, sub, mul, div) with NumPy broadcasting of a and b.
// Kernels see collapsed geometry: output dims with per-operand element strides (0 on broadcast axes).
import binaryWgsl from '../../shaders/binary.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { broadcastShapes, fmtShape, sameShape, sizeOf, stridesOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';
import { reduce } from './reduce.js';
import { neg } from './unary.js';

export type BinaryFn = 'add' | 'sub' | 'mul' | 'div';
export interface BinaryParams {
  fn: BinaryFn;
}
/** Kernel ids: the index here (assembly/kernels/binary.ts and shaders/binary.wgsl use the same order). */
export const BINARY_FNS: readonly BinaryFn[] = ['add', 'sub', 'mul', 'div'];
const F64: Record<BinaryFn, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};
/** The WGSL kernel takes up to this many collapsed dims in its uniform block. */
export const GPU_MAX_RANK = 6;

/** Output dims after dropping size-1 axes and merging axes contiguous in both operands; strides in elements. */
export interface BinaryGeometry {
  dims: number[];
  sa: number[];
  sb: number[];
}

function operandStrides(shape: Shape, rank: number): number[] {
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const st = stridesOf(padded);
  return padded.map((d, i) => (d === 1 ? 0 : st[i]!));
}

export function binaryGeometry(a: Shape, b: Shape, out: Shape): BinaryGeometry {
  const sa0 = operandStrides(a, out.length);
  const sb0 = operandStrides(b, out.length);
  const g: BinaryGeometry = { dims: [], sa: [], sb: [] };
  out.forEach((d, i) => {
    if (d === 1) return;
    const k = g.dims.length - 1;
    if (k >= 0 && g.sa[k] === sa0[i]! * d && g.sb[k] === sb0[i]! * d) {
      g.dims[k]! *= d;
      g.sa[k] = sa0[i]!;
      g.sb[k] = sb0[i]!;
    } else {
      g.dims.push(d);
      g.sa.push(sa0[i]!);
      g.sb.push(sb0[i]!);
    }
  });
  if (!g.dims.length) return { dims: [1], sa: [0], sb: [0] };
  return g;
}

function fnId(where: string, p: BinaryParams): number {
  const id = BINARY_FNS.indexOf(p?.fn);
  if (id < 0) throw new OptionError(`${where}: unknown fn '${p?.fn}' (expected one of ${BINARY_FNS.join(', ')})`);
  return id;
}

function binaryShapes(inputs: readonly Spec[], p: BinaryParams): Spec[] {
  const where = `binary(${p?.fn}, a ${fmtShape(inputs[0]?.shape ?? [])}, b ${fmtShape(inputs[1]?.shape ?? [])})`;
  fnId(where, p);
  if (inputs.length !== 2) throw new ShapeError(`${where}: expected 2 inputs (a, b), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: input ${'ab'[i]} must be f32, got ${s.dtype}`);
  });
  return [{ shape: broadcastShapes(where, inputs[0]!.shape, inputs[1]!.shape), dtype: 'f32' }];
}

/** Loops over output coordinates; each operand index drops the coordinates of its size-1 (broadcast) axes. */
function binaryReference(x: readonly Float64Array[], specs: { inputs: readonly Spec[]; outputs: readonly Spec[] }, p: BinaryParams): Float64Array[] {
  const out = specs.outputs[0]!.shape;
  const r = out.length;
  const [sa, sb] = [operandStrides(specs.inputs[0]!.shape, r), operandStrides(specs.inputs[1]!.shape, r)];
  const c = new Float64Array(sizeOf(out));
  const f = F64[p.fn];
  for (let i = 0; i < c.length; i++) {
    let [rest, ia, ib] = [i, 0, 0];
    for (let k = r - 1; k >= 0; k--) {
      const coord = rest % out[k]!;
      rest = Math.floor(rest / out[k]!);
      ia += coord * sa[k]!;
      ib += coord * sb[k]!;
    }
    c[i] = f(x[0]![ia]!, x[1]![ib]!);
  }
  return [c];
}

/** Sums t over the axes that broadcasting added to reach it from `shape`; disposes t when it is `owned` and reduced. */
export function sumTo(t: Tensor, shape: Shape, owned: boolean): Tensor {
  if (sameShape(t.shape, shape)) return owned ? t : t.reshape(shape);
  let cur = t;
  const step = (next: Tensor): void => {
    if (cur !== t || owned) cur.dispose();
    cur = next;
  };
  const lead = t.shape.length - shape.length;
  if (lead > 0) {
    const flat = t.reshape([sizeOf(t.shape.slice(0, lead)), ...t.shape.slice(lead)]);
    const summed = reduce(flat, { op: 'sum', axis: 0 });
    flat.dispose();
    step(summed);
  }
  shape.forEach((d, i) => {
    if (d === 1 && cur.shape[i] !== 1) step(reduce(cur, { op: 'sum', axis: i, keepDims: true }));
  });
  return cur;
}

export const binaryOp: OpDef<BinaryParams> = {
  name: 'binary',
  family: 'binary',
  inputNames: ['a', 'b'],
  shapes: binaryShapes,
  reference: binaryReference,
  grad({ inputs, outputs, dOutputs, params }) {
    const [a, b] = inputs as [Tensor, Tensor];
    const dy = dOutputs[0];
    if (!dy) return [null, null];
    switch (params.fn) {
      case 'add':
        return [sumTo(dy, a.shape, false), sumTo(dy, b.shape, false)];
      case 'sub': {
        const db = sumTo(dy, b.shape, false);
        const negDb = neg(db);
        db.dispose();
        return [sumTo(dy, a.shape, false), negDb];
      }
      case 'mul':
        return [sumTo(mul(dy, b), a.shape, true), sumTo(mul(dy, a), b.shape, true)];
      case 'div': {
        // da = dy/b; db = -dy·a/b² = -(dy·c)/b with c = a/b (no b² to overflow)
        const dyc = mul(dy, outputs[0]!);
        const q = div(dyc, b);
        dyc.dispose();
        const db = sumTo(q, b.shape, true);
        const negDb = neg(db);
        db.dispose();
        return [sumTo(div(dy, b), a.shape, true), negDb];
      }
    }
  },
  wasm(k, specs, p) {
    const out = specs.outputs[0]!.shape;
    if (sizeOf(out) === 0) return;
    const g = binaryGeometry(specs.inputs[0]!.shape, specs.inputs[1]!.shape, out);
    const r = g.dims.length;
    const meta = k.scratch(16 * r); // dims, sa, sb, and r counters the kernel uses
    const view = k.f32(meta, 4 * r);
    new Int32Array(view.buffer, view.byteOffset, 3 * r).set([...g.dims, ...g.sa, ...g.sb]);
    k.exports['binary_fwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, fnId('binary', p), r, meta);
  },
  webgpu(gpu, specs, p) {
    const out = specs.outputs[0]!.shape;
    const n = sizeOf(out);
    if (n === 0) return;
    const g = binaryGeometry(specs.inputs[0]!.shape, specs.inputs[1]!.shape, out);
    const r = g.dims.length;
    if (r > GPU_MAX_RANK) {
      throw new ShapeError(`binary(${p.fn}, a ${fmtShape(specs.inputs[0]!.shape)}, b ${fmtShape(specs.inputs[1]!.shape)}): the broadcast needs ${r} collapsed dims; the WebGPU kernel takes at most ${GPU_MAX_RANK}`);
    }
    const pad = (xs: number[], v: number): number[] => [...new Array<number>(GPU_MAX_RANK - r).fill(v), ...xs];
    const WG = 256;
    gpu.dispatch({
      shader: binaryWgsl,
      entry: 'binary_fwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.outputs[0]!],
      uniforms: [n, fnId('binary', p), r, ...pad(g.dims, 1), ...pad(g.sa, 0), ...pad(g.sb, 0)],
      overrides: { WG },
      workgroups: [Math.max(1, Math.min(Math.ceil(n / WG), gpu.limits.maxComputeWorkgroupsPerDimension))],
    });
  },
  cost(specs) {
    const n = sizeOf(specs.outputs[0]!.shape);
    return { flops: n, bytes: 4 * (n + sizeOf(specs.inputs[0]!.shape) + sizeOf(specs.inputs[1]!.shape)) };
  },
};

// ---- user functions -----------------------------------------------------------------------------
/** a ∘ b with NumPy broadcasting. */
export function binary(a: Tensor, b: Tensor, fn: BinaryFn, opts: CallOptions = {}): Tensor {
  return runOp(binaryOp, [a, b], { fn }, opts)[0]!;
}
export const add = (a: Tensor, b: Tensor, opts?: CallOptions): Tensor => binary(a, b, 'add', opts);
export const sub = (a: Tensor, b: Tensor, opts?: CallOptions): Tensor => binary(a, b, 'sub', opts);
export const mul = (a: Tensor, b: Tensor, opts?: CallOptions): Tensor => binary(a, b, 'mul', opts);
export const div = (a: Tensor, b: Tensor, opts?: CallOptions): Tensor => binary(a, b, 'div', opts);
