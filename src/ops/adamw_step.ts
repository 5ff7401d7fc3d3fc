// One AdamW update in place (decoupled weight decay, as PyTorch's AdamW): p ← p − lr·wd·p; m ← β1 m + (1−β1) g;
// v ← β2 v + (1−β2) g²; p ← p − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), t = step (1-based).
// adaptive: false takes the un-adapted momentum step p ← p − lr·m̂ (RAdam's early steps; v is still updated).
// Inputs (param, grad, m, v), all f32 of one shape; param, m and v are updated in place; no outputs.
import adamwWgsl from '../../shaders/adamw_step.wgsl';
import { DTypeError, OptionError, ShapeError } from '../errors.js';
import { runOp, type CallOptions } from '../engine.js';
import { fmtShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';

export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count t, for the bias corrections 1 − β^t. */
  step: number;
  /** false: p ← p·(1 − lr·wd) − lr·m̂ (no division by √v̂ + ε; RAdam before rectification). Default true. */
  adaptive?: boolean;
}

const NAMES = ['param', 'grad', 'm', 'v'] as const;
const WG = 256;

function adamwShapes(inputs: readonly Spec[], p: AdamWParams): Spec[] {
  const where = `adamw_step(${inputs.map((s, i) => `${NAMES[i] ?? i} ${fmtShape(s.shape)}`).join(', ')})`;
  if (inputs.length !== 4) throw new ShapeError(`${where}: expected inputs (param, grad, m, v), got ${inputs.length}`);
  inputs.forEach((s, i) => {
    if (s.dtype !== 'f32') throw new DTypeError(`${where}: ${NAMES[i]} must be f32, got ${s.dtype}`);
    if (!sameShape(s.shape, inputs[0]!.shape)) throw new ShapeError(`${where}: ${NAMES[i]} must have the shape of param, ${fmtShape(inputs[0]!.shape)}`);
  });
  const bad = (what: string) => new OptionError(`${where}: ${what} (got lr ${p.lr}, beta1 ${p.beta1}, beta2 ${p.beta2}, eps ${p.eps}, weightDecay ${p.weightDecay}, step ${p.step})`);
  if (!Number.isInteger(p.step) || p.step < 1) throw bad('step must be an integer >= 1');
  if (!(p.beta1 >= 0 && p.beta1 < 1) || !(p.beta2 >= 0 && p.beta2 < 1)) throw bad('beta1 and beta2 must lie in [0, 1)');
  if (!(p.eps > 0) || !Number.isFinite(p.lr) || !Number.isFinite(p.weightDecay)) throw bad('eps must be > 0, lr and weightDecay finite');
  if (p.adaptive !== undefined && typeof p.adaptive !== 'boolean') throw bad(`adaptive must be a boolean (got ${String(p.adaptive)})`);
  return [];
}

/** The per-call scalars every kernel uses: p ← p·decay − stepSize·m / (√v·invSqrtBc2 + ε) (adaptive), else
 *  p ← p·decay − stepSize·m. */
export function adamwScalars(p: AdamWParams): { decay: number; stepSize: number; invSqrtBc2: number } {
  const bc1 = 1 - Math.pow(p.beta1, p.step);
  const bc2 = 1 - Math.pow(p.beta2, p.step);
  return { decay: 1 - p.lr * p.weightDecay, stepSize: p.lr / bc1, invSqrtBc2: 1 / Math.sqrt(bc2) };
}

export const adamwStepOp: OpDef<AdamWParams> = {
  name: 'adamw_step',
  family: 'adamw_step',
  inputNames: NAMES,
  inplace: [0, 2, 3],
  shapes: adamwShapes,
  reference([param, g, m, v], _specs, p) {
    const bc1 = 1 - Math.pow(p.beta1, p.step);
    const bc2 = 1 - Math.pow(p.beta2, p.step);
    for (let i = 0; i < param!.length; i++) {
      param![i] = param![i]! - p.lr * p.weightDecay * param![i]!;
      m![i] = p.beta1 * m![i]! + (1 - p.beta1) * g![i]!;
      v![i] = p.beta2 * v![i]! + (1 - p.beta2) * g![i]! * g![i]!;
      const mHat = m![i]! / bc1;
      const vHat = v![i]! / bc2;
      param![i] = param![i]! - (p.adaptive === false ? p.lr * mHat : (p.lr * mHat) / (Math.sqrt(vHat) + p.eps));
    }
    return [];
  },
  grad: null,
  wasm(k, specs, p) {
    const s = adamwScalars(p);
    const [param, g, m, v] = k.inputs as [number, number, number, number];
    k.exports['adamw_step_f32']!(param, g, m, v, sizeOf(specs.inputs[0]!.shape), s.decay, p.beta1, p.beta2, s.stepSize, s.invSqrtBc2, p.eps, p.adaptive === false ? 0 : 1);
  },
  webgpu(gpu, specs, p) {
    const n = sizeOf(specs.inputs[0]!.shape);
    if (n === 0) return;
    const s = adamwScalars(p);
    const groups = Math.ceil(n / WG);
    const x = Math.min(groups, gpu.limits.maxComputeWorkgroupsPerDimension);
    gpu.dispatch({
      shader: adamwWgsl,
      entry: 'adamw_step',
      buffers: [gpu.inputs[0]!, gpu.inputs[1]!, gpu.inputs[2]!, gpu.inputs[3]!],
      uniforms: [n, { f32: s.decay }, { f32: p.beta1 }, { f32: p.beta2 }, { f32: s.stepSize }, { f32: s.invSqrtBc2 }, { f32: p.eps }, p.adaptive === false ? 0 : 1],
      overrides: { WG },
      workgroups: [x, Math.ceil(groups / x)],
    });
  },
  cost(specs) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: 14 * n, bytes: 4 * 7 * n }; // reads p, g, m, v; writes p, m, v
  },
};

export type AdamWOptions = CallOptions;

/** Updates `param`, `m` and `v` in place with one AdamW step from `grad`; returns nothing. */
export function adamwStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, params: AdamWParams, opts: AdamWOptions = {}): void {
  const state = [param, m, v];
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      if (!state[i]!.disposed && !state[j]!.disposed && state[i]!.storage() === state[j]!.storage()) {
        throw new OptionError(`adamw_step: ${['param', 'm', 'v'][i]} and ${['param', 'm', 'v'][j]} share storage; each must be its own tensor`);
      }
    }
  }
  runOp(adamwStepOp, [param, grad, m, v], { ...params }, opts);
}
