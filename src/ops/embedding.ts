// embedding: out[..., :] = table[ids[...], :]; backward scatter-adds dy rows into dtable (repeated ids accumulate).
// ids (...) i32, table (V, D) f32, out (..., D). An id outside [0, V) gives a zero row in every kernel and in
// the reference (kernels never read out of bounds); the user function throws on such ids when it can read them.
import embeddingWgsl from '../../shaders/embedding.wgsl';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec, Specs } from './op.js';
import { grid } from './rows.js';

type NoParams = Record<string, never>;

export interface EmbeddingBwdParams {
  /** V, the number of rows of the table the gradient is for. */
  vocab: number;
}

/** Threads per workgroup in both WGSL entries (the backward's tile of ids is this long). */
const WG = 64;

function embeddingShapes(inputs: readonly Spec[]): Spec[] {
  const [ids, table] = inputs;
  const where = `embedding(ids ${fmtShape(ids?.shape ?? [])} ${ids?.dtype ?? '?'}, table ${fmtShape(table?.shape ?? [])})`;
  if (inputs.length !== 2 || !ids || !table) throw new ShapeError(`${where}: expected inputs (ids, table), got ${inputs.length}`);
  if (ids.dtype !== 'i32') throw new DTypeError(`${where}: ids must be i32, got ${ids.dtype}`);
  if (table.dtype !== 'f32') throw new DTypeError(`${where}: table must be f32, got ${table.dtype}`);
  if (table.shape.length !== 2) throw new ShapeError(`${where}: table must be 2-D (V, D), got rank ${table.shape.length}`);
  return [{ shape: [...ids.shape, table.shape[1]!], dtype: 'f32' }];
}

function embeddingBwdShapes(inputs: readonly Spec[], p: EmbeddingBwdParams): Spec[] {
  const [ids, dy] = inputs;
  const where = `embedding_bwd(ids ${fmtShape(ids?.shape ?? [])} ${ids?.dtype ?? '?'}, dy ${fmtShape(dy?.shape ?? [])}, vocab ${p.vocab})`;
  if (inputs.length !== 2 || !ids || !dy) throw new ShapeError(`${where}: expected inputs (ids, dy), got ${inputs.length}`);
  if (ids.dtype !== 'i32') throw new DTypeError(`${where}: ids must be i32, got ${ids.dtype}`);
  if (dy.dtype !== 'f32') throw new DTypeError(`${where}: dy must be f32, got ${dy.dtype}`);
  if (!Number.isInteger(p.vocab) || p.vocab < 0) throw new OptionError(`${where}: vocab must be a non-negative integer`);
  if (dy.shape.length !== ids.shape.length + 1 || !sameShape(dy.shape.slice(0, -1), ids.shape)) {
    throw new ShapeError(`${where}: dy must have shape [...ids.shape, D] = [${[...ids.shape, 'D'].join(', ')}]`);
  }
  return [{ shape: [p.vocab, dy.shape[dy.shape.length - 1]!], dtype: 'f32' }];
}

/** N positions, V rows, D columns of one call. */
function dims(specs: Specs, V: number): { N: number; V: number; D: number } {
  const out = specs.outputs[0]!.shape;
  const D = out[out.length - 1]!;
  return { N: sizeOf(specs.inputs[0]!.shape), V, D };
}

export const embeddingOp: OpDef<NoParams> = {
  name: 'embedding',
  family: 'embedding',
  inputNames: ['ids', 'table'],
  shapes: embeddingShapes,
  reference([ids, table], specs) {
    const { N, V, D } = dims(specs, specs.inputs[1]!.shape[0]!);
    const out = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      const id = ids![n]!;
      if (id < 0 || id >= V) continue; // an out-of-range id reads nothing: zero row
      for (let d = 0; d < D; d++) out[n * D + d] = table![id * D + d]!;
    }
    return [out];
  },
  grad({ inputs, dOutputs }) {
    const [ids, table] = inputs as [Tensor, Tensor];
    const dy = dOutputs[0];
    return [null, dy ? embeddingBwd(ids, dy, { vocab: table.shape[0]! }) : null];
  },
  wasm(k, specs) {
    const { N, V, D } = dims(specs, specs.inputs[1]!.shape[0]!);
    k.exports['embedding_fwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, N, V, D);
  },
  webgpu(gpu, specs) {
    const { N, V, D } = dims(specs, specs.inputs[1]!.shape[0]!);
    if (N * D === 0) return;
    gpu.dispatch({
      shader: embeddingWgsl,
      entry: 'embedding_fwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.outputs[0]!],
      uniforms: [N, V, D],
      overrides: { WG },
      workgroups: grid(Math.ceil((N * D) / WG), gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs) {
    const { N, D } = dims(specs, specs.inputs[1]!.shape[0]!);
    return { flops: 0, bytes: 4 * (N + 2 * N * D) };
  },
};

export const embeddingBwdOp: OpDef<EmbeddingBwdParams> = {
  name: 'embedding_bwd',
  family: 'embedding',
  inputNames: ['ids', 'dy'],
  shapes: embeddingBwdShapes,
  reference([ids, dy], specs, p) {
    const { N, V, D } = dims(specs, p.vocab);
    const dtable = new Float64Array(V * D);
    for (let n = 0; n < N; n++) {
      const id = ids![n]!;
      if (id < 0 || id >= V) continue;
      for (let d = 0; d < D; d++) dtable[id * D + d] = dtable[id * D + d]! + dy![n * D + d]!;
    }
    return [dtable];
  },
  grad: null,
  wasm(k, specs, p) {
    const { N, V, D } = dims(specs, p.vocab);
    k.exports['embedding_bwd_f32']!(k.inputs[0]!, k.inputs[1]!, k.outputs[0]!, N, V, D);
  },
  // WebGPU has no float atomics, so the scatter-add is a gather: one workgroup per table row v scans every id
  // in tiles of WG, compacts the matching positions in order (deterministic sums) and adds their dy rows.
  // Cost: V·N id reads (+ log2(WG) barrier steps per tile) besides the N·D dy reads; fine for V up to a few
  // thousand and N·V up to ~1e8; a sort-based version is the upgrade for large vocabularies.
  webgpu(gpu, specs, p) {
    const { N, V, D } = dims(specs, p.vocab);
    if (V * D === 0) return;
    gpu.dispatch({
      shader: embeddingWgsl,
      entry: 'embedding_bwd',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.outputs[0]!],
      uniforms: [N, V, D],
      overrides: { WG },
      workgroups: grid(V, gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  },
  cost(specs, p) {
    const { N, V, D } = dims(specs, p.vocab);
    return { flops: N * D, bytes: 4 * (N + N * D + V * D) };
  },
};

export interface EmbeddingOptions extends CallOptions {
  /** Skip reading CPU-resident ids to check their range (out-of-range ids then give zero rows). */
  unchecked?: boolean;
}

/** Throws naming the first index outside [0, V) (other than `ignore`), its position and V, when the indices
 *  live on a backend that reads synchronously (reference, wasm); GPU-resident indices are left to the kernels. */
export function checkIndexRange(op: string, noun: string, ids: Tensor, V: number, ignore?: number): void {
  if (ids.dtype !== 'i32' || !ids.backend.readSync) return;
  const data = ids.dataSync();
  for (let i = 0; i < data.length; i++) {
    const id = data[i]!;
    if ((id < 0 || id >= V) && id !== ignore) {
      const pos = unravel(i, ids.shape);
      throw new OptionError(`${op}: ${noun} ${id} at position [${pos.join(', ')}] of ${fmtShape(ids.shape)} is out of range [0, ${V})${ignore !== undefined ? ` (${ignore} means ignore)` : ''}`);
    }
  }
}

function unravel(i: number, shape: readonly number[]): number[] {
  const pos = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    pos[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return pos;
}

/** Looks up rows of `table` (V, D) for integer `ids` (any shape): out (...ids.shape, D). */
export function embedding(ids: Tensor, table: Tensor, opts: EmbeddingOptions = {}): Tensor {
  if (!opts.unchecked && table.shape.length === 2) checkIndexRange('embedding', 'id', ids, table.shape[0]!);
  return runOp(embeddingOp, [ids, table], {}, opts)[0]!;
}

/** Gradient of embedding w.r.t. the table: dtable (V, D) = Σ over positions n with ids[n] = v of dy[n]. */
export function embeddingBwd(ids: Tensor, dy: Tensor, p: EmbeddingBwdParams, opts: CallOptions = {}): Tensor {
  return runOp(embeddingBwdOp, [ids, dy], { vocab: p.vocab }, opts)[0]!;
}
