// `recur train` options: parsed from commander's strings with one-line errors, defaults applied, and on --resume
// merged with the settings stored in the checkpoint (which win; a conflicting flag is an error naming both).
import { OptionError } from '../errors.js';
import type { ModelConfig } from '../models/types.js';
import { BACKENDS, intOption, numberOption, type BackendChoice } from './lm_common.js';

export const MODEL_KINDS: readonly ModelConfig['model'][] = ['mingru', 'minlstm', 'sru', 'srupp', 'gru', 'lstm'];

/** What commander hands the action: every value a string, unset when not given. */
export interface TrainFlags {
  model?: string;
  data?: string;
  vocab?: string;
  steps?: string;
  batch?: string;
  seq?: string;
  dim?: string;
  layers?: string;
  lr?: string;
  warmup?: string;
  clip?: string;
  weightDecay?: string;
  optimizer?: string;
  dropout?: string;
  evalEvery?: string;
  evalTokens?: string;
  logEvery?: string;
  backend?: string;
  seed?: string;
  out?: string;
  sample?: string;
  until?: string;
  resume?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

/** The settings of a run, stored in the checkpoint's config.json under `training`. */
export interface TrainSettings {
  model: ModelConfig['model'];
  /** A file path (absolute), or 'brown' for the built-in corpus. */
  data: string;
  vocab: 'byte' | 'char';
  validationFraction: number;
  steps: number;
  batch: number;
  seq: number;
  dim: number;
  layers: number;
  lr: number;
  minLr: number;
  warmup: number;
  clip: number;
  weightDecay: number;
  optimizer: 'adamw' | 'radam';
  /** Dropout in training (the model's 'dropout' option; 0: off). Absent in checkpoints written before it existed. */
  dropout: number;
  seed: number;
}

/** Per-invocation choices that are not part of the run. */
export interface RunFlags {
  evalEvery: number;
  evalTokens: number;
  logEvery: number;
  backend: BackendChoice;
  sample: number;
  /** Stop (and save) after this step; the schedule still runs to `steps`. */
  until: number;
  json: boolean;
}

function choice<C extends string>(flag: string, v: string | undefined, choices: readonly C[]): C | undefined {
  if (v === undefined) return undefined;
  if (!choices.includes(v as C)) throw new OptionError(`${flag} ${v}: expected one of ${choices.join(', ')}`);
  return v as C;
}

/** Settings given on the command line (undefined where a flag was not given). */
export function settingsFromFlags(f: TrainFlags, dataPath: (p: string) => string): Partial<TrainSettings> {
  return {
    model: choice('--model', f.model, MODEL_KINDS),
    data: f.data === undefined ? undefined : dataPath(f.data),
    vocab: choice('--vocab', f.vocab, ['byte', 'char'] as const),
    steps: intOption('--steps', f.steps, 1),
    batch: intOption('--batch', f.batch, 1, 4096),
    seq: intOption('--seq', f.seq, 1, 65536),
    dim: intOption('--dim', f.dim, 1, 16384),
    layers: intOption('--layers', f.layers, 1, 256),
    lr: numberOption('--lr', f.lr, 0, 10),
    warmup: intOption('--warmup', f.warmup, 0),
    clip: numberOption('--clip', f.clip, 0),
    weightDecay: numberOption('--weight-decay', f.weightDecay, 0, 10),
    optimizer: choice('--optimizer', f.optimizer, ['adamw', 'radam'] as const),
    dropout: numberOption('--dropout', f.dropout, 0, 0.99),
    seed: intOption('--seed', f.seed, 0, 0xffffffff),
  };
}

/** A fresh run's settings: the flags over the defaults. */
export function freshSettings(given: Partial<TrainSettings>): TrainSettings {
  if (!given.model) throw new OptionError(`--model is required for a new run (one of ${MODEL_KINDS.join(', ')}); or pass --resume`);
  const steps = given.steps ?? 1000;
  const lr = given.lr ?? 3e-3;
  const s: TrainSettings = {
    model: given.model,
    data: given.data ?? 'brown',
    vocab: given.vocab ?? 'byte',
    validationFraction: 0.1,
    steps,
    batch: given.batch ?? 16,
    seq: given.seq ?? 128,
    dim: given.dim ?? 128,
    layers: given.layers ?? 2,
    lr,
    minLr: lr / 10,
    warmup: given.warmup ?? Math.min(100, Math.floor(steps / 10)),
    clip: given.clip ?? 1,
    weightDecay: given.weightDecay ?? 0.01,
    optimizer: given.optimizer ?? 'adamw',
    dropout: given.dropout ?? 0,
    seed: given.seed ?? 1,
  };
  if (s.warmup > s.steps) throw new OptionError(`--warmup ${s.warmup}: must not exceed --steps ${s.steps}`);
  return s;
}

/** A resumed run's settings: the stored ones; --steps may extend the run; any other differing flag is an error. */
export function resumedSettings(storedRaw: TrainSettings, given: Partial<TrainSettings>, where: string): TrainSettings {
  const stored: TrainSettings = { ...storedRaw, dropout: storedRaw.dropout ?? 0 };
  for (const [k, v] of Object.entries(given) as [keyof TrainSettings, unknown][]) {
    if (v === undefined || k === 'steps' || v === stored[k]) continue;
    const flag = k === 'weightDecay' ? '--weight-decay' : `--${k}`;
    const what = k === 'data' ? (stored.data === 'brown' ? 'the built-in Brown corpus' : stored.data) : JSON.stringify(stored[k]);
    throw new OptionError(`${flag} ${String(v)}: the checkpoint in ${where} was trained with ${k} ${what}; --resume continues with the stored settings`);
  }
  return { ...stored, steps: given.steps ?? stored.steps };
}

export function runFlags(f: TrainFlags, steps: number): RunFlags {
  return {
    evalEvery: intOption('--eval-every', f.evalEvery, 0) ?? Math.max(1, Math.floor(steps / 10)),
    evalTokens: intOption('--eval-tokens', f.evalTokens, 2) ?? 65536,
    logEvery: intOption('--log-every', f.logEvery, 1) ?? Math.max(1, Math.floor(steps / 20)),
    backend: choice('--backend', f.backend, BACKENDS) ?? 'auto',
    sample: intOption('--sample', f.sample, 0) ?? 0,
    until: Math.min(intOption('--until', f.until, 1) ?? steps, steps),
    json: !!f.json,
  };
}
