// Shared by `recur train | sample | eval` (Node only): option parsing with one-line errors, backend start-up,
// and loading a language model with its tokenizer from a checkpoint directory (or a run directory holding one).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName } from '../backends/backend.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { CheckpointError, OptionError } from '../errors.js';
import { init } from '../index.js';
import type { Checkpoint } from '../io/checkpoint.js';
import type { LanguageModel } from '../models/types.js';
import { loadCheckpoint } from '../node/checkpoint_fs.js';
import { getBackendPin, setBackend } from '../scheduler/scheduler.js';
import { languageModelFromCheckpoint } from '../train/lm_checkpoint.js';

export const BACKENDS = ['auto', 'wasm', 'webgpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

/** An integer option in [min, max]; undefined stays undefined. */
export function intOption(flag: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new OptionError(`${flag} ${v}: expected an integer${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` in [${min}, ${max}]`}`);
  }
  return n;
}

/** A finite number option in [min, max]. */
export function numberOption(flag: string, v: string | undefined, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new OptionError(`${flag} ${v}: expected a number${max === Infinity ? ` >= ${min}` : ` in [${min}, ${max}]`}`);
  return n;
}

/**
 * Brings up the backends and pins the chosen one; returns where new tensors (the parameters) go. 'auto' brings
 * WebGPU up too where there is one (calibrated, or the calibration cached on disk) and lets the scheduler place
 * each op; parameters start on wasm. A global pin (RECUR_BACKEND) holds under 'auto'.
 */
export async function startBackend(choice: BackendChoice): Promise<BackendName> {
  const report = await init({ webgpu: choice !== 'wasm' });
  if (choice === 'webgpu') {
    if (!report.backends.includes('webgpu')) throw new OptionError(`--backend webgpu: WebGPU is not available (${report.webgpuUnavailable ?? 'no adapter'}); use --backend wasm`);
    setBackend('webgpu');
    return 'webgpu';
  }
  if (choice === 'wasm') {
    setBackend('wasm');
    return 'wasm';
  }
  const pin = getBackendPin();
  if (pin === 'auto') return 'wasm';
  if (!report.backends.includes(pin)) {
    throw new OptionError(`RECUR_BACKEND=${pin}: that backend is not available (available: ${report.backends.join(', ')}${report.webgpuUnavailable ? `; WebGPU: ${report.webgpuUnavailable}` : ''})`);
  }
  return pin;
}

/** The checkpoint directory a --checkpoint / --out value names: the directory itself, or its `checkpoint/`. */
export function checkpointDirOf(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'config.json'))) return abs;
  return join(abs, 'checkpoint');
}

export interface LoadedLm {
  dir: string;
  checkpoint: Checkpoint;
  model: LanguageModel;
  tokenizer: Tokenizer;
}

/** Loads a checkpoint and builds its model on `backend` with the stored weights. */
export async function loadLanguageModel(dirArg: string, backend: BackendName): Promise<LoadedLm> {
  const dir = checkpointDirOf(dirArg);
  if (!existsSync(resolve(dirArg))) throw new CheckpointError(`--checkpoint ${dirArg}: no such directory`);
  const checkpoint = await loadCheckpoint(dir);
  const { model, tokenizer } = languageModelFromCheckpoint(checkpoint, dir, backend);
  return { dir, checkpoint, model, tokenizer };
}
