// A checkpoint as ONE file: the safetensors weights with config.json's text stored in the header's
// `__metadata__` under `recur.config`. Still a valid safetensors file (any reader sees the tensors); used by the
// browser demo's download/upload. Runtime-neutral: bytes in, bytes out.
import { CheckpointError } from '../errors.js';
import { checkpointFromBytes, type Checkpoint, type CheckpointBytes, type FromBytesOptions } from './checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** The metadata key holding config.json's text. */
export const CONFIG_METADATA_KEY = 'recur.config';

/** Joins checkpointToBytes()'s two parts into one safetensors file. */
export function checkpointToSingleFile(bytes: CheckpointBytes): Uint8Array {
  const file = decodeSafetensors(bytes.weights, { file: 'weights' });
  return encodeSafetensors(file.tensors, { ...file.metadata, [CONFIG_METADATA_KEY]: bytes.config });
}

/** Splits a single-file checkpoint back into its two parts (weights keep the config key; loaders ignore it). */
export function singleFileToCheckpointBytes(bytes: Uint8Array, source = 'checkpoint file'): CheckpointBytes {
  const file = decodeSafetensors(bytes, { file: source });
  const config = file.metadata[CONFIG_METADATA_KEY];
  if (typeof config !== 'string') {
    throw new CheckpointError(`${source}: a safetensors file without "${CONFIG_METADATA_KEY}" in its __metadata__; it is not a single-file recur checkpoint`);
  }
  return { weights: bytes, config };
}

/** Loads a single-file checkpoint (see the file header). */
export function checkpointFromSingleFile(bytes: Uint8Array, opts: FromBytesOptions = {}): Checkpoint {
  return checkpointFromBytes(singleFileToCheckpointBytes(bytes, opts.source), opts);
}
