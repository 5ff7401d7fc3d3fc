// The shared part of AdamW and RAdam: parameters with first and second moment tensors (persistent, on the
// parameter's backend), the step count, the learning rate (a number or a schedule), and state for checkpoints.
import { keep, tensor, zeros } from '../engine.js';
import { OptionError, ShapeError } from '../errors.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { Parameter } from '../autograd/parameter.js';

/** A learning-rate schedule: a pure function of the 1-based step being taken. */
export type LrSchedule = (step: number) => number;

export interface MomentOptimizerOptions {
  /** A constant learning rate, or a schedule called with the 1-based step being taken. */
  lr: number | LrSchedule;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (p ← p − lr·wd·p), as AdamW. */
  weightDecay?: number;
}

/** Optimizer state for a checkpoint: the step count and each parameter's moments as `<name>.m` / `<name>.v`. */
export interface OptimizerState {
  kind: string;
  step: number;
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
}

interface Slot {
  param: Parameter;
  m: Tensor;
  v: Tensor;
}

export abstract class MomentOptimizer {
  abstract readonly kind: string;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly lr: number | LrSchedule;
  private slots: Slot[];
  private t = 0;

  constructor(readonly params: readonly Parameter[], opts: MomentOptimizerOptions, private readonly who: string) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.lr = opts.lr;
    const bad = (what: string) => new OptionError(`${who}: ${what}`);
    if (typeof opts.lr !== 'function' && !(Number.isFinite(opts.lr) && opts.lr >= 0)) throw bad(`lr must be a finite number >= 0 or a schedule function (got ${String(opts.lr)})`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) throw bad(`beta1 and beta2 must lie in [0, 1) (got ${this.beta1}, ${this.beta2})`);
    if (!(this.eps > 0)) throw bad(`eps must be > 0 (got ${this.eps})`);
    if (!(Number.isFinite(this.weightDecay) && this.weightDecay >= 0)) throw bad(`weightDecay must be a finite number >= 0 (got ${this.weightDecay})`);
    const names = new Set<string>();
    for (const p of params) {
      if (!(p instanceof Parameter)) throw bad('params must be Parameter objects');
      if (names.has(p.name)) throw bad(`two parameters are named '${p.name}'; names key the optimizer state`);
      names.add(p.name);
    }
    this.slots = params.map((param) => {
      const be = { backend: param.value.backend.name };
      return { param, m: keep(zeros(param.shape, be)), v: keep(zeros(param.shape, be)) };
    });
  }

  /** Steps taken so far (the next step is stepCount + 1). */
  get stepCount(): number {
    return this.t;
  }

  /** The learning rate of the 1-based step t (default: the next step). */
  lrAt(t = this.t + 1): number {
    const lr = typeof this.lr === 'function' ? this.lr(t) : this.lr;
    if (!Number.isFinite(lr)) throw new OptionError(`${this.who}: the learning-rate schedule gave ${lr} at step ${t}`);
    return lr;
  }

  /**
   * One update of every parameter from `grads` (aligned with `params`; null skips a parameter: no decay, moments
   * untouched, as PyTorch does for a parameter without a gradient). Parameters change in place. `lr` overrides
   * the configured rate for this step. The caller still owns (and disposes) the grads.
   */
  step(grads: readonly (Tensor | null)[], opts: { lr?: number } = {}): void {
    if (grads.length !== this.slots.length) throw new OptionError(`${this.who}.step: got ${grads.length} gradients for ${this.slots.length} parameters`);
    grads.forEach((g, i) => {
      const p = this.slots[i]!.param;
      if (g && !sameShape(g.shape, p.shape)) throw new ShapeError(`${this.who}.step: gradient ${fmtShape(g.shape)} does not match parameter '${p.name}' ${fmtShape(p.shape)}`);
    });
    const t = this.t + 1;
    const lr = opts.lr ?? this.lrAt(t);
    grads.forEach((g, i) => {
      if (!g) return;
      const s = this.slots[i]!;
      this.update(s.param.value, g, s.m, s.v, t, lr);
    });
    this.t = t;
  }

  /** Applies one update to one parameter (in place); t is 1-based. */
  protected abstract update(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: number, lr: number): void;

  /** The step count and the moments as float32 arrays named `<param>.m` and `<param>.v` (async: GPU reads are). */
  async state(): Promise<OptimizerState> {
    const tensors: OptimizerState['tensors'] = {};
    for (const s of this.slots) {
      const [m, v] = await Promise.all([s.m.data(), s.v.data()]);
      tensors[`${s.param.name}.m`] = { shape: [...s.m.shape], data: Float32Array.from(m) };
      tensors[`${s.param.name}.v`] = { shape: [...s.v.shape], data: Float32Array.from(v) };
    }
    return { kind: this.kind, step: this.t, tensors };
  }

  /** Restores state() output: checks kind, names and shapes, then replaces the moments and the step count. */
  loadState(state: OptimizerState): void {
    const where = `${this.who}.loadState`;
    if (!state || typeof state !== 'object') throw new OptionError(`${where}: state must be an object`);
    if (state.kind !== this.kind) throw new OptionError(`${where}: the state is for '${state.kind}', not '${this.kind}'`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new OptionError(`${where}: step must be an integer >= 0 (got ${state.step})`);
    const tensors = state.tensors ?? {};
    const want = new Set(this.slots.flatMap((s) => [`${s.param.name}.m`, `${s.param.name}.v`]));
    const extra = Object.keys(tensors).filter((k) => !want.has(k));
    if (extra.length) throw new OptionError(`${where}: unknown entries ${extra.slice(0, 5).join(', ')} (this optimizer has parameters ${this.slots.map((s) => s.param.name).join(', ')})`);
    for (const s of this.slots) {
      for (const k of ['m', 'v'] as const) {
        const name = `${s.param.name}.${k}`;
        const e = tensors[name];
        if (!e) throw new OptionError(`${where}: missing '${name}'`);
        if (!Array.isArray(e.shape) || !sameShape(e.shape, s.param.shape) || e.data?.length !== sizeOf(s.param.shape)) {
          throw new ShapeError(`${where}: '${name}' has shape ${fmtShape(e.shape ?? [])} and ${e.data?.length} values; parameter '${s.param.name}' is ${fmtShape(s.param.shape)}`);
        }
      }
    }
    // Validated: now replace (no half-loaded state on a bad entry).
    this.slots = this.slots.map((s) => {
      const be = { backend: s.param.value.backend.name };
      const next = (k: 'm' | 'v') => keep(tensor(Float32Array.from(tensors[`${s.param.name}.${k}`]!.data), s.param.shape, be));
      const slot = { param: s.param, m: next('m'), v: next('v') };
      s.m.dispose();
      s.v.dispose();
      return slot;
    });
    this.t = state.step;
  }

  /** Frees the moment tensors (not the parameters). */
  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}
