// A checkpoint as bytes (no file system): weights and optimizer state in one safetensors file, and a JSON
// config with the architecture, vocabulary, optimizer, step, data position and RNG state. The Node writer
// (atomic, crash-safe) is src/node/checkpoint_fs.ts; browsers and workers load fetched bytes with this.
import { CheckpointError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'recur-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const WEIGHTS_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
/** Optimizer state tensors are stored in the weights file under this prefix (`optim.m.layer0.w`, ...). */
export const OPTIM_PREFIX = 'optim.';

/** A tensor's elements as plain data: row-major, f32 or i32. */
export interface ArrayTensor {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}
export type TensorMap = Map<string, ArrayTensor>;

export interface OptimizerConfig {
  name: string;
  /** Optimizer steps taken (bias correction uses it). */
  step: number;
  [hyper: string]: unknown;
}

/** config.json without its format tag. Numbers must be JSON-safe: store 32-bit RNG words as numbers, larger state as strings. */
export interface CheckpointConfigInput {
  architecture: Record<string, unknown>;
  vocabulary: Record<string, unknown>;
  optimizer: OptimizerConfig;
  /** Training steps completed. */
  step: number;
  dataPosition: Record<string, unknown>;
  rng: Record<string, unknown>;
  [extra: string]: unknown;
}

/** config.json as written: the input plus `format` and `version`. */
export interface CheckpointConfig extends CheckpointConfigInput {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
}

export interface Checkpoint {
  config: CheckpointConfig;
  /** Model parameters by name, in file order. */
  weights: TensorMap;
  /** Optimizer state by name (without the `optim.` prefix), in file order. */
  optimizerState: TensorMap;
}

export interface CheckpointInput {
  config: CheckpointConfigInput;
  weights: TensorMap | Record<string, ArrayTensor>;
  optimizerState?: TensorMap | Record<string, ArrayTensor>;
}

/** The two files' contents: `weights` for model.safetensors, `config` for config.json. */
export interface CheckpointBytes {
  weights: Uint8Array;
  config: string;
}

const entries = (m: TensorMap | Record<string, ArrayTensor> | undefined): [string, ArrayTensor][] =>
  m === undefined ? [] : m instanceof Map ? [...m] : Object.entries(m);

function toTensor(name: string, t: ArrayTensor): SafetensorsTensor {
  return { name, dtype: t.data instanceof Int32Array ? 'I32' : 'F32', shape: t.shape, data: t.data };
}

/** Serialises a checkpoint; validates the config first so a bad one is never written. */
export function checkpointToBytes(ckpt: CheckpointInput): CheckpointBytes {
  const config: CheckpointConfig = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...ckpt.config };
  const text = JSON.stringify(config, jsonSafe, 2);
  validateConfig(JSON.parse(text), 'checkpoint config'); // what a loader will see, after JSON's round trip
  const tensors: SafetensorsTensor[] = [];
  for (const [name, t] of entries(ckpt.weights)) {
    if (name.startsWith(OPTIM_PREFIX)) throw new CheckpointError(`checkpoint: weight ${JSON.stringify(name)} may not start with "${OPTIM_PREFIX}" (reserved for optimizer state)`);
    tensors.push(toTensor(name, t));
  }
  for (const [name, t] of entries(ckpt.optimizerState)) tensors.push(toTensor(OPTIM_PREFIX + name, t));
  const metadata = { 'recur.format': CHECKPOINT_FORMAT, 'recur.step': String(config.step) };
  return { weights: encodeSafetensors(tensors, metadata), config: text + '\n' };
}

export interface FromBytesOptions {
  /** Names the checkpoint in errors (a directory or URL); files are named `<source>/model.safetensors`. */
  source?: string;
  /** Copy tensors out of `weights` (default: views where aligned). */
  copy?: boolean;
}

/** Loads a checkpoint from the two files' contents (fetched bytes in a browser, or read by the Node loader). */
export function checkpointFromBytes(bytes: CheckpointBytes, opts: FromBytesOptions = {}): Checkpoint {
  const at = (file: string) => (opts.source ? `${opts.source}/${file}` : file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.config);
  } catch (e) {
    throw new CheckpointError(`${at(CONFIG_FILE)}: not valid JSON (${(e as Error).message})`);
  }
  const config = validateConfig(parsed, at(CONFIG_FILE));
  const file = decodeSafetensors(bytes.weights, { file: at(WEIGHTS_FILE), copy: opts.copy });
  if (file.metadata['recur.format'] !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${at(WEIGHTS_FILE)}: not a recur checkpoint (metadata recur.format is ${JSON.stringify(file.metadata['recur.format'])})`);
  }
  if (file.metadata['recur.step'] !== String(config.step)) {
    throw new CheckpointError(
      `${at(WEIGHTS_FILE)} was written at step ${file.metadata['recur.step']} but ${at(CONFIG_FILE)} says step ${config.step}: the two files come from different checkpoints`,
    );
  }
  const weights: TensorMap = new Map();
  const optimizerState: TensorMap = new Map();
  for (const t of file.tensors) {
    const value = { shape: t.shape, data: t.data };
    if (t.name.startsWith(OPTIM_PREFIX)) optimizerState.set(t.name.slice(OPTIM_PREFIX.length), value);
    else weights.set(t.name, value);
  }
  return { config, weights, optimizerState };
}

/** A JSON.stringify replacer that refuses values JSON would silently change (NaN, Infinity, bigint). */
function jsonSafe(this: unknown, key: string, v: unknown): unknown {
  if (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v))) {
    throw new CheckpointError(`checkpoint config: ${key || '(root)'} is ${String(v)}, which JSON cannot hold exactly (store it as a string)`);
  }
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    throw new CheckpointError(`checkpoint config: ${key} is ${v}, beyond 2^53 where JSON numbers lose digits (store it as a string)`);
  }
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks config.json's shape; the error names the file and the field. */
export function validateConfig(v: unknown, file: string): CheckpointConfig {
  const fail = (what: string): never => {
    throw new CheckpointError(`${file}: ${what}`);
  };
  if (!isObject(v)) return fail('is not a JSON object');
  if (v.format !== CHECKPOINT_FORMAT) fail(`format is ${JSON.stringify(v.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (!isCount(v.version) || v.version < 1) fail(`version ${JSON.stringify(v.version)} is not a positive integer`);
  if ((v.version as number) > CHECKPOINT_VERSION) fail(`version ${v.version} was written by a newer recur; this one reads version ${CHECKPOINT_VERSION}`);
  for (const key of ['architecture', 'vocabulary', 'optimizer', 'dataPosition', 'rng']) {
    if (!isObject(v[key])) fail(`${key} is missing or not an object`);
  }
  const optimizer = v.optimizer as Record<string, unknown>;
  if (typeof optimizer.name !== 'string' || optimizer.name === '') fail('optimizer.name is missing or not a string');
  if (!isCount(optimizer.step)) fail(`optimizer.step ${JSON.stringify(optimizer.step)} is not a non-negative integer`);
  if (!isCount(v.step)) fail(`step ${JSON.stringify(v.step)} is not a non-negative integer`);
  return v as CheckpointConfig;
}
