// A Parameter: a named, persistent tensor a model owns. It is kept out of every tidy() scope and lives until
// dispose(). Optimizers update its storage in place (the adamw_step op), so `value` stays the same Tensor object.
import { keep } from '../engine.js';
import { DisposedError, DTypeError, OptionError, ShapeError } from '../errors.js';
import { fmtShape, sameShape, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

/**
 * A persistent, trainable tensor. Tensors are immutable values, with one exception: the in-place optimizer op
 * (`adamw_step`) rewrites a parameter's storage, so every optimizer step updates `value` in place and anything
 * holding `value` (or a reshape view of it) sees the new numbers. `assign()` swaps in a new tensor instead
 * (checkpoint loading, manual edits): the old one is disposed and the new one kept.
 */
export class Parameter {
  private t: Tensor | null;

  constructor(readonly name: string, value: Tensor) {
    if (!(value instanceof Tensor)) throw new OptionError(`Parameter '${name}': value must be a Tensor`);
    if (value.dtype !== 'f32') throw new DTypeError(`Parameter '${name}': must be f32, got ${value.dtype}`);
    this.t = keep(value);
  }

  /** The current tensor (the same object across optimizer steps). */
  get value(): Tensor {
    if (!this.t) throw new DisposedError(`Parameter '${this.name}' was used after dispose()`);
    return this.t;
  }

  get shape(): Shape {
    return this.value.shape;
  }

  get disposed(): boolean {
    return this.t === null;
  }

  /** Replaces the value with `next` (same shape and dtype); disposes the old tensor and keeps the new one. */
  assign(next: Tensor): void {
    const cur = this.value;
    if (next === cur) return;
    if (!(next instanceof Tensor) || next.dtype !== cur.dtype) throw new DTypeError(`Parameter '${this.name}'.assign: expected an ${cur.dtype} Tensor`);
    if (!sameShape(next.shape, cur.shape)) throw new ShapeError(`Parameter '${this.name}'.assign: shape ${fmtShape(next.shape)} does not match ${fmtShape(cur.shape)}`);
    cur.dispose();
    this.t = keep(next);
  }

  dispose(): void {
    this.t?.dispose();
    this.t = null;
  }
}

/** The tensor of a Parameter, or the tensor itself. */
export function tensorOf(p: Parameter | Tensor): Tensor {
  return p instanceof Parameter ? p.value : p;
}
