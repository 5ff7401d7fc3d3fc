// The training loop: truncated BPTT over B parallel streams (StreamBatcher), the model state carried from one
// segment to the next (valueAndGrad cuts it from the graph; reset when the streams start over), mean cross-entropy
// per segment, gradient-norm clipping and one optimizer step. Runtime-neutral; everything a step makes is freed.
import { valueAndGrad } from '../autograd/value_and_grad.js';
import type { BackendName } from '../backends/backend.js';
import { tensor } from '../engine.js';
import { OptionError, RecurError } from '../errors.js';
import { StreamBatcher, type BatchPosition } from '../data/batches.js';
import type { LanguageModel, ModelState } from '../models/types.js';
import { mean, softmaxCrossEntropy } from '../ops/api.js';
import type { Tensor } from '../tensor.js';
import { clipGradNorm } from '../optim/clip.js';
import type { MomentOptimizer } from '../optim/optimizer.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { Rng, type RngState } from './rng.js';
import { disposeStateExcept, restoreState, snapshotState, type StateSnapshot } from './state.js';

export interface TrainerOptions {
  model: LanguageModel;
  /** AdamW or RAdam over model.params(), usually with a warmupCosine schedule. */
  optimizer: MomentOptimizer;
  /** Maximum global gradient norm; 0 or undefined: no clipping. */
  clip?: number;
  data: { train: Int32Array; validation?: Int32Array };
  batchSize: number;
  seqLen: number;
  /** Seed of the RNG that drives dropout (ignored when `resume` is given). */
  seed?: number;
  /** Continue a run: what `snapshot()` returned (the optimizer and weights are restored by the caller). */
  resume?: TrainerSnapshot;
}

/** Everything besides weights and optimizer state that a resumed run needs to continue exactly. */
export interface TrainerSnapshot {
  /** Training steps completed. */
  step: number;
  dataPosition: BatchPosition;
  rng: RngState;
  /** The state carried into the next segment (null at the start of an epoch). */
  carry: StateSnapshot | null;
}

export interface StepInfo {
  /** 1-based number of the step just taken. */
  step: number;
  /** Mean cross-entropy (nats per token) of the segment, before the update. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping (NaN when clipping is off). */
  gradNorm: number;
  /** Tokens in the segment (B·T). */
  tokens: number;
  epoch: number;
}

export class Trainer {
  readonly model: LanguageModel;
  readonly optimizer: MomentOptimizer;
  readonly batcher: StreamBatcher;
  readonly backend: BackendName | undefined;
  private readonly clip: number;
  private rng: Rng;
  private carry: ModelState | null = null;
  private steps = 0;

  constructor(private readonly opts: TrainerOptions) {
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.clip = opts.clip ?? 0;
    if (!(Number.isFinite(this.clip) && this.clip >= 0)) throw new OptionError(`train: clip ${opts.clip} must be a finite number >= 0 (0: off)`);
    this.batcher = new StreamBatcher(opts.data.train, { batchSize: opts.batchSize, seqLen: opts.seqLen });
    this.backend = opts.model.params()[0]?.value.backend.name;
    this.rng = new Rng(opts.seed ?? 0);
    const r = opts.resume;
    if (r) {
      if (!Number.isSafeInteger(r.step) || r.step < 0) throw new OptionError(`train: resume step ${r.step} must be an integer >= 0`);
      this.batcher.restore(r.dataPosition);
      this.rng = Rng.fromState(r.rng);
      this.carry = restoreState(r.carry, this.backend);
      this.steps = r.step;
    }
  }

  /** Training steps completed. */
  get step(): number {
    return this.steps;
  }

  /** One step of truncated BPTT on the next segment of every stream. */
  async trainStep(): Promise<StepInfo> {
    const batch = this.batcher.next();
    if (batch.resetState) {
      disposeStateExcept(this.carry, null);
      this.carry = null;
    }
    const { seqLen: T, batchSize: B } = batch;
    const be = { dtype: 'i32' as const, backend: this.backend };
    const inputs = tensor(batch.inputs, [T, B], be);
    const targets = tensor(batch.targets, [T * B], be);
    const prev = this.carry;
    const params = this.model.params();
    const random = () => this.rng.next();
    let grads: (Tensor | null)[] = [];
    let lossT: Tensor | null = null;
    try {
      const r = valueAndGrad(() => {
        const { logits, state } = this.model.forward(inputs, prev, { training: true, random });
        return { loss: mean(softmaxCrossEntropy(logits, targets), 0), state };
      }, params);
      grads = r.grads;
      lossT = r.loss;
      disposeStateExcept(prev, r.value.state);
      this.carry = r.value.state;
      const loss = (await lossT.data())[0]!;
      const step = this.steps + 1;
      if (!Number.isFinite(loss)) throw new RecurError(`training diverged: the loss is ${loss} at step ${step}; lower the learning rate or the clip norm`);
      const gradNorm = this.clip > 0 ? await clipGradNorm(grads, this.clip) : NaN;
      const lr = this.optimizer.lrAt();
      this.optimizer.step(grads);
      this.steps = step;
      return { step, loss, lr, gradNorm, tokens: T * B, epoch: batch.epoch };
    } finally {
      inputs.dispose();
      targets.dispose();
      lossT?.dispose();
      for (const g of grads) g?.dispose();
    }
  }

  /** Bits per character on the validation ids (or `ids`), with a fresh carried state. */
  evaluate(opts: { ids?: Int32Array; maxTokens?: number; batchSize?: number } = {}): Promise<EvalResult> {
    const ids = opts.ids ?? this.opts.data.validation;
    if (!ids || ids.length < 2) throw new OptionError('train: evaluation needs validation ids (at least 2)');
    return evaluate(this.model, ids, { batchSize: opts.batchSize ?? this.opts.batchSize, seqLen: this.opts.seqLen, maxTokens: opts.maxTokens, backend: this.backend });
  }

  /** What a checkpoint needs (besides weights and optimizer state) to continue exactly. */
  async snapshot(): Promise<TrainerSnapshot> {
    return { step: this.steps, dataPosition: this.batcher.position, rng: this.rng.state(), carry: await snapshotState(this.carry) };
  }

  /** Frees the carried state (not the model or the optimizer). */
  dispose(): void {
    disposeStateExcept(this.carry, null);
    this.carry = null;
  }
}

export interface TrainOptions extends TrainerOptions {
  /** Train until this many steps are completed (counting resumed ones). */
  steps: number;
  /** Evaluate on the validation ids every this many steps and at the end (0 or undefined: never). */
  evalEvery?: number;
  /** Cap on validation tokens per periodic evaluation (default: all). */
  evalTokens?: number;
  onStep?: (info: StepInfo, trainer: Trainer) => void | Promise<void>;
  onEval?: (info: EvalResult & { step: number }, trainer: Trainer) => void | Promise<void>;
}

export interface TrainResult {
  step: number;
  /** Per-step losses of this call, in order. */
  losses: number[];
  lastEval: (EvalResult & { step: number }) | null;
  snapshot: TrainerSnapshot;
}

/** Runs `Trainer` steps until `steps` are done; the model and optimizer are the caller's (not disposed). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  if (!Number.isSafeInteger(opts.steps) || opts.steps < 0) throw new OptionError(`train: steps ${opts.steps} must be an integer >= 0`);
  const every = opts.evalEvery ?? 0;
  const trainer = new Trainer(opts);
  const losses: number[] = [];
  let lastEval: TrainResult['lastEval'] = null;
  const runEval = async () => {
    lastEval = { ...(await trainer.evaluate({ maxTokens: opts.evalTokens })), step: trainer.step };
    await opts.onEval?.(lastEval, trainer);
  };
  try {
    while (trainer.step < opts.steps) {
      const info = await trainer.trainStep();
      losses.push(info.loss);
      await opts.onStep?.(info, trainer);
      if (every > 0 && opts.data.validation && (trainer.step % every === 0 || trainer.step === opts.steps)) await runEval();
    }
    return { step: trainer.step, losses, lastEval, snapshot: await trainer.snapshot() };
  } finally {
    trainer.dispose();
  }
}
