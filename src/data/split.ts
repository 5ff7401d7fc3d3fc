// Train/validation split by position: the last `validationFraction` of the token ids is validation and is
// never part of the training ids (the two are disjoint views of the same array).
import { DataError } from '../errors.js';

export interface Split {
  /** ids[0, boundary) */
  train: Int32Array;
  /** ids[boundary, length) */
  validation: Int32Array;
  boundary: number;
}

/** Splits at boundary = length - floor(length * validationFraction); 0 gives an empty validation part. */
export function splitByPosition(ids: Int32Array, validationFraction: number): Split {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new DataError(`split: validationFraction ${validationFraction} must be in [0, 1)`);
  }
  const n = ids.length;
  const v = Math.floor(n * validationFraction);
  if (validationFraction > 0 && v === 0) {
    throw new DataError(`split: a validation fraction of ${validationFraction} of ${n} tokens is less than one token; use more text or a larger fraction`);
  }
  const boundary = n - v;
  if (boundary < 2) throw new DataError(`split: ${boundary} training tokens after the split; training needs at least 2 (an input and its target)`);
  return { train: ids.subarray(0, boundary), validation: ids.subarray(boundary), boundary };
}
