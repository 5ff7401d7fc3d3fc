// Classic GRU and LSTM layers with PyTorch's equations, as baselines: one GEMM for the input projection of the whole
// segment, split into its T steps by one op, then per time step a recurrent matmul and the gates (sequential over
// time: O(T) op calls, and O(T) work forward and backward).
import type { Parameter } from '../autograd/parameter.js';
import { ShapeError } from '../errors.js';
import { add, concat, matmul, mul, sigmoid, split, sub, tanh } from '../ops/api.js';
import { fmtShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { tensor } from '../engine.js';
import { checkInput, checkRange, checkSize, countOf, dropoutMask, layerInit, linear, makeParam, uniformValues, type LayerInitOptions } from './recurrent_util.js';
import type { Init } from './init.js';
import { optBool, optNumber } from './options.js';
import type { ForwardOptions, LayerState, ModelConfig, SequenceLayer } from './types.js';

export interface GruLstmOptions extends LayerInitOptions {
  inputSize: number;
  hiddenSize: number;
  /** b_ih and b_hh as PyTorch (default true). The counts of models.md G.3 (98,304 / 131,072) are without them. */
  bias?: boolean;
  /** Dropout on the layer's output h in training (PyTorch's `dropout`: every layer of a stack but the last). */
  dropout?: number;
}

/** Parameter shapes; weights are stored (in, gates·h), the transpose of PyTorch's, gate blocks in its order. */
export function recurrentParamShapes(kind: 'gru' | 'lstm', o: GruLstmOptions): Record<string, Shape> {
  const where = kind.toUpperCase();
  checkSize(where, 'inputSize', o.inputSize);
  checkSize(where, 'hiddenSize', o.hiddenSize);
  const gh = (kind === 'gru' ? 3 : 4) * o.hiddenSize;
  const s: Record<string, Shape> = { weight_ih: [o.inputSize, gh], weight_hh: [o.hiddenSize, gh] };
  if (o.bias ?? true) {
    s['bias_ih'] = [gh];
    s['bias_hh'] = [gh];
  }
  return s;
}

export const gruParamCount = (o: GruLstmOptions): number => countOf(recurrentParamShapes('gru', o));
export const lstmParamCount = (o: GruLstmOptions): number => countOf(recurrentParamShapes('lstm', o));

/**
 * A zero state as a reshape view of a freed constant: a tape recording the forward holds its own handle of the
 * view (backward reads it in sub(h, n) and f ⊙ c after the loop has freed it), and without a tape nothing leaks.
 */
function zeroState(B: number, h: number, backend: Tensor['backend']['name']): Tensor {
  const z = tensor(new Float32Array(B * h), [B * h], { backend });
  const view = z.reshape([B, h]);
  z.dispose();
  return view;
}

/** The shared part: parameters (PyTorch init U(±1/√h)), input projection, the loop over time. */
abstract class GatedRnn implements SequenceLayer {
  abstract readonly kind: 'gru' | 'lstm';
  readonly weightIh: Parameter;
  readonly weightHh: Parameter;
  readonly biasIh: Parameter | null = null;
  readonly biasHh: Parameter | null = null;
  protected readonly h: number;

  constructor(kind: 'gru' | 'lstm', readonly options: GruLstmOptions) {
    const shapes = recurrentParamShapes(kind, options);
    checkRange(kind.toUpperCase(), 'dropout', options.dropout ?? 0, 0, 1);
    this.h = options.hiddenSize;
    const init = layerInit(options);
    const bound = 1 / Math.sqrt(this.h);
    const mk = (name: string): Parameter => {
      const s = shapes[name]!;
      return makeParam(init, name, uniformValues(init, s.reduce((a, b) => a * b, 1), bound), s);
    };
    this.weightIh = mk('weight_ih');
    this.weightHh = mk('weight_hh');
    if (shapes['bias_ih']) {
      this.biasIh = mk('bias_ih');
      this.biasHh = mk('bias_hh');
    }
  }

  params(): Parameter[] {
    return [this.weightIh, this.weightHh, ...(this.biasIh ? [this.biasIh, this.biasHh!] : [])];
  }

  /** State names carried (h, and c for the LSTM). */
  protected abstract readonly stateNames: readonly string[];
  /** One step from the input projection xw (B, gates·h) and the state; returns the new state (h first). */
  protected abstract cell(xw: Tensor, st: Tensor[]): Tensor[];

  forward(x: Tensor, state: LayerState | null, opts: ForwardOptions): { y: Tensor; state: LayerState } {
    const where = `${this.kind.toUpperCase()}.forward`;
    checkInput(where, x, this.options.inputSize);
    const [T, B] = x.shape as [number, number];
    if (T < 1) throw new ShapeError(`${where}: the segment is empty (T = 0), got input ${fmtShape(x.shape)}`);
    // st: the current state; owned[i]: made here (so freed once used), not the caller's.
    let st = this.stateNames.map((n) => {
      const s = state?.[n];
      if (s && (s.shape.length !== 2 || s.shape[0] !== B || s.shape[1] !== this.h)) throw new ShapeError(`${where}: state ${n} must be (${B}, ${this.h}), got ${fmtShape(s.shape)}`);
      return s ?? zeroState(B, this.h, x.backend.name);
    });
    let owned = this.stateNames.map((n) => !state?.[n]);
    const xw = linear(x, this.weightIh.value, this.biasIh?.value);
    // One split op into T steps: its gradient is one concat, where T slices would cost O(T²) in the backward.
    const steps = T === 1 ? [xw] : split(xw, 0, new Array<number>(T).fill(1));
    if (T > 1) xw.dispose();
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const xt = steps[t]!.reshape([B, steps[t]!.shape[2]!]);
      steps[t]!.dispose();
      const next = this.cell(xt, st);
      xt.dispose();
      st.forEach((s, i) => owned[i] && s.dispose());
      outs.push(next[0]!.reshape([1, B, this.h]));
      st = next;
      owned = next.map(() => true);
    }
    let y = concat(outs, 0);
    outs.forEach((o) => o.dispose());
    const p = this.options.dropout ?? 0;
    if (opts.training && p > 0) {
      const m = dropoutMask(y.shape, p, opts.random, y, where);
      const dropped = mul(y, m);
      [y, m].forEach((t) => t.dispose());
      y = dropped;
    }
    const out: Record<string, Tensor> = {};
    this.stateNames.forEach((n, i) => (out[n] = st[i]!));
    return { y, state: out };
  }

  step(x: Tensor, state: LayerState | null): { y: Tensor; state: LayerState } {
    if (x.shape[0] !== 1) throw new ShapeError(`${this.kind.toUpperCase()}.step: x must be (1, B, ${this.options.inputSize}), got ${fmtShape(x.shape)}`);
    return this.forward(x, state, { training: false });
  }

  /** xw (B, gates·h) + h·W_hh + b_hh, split into the gate blocks. */
  protected gates(xw: Tensor, h: Tensor, n: number): { xs: Tensor[]; hs: Tensor[] } {
    const hw = matmul(h, this.weightHh.value, this.biasHh ? { bias: this.biasHh.value } : {});
    const sizes = new Array<number>(n).fill(this.h);
    const xs = split(xw, 1, sizes);
    const hs = split(hw, 1, sizes);
    hw.dispose();
    return { xs, hs };
  }

}

/** r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n), h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n). */
export class GruLayer extends GatedRnn {
  readonly kind = 'gru' as const;
  protected readonly stateNames = ['h'] as const;
  constructor(o: GruLstmOptions) {
    super('gru', o);
  }
  protected cell(xw: Tensor, [h]: Tensor[]): Tensor[] {
    const { xs, hs } = this.gates(xw, h!, 3);
    const free = (...ts: Tensor[]) => ts.forEach((t) => t.dispose());
    const ar = add(xs[0]!, hs[0]!);
    const r = sigmoid(ar);
    const az = add(xs[1]!, hs[1]!);
    const z = sigmoid(az);
    const rh = mul(r, hs[2]!);
    const an = add(xs[2]!, rh);
    const n = tanh(an);
    const dh = sub(h!, n);
    const zdh = mul(z, dh);
    const hNew = add(n, zdh);
    free(...xs, ...hs, ar, r, az, z, rh, an, n, dh, zdh);
    return [hNew];
  }
}

/** i, f, o = σ(·), g = tanh(·) (PyTorch's block order i, f, g, o); c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). */
export class LstmLayer extends GatedRnn {
  readonly kind = 'lstm' as const;
  protected readonly stateNames = ['h', 'c'] as const;
  constructor(o: GruLstmOptions) {
    super('lstm', o);
  }
  protected cell(xw: Tensor, [h, c]: Tensor[]): Tensor[] {
    const { xs, hs } = this.gates(xw, h!, 4);
    const pre = xs.map((x, k) => add(x, hs[k]!));
    const i = sigmoid(pre[0]!);
    const f = sigmoid(pre[1]!);
    const g = tanh(pre[2]!);
    const o = sigmoid(pre[3]!);
    const fc = mul(f, c!);
    const ig = mul(i, g);
    const cNew = add(fc, ig);
    const tc = tanh(cNew);
    const hNew = mul(o, tc);
    [...xs, ...hs, ...pre, i, f, g, o, fc, ig, tc].forEach((t) => t.dispose());
    return [hNew, cNew];
  }
}

/** The 'gru' and 'lstm' entries of the layer-factory table: d -> d layers; options bias (default true, as PyTorch)
 *  and dropout (0; on every layer's output but the last one's, as PyTorch's). */
function gatedOptions(cfg: ModelConfig, index: number, init: Init): GruLstmOptions {
  const dropout = index === cfg.layers - 1 ? 0 : optNumber(cfg, 'dropout', 0, { min: 0, max: 0.99 });
  return { inputSize: cfg.dim, hiddenSize: cfg.dim, bias: optBool(cfg, 'bias', true), dropout, init };
}

export function createGruLayer(cfg: ModelConfig, index: number, init: Init): GruLayer {
  return new GruLayer(gatedOptions(cfg, index, init));
}

export function createLstmLayer(cfg: ModelConfig, index: number, init: Init): LstmLayer {
  return new LstmLayer(gatedOptions(cfg, index, init));
}
