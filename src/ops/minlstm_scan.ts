// minlstm_scan: the minLSTM recurrence fused with its gates (models.md §C.1-C.3), time-major: u_f, u_i, p (T, B, D),
// h0 (B, D) optional -> h (T, B, D), hT (B, D); h_t = f'_t·h_{t−1} + i'_t·g(p_t), with f', i' normalised by f+i or not.
// minlstm_scan_bwd: [u_f, u_i, p, h, dh, dhT, h0?] -> [du_f, du_i, dp, dh0?] by the adjoint recurrence (§D.1, §D.3).
import minlstmWgsl from '../../shaders/minlstm_scan.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import { OptionError } from '../errors.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';
import { checkScan, dg64, dh0From64, g64, h0Eff64, modeId, scanDims, scanGpuBackward, scanGpuForward, upstream, type H0Mode } from './scan_common.js';
import { sigmoid64, softplus64 } from './unary.js';

export interface MinLstmScanParams {
  /** f' = f/(f+i), i' = i/(f+i) (lucidrains, the paper) or the raw gates (the official code's default). */
  normalize: boolean;
  h0Mode: H0Mode;
}

function check(op: string, seq: string[], vec: string[], inputs: readonly Spec[], p: MinLstmScanParams): { T: number; B: number; D: number } {
  if (typeof p?.normalize !== 'boolean') throw new OptionError(`${op}: normalize must be a boolean, got ${p?.normalize}`);
  return checkScan(op, seq, vec, inputs, p.h0Mode);
}

/** Gates of one step in float64: [f', i', ∂h/∂u_f per unit λ·(h_{t−1} − h̃) or λ·h_{t−1}, the same for u_i]. */
function gates64(uf: number, ui: number, norm: boolean): [number, number, number, number] {
  if (norm) {
    const d = softplus64(-uf) - softplus64(-ui); // log(i/f)
    const fp = sigmoid64(-d);
    const ip = sigmoid64(d);
    return [fp, ip, fp * ip * sigmoid64(-uf), fp * ip * sigmoid64(-ui)];
  }
  const f = sigmoid64(uf);
  const i = sigmoid64(ui);
  return [f, i, f * sigmoid64(-uf), i * sigmoid64(-ui)];
}

export const minlstmScanOp: OpDef<MinLstmScanParams> = {
  name: 'minlstm_scan',
  family: 'minlstm_scan',
  inputNames: ['uf', 'ui', 'p', 'h0'],
  shapes(inputs, p) {
    const { T, B, D } = check('minlstm_scan', ['uf', 'ui', 'p'], [], inputs, p);
    return [{ shape: [T, B, D], dtype: 'f32' }, { shape: [B, D], dtype: 'f32' }];
  },
  reference([uf, ui, p, h0], specs, prm) {
    const { T, N } = scanDims(specs);
    const h = new Float64Array(T * N);
    const hc = h0Eff64(h0, N, modeId('minlstm_scan', prm.h0Mode));
    for (let i = 0; i < T * N; i++) {
      const c = i % N;
      const [fp, ip] = gates64(uf![i]!, ui![i]!, prm.normalize);
      hc[c] = fp * hc[c]! + ip * g64(p![i]!);
      h[i] = hc[c]!;
    }
    return [h, hc];
  },
  grad({ inputs, outputs, dOutputs, params }) {
    const [uf, ui, p, h0] = inputs as [Tensor, Tensor, Tensor, Tensor?];
    const up = upstream(outputs[0]!, outputs[1]!, dOutputs);
    if (!up) return inputs.map(() => null);
    return runOp(minlstmScanBwdOp, [uf, ui, p, outputs[0]!, up[0], up[1], ...(h0 ? [h0] : [])], params);
  },
  wasm(x, specs, prm) {
    const { T, N } = scanDims(specs);
    if (N === 0) return;
    const [uf, ui, p, h0] = x.inputs;
    x.exports['minlstm_scan_fwd_f32']!(uf!, ui!, p!, h0 ?? 0, x.outputs[0]!, x.outputs[1]!, T, N, modeId('minlstm_scan', prm.h0Mode), prm.normalize ? 1 : 0);
  },
  webgpu(gpu, specs, prm) {
    const { T, N } = scanDims(specs);
    scanGpuForward(gpu, minlstmWgsl, gpu.inputs.slice(0, 3), gpu.inputs[3], T, N, modeId('minlstm_scan', prm.h0Mode), prm.normalize ? 1 : 0);
  },
  cost(specs, prm) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: (prm.normalize ? 150 : 80) * n, bytes: 16 * n };
  },
};

export const minlstmScanBwdOp: OpDef<MinLstmScanParams> = {
  name: 'minlstm_scan_bwd',
  family: 'minlstm_scan',
  inputNames: ['uf', 'ui', 'p', 'h', 'dh', 'dhT', 'h0'],
  shapes(inputs, p) {
    const { B, D } = check('minlstm_scan_bwd', ['uf', 'ui', 'p', 'h', 'dh'], ['dhT'], inputs, p);
    const seq: Spec = { shape: inputs[0]!.shape, dtype: 'f32' };
    return modeId('minlstm_scan_bwd', p.h0Mode) ? [seq, seq, seq, { shape: [B, D], dtype: 'f32' }] : [seq, seq, seq];
  },
  reference([uf, ui, p, h, dh, dhT, h0], specs, prm) {
    const { T, N } = scanDims(specs);
    const mode = modeId('minlstm_scan_bwd', prm.h0Mode);
    const hp0 = h0Eff64(h0, N, mode);
    const [duf, dui, dp] = [0, 1, 2].map(() => new Float64Array(T * N)) as [Float64Array, Float64Array, Float64Array];
    const x = Float64Array.from(dhT!); // f'_{t+1}·λ_{t+1}
    for (let i = T * N - 1; i >= 0; i--) {
      const c = i % N;
      const l = dh![i]! + x[c]!;
      const [fp, ip, df, di] = gates64(uf![i]!, ui![i]!, prm.normalize);
      const hp = i >= N ? h![i - N]! : hp0[c]!;
      const gp = g64(p![i]!);
      if (prm.normalize) {
        duf[i] = -l * (gp - hp) * df;
        dui[i] = l * (gp - hp) * di;
      } else {
        duf[i] = l * hp * df;
        dui[i] = l * gp * di;
      }
      dp[i] = l * ip * dg64(p![i]!);
      x[c] = fp * l;
    }
    return mode ? [duf, dui, dp, dh0From64(x, h0!, mode)] : [duf, dui, dp];
  },
  grad: null,
  wasm(x, specs, prm) {
    const { T, N } = scanDims(specs);
    if (N === 0) return;
    const [uf, ui, p, h, dh, dhT, h0] = x.inputs;
    const [duf, dui, dp, dh0] = x.outputs;
    const work = x.scratch(8 * N);
    x.exports['minlstm_scan_bwd_f32']!(uf!, ui!, p!, h!, dh!, dhT!, h0 ?? 0, duf!, dui!, dp!, dh0 ?? 0, work, T, N, modeId('minlstm_scan_bwd', prm.h0Mode), prm.normalize ? 1 : 0);
  },
  webgpu(gpu, specs, prm) {
    const { T, N } = scanDims(specs);
    const [uf, ui, p, h, dh, dhT, h0] = gpu.inputs as GPUBuffer[];
    const [duf, dui, dp, dh0] = gpu.outputs as GPUBuffer[];
    const b = { pre: [uf!, ui!, p!], a: [uf!, ui!], h0, h: h!, dh: dh!, dhT: dhT!, lam: dp!, dh0, grads: [duf!, dui!] };
    scanGpuBackward(gpu, minlstmWgsl, 'minlstm_scan_bwd', b, T, N, modeId('minlstm_scan_bwd', prm.h0Mode), prm.normalize ? 1 : 0);
  },
  cost(specs, prm) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: (prm.normalize ? 200 : 110) * n, bytes: 32 * n };
  },
};

export interface MinLstmScanOptions extends CallOptions {
  /** Normalise f and i by their sum (default true). */
  normalize?: boolean;
  /** Initial state (B, D); how it is read is `h0Mode` (default 'preactivation' when h0 is given). */
  h0?: Tensor;
  h0Mode?: Exclude<H0Mode, 'none'>;
}

function params(opts: MinLstmScanOptions): MinLstmScanParams {
  return { normalize: opts.normalize ?? true, h0Mode: opts.h0 ? (opts.h0Mode ?? 'preactivation') : 'none' };
}

/** [h (T, B, D), hT (B, D)] of minLSTM from forget, input and candidate pre-activations (T, B, D). */
export function minlstmScan(uf: Tensor, ui: Tensor, p: Tensor, opts: MinLstmScanOptions = {}): [Tensor, Tensor] {
  const outs = runOp(minlstmScanOp, opts.h0 ? [uf, ui, p, opts.h0] : [uf, ui, p], params(opts), opts);
  return [outs[0]!, outs[1]!];
}

/** [du_f, du_i, dp] (and dh0 when h0 is given) of minlstmScan, from its output h and upstream dh, dhT. */
export function minlstmScanBwd(uf: Tensor, ui: Tensor, p: Tensor, h: Tensor, dh: Tensor, dhT: Tensor, opts: MinLstmScanOptions = {}): Tensor[] {
  return runOp(minlstmScanBwdOp, [uf, ui, p, h, dh, dhT, ...(opts.h0 ? [opts.h0] : [])], params(opts), opts);
}
