// Training that survives a lost GPU device. GPU buffers cannot be read once the device is gone, so while the
// parameters live on a GPU, every step boundary reads back a CPU shadow: the weights, the optimizer moments and
// step count, and the trainer's data position, RNG and carried state. When a step (or that read) fails because
// the device is lost, the model and optimizer are rebuilt on wasm from the shadow and training continues from the
// same data and RNG state: no step is lost or repeated. Cost: 3x the parameter bytes (+ carried state) read back per
// step, and one GPU round trip per tensor; nothing at all while training on wasm.
import type { Backend, BackendName } from '../backends/backend.js';
import { availableBackends, getBackend, tensor, unregisterBackend } from '../engine.js';
import { DeviceLostError, RecurError } from '../errors.js';
import type { LanguageModel } from '../models/types.js';
import type { MomentOptimizer, OptimizerState } from '../optim/optimizer.js';
import { warnOnce } from '../scheduler/explain.js';
import { getBackendPin, setBackend } from '../scheduler/scheduler.js';
import { Trainer, type TrainerOptions, type TrainerSnapshot, type TrainOptions, type TrainResult } from './trainer.js';

interface Shadow {
  weights: Float32Array[];
  optimizer: OptimizerState;
  trainer: TrainerSnapshot;
}

/** Keeps the CPU shadow of a run on a GPU and rebuilds the run on wasm when the device is lost. */
export class DeviceLossGuard {
  private shadow: Shadow | null = null;
  /** Why the device went, once it has. */
  lostReason: string | null = null;

  constructor(private readonly model: LanguageModel, private readonly optimizer: MomentOptimizer) {}

  /** The backend holding the parameters. */
  private get home(): Backend | undefined {
    return this.model.params()[0]?.value.backend;
  }

  /** True while the parameters live where a lost device would take them (a GPU: no synchronous reads). */
  get active(): boolean {
    const h = this.home;
    return !!h && !h.readSync;
  }

  /** Reads the shadow at a step boundary (no-op, and no cost, when the parameters live on a CPU backend). */
  async capture(trainer: Trainer): Promise<void> {
    if (!this.active) {
      this.shadow = null;
      return;
    }
    const weights: Float32Array[] = [];
    for (const p of this.model.params()) weights.push(Float32Array.from(await p.value.data()));
    this.shadow = { weights, optimizer: await this.optimizer.state(), trainer: await trainer.snapshot() };
  }

  /** Whether `e` means the parameters' device is gone (waits briefly: the lost event may trail the error). */
  async isDeviceLoss(e: unknown): Promise<boolean> {
    const h = this.home;
    if (!h || h.readSync || !this.shadow) return false;
    const gpu = h as Backend & { whenLost?: () => Promise<string>; info(): Record<string, unknown> };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wait = new Promise<null>((r) => (timer = setTimeout(() => r(null), e instanceof DeviceLostError ? 0 : 1000)));
    const reason = gpu.whenLost ? await Promise.race([gpu.whenLost(), wait]) : null;
    clearTimeout(timer);
    const gone = reason !== null || e instanceof DeviceLostError || !availableBackends().includes(h.name);
    if (gone) this.lostReason = reason ?? (e as Error)?.message ?? 'device lost';
    return gone;
  }

  /** Rebuilds parameters and optimizer state on wasm from the shadow; returns a trainer resumed at that boundary. */
  recover(old: Trainer, opts: TrainerOptions): Trainer {
    const s = this.shadow;
    const lost = this.home;
    if (!s || !lost) throw new RecurError('DeviceLossGuard.recover: no shadow was captured before the device was lost');
    if (availableBackends().includes(lost.name) && getBackend(lost.name) === lost) unregisterBackend(lost.name);
    const to: BackendName = availableBackends().includes('wasm') ? 'wasm' : 'reference';
    if (getBackendPin() === lost.name) setBackend('auto'); // the pin cannot be honoured any more
    warnOnce(`train-lost|${lost.name}`, `the ${lost.name} device was lost during training (${this.lostReason ?? 'lost'}); continuing on ${to} from step ${s.trainer.step} with parameters and optimizer state intact`);
    old.dispose();
    this.model.params().forEach((p, i) => p.assign(tensor(s.weights[i]!, p.shape, { backend: to })));
    this.optimizer.loadState(s.optimizer);
    this.shadow = null;
    return new Trainer({ ...opts, resume: s.trainer });
  }
}

export interface ResilientTrainResult extends TrainResult {
  /** Why the GPU device was lost mid-run (the run then finished on wasm), or null. */
  deviceLost: string | null;
}

/** train() that continues on wasm when the GPU device holding the parameters is lost (see DeviceLossGuard). */
export async function trainWithDeviceFallback(opts: TrainOptions): Promise<ResilientTrainResult> {
  if (!Number.isSafeInteger(opts.steps) || opts.steps < 0) throw new RecurError(`train: steps ${opts.steps} must be an integer >= 0`);
  const guard = new DeviceLossGuard(opts.model, opts.optimizer);
  const every = opts.evalEvery ?? 0;
  let trainer = new Trainer(opts);
  const losses: number[] = [];
  let lastEval: TrainResult['lastEval'] = null;
  try {
    await guard.capture(trainer);
    while (trainer.step < opts.steps) {
      let info;
      try {
        info = await trainer.trainStep();
        await guard.capture(trainer); // the step counts once its shadow is safe (or nothing needs one)
      } catch (e) {
        if (!(await guard.isDeviceLoss(e))) throw e;
        trainer = guard.recover(trainer, opts);
        continue;
      }
      losses.push(info.loss);
      await opts.onStep?.(info, trainer);
      if (every > 0 && opts.data.validation && (trainer.step % every === 0 || trainer.step === opts.steps)) {
        lastEval = { ...(await trainer.evaluate({ maxTokens: opts.evalTokens })), step: trainer.step };
        await opts.onEval?.(lastEval, trainer);
      }
    }
    return { step: trainer.step, losses, lastEval, snapshot: await trainer.snapshot(), deviceLost: guard.lostReason };
  } finally {
    trainer.dispose();
  }
}
