// matmul: C = op(A)·op(B) (+ bias), op = optional transpose, batched over leading dims.
// A (..., M, K) or (..., K, M) with transA; B (..., K, N) or (..., N, K) with transB; bias (N); C (..., M, N).
// Batch dims must match, or one operand is 2-D and shared across the batch (weights).
import matmulWgsl from '../../shaders/matmul.wgsl';
import { DTypeError, RecurError, ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sameShape, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec, Specs, WasmKernelContext } from './op.js';
import { reduce } from './reduce.js';

export interface MatmulParams {
  transA?: boolean;
  transB?: boolean;
}

/** Dims and element strides of one call, shared by every backend's binding. */
export interface MatmulGeometry {
  batch: number; M: number; N: number; K: number;
  sAb: number; sAm: number; sAk: number;
  sBb: number; sBk: number; sBn: number;
  hasBias: boolean;
}

export function matmulGeometry(inputs: readonly Spec[], p: MatmulParams): MatmulGeometry {
  const [a, b] = inputs as [Spec, Spec];
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [ar, ac] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [br, bc] = [b.shape[rb - 2]!, b.shape[rb - 1]!];
  const M = p.transA ? ac : ar;
  const K = p.transA ? ar : ac;
  const N = p.transB ? br : bc;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  return {
    batch: Math.max(batchA, batchB), M, N, K,
    sAb: ra > 2 ? M * K : 0, sAm: p.transA ? 1 : K, sAk: p.transA ? M : 1,
    sBb: rb > 2 ? K * N : 0, sBk: p.transB ? 1 : N, sBn: p.transB ? K : 1,
    hasBias: inputs.length > 2,
  };
}

function matmulShapes(inputs: readonly Spec[], p: MatmulParams): Spec[] {
  const where = `matmul(A ${fmtShape(inputs[0]?.shape ?? [])}, B ${fmtShape(inputs[1]?.shape ?? [])}${p.transA ? ', transA' : ''}${p.transB ? ', transB' : ''})`;
  if (inputs.length < 2 || inputs.length > 3) throw new ShapeError(`${where}: expected inputs (A, B) or (A, B, bias), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: input ${['A', 'B', 'bias'][i]} must be f32, got ${s.dtype}`);
  });
  const [a, b] = inputs as [Spec, Spec];
  if (a.shape.length < 2 || b.shape.length < 2) throw new ShapeError(`${where}: A and B need rank >= 2`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (batchA.length && batchB.length && !sameShape(batchA, batchB)) {
    throw new ShapeError(`${where}: batch dims ${fmtShape(batchA)} and ${fmtShape(batchB)} differ (they must match, or one operand must be 2-D)`);
  }
  const g = matmulGeometry(inputs, p);
  const kB = p.transB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (g.K !== kB) throw new ShapeError(`${where}: inner dims differ (A gives K=${g.K}, B gives K=${kB})`);
  const bias = inputs[2];
  if (bias && !(bias.shape.length === 1 && bias.shape[0] === g.N)) {
    throw new ShapeError(`${where}: bias must have shape [${g.N}], got ${fmtShape(bias.shape)}`);
  }
  const batch: Shape = batchA.length ? batchA : batchB;
  return [{ shape: [...batch, g.M, g.N], dtype: 'f32' }];
}

function matmulReference(x: readonly Float64Array[], specs: Specs, p: MatmulParams): Float64Array[] {
  const [A, B, bias] = x as [Float64Array, Float64Array, Float64Array?];
  const g = matmulGeometry(specs.inputs, p);
  const C = new Float64Array(g.batch * g.M * g.N);
  for (let bt = 0; bt < g.batch; bt++) {
    for (let m = 0; m < g.M; m++) {
      for (let n = 0; n < g.N; n++) {
        let s = bias ? bias[n]! : 0;
        for (let k = 0; k < g.K; k++) s += A[bt * g.sAb + m * g.sAm + k * g.sAk]! * B[bt * g.sBb + k * g.sBk + n * g.sBn]!;
        C[(bt * g.M + m) * g.N + n] = s;
      }
    }
  }
  return [C];
}

export const matmulOp: OpDef<MatmulParams> = {
  name: 'matmul',
  family: 'matmul',
  inputNames: ['A', 'B', 'bias'],
  shapes: matmulShapes,
  reference: matmulReference,
  grad({ inputs, dOutputs, params: p }) {
    const [A, B, bias] = inputs as [Tensor, Tensor, Tensor?];
    const dC = dOutputs[0];
    if (!dC) return [null, null, null];
    const tA = !!p.transA;
    const tB = !!p.transB;
    let dA = tA ? matmul(B, dC, { transA: tB, transB: true }) : matmul(dC, B, { transB: !tB });
    let dB = tB ? matmul(dC, A, { transA: true, transB: tA }) : matmul(A, dC, { transA: !tA });
    // An operand shared across the batch gets the sum of the per-batch gradients.
    if (dA.shape.length > A.shape.length) dA = sumLeading(dA, A.shape);
    if (dB.shape.length > B.shape.length) dB = sumLeading(dB, B.shape);
    const dBias = bias ? reduce(dC.reshape([-1, dC.shape[dC.shape.length - 1]!]), { op: 'sum', axis: 0 }) : null;
    return bias ? [dA, dB, dBias] : [dA, dB];
  },
  wasm(k, specs, p) {
    const [a, b, bias] = k.inputs;
    matmulWasm(k, matmulGeometry(specs.inputs, p), a!, b!, bias ?? 0, k.outputs[0]!);
  },
  webgpu(gpu, specs, p) {
    const g = matmulGeometry(specs.inputs, p);
    const [a, b, bias] = gpu.inputs as [GPUBuffer, GPUBuffer, GPUBuffer?];
    // WG x WG invocations, each a 4x4 block of C: 64x64 tiles for large products, 32x32 for small ones.
    const WG = g.M >= 64 && g.N >= 64 && gpu.limits.maxComputeInvocationsPerWorkgroup >= 256 ? 16 : 8;
    const TILE = 4 * WG;
    const maxZ = gpu.limits.maxComputeWorkgroupsPerDimension;
    for (let z0 = 0; z0 < g.batch; z0 += maxZ) {
      gpu.dispatch({
        shader: matmulWgsl,
        entry: 'matmul_fwd',
        buffers: [a, b, bias ?? a, gpu.outputs[0]!],
        uniforms: [g.batch, g.M, g.N, g.K, g.sAb, g.sAm, g.sAk, g.sBb, g.sBk, g.sBn, g.hasBias ? 1 : 0, z0],
        overrides: { WG_X: WG, WG_Y: WG, BK: 16 },
        workgroups: [Math.ceil(g.N / TILE), Math.ceil(g.M / TILE), Math.min(maxZ, g.batch - z0)],
      });
    }
  },
  cost(specs, p) {
    const g = matmulGeometry(specs.inputs, p);
    const elems = specs.inputs.reduce((s, x) => s + sizeOf(x.shape), 0) + g.batch * g.M * g.N;
    return { flops: 2 * g.batch * g.M * g.N * g.K, bytes: 4 * elems };
  },
};

/** The wasm kernels: 'rows' / 'dot' for small M (memory-bound: B streamed once per 1-4 rows of A, B
 * row-major / transposed), 'packed' (cache-blocked GEMM on packed panels, compute-bound) otherwise. */
export type MatmulWasmPath = 'rows' | 'dot' | 'packed';

/** Up to this many rows the small-M kernels beat packing B (measured on 1024x3072 and 512x1536 weights)... */
const SMALL_M = 16;
/** ...as long as B (elements) stays in cache across their M/4 passes; beyond it only M <= 4 streams B. */
const SMALL_M_MAX_B = 1 << 21;

/** A batch whose B is shared (2-D) and whose A is row-major and contiguous is one GEMM with batch*M rows. */
export function foldSharedBatch(g: MatmulGeometry): MatmulGeometry {
  if (g.batch > 1 && g.sBb === 0 && g.sAk === 1 && g.sAm === g.K && g.sAb === g.M * g.K) {
    return { ...g, M: g.batch * g.M, batch: 1, sAb: 0 };
  }
  return g;
}

/** Which wasm kernel runs a (folded) geometry. K = 0 goes to a small-M kernel: it writes the bias (or 0). */
export function matmulWasmPath(g: MatmulGeometry): MatmulWasmPath {
  const small = g.K === 0 || g.M <= 4 || (g.M <= SMALL_M && g.K * g.N <= SMALL_M_MAX_B);
  if (small && g.sBn === 1) return 'rows';
  if (small && g.sBk === 1) return 'dot';
  return 'packed';
}

/** Runs one matmul on the wasm kernels; `path` forces a kernel (tests), else matmulWasmPath decides. */
export function matmulWasm(k: WasmKernelContext, geometry: MatmulGeometry, a: number, b: number, bias: number, c: number, path?: MatmulWasmPath): void {
  const g = foldSharedBatch(geometry);
  const via = path ?? matmulWasmPath(g);
  if (g.batch === 0 || g.M === 0 || g.N === 0) return;
  if ((via === 'rows' && g.sBn !== 1) || (via === 'dot' && g.sBk !== 1) || (via === 'packed' && g.K === 0)) {
    throw new RecurError(`matmul: wasm path '${via}' cannot run M=${g.M} N=${g.N} K=${g.K} with B strides (${g.sBk}, ${g.sBn})`);
  }
  const { batch, M, N, K, sAb, sAm, sAk, sBb, sBk, sBn } = g;
  if (via === 'rows') {
    k.exports['matmul_rows_f32']!(a, b, bias, c, batch, M, N, K, sAb, sAm, sAk, sBb, sBk);
  } else if (via === 'dot') {
    const work = sAk === 1 ? 0 : k.scratch(8 * K); // two gathered rows of a transposed A
    k.exports['matmul_dot_f32']!(a, b, bias, c, batch, M, N, K, sAb, sAm, sAk, sBb, sBn, work);
  } else {
    const work = k.scratch(k.exports['matmul_packed_scratch_bytes']!(M, N, K) as number);
    k.exports['matmul_packed_f32']!(a, b, bias, c, batch, M, N, K, sAb, sAm, sAk, sBb, sBk, sBn, work);
  }
}

/** Sums a gradient over the leading batch dims it has beyond `to` (for a 2-D operand shared across a batch). */
function sumLeading(t: Tensor, to: Shape): Tensor {
  const lead = t.shape.length - to.length;
  const flat = t.reshape([sizeOf(t.shape.slice(0, lead)), ...to]);
  return reduce(flat, { op: 'sum', axis: 0 });
}

export interface MatmulOptions extends MatmulParams, CallOptions {
  bias?: Tensor;
}

/** op(A)·op(B) (+ bias). */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const inputs = opts.bias ? [a, b, opts.bias] : [a, b];
  return runOp(matmulOp, inputs, { transA: !!opts.transA, transB: !!opts.transB }, opts)[0]!;
}
