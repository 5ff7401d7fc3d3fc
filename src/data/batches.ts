// Batches for truncated BPTT: the ids are cut into B contiguous streams; step s of an epoch yields, for each
// stream, the next T inputs and their targets (the following ids), time-major (T, B). Consecutive steps
// continue every stream where the last one ended, so a model carries its state from step to step.
// Epochs: the tail of each stream too short for a whole step is skipped; after the last whole step the next
// epoch starts every stream from its beginning again, and that batch has `resetState: true` (as the first).
import { DataError } from '../errors.js';

export interface BatchOptions {
  /** B: parallel streams. */
  batchSize: number;
  /** T: steps of one BPTT segment. */
  seqLen: number;
}

/** Where the batcher is: the next batch it yields. Plain JSON, for a checkpoint's `dataPosition`. */
export type BatchPosition = {
  epoch: number;
  /** Step within the epoch, in [0, stepsPerEpoch). */
  step: number;
  /** Fingerprint of the setup it belongs to; restore() refuses a position from another one. */
  tokens: number;
  batchSize: number;
  seqLen: number;
};

export interface Batch {
  /** (T, B) time-major: inputs[t * B + b] is stream b at time t. */
  inputs: Int32Array;
  /** (T, B): the id following each input. */
  targets: Int32Array;
  seqLen: number;
  batchSize: number;
  epoch: number;
  step: number;
  /** True when the streams start over (first batch of an epoch): carried state must be reset. */
  resetState: boolean;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export class StreamBatcher {
  /** L: input ids per stream. */
  readonly streamLength: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  readonly seqLen: number;
  private epoch = 0;
  private step = 0;

  constructor(private readonly ids: Int32Array, opts: BatchOptions) {
    const { batchSize: B, seqLen: T } = opts;
    if (!Number.isSafeInteger(B) || B < 1) throw new DataError(`batches: batchSize ${B} must be a positive integer`);
    if (!Number.isSafeInteger(T) || T < 1) throw new DataError(`batches: seqLen ${T} must be a positive integer`);
    this.batchSize = B;
    this.seqLen = T;
    this.streamLength = Math.floor((ids.length - 1) / B);
    this.stepsPerEpoch = Math.floor(this.streamLength / T);
    if (this.stepsPerEpoch < 1) {
      throw new DataError(`batches: ${ids.length} tokens are too few for ${B} streams of ${T} steps (need at least ${B * T + 1}); use more text or smaller batchSize/seqLen`);
    }
  }

  get position(): BatchPosition {
    return { epoch: this.epoch, step: this.step, tokens: this.ids.length, batchSize: this.batchSize, seqLen: this.seqLen };
  }

  /** Continues from a saved position; the next batch is exactly the one an uninterrupted run would yield. */
  restore(p: BatchPosition): void {
    const ok = p !== null && typeof p === 'object' && isCount(p.epoch) && isCount(p.step);
    if (!ok) throw new DataError(`batches: data position ${JSON.stringify(p)} needs integer epoch and step`);
    const mine = this.position;
    for (const k of ['tokens', 'batchSize', 'seqLen'] as const) {
      if (p[k] !== mine[k]) throw new DataError(`batches: the saved data position has ${k} ${p[k]} but this run has ${mine[k]}; resume with the same text and batch settings`);
    }
    if (p.step >= this.stepsPerEpoch) throw new DataError(`batches: saved step ${p.step} is past the ${this.stepsPerEpoch} steps of an epoch`);
    this.epoch = p.epoch;
    this.step = p.step;
  }

  next(): Batch {
    const { batchSize: B, seqLen: T, streamLength: L, ids } = this;
    const inputs = new Int32Array(T * B);
    const targets = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const start = b * L + this.step * T;
      for (let t = 0; t < T; t++) {
        inputs[t * B + b] = ids[start + t]!;
        targets[t * B + b] = ids[start + t + 1]!;
      }
    }
    const batch = { inputs, targets, seqLen: T, batchSize: B, epoch: this.epoch, step: this.step, resetState: this.step === 0 };
    if (++this.step === this.stepsPerEpoch) {
      this.step = 0;
      this.epoch++;
    }
    return batch;
  }
}
