// Typed reads of ModelConfig.options with clear errors naming the option, its value and what it accepts.
import { OptionError } from '../errors.js';
import type { ModelConfig } from './types.js';

function raw(cfg: ModelConfig, key: string): number | boolean | string | undefined {
  return cfg.options?.[key];
}

/** A number option; `check` (e.g. integer ≥ 0) names the constraint in the error. */
export function optNumber(cfg: ModelConfig, key: string, dflt: number, check?: { integer?: boolean; min?: number; max?: number }): number {
  const v = raw(cfg, key) ?? dflt;
  const bad = typeof v !== 'number' || !Number.isFinite(v) || (check?.integer && !Number.isInteger(v)) || (check?.min !== undefined && v < check.min) || (check?.max !== undefined && v > check.max);
  if (bad) {
    const want = [check?.integer ? 'an integer' : 'a finite number', check?.min !== undefined ? `>= ${check.min}` : '', check?.max !== undefined ? `<= ${check.max}` : ''].filter(Boolean).join(' ');
    throw new OptionError(`model '${cfg.model}': option '${key}' must be ${want}, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

export function optBool(cfg: ModelConfig, key: string, dflt: boolean): boolean {
  const v = raw(cfg, key) ?? dflt;
  if (typeof v !== 'boolean') throw new OptionError(`model '${cfg.model}': option '${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function optChoice<C extends string>(cfg: ModelConfig, key: string, choices: readonly C[], dflt: C): C {
  const v = raw(cfg, key) ?? dflt;
  if (typeof v !== 'string' || !choices.includes(v as C)) {
    throw new OptionError(`model '${cfg.model}': option '${key}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as C;
}
