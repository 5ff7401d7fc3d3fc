// Node, Deno and Bun build of `recur/infer`: everything in src/infer.ts, and checkpoints also load from a directory
// path on the file system (with the crash recovery of src/node/checkpoint_fs.ts). Browsers never import this file.
import { resolve } from 'node:path';
import { modelFromCheckpoint, readCheckpoint as readFrom, type CheckpointSource, type InferenceModel, type LoadOptions } from '../infer.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { loadCheckpoint } from './checkpoint_fs.js';

export * from '../infer.js';

const isPath = (s: CheckpointSource): s is string => typeof s === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(s);

/** As in src/infer.ts, and a string without a URL scheme is a checkpoint directory on disk. */
export async function readCheckpoint(source: CheckpointSource, opts: LoadOptions = {}): Promise<Checkpoint> {
  return isPath(source) ? loadCheckpoint(source) : readFrom(source, opts);
}

/** As in src/infer.ts, and a string without a URL scheme is a checkpoint directory on disk. */
export async function loadModel(source: CheckpointSource, opts: LoadOptions = {}): Promise<InferenceModel> {
  const name = isPath(source) ? resolve(source) : typeof source === 'string' || source instanceof URL ? String(source) : undefined;
  return modelFromCheckpoint(await readCheckpoint(source, opts), { ...opts, name });
}
