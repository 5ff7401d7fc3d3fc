// Single-file checkpoints (src/io/checkpoint_file.ts, the browser demo's download/upload): the config rides in
// the safetensors __metadata__; the file stays valid safetensors; damaged or foreign files fail clearly.
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { checkpointToBytes } from '../../src/io/checkpoint.js';
import { CONFIG_METADATA_KEY, checkpointFromSingleFile, checkpointToSingleFile, singleFileToCheckpointBytes } from '../../src/io/checkpoint_file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { crashTestCheckpoint, verifyCrashTestCheckpoint } from './fixtures/checkpoint_data.js';

describe('single-file checkpoints', () => {
  it('round-trip weights, optimizer state and config through one safetensors file', () => {
    const input = crashTestCheckpoint(7, 50);
    const two = checkpointToBytes(input);
    const one = checkpointToSingleFile(two);
    const plain = decodeSafetensors(one);
    expect(plain.metadata[CONFIG_METADATA_KEY]).toBe(two.config);
    expect(plain.tensors.map((t) => t.name)).toEqual(decodeSafetensors(two.weights).tensors.map((t) => t.name));
    expect(singleFileToCheckpointBytes(one).config).toBe(two.config);
    const back = checkpointFromSingleFile(one, { source: 'model.safetensors' });
    expect(verifyCrashTestCheckpoint(back, 50)).toBe(7);
    expect(back.config).toEqual({ format: 'recur-checkpoint', version: 1, ...input.config });
  });

  it('names the problem for a plain safetensors file, a truncated file and random bytes', () => {
    const plain = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]);
    expect(() => checkpointFromSingleFile(plain, { source: 'up.safetensors' })).toThrow(CheckpointError);
    expect(() => checkpointFromSingleFile(plain, { source: 'up.safetensors' })).toThrow(/up\.safetensors: .*without "recur\.config"/);
    const one = checkpointToSingleFile(checkpointToBytes(crashTestCheckpoint(2, 8)));
    expect(() => checkpointFromSingleFile(one.subarray(0, one.length - 3), { source: 'cut.safetensors' })).toThrow(CheckpointError);
    expect(() => checkpointFromSingleFile(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255), { source: 'noise' })).toThrow(CheckpointError);
  });
});
