// Shared plumbing of the per-op suites: bring up recur's backends (WebGPU unless smoke) and the tfjs-wasm peer,
// upload one case's inputs to every backend, time the impls with the runner and turn seconds into GB/s rows.
import { runOp } from '../src/engine.js';
import { availableBackends, getBackend, init, tensor, type BackendName, type Tensor } from '../src/index.js';
import type { OpDef } from '../src/ops/op.js';
import { loadTfjsWasm } from './peers.js';
import { timeRoundRobin, timingPlan, type BenchOptions, type BenchRow, type Timed, type TimingPlan } from './runner.js';

export type Tfjs = typeof import('@tensorflow/tfjs-core');
type TfTensor = import('@tensorflow/tfjs-core').Tensor;
/** A host array to upload: data, shape and dtype (f32 unless an Int32Array). */
export type HostInput = [data: Float32Array | Int32Array, shape: number[]];

interface Disposable {
  dispose(): unknown;
}

const dtypeOf = (d: HostInput[0]) => (d instanceof Int32Array ? ('i32' as const) : ('f32' as const));

/** `once` as a timed call on backend b: as is on the CPU; on the GPU, followed by waiting for the work. */
export function synced(b: BackendName, once: () => unknown): Timed {
  if (b !== 'webgpu') return once;
  return async () => {
    once();
    await getBackend(b).sync();
  };
}

/** One call of `op` on backend b, outputs disposed; on the GPU it waits for the work to finish. */
export function recurCall<P>(op: OpDef<P>, xs: Tensor[], p: P, b: BackendName): Timed {
  return synced(b, () => runOp(op, xs, p, { backend: b }).forEach((t) => t.dispose()));
}

/** Bytes `op` moves per call on these host inputs (its cost model; outputs from its shape rules). */
export function opBytes<P>(op: OpDef<P>, inputs: readonly HostInput[], p: P): number {
  const specs = inputs.map(([d, shape]) => ({ shape, dtype: dtypeOf(d) }));
  return op.cost({ inputs: specs, outputs: op.shapes(specs, p) }, p).bytes;
}

/** True on a CPU-emulated WebGPU adapter (SwiftShader, llvmpipe): correctness only, far too slow to time big cases. */
export function isEmulatedGpu(): boolean {
  const info = getBackend('webgpu').info() as { adapter?: Record<string, string>; fallbackAdapter?: boolean };
  return !!info.fallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(JSON.stringify(info.adapter ?? {}));
}

/** The [N, D] row shapes of the per-row suites (softmax, layer_norm, rms_norm): short, long and many tiny rows. */
export function rowCases(opts: BenchOptions): [N: number, D: number][] {
  return opts.smoke ? [[16, 33]] : opts.quick ? [[1024, 256]] : [[8192, 256], [1024, 4096], [65536, 64]];
}

/** One suite's session: its plan, backends and peer, the rows it made, and what the current case holds. */
export class OpBench {
  readonly rows: BenchRow[] = [];
  private held: Disposable[] = [];

  private constructor(
    readonly suite: string,
    readonly plan: TimingPlan,
    /** tfjs-core on its wasm backend, or null when not asked for or it did not load (logged). */
    readonly tf: Tfjs | null,
  ) {}

  /** Brings up recur (WebGPU too unless smoke) and, with `tfjs`, the tfjs-wasm peer. */
  static async start(suite: string, opts: BenchOptions, peers: { tfjs?: boolean } = {}): Promise<OpBench> {
    const log = (msg: string) => process.stderr.write(`${suite} bench: ${msg}\n`);
    const report = await init({ webgpu: !opts.smoke });
    if (report.webgpuUnavailable && !opts.smoke) log(`recur-webgpu skipped: ${report.webgpuUnavailable}`);
    const tf = peers.tfjs ? await loadTfjsWasm() : null;
    if (typeof tf === 'string') log(`tfjs-wasm skipped: ${tf}`);
    return new OpBench(suite, timingPlan(opts), typeof tf === 'string' ? null : tf);
  }

  /** recur's backends for case number `ci`: wasm, and webgpu when up (only case 0 on an emulated GPU). */
  backends(ci: number): BackendName[] {
    return availableBackends().filter((b) => b !== 'reference' && !(b === 'webgpu' && ci > 0 && isEmulatedGpu()));
  }

  /** Runs `body` once per case; whatever it uploaded or held is disposed after each. */
  async each<C>(cases: readonly C[], body: (c: C, ci: number) => Promise<void>): Promise<BenchRow[]> {
    for (const [ci, c] of cases.entries()) {
      try {
        await body(c, ci);
      } finally {
        this.held.splice(0).forEach((t) => t.dispose());
      }
    }
    return this.rows;
  }

  /** Keeps `t` (a tfjs tensor, say) until the current case ends. */
  hold<T extends Disposable>(t: T): T {
    this.held.push(t);
    return t;
  }

  /** The host inputs uploaded to each backend (held for the case), by backend. */
  upload(backends: readonly BackendName[], inputs: readonly HostInput[]): Map<BackendName, Tensor[]> {
    return new Map(backends.map((b) => [b, inputs.map(([d, shape]) => this.hold(tensor(d, shape, { backend: b, dtype: dtypeOf(d) })))]));
  }

  /** `recur-<backend>` impls of op on each backend's uploaded tensors (`pick` chooses which of them, in order). */
  recur<P>(op: OpDef<P>, on: Map<BackendName, Tensor[]>, p: P, pick: (xs: Tensor[]) => Tensor[] = (xs) => xs): Record<string, Timed> {
    return Object.fromEntries([...on].map(([b, xs]) => [`recur-${b}`, recurCall(op, pick(xs), p, b)]));
  }

  /**
   * A tfjs-wasm impl (none without the peer) computing `f` on the inputs uploaded to tfjs (held for the case);
   * tfjs-wasm runs ops eagerly, and tf.tidy disposes what the call made.
   */
  tfjs(inputs: readonly HostInput[], f: (tf: Tfjs, xs: TfTensor[]) => unknown): Record<string, Timed> {
    const tf = this.tf;
    if (!tf) return {};
    const xs = inputs.map(([d, shape]) => this.hold(tf.tensor(d, shape, d instanceof Int32Array ? 'int32' : 'float32')));
    return { 'tfjs-wasm': () => tf.tidy(() => void f(tf, xs)) };
  }

  /** Times the impls of one case with the runner and records GB/s rows for `bytes` moved per call. */
  async time(name: string, impls: Record<string, Timed>, bytes: number): Promise<void> {
    const secs = await timeRoundRobin(impls, this.plan, `${this.suite}-${name}`);
    for (const [impl, s] of Object.entries(secs)) this.rows.push({ suite: this.suite, case: name, impl, value: bytes / s / 1e9, unit: 'GB/s' });
  }
}
