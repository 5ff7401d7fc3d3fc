// The anatomy of an op: shape rules, float64 reference, gradient, cost, and one kernel per backend.
// Backends run kernels; they know nothing of tensors, autograd or models (architecture.md).
import type { DType } from '../dtype.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Shape and dtype of one input or output. */
export interface Spec {
  readonly shape: Shape;
  readonly dtype: DType;
}

export interface Specs {
  readonly inputs: readonly Spec[];
  readonly outputs: readonly Spec[];
}

/** What the wasm backend hands a kernel binding: the module's exports and fresh memory views. */
export interface WasmKernelContext {
  /** Exports of the instantiated module (kernels take pointers, sizes and strides). */
  readonly exports: Record<string, (...args: number[]) => number | void>;
  /** Byte offsets of inputs and outputs in wasm memory (16-byte aligned). */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Temporary 16-byte-aligned scratch space, freed when the op returns. */
  scratch(bytes: number): number;
  /** A fresh Float32Array view (never cache across calls: memory growth detaches views). */
  f32(ptr: number, length: number): Float32Array;
}

/** A uniform value: a plain number is a u32, {f32} a float, {i32} a signed integer. */
export type UniformValue = number | { f32: number } | { i32: number };

export interface GpuDispatch {
  /** WGSL source of the shader family (shaders/<stem>.wgsl). */
  shader: string;
  entry: string;
  /** Storage buffers at @binding(1), (2), ... in order; the uniform block (if any) is @binding(0). */
  buffers: readonly GPUBuffer[];
  uniforms?: readonly UniformValue[];
  /** `override` constants (workgroup sizes, tile sizes). */
  overrides?: Record<string, number>;
  workgroups: readonly [number, number?, number?];
}

/** What the WebGPU backend hands a kernel binding. */
export interface GpuKernelContext {
  readonly inputs: readonly GPUBuffer[];
  readonly outputs: readonly GPUBuffer[];
  /** Temporary storage buffer, destroyed once the submitted work is done. */
  scratch(bytes: number): GPUBuffer;
  /** Records one compute pass; passes run in order. */
  dispatch(d: GpuDispatch): void;
  readonly limits: { maxComputeWorkgroupsPerDimension: number; maxComputeInvocationsPerWorkgroup: number; maxComputeWorkgroupStorageSize: number };
}

/** Gradient of a forward op, written in terms of other ops (so it runs on any backend). */
export interface GradContext<P> {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /** Upstream gradients, one per output (null where the output received none). */
  readonly dOutputs: readonly (Tensor | null)[];
  readonly params: P;
}
export type GradFn<P> = (g: GradContext<P>) => (Tensor | null)[];

export interface Cost {
  flops: number;
  bytes: number;
}

export interface OpDef<P> {
  readonly name: string;
  /** The stem shared by the op's files in every tree (src/ops, assembly/kernels, shaders, tests/ops, bench/ops). */
  readonly family: string;
  /** Names of the inputs, for error messages. */
  readonly inputNames: readonly string[];
  /** Indices of inputs the op updates in place (adamw_step); such ops have no outputs. */
  readonly inplace?: readonly number[];
  /** Validates inputs and params and returns the output specs; throws naming op, shapes and expectation. */
  shapes(inputs: readonly Spec[], p: P): Spec[];
  /** Plain float64 loops written from the equations. In-place ops mutate the given arrays. */
  reference(inputs: readonly Float64Array[], specs: Specs, p: P): Float64Array[];
  /** Gradient w.r.t. each input; `null` marks an op that is itself a backward or not differentiable. */
  readonly grad: GradFn<P> | null;
  wasm(k: WasmKernelContext, specs: Specs, p: P): void;
  webgpu(g: GpuKernelContext, specs: Specs, p: P): void;
  cost(specs: Specs, p: P): Cost;
}
