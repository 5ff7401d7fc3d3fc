// The autograd tape: records op calls (engine addOpListener) and reshape views while a function runs, then walks
// them in reverse calling each op's `grad` (itself op calls, so backward runs on any backend). Backward frees the
// forward activations and its own temporaries as it goes: only the gradients asked for and what fn returned survive.
import { addOpListener, addViewListener, tensor, tidy } from '../engine.js';
import { AutogradError, DTypeError, ShapeError } from '../errors.js';
import { add } from '../ops/binary.js';
import type { OpDef } from '../ops/op.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { BackendName } from '../backends/backend.js';
import { scopePin, withBackend } from '../scheduler/scheduler.js';

/** One recorded call: an op, or (op null) a reshape view whose gradient is the upstream one reshaped back. */
interface TapeRecord {
  readonly op: OpDef<unknown> | null;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly params: unknown;
  /** The withBackend() pin in force when the call was made; its gradient runs under the same pin. */
  readonly pin?: BackendName;
}

export interface BackwardOptions {
  /** Upstream gradient of the loss (its shape); default ones, i.e. the gradient of the sum of its elements. */
  dLoss?: Tensor;
}

/**
 * Records what a function computes and differentiates it.
 *
 *     const tape = new Tape();
 *     const loss = tape.record(() => mean(softmaxCrossEntropy(matmul(x, w.value), targets), 0));
 *     const [dw] = tape.backward(loss, [w.value]);
 *
 * - Reshape views are recorded too (the tape listens to Tensor.reshape), so gradients flow through them.
 * - Ops with several outputs get one dOutputs entry per output, null where no gradient reached it.
 * - A tape is used once: backward() (or dispose()) frees every tensor the recorded ops and views made, except
 *   the tensors the recorded function returned (found in a Tensor, array or plain object), the loss and `wrt`.
 *   Tensors made inside fn by tensor()/zeros() are not ops: they follow the enclosing tidy() scope.
 * - The tape holds its own view of each tensor an op or view made, so fn may dispose intermediates it no longer
 *   needs; tensors it uses from outside (parameters, data, carried state) must stay alive until backward().
 * - In-place ops (adamw_step) are not recorded; do not run them on tensors of a step being recorded.
 */
export class Tape {
  private records: TapeRecord[] = [];
  private readonly kept = new Set<Tensor>();
  /** Each tensor a recorded op or view made → the tape's own view of it (so fn may dispose its copy), and back. */
  private readonly alias = new Map<Tensor, Tensor>();
  private readonly userOf = new Map<Tensor, Tensor>();
  private recording = false;
  private shadowing = false;
  private used = false;

  /** Runs fn (synchronously) and records its op calls and reshape views; returns what fn returns. */
  record<T>(fn: () => T): T {
    this.assertFresh('record');
    if (this.recording) throw new AutogradError('Tape.record: this tape is already recording (record() called inside record())');
    this.recording = true;
    const offOp = addOpListener((op, inputs, outputs, params) => {
      if (outputs.length) this.records.push({ op, inputs: inputs.map((x) => this.mapped(x)), outputs: outputs.map((o) => this.shadow(o)), params, pin: scopePin() });
    });
    const offView = addViewListener((source, view) => {
      if (!this.shadowing) this.records.push({ op: null, inputs: [this.mapped(source)], outputs: [this.shadow(view)], params: null });
    });
    let result: T;
    try {
      result = fn();
    } finally {
      offOp();
      offView();
      this.recording = false;
    }
    if (result instanceof Promise) throw new AutogradError('Tape.record: fn must be synchronous (it returned a Promise)');
    collectTensors(result, this.kept);
    return result;
  }

  /** Number of recorded op calls and views (for tests and debugging). */
  get size(): number {
    return this.records.length;
  }

  /**
   * Gradients of `loss` with respect to each tensor in `wrt` (null for one the loss does not depend on: no
   * zeros are allocated). Gradients are summed where a tensor is used several times. Ends the tape.
   */
  backward(loss: Tensor, wrt: readonly Tensor[], opts: BackwardOptions = {}): (Tensor | null)[] {
    this.assertFresh('backward');
    if (!(loss instanceof Tensor) || loss.disposed) throw new AutogradError('Tape.backward: loss must be a live Tensor');
    if (loss.dtype !== 'f32') throw new DTypeError(`Tape.backward: loss must be f32, got ${loss.dtype}`);
    wrt.forEach((w, i) => {
      if (!(w instanceof Tensor) || w.disposed) throw new AutogradError(`Tape.backward: wrt[${i}] must be a live Tensor`);
      if (w.dtype !== 'f32') throw new DTypeError(`Tape.backward: wrt[${i}] ${fmtShape(w.shape)} must be f32, got ${w.dtype}`);
    });
    this.used = true;
    const spare = new Set([loss, ...wrt]);
    const run = new BackwardRun(this.records, this.mapped(loss), wrt.map((w) => this.mapped(w)), (t) => this.freeRecorded(t, spare));
    try {
      return run.go(opts.dLoss);
    } finally {
      run.release();
      this.records = [];
    }
  }

  /** Frees what the recorded ops and views made (except what fn returned) without differentiating. */
  dispose(): void {
    if (this.used) return;
    this.used = true;
    for (const r of this.records) for (const o of r.outputs) this.freeRecorded(o, new Set());
    this.records = [];
  }

  private assertFresh(what: string): void {
    if (this.used) throw new AutogradError(`Tape.${what}: this tape was already used by backward() or dispose(); make a new Tape for every step`);
  }

  private mapped(t: Tensor): Tensor {
    return this.alias.get(t) ?? t;
  }

  /** The tape's own view of a tensor an op or view made (shares storage; not recorded itself). */
  private shadow(t: Tensor): Tensor {
    const prev = this.alias.get(t);
    if (prev) return prev;
    this.shadowing = true;
    let s: Tensor;
    try {
      s = t.reshape(t.shape);
    } finally {
      this.shadowing = false;
    }
    this.alias.set(t, s);
    this.userOf.set(s, t);
    return s;
  }

  /** Frees the tape's view of a recorded tensor, and fn's tensor too unless fn returned it or it is spared. */
  private freeRecorded(s: Tensor, spare: ReadonlySet<Tensor>): void {
    s.dispose();
    const u = this.userOf.get(s);
    if (u && !this.kept.has(u) && !spare.has(u)) u.dispose();
  }
}

/** State of one backward pass: accumulated gradients (owned by the pass) and what must never be freed. */
class BackwardRun {
  private readonly grads = new Map<Tensor, Tensor>();
  /** Gradient tensors this pass made and may free. */
  private readonly owned = new Set<Tensor>();
  /** Tensors never freed by the pass as gradients: every recorded tensor, the loss, wrt. */
  private readonly protect = new Set<Tensor>();
  private readonly needs = new Set<Tensor>();
  private readonly wrtSet: Set<Tensor>;

  constructor(private readonly records: readonly TapeRecord[], private readonly loss: Tensor, private readonly wrt: readonly Tensor[], private readonly freeRecorded: (t: Tensor) => void) {
    this.wrtSet = new Set(wrt);
    for (const t of [loss, ...wrt]) this.protect.add(t);
    for (const w of wrt) this.needs.add(w);
    for (const r of records) {
      for (const t of [...r.inputs, ...r.outputs]) this.protect.add(t);
      if (r.inputs.some((x) => this.needs.has(x))) for (const o of r.outputs) if (o.dtype === 'f32') this.needs.add(o);
    }
  }

  go(dLoss: Tensor | undefined): (Tensor | null)[] {
    const loss = this.loss;
    if (dLoss && (!(dLoss instanceof Tensor) || !sameShape(dLoss.shape, loss.shape))) {
      throw new ShapeError(`Tape.backward: dLoss must be a Tensor of the loss shape ${fmtShape(loss.shape)}`);
    }
    if (dLoss) this.protect.add(dLoss);
    if (this.needs.has(loss)) {
      const seed = dLoss ?? tensor(new Float32Array(sizeOf(loss.shape)).fill(1), loss.shape, { backend: loss.backend.name });
      this.accumulate(loss, this.own(seed, !dLoss));
    }
    for (let k = this.records.length - 1; k >= 0; k--) {
      const r = this.records[k]!;
      withBackend(r.pin ?? 'auto', () => this.step(r, k)); // a pinned call's gradient (and its sums) stay pinned
      this.releaseOutputs(r);
    }
    const seen = new Map<Tensor, Tensor>();
    return this.wrt.map((w) => {
      const prev = seen.get(w);
      if (prev) return prev.reshape(prev.shape);
      const g = this.grads.get(w);
      if (!g) return null;
      this.grads.delete(w);
      this.owned.delete(g);
      seen.set(w, g);
      return g;
    });
  }

  /** Frees every gradient still held and every activation the tape made that nobody asked to keep. */
  release(): void {
    for (const t of this.owned) t.dispose();
    this.owned.clear();
    this.grads.clear();
    for (const r of this.records) for (const o of r.outputs) this.freeRecorded(o);
  }

  private step(r: TapeRecord, k: number): void {
    const dOutputs = r.outputs.map((o) => this.grads.get(o) ?? null);
    if (dOutputs.every((d) => d === null) || !r.inputs.some((x) => this.needs.has(x))) return;
    const name = r.op ? r.op.name : 'reshape';
    for (const [i, t] of [...r.inputs, ...r.outputs].entries()) {
      if (t.disposed) {
        const what = i < r.inputs.length ? `input '${r.op?.inputNames[i] ?? i}'` : `output ${i - r.inputs.length}`;
        throw new AutogradError(`Tape.backward: ${what} ${fmtShape(t.shape)} of ${name} (call #${k} on the tape) was disposed before backward(); tensors a recorded function uses from outside (parameters, data, carried state) must live until backward`);
      }
    }
    let dInputs: readonly (Tensor | null | undefined)[];
    if (!r.op) {
      dInputs = [dOutputs[0]!.reshape(r.inputs[0]!.shape)];
    } else {
      const grad = r.op.grad;
      if (!grad) throw new AutogradError(`Tape.backward: op '${name}' (call #${k} on the tape) has no gradient, but the loss depends on its output; it cannot be differentiated`);
      dInputs = tidy(() => grad({ inputs: r.inputs, outputs: r.outputs, dOutputs, params: r.params }));
    }
    const unused: Tensor[] = [];
    dInputs.forEach((d, i) => {
      const x = r.inputs[i];
      if (!d) return;
      if (!x || !this.needs.has(x) || x.dtype !== 'f32') return void unused.push(d);
      if (!sameShape(d.shape, x.shape)) {
        throw new AutogradError(`Tape.backward: the gradient ${name} gave for input '${r.op?.inputNames[i] ?? i}' has shape ${fmtShape(d.shape)}, expected ${fmtShape(x.shape)}`);
      }
      this.accumulate(x, this.own(d, false));
    });
    // Gradients for inputs that lead to nothing asked for are freed (unless they alias one that is kept).
    for (const d of unused) this.drop(d);
  }

  /** Takes ownership of a gradient tensor; aliases of protected or already held tensors become fresh views. */
  private own(d: Tensor, fresh: boolean): Tensor {
    const t = !fresh && (this.protect.has(d) || this.owned.has(d)) ? d.reshape(d.shape) : d;
    this.owned.add(t);
    return t;
  }

  /** Frees a gradient the pass does not need, unless it aliases something protected or held. */
  private drop(d: Tensor): void {
    if (this.protect.has(d) || this.owned.has(d)) return;
    d.dispose();
  }

  private accumulate(x: Tensor, d: Tensor): void {
    const prev = this.grads.get(x);
    if (!prev) return void this.grads.set(x, d);
    const sum = add(prev, d);
    this.free(prev);
    this.free(d);
    this.owned.add(sum);
    this.grads.set(x, sum);
  }

  private free(t: Tensor): void {
    if (this.owned.delete(t)) t.dispose();
  }

  /** After a record's gradient ran, nothing earlier on the tape needs its outputs or their gradients. */
  private releaseOutputs(r: TapeRecord): void {
    for (const o of r.outputs) {
      const g = this.wrtSet.has(o) ? undefined : this.grads.get(o);
      if (g) {
        this.grads.delete(o);
        this.free(g);
      }
      this.freeRecorded(o);
    }
  }
}

function collectTensors(v: unknown, into: Set<Tensor>): void {
  if (v instanceof Tensor) into.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, into);
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, into);
  }
}
