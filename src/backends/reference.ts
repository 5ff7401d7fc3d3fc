// The oracle: every op's float64 reference loops, run on Float64Array storage. Never fast.
import { typedArrayFor, type TypedArray } from '../dtype.js';
import type { OpDef, Spec, Specs } from '../ops/op.js';
import { sizeOf } from '../shape.js';
import type { Backend } from './backend.js';

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  private live = 0;

  alloc(spec: Spec): Float64Array {
    this.live++;
    return new Float64Array(sizeOf(spec.shape));
  }
  free(): void {
    this.live--;
  }
  write(storage: unknown, _spec: Spec, data: ArrayLike<number>): void {
    (storage as Float64Array).set(data);
  }
  async read(storage: unknown, spec: Spec): Promise<TypedArray> {
    return this.readSync(storage, spec);
  }
  readonly readSync = (storage: unknown, spec: Spec): TypedArray => {
    const out = typedArrayFor(spec.dtype, sizeOf(spec.shape));
    out.set(storage as Float64Array);
    return out;
  };
  readonly readF64 = (storage: unknown): Float64Array => Float64Array.from(storage as Float64Array);

  run<P>(op: OpDef<P>, inputs: readonly unknown[], outputs: readonly unknown[], specs: Specs, p: P): void {
    const results = op.reference(inputs as Float64Array[], specs, p);
    if (results.length !== outputs.length) {
      throw new Error(`${op.name}: reference returned ${results.length} outputs, expected ${outputs.length}`);
    }
    results.forEach((r, i) => (outputs[i] as Float64Array).set(r));
  }
  liveCount(): number {
    return this.live;
  }
  info(): Record<string, unknown> {
    return { available: true, precision: 'float64' };
  }
  async sync(): Promise<void> {}
  dispose(): void {}
}
