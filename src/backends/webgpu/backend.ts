// The WebGPU backend: GPUBuffer storage, WGSL kernels recorded into one pending command encoder,
// submitted when reading, on sync(), or every FLUSH_EVERY dispatches. Device loss makes every call throw.
import { typedArrayFor, type TypedArray } from '../../dtype.js';
import { DeviceLostError, RecurError } from '../../errors.js';
import type { GpuDispatch, GpuKernelContext, OpDef, Spec, Specs, UniformValue } from '../../ops/op.js';
import { fmtShape, sizeOf } from '../../shape.js';
import type { Backend } from '../backend.js';
import { acquireGpuDevice, type GpuDevice, type GpuDeviceInfo } from './device.js';
import { PipelineCache } from './pipelines.js';

/** Dispatches recorded before the pending encoder is submitted without being asked. */
export const FLUSH_EVERY = 32;

// GPUBufferUsage / GPUMapMode bits (numeric, so nothing depends on the globals being installed).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;

/** Packs uniforms per docs/engine.md: a number is a u32, {f32}, {i32}; 4 bytes each, size rounded up to 16. */
export function packUniforms(values: readonly UniformValue[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  values.forEach((v, i) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RecurError(`webgpu: uniform ${i} = ${v} is not a u32 (use {f32: x} or {i32: x})`);
      dv.setUint32(i * 4, v, true);
    } else if ('f32' in v) dv.setFloat32(i * 4, v.f32, true);
    else dv.setInt32(i * 4, v.i32, true);
  });
  return buf;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly readSync = null;
  readonly pipelines: PipelineCache;
  private live = new Set<GPUBuffer>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private recordedEntries = new Set<string>();
  /** Buffers the pending encoder uses: writing or destroying them must wait for its submission. */
  private pendingUse = new Set<GPUBuffer>();
  /** Uniform, scratch and freed buffers destroyed once the pending work is submitted. */
  private afterSubmit: GPUBuffer[] = [];
  private checks = new Set<Promise<void>>();
  private deferredError: RecurError | null = null;
  submits = 0;
  dispatches = 0;

  constructor(readonly gpu: GpuDevice) {
    this.pipelines = new PipelineCache(gpu.device);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }
  get limits(): GpuDeviceInfo['limits'] {
    return this.gpu.info.limits;
  }
  /** Resolves with the reason when the device is lost (for the scheduler and tests). */
  whenLost(): Promise<string> {
    return this.gpu.lost;
  }
  onLost(listener: (reason: string) => void): void {
    this.gpu.onLost(listener);
  }

  alloc(spec: Spec): GPUBuffer {
    this.check(`alloc ${fmtShape(spec.shape)} ${spec.dtype}`);
    const bytes = Math.max(4, sizeOf(spec.shape) * 4);
    const max = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > max) {
      throw new RecurError(`webgpu: a ${fmtShape(spec.shape)} ${spec.dtype} tensor needs ${bytes} bytes, over this device's storage binding limit of ${max} bytes`);
    }
    const buf = this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
    this.live.add(buf);
    return buf;
  }

  free(storage: unknown): void {
    const buf = storage as GPUBuffer;
    if (!this.live.delete(buf)) return;
    if (!this.pendingUse.has(buf)) return buf.destroy();
    this.afterSubmit.push(buf);
    if (this.afterSubmit.length > 256) this.flush(); // do not hold freed memory hostage to the next read
  }

  write(storage: unknown, spec: Spec, data: ArrayLike<number>): void {
    this.check(`write ${fmtShape(spec.shape)}`);
    const n = sizeOf(spec.shape);
    if (n === 0) return;
    const buf = storage as GPUBuffer;
    if (this.pendingUse.has(buf)) this.flush(); // queue writes run before unsubmitted commands
    const Ctor = spec.dtype === 'i32' ? Int32Array : Float32Array;
    let arr: Float32Array | Int32Array;
    if (data instanceof Ctor && data.length === n) arr = data;
    else (arr = new Ctor(n)).set(data);
    this.device.queue.writeBuffer(buf, 0, arr.buffer, arr.byteOffset, n * 4);
  }

  async read(storage: unknown, spec: Spec): Promise<TypedArray> {
    this.check(`read ${fmtShape(spec.shape)}`);
    const n = sizeOf(spec.shape);
    const out = typedArrayFor(spec.dtype, n);
    if (n === 0) {
      this.flush();
      await this.settle('read');
      return out;
    }
    const staging = this.device.createBuffer({ size: n * 4, usage: MAP_READ | COPY_DST });
    this.endPass();
    this.encoderNow().copyBufferToBuffer(storage as GPUBuffer, 0, staging, 0, n * 4);
    this.pendingUse.add(storage as GPUBuffer);
    this.flush();
    try {
      await staging.mapAsync(1 /* GPUMapMode.READ */);
      out.set(spec.dtype === 'i32' ? new Int32Array(staging.getMappedRange(0, n * 4)) : new Float32Array(staging.getMappedRange(0, n * 4)));
      staging.unmap();
    } catch (e) {
      throw await this.explainFailure(e, `read ${fmtShape(spec.shape)}`);
    } finally {
      staging.destroy();
    }
    await this.settle('read');
    return out;
  }

  run<P>(op: OpDef<P>, inputs: readonly unknown[], outputs: readonly unknown[], specs: Specs, p: P): void {
    this.check(op.name);
    const scratch: GPUBuffer[] = [];
    const ctx: GpuKernelContext = {
      inputs: inputs as GPUBuffer[],
      outputs: outputs as GPUBuffer[],
      limits: this.limits,
      scratch: (bytes) => {
        const b = this.device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: STORAGE | COPY_SRC | COPY_DST, label: `${op.name} scratch` });
        scratch.push(b);
        return b;
      },
      dispatch: (d) => this.dispatch(op.name, d),
    };
    try {
      op.webgpu(ctx, specs, p);
    } finally {
      // Scratch lives until the submission holding this op's last dispatch (flushes inside the op keep it).
      for (const b of scratch) this.pendingUse.has(b) ? this.afterSubmit.push(b) : b.destroy();
    }
    if (this.recorded >= FLUSH_EVERY) this.flush();
  }

  /** Creates the pipelines the op's kernel dispatches for these shapes, asynchronously (nothing is recorded). */
  async prepare<P>(op: OpDef<P>, specs: Specs, p: P): Promise<void> {
    this.check(op.name);
    const wanted: GpuDispatch[] = [];
    // The kernel runs against placeholders: it only passes buffers through to dispatch(), which collects.
    const none = {} as GPUBuffer;
    op.webgpu(
      { inputs: specs.inputs.map(() => none), outputs: specs.outputs.map(() => none), limits: this.limits, scratch: () => none, dispatch: (d) => void wanted.push(d) },
      specs,
      p,
    );
    await Promise.all(wanted.map((d) => this.pipelines.prepare(d.shader, d.entry, d.overrides)));
    this.check(op.name);
  }

  private dispatch(opName: string, d: GpuDispatch): void {
    this.check(`${opName} (${d.entry})`);
    const [x, y = 1, z = 1] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return; // zero-size tensors: nothing to do
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new RecurError(`webgpu: ${opName} (${d.entry}): dispatch [${x}, ${y}, ${z}] exceeds maxComputeWorkgroupsPerDimension ${max}; the op's binding must split it`);
    }
    const pipeline = this.pipelines.get(d.shader, d.entry, d.overrides);
    const entries: GPUBindGroupEntry[] = [];
    if (d.uniforms?.length) {
      const data = packUniforms(d.uniforms);
      const ub = this.device.createBuffer({ size: data.byteLength, usage: UNIFORM, mappedAtCreation: true, label: `${d.entry} uniforms` });
      new Uint8Array(ub.getMappedRange()).set(new Uint8Array(data));
      ub.unmap();
      this.afterSubmit.push(ub);
      entries.push({ binding: 0, resource: { buffer: ub } });
    }
    d.buffers.forEach((b, i) => {
      entries.push({ binding: i + 1, resource: { buffer: b } });
      this.pendingUse.add(b);
    });
    this.device.pushErrorScope('validation');
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: d.entry });
    this.watch(`${opName}: binding ${d.buffers.length} buffers${d.uniforms?.length ? ' + uniforms' : ''} to '${d.entry}'`);
    if (!this.pass) this.pass = this.encoderNow().beginComputePass({ label: 'recur' });
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(x, y, z);
    this.recorded++;
    this.dispatches++;
    this.recordedEntries.add(d.entry);
  }

  /** Submits the pending encoder (if any), then destroys the buffers that waited for it. */
  flush(): void {
    if (this.encoder) {
      this.endPass();
      this.device.pushErrorScope('validation');
      this.device.queue.submit([this.encoder.finish()]);
      this.watch(`submitting [${[...this.recordedEntries].join(', ')}]`);
      this.encoder = null;
      this.recorded = 0;
      this.recordedEntries.clear();
      this.pendingUse.clear();
      this.submits++;
    }
    for (const b of this.afterSubmit.splice(0)) b.destroy(); // destroy() waits for submitted work
  }

  liveCount(): number {
    return this.live.size;
  }

  info(): Record<string, unknown> {
    const i = this.gpu.info;
    const lost = this.gpu.lostBecause;
    return {
      available: !lost,
      ...(lost ? { lost } : {}),
      runtime: i.runtime,
      adapter: i.adapter,
      features: i.features,
      limits: i.limits,
      ...(i.fallbackAdapter !== undefined ? { fallbackAdapter: i.fallbackAdapter } : {}),
      ...(i.vulkanIcd !== undefined ? { vulkanIcd: i.vulkanIcd } : {}),
      liveBuffers: this.live.size,
      pipelines: this.pipelines.stats(),
    };
  }

  /** Waits for the submitted work and for pipelines still compiling in the background (prepare()). */
  async sync(): Promise<void> {
    this.check('sync');
    this.flush();
    await this.pipelines.idle();
    await this.device.queue.onSubmittedWorkDone();
    await this.settle('sync');
  }

  dispose(): void {
    this.pass = null;
    this.encoder = null;
    for (const b of [...this.live, ...this.afterSubmit]) b.destroy();
    this.live.clear();
    this.afterSubmit = [];
    this.pendingUse.clear();
    // A pipeline still compiling on Dawn's worker thread (prepare()) must finish before the device, and the Dawn
    // instance with the last device, go: dropped under it, the process crashes (segfault) later.
    if (this.pipelines.preparingCount) void this.pipelines.idle().finally(() => this.gpu.destroy());
    else this.gpu.destroy();
  }

  // ---- internals ------------------------------------------------------------------------------
  private encoderNow(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'recur' }));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Pops the error scope pushed just before; a validation error becomes a deferred RecurError. */
  private watch(what: string): void {
    const p: Promise<void> = this.device.popErrorScope().then(
      (err) => {
        if (err) this.deferredError ??= new RecurError(`webgpu: ${what} failed validation: ${err.message}`);
      },
      () => {}, // popErrorScope rejects only when the device is lost; check() reports that
    );
    this.checks.add(p);
    void p.finally(() => this.checks.delete(p));
  }

  /** Throws when the device is lost, or an error arrived since the last call. */
  private check(what: string): void {
    this.gpu.assertAlive(what);
    // The first error is the cause; later ones (bind groups, submits of an invalid pipeline) are its echoes.
    const errors = [this.pipelines.takeError(), this.deferredError, this.gpu.takeUncapturedError()];
    this.deferredError = null;
    const e = errors.find((x) => x);
    if (e) throw e;
  }

  /** Waits for pending validation results and throws the first error. */
  private async settle(what: string): Promise<void> {
    await this.pipelines.settle();
    while (this.checks.size) await Promise.all([...this.checks]);
    this.check(what);
  }

  /** A failed mapAsync: DeviceLostError when the device went away (waiting briefly for the lost event). */
  private async explainFailure(e: unknown, what: string): Promise<Error> {
    if (!this.gpu.lostBecause) await Promise.race([this.gpu.lost, new Promise((r) => setTimeout(r, 1000))]);
    const why = this.gpu.lostBecause;
    if (why) return new DeviceLostError(`webgpu: ${what}: the WebGPU device is lost (${why}); re-run init({ webgpu: true }) or use another backend`);
    return new RecurError(`webgpu: ${what} failed: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** Brings up WebGPU: the backend, or the reason it is not available here. */
export async function createWebGpuBackend(): Promise<{ backend: WebGpuBackend } | { reason: string }> {
  const dev = await acquireGpuDevice();
  if ('reason' in dev) return dev;
  return { backend: new WebGpuBackend(dev) };
}
