// warmupCosine: values at known steps (linear warm-up from 0, half cosine to minLr, flat after), and its errors.
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { warmupCosine } from '../../src/optim/schedule.js';

describe('warmupCosine', () => {
  const lr = warmupCosine({ peakLr: 1e-3, warmupSteps: 10, totalSteps: 110, minLr: 1e-4 });

  it('rises linearly from 0 to peakLr over warmupSteps', () => {
    expect(lr(0)).toBe(0);
    expect(lr(1)).toBeCloseTo(1e-4, 15);
    expect(lr(5)).toBeCloseTo(5e-4, 15);
    expect(lr(10)).toBeCloseTo(1e-3, 15);
  });

  it('decays by a half cosine to minLr at totalSteps and stays there', () => {
    expect(lr(35)).toBeCloseTo(1e-4 + 0.9e-3 * (1 + Math.cos(Math.PI / 4)) / 2, 15);
    expect(lr(60)).toBeCloseTo(5.5e-4, 15); // halfway: the mean of peak and min
    expect(lr(85)).toBeCloseTo(1e-4 + 0.9e-3 * (1 + Math.cos((3 * Math.PI) / 4)) / 2, 15);
    expect(lr(110)).toBe(1e-4);
    expect(lr(1000)).toBe(1e-4);
    for (let s = 10; s < 110; s++) expect(lr(s + 1)).toBeLessThan(lr(s));
  });

  it('is a pure function of the step (same answer in any order)', () => {
    const steps = [50, 3, 110, 3, 50, 0];
    expect(steps.map(lr)).toEqual([...steps].map((s) => lr(s)));
  });

  it('without warm-up starts at peakLr; minLr defaults to 0', () => {
    const f = warmupCosine({ peakLr: 2, warmupSteps: 0, totalSteps: 4 });
    expect([0, 1, 2, 3, 4, 5].map(f).map((x) => +x.toFixed(12))).toEqual([2, +(1 + Math.SQRT1_2).toFixed(12), 1, +(1 - Math.SQRT1_2).toFixed(12), 0, 0]);
  });

  it('names bad options and steps', () => {
    expect(() => warmupCosine({ peakLr: 1, warmupSteps: 5, totalSteps: 4 })).toThrow(/totalSteps must be an integer >= warmupSteps/);
    expect(() => warmupCosine({ peakLr: 1, warmupSteps: 1.5, totalSteps: 4 })).toThrow(OptionError);
    expect(() => warmupCosine({ peakLr: 1, warmupSteps: 1, totalSteps: 4, minLr: 2 })).toThrow(/minLr must lie in \[0, peakLr\]/);
    expect(() => warmupCosine({ peakLr: NaN, warmupSteps: 1, totalSteps: 4 })).toThrow(/peakLr must be a finite number >= 0/);
    expect(() => lr(-1)).toThrow(/step must be a finite number >= 0 \(got -1\)/);
  });
});
