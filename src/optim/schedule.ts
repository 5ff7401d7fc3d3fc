// Learning-rate schedules: pure functions of the step. warmupCosine: linear warm-up from 0 to peakLr over
// warmupSteps, then a half cosine from peakLr down to minLr at totalSteps, and minLr after that.
import { OptionError } from '../errors.js';
import type { LrSchedule } from './optimizer.js';

export interface WarmupCosineOptions {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Default 0. */
  minLr?: number;
}

/**
 * lr(s) = peakLr·s/warmupSteps for s < warmupSteps; minLr + (peakLr − minLr)·(1 + cos(π·(s − warmupSteps)/
 * (totalSteps − warmupSteps)))/2 up to totalSteps; minLr after. lr(0) = 0. The optimizers call it with the 1-based
 * step they are taking, so the first update uses peakLr/warmupSteps (never 0) and step warmupSteps uses peakLr.
 */
export function warmupCosine(opts: WarmupCosineOptions): LrSchedule {
  const { peakLr, warmupSteps, totalSteps } = opts;
  const minLr = opts.minLr ?? 0;
  const where = `warmupCosine(peakLr ${peakLr}, warmupSteps ${warmupSteps}, totalSteps ${totalSteps}, minLr ${minLr})`;
  if (!(Number.isFinite(peakLr) && peakLr >= 0)) throw new OptionError(`${where}: peakLr must be a finite number >= 0`);
  if (!(Number.isFinite(minLr) && minLr >= 0 && minLr <= peakLr)) throw new OptionError(`${where}: minLr must lie in [0, peakLr]`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new OptionError(`${where}: warmupSteps must be an integer >= 0`);
  if (!Number.isInteger(totalSteps) || totalSteps < warmupSteps) throw new OptionError(`${where}: totalSteps must be an integer >= warmupSteps`);
  const decay = totalSteps - warmupSteps;
  return (step: number): number => {
    if (!(Number.isFinite(step) && step >= 0)) throw new OptionError(`${where}: step must be a finite number >= 0 (got ${step})`);
    if (step < warmupSteps) return (peakLr * step) / warmupSteps;
    if (step >= totalSteps) return minLr;
    return minLr + ((peakLr - minLr) * (1 + Math.cos((Math.PI * (step - warmupSteps)) / decay))) / 2;
  };
}
