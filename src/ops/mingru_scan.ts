// mingru_scan: the minGRU recurrence fused with its gates (models.md §C.1-C.3), from pre-activations, time-major:
// k, p (T, B, D), h0 (B, D) optional -> h (T, B, D), hT (B, D); z = σ(k), h_t = (1−z_t)·h_{t−1} + z_t·g(p_t).
// mingru_scan_bwd: [k, p, h, dh, dhT, h0?] -> [dk, dp, dh0?] by the adjoint (reverse) recurrence (§D.1, §D.2).
import mingruWgsl from '../../shaders/mingru_scan.wgsl';
import { runOp, type CallOptions } from '../engine.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef, Spec } from './op.js';
import { checkScan, dg64, dh0From64, g64, h0Eff64, modeId, scanDims, scanGpuBackward, scanGpuForward, upstream, type H0Mode } from './scan_common.js';
import { sigmoid64 } from './unary.js';

export type { H0Mode } from './scan_common.js';

export interface MinGruScanParams {
  h0Mode: H0Mode;
}

function bwdShapes(inputs: readonly Spec[], p: MinGruScanParams): Spec[] {
  const { B, D } = checkScan('mingru_scan_bwd', ['k', 'p', 'h', 'dh'], ['dhT'], inputs, p?.h0Mode);
  const seq = inputs[0]!.shape;
  const out: Spec[] = [{ shape: seq, dtype: 'f32' }, { shape: seq, dtype: 'f32' }];
  if (modeId('mingru_scan_bwd', p.h0Mode)) out.push({ shape: [B, D], dtype: 'f32' });
  return out;
}

export const mingruScanOp: OpDef<MinGruScanParams> = {
  name: 'mingru_scan',
  family: 'mingru_scan',
  inputNames: ['k', 'p', 'h0'],
  shapes(inputs, p) {
    const { T, B, D } = checkScan('mingru_scan', ['k', 'p'], [], inputs, p?.h0Mode);
    return [{ shape: [T, B, D], dtype: 'f32' }, { shape: [B, D], dtype: 'f32' }];
  },
  reference([k, p, h0], specs, prm) {
    const { T, N } = scanDims(specs);
    const h = new Float64Array(T * N);
    const hc = h0Eff64(h0, N, modeId('mingru_scan', prm.h0Mode));
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < N; c++) {
        const i = t * N + c;
        const z = sigmoid64(k![i]!);
        hc[c] = sigmoid64(-k![i]!) * hc[c]! + z * g64(p![i]!);
        h[i] = hc[c]!;
      }
    }
    return [h, hc];
  },
  grad({ inputs, outputs, dOutputs, params }) {
    const [k, p, h0] = inputs as [Tensor, Tensor, Tensor?];
    const up = upstream(outputs[0]!, outputs[1]!, dOutputs);
    if (!up) return inputs.map(() => null);
    return runOp(mingruScanBwdOp, [k, p, outputs[0]!, up[0], up[1], ...(h0 ? [h0] : [])], params);
  },
  wasm(x, specs, prm) {
    const { T, N } = scanDims(specs);
    if (N === 0) return;
    x.exports['mingru_scan_fwd_f32']!(x.inputs[0]!, x.inputs[1]!, x.inputs[2] ?? 0, x.outputs[0]!, x.outputs[1]!, T, N, modeId('mingru_scan', prm.h0Mode));
  },
  webgpu(gpu, specs, prm) {
    const { T, N } = scanDims(specs);
    scanGpuForward(gpu, mingruWgsl, gpu.inputs.slice(0, 2), gpu.inputs[2], T, N, modeId('mingru_scan', prm.h0Mode), 0);
  },
  cost(specs) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: 60 * n, bytes: 12 * n };
  },
};

export const mingruScanBwdOp: OpDef<MinGruScanParams> = {
  name: 'mingru_scan_bwd',
  family: 'mingru_scan',
  inputNames: ['k', 'p', 'h', 'dh', 'dhT', 'h0'],
  shapes: bwdShapes,
  reference([k, p, h, dh, dhT, h0], specs, prm) {
    const { T, N } = scanDims(specs);
    const mode = modeId('mingru_scan_bwd', prm.h0Mode);
    const hp0 = h0Eff64(h0, N, mode);
    const dk = new Float64Array(T * N);
    const dp = new Float64Array(T * N);
    const x = Float64Array.from(dhT!); // a_{t+1}·λ_{t+1}
    for (let t = T - 1; t >= 0; t--) {
      for (let c = 0; c < N; c++) {
        const i = t * N + c;
        const l = dh![i]! + x[c]!;
        const z = sigmoid64(k![i]!);
        const a = sigmoid64(-k![i]!);
        const hp = t > 0 ? h![i - N]! : hp0[c]!;
        dk[i] = l * (g64(p![i]!) - hp) * z * a;
        dp[i] = l * z * dg64(p![i]!);
        x[c] = a * l;
      }
    }
    return mode ? [dk, dp, dh0From64(x, h0!, mode)] : [dk, dp];
  },
  grad: null,
  wasm(x, specs, prm) {
    const { T, N } = scanDims(specs);
    if (N === 0) return;
    const [k, p, h, dh, dhT, h0] = x.inputs;
    const [dk, dp, dh0] = x.outputs;
    const work = x.scratch(8 * N);
    x.exports['mingru_scan_bwd_f32']!(k!, p!, h!, dh!, dhT!, h0 ?? 0, dk!, dp!, dh0 ?? 0, work, T, N, modeId('mingru_scan_bwd', prm.h0Mode));
  },
  webgpu(gpu, specs, prm) {
    const { T, N } = scanDims(specs);
    const [k, p, h, dh, dhT, h0] = gpu.inputs as GPUBuffer[];
    const [dk, dp, dh0] = gpu.outputs as GPUBuffer[];
    const b = { pre: [k!, p!], a: [k!], h0, h: h!, dh: dh!, dhT: dhT!, lam: dp!, dh0, grads: [dk!] };
    scanGpuBackward(gpu, mingruWgsl, 'mingru_scan_bwd', b, T, N, modeId('mingru_scan_bwd', prm.h0Mode), 0);
  },
  cost(specs) {
    const n = sizeOf(specs.inputs[0]!.shape);
    return { flops: 80 * n, bytes: 24 * n };
  },
};

export interface MinGruScanOptions extends CallOptions {
  /** Initial state (B, D); how it is read is `h0Mode` (default 'preactivation' when h0 is given). */
  h0?: Tensor;
  h0Mode?: Exclude<H0Mode, 'none'>;
}

/** [h (T, B, D), hT (B, D)] of minGRU from gate and candidate pre-activations k, p (T, B, D). */
export function mingruScan(k: Tensor, p: Tensor, opts: MinGruScanOptions = {}): [Tensor, Tensor] {
  const h0Mode: H0Mode = opts.h0 ? (opts.h0Mode ?? 'preactivation') : 'none';
  const outs = runOp(mingruScanOp, opts.h0 ? [k, p, opts.h0] : [k, p], { h0Mode }, opts);
  return [outs[0]!, outs[1]!];
}

/** [dk, dp] (and dh0 when h0 is given) of mingruScan, from its output h and upstream dh, dhT. */
export function mingruScanBwd(k: Tensor, p: Tensor, h: Tensor, dh: Tensor, dhT: Tensor, opts: MinGruScanOptions = {}): Tensor[] {
  const h0Mode: H0Mode = opts.h0 ? (opts.h0Mode ?? 'preactivation') : 'none';
  return runOp(mingruScanBwdOp, [k, p, h, dh, dhT, ...(opts.h0 ? [opts.h0] : [])], { h0Mode }, opts);
}
