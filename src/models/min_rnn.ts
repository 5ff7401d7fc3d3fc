// minGRU / minLSTM (models.md §C): the cell (one fused projection, split (hidden, gate) or (hidden, forget,
// input), the fused mingru_scan / minlstm_scan, optional down-projection to_out) and the paper's LM block (§C.6):
// [x = CausalDWConv(x) + x]; x = Drop(minRNN(Norm x)) + x; [x = Drop(FF(Norm x)) + x], Drop = inverted dropout on
// each residual branch in training (as the official code's dropout). State: h (B, d_inner), conv (K−1, B, d).
import type { Parameter } from '../autograd/parameter.js';
import { zeros } from '../engine.js';
import { OptionError, ShapeError } from '../errors.js';
import { add, causalConv1d, gelu, layerNorm, matmul, mingruScan, minlstmScan, mul, rmsNorm, split } from '../ops/api.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Init } from './init.js';
import { optBool, optChoice, optNumber } from './options.js';
import { dropoutMask } from './recurrent_util.js';
import type { ForwardOptions, LayerState, ModelConfig, SequenceLayer } from './types.js';

export type MinRnnKind = 'mingru' | 'minlstm';

export interface MinRnnCellOptions {
  kind: MinRnnKind;
  /** Input and output width d. */
  dim: number;
  /** d_inner = round(expansion·d); to_out (d_inner -> d) exists iff d_inner ≠ d (lucidrains) or `toOut` is set. */
  expansion?: number;
  toOut?: boolean;
  /** Biases on to_hidden_and_gate and to_out (the official code has them; lucidrains does not). */
  bias?: boolean;
  /** 'zero': h0 = 0; 'learned': a parameter h0 (d_inner) ~ N(0, 1) read as a pre-activation through g. */
  h0?: 'zero' | 'learned';
  /** minLSTM: normalise f and i by their sum (lucidrains; the official default is false). */
  normalize?: boolean;
  /** minLSTM: added to the forget-gate bias slice at initialisation (official default 3); needs `bias`. */
  forgetBias?: number;
}

/** One minGRU / minLSTM module: (T, B, d) and the previous h (or null) -> y (T, B, d), hT (B, d_inner). */
export interface MinRnnCell {
  readonly dInner: number;
  params(): Parameter[];
  run(x: Tensor, hPrev: Tensor | null): { y: Tensor; hT: Tensor };
}

export function createMinRnnCell(o: MinRnnCellOptions, init: Init): MinRnnCell {
  const d = o.dim;
  const dInner = Math.round((o.expansion ?? 1) * d);
  if (!(dInner >= 1)) throw new OptionError(`${o.kind}: expansion ${o.expansion} gives an inner width ${dInner} (must be >= 1)`);
  const parts = o.kind === 'mingru' ? 2 : 3;
  const bias = o.bias ?? false;
  const forgetBias = o.forgetBias ?? 0;
  if (o.kind === 'mingru' && forgetBias !== 0) throw new OptionError(`mingru: option 'forgetBias' applies to minlstm only`);
  if (forgetBias !== 0 && !bias) throw new OptionError(`minlstm: option 'forgetBias' (${forgetBias}) needs 'bias: true' (it shifts the forget-gate bias)`);
  const normalize = o.normalize ?? true;
  const hasOut = o.toOut ?? dInner !== d;
  if (!hasOut && dInner !== d) throw new OptionError(`${o.kind}: toOut false needs d_inner (${dInner}) = d (${d})`);

  const W = init.fanIn('to_hidden_and_gate.weight', [parts * dInner, d], d);
  let b: Parameter | null = null;
  if (bias) {
    const bound = 1 / Math.sqrt(d);
    const v = new Float32Array(parts * dInner);
    for (let i = 0; i < v.length; i++) v[i] = (2 * init.rng.next() - 1) * bound + (i >= dInner && i < 2 * dInner ? forgetBias : 0);
    b = init.fromValues('to_hidden_and_gate.bias', [parts * dInner], v);
  }
  const h0 = o.h0 === 'learned' ? init.normal('h0', [dInner]) : null;
  const Wo = hasOut ? init.fanIn('to_out.weight', [d, dInner], dInner) : null;
  const bo = hasOut && bias ? init.fanIn('to_out.bias', [d], dInner) : null;
  const all = [W, b, h0, Wo, bo].filter((p): p is Parameter => p !== null);

  return {
    dInner,
    params: () => all,
    run(x, hPrev) {
      const [T, B] = x.shape as [number, number, number];
      const proj = matmul(x.reshape([T * B, d]), W.value, { transB: true, bias: b?.value });
      const pieces = split(proj, 1, new Array<number>(parts).fill(dInner)).map((t) => t.reshape([T, B, dInner]));
      let h0opts: { h0?: Tensor; h0Mode?: 'preactivation' | 'state' } = {};
      if (hPrev) {
        if (hPrev.shape.length !== 2 || hPrev.shape[0] !== B || hPrev.shape[1] !== dInner) {
          throw new ShapeError(`${o.kind}: carried state h has shape ${fmtShape(hPrev.shape)}, expected [${B}, ${dInner}]`);
        }
        h0opts = { h0: hPrev, h0Mode: 'state' };
      } else if (h0) {
        h0opts = { h0: add(zeros([B, dInner], { backend: x.backend.name }), h0.value), h0Mode: 'preactivation' };
      }
      const [h, hT] =
        o.kind === 'mingru'
          ? mingruScan(pieces[1]!, pieces[0]!, h0opts)
          : minlstmScan(pieces[1]!, pieces[2]!, pieces[0]!, { ...h0opts, normalize });
      const y = Wo ? matmul(h.reshape([T * B, dInner]), Wo.value, { transB: true, bias: bo?.value }).reshape([T, B, d]) : h;
      return { y, hT };
    },
  };
}

/** The block's options, read from ModelConfig.options (defaults: lucidrains' minLM, without conv). */
export interface MinRnnBlockOptions extends Omit<MinRnnCellOptions, 'kind' | 'dim'> {
  /** Causal depthwise conv kernel size K; 0 turns the conv off. */
  convKernel: number;
  /** Feed-forward width multiplier m (Linear(d, m·d) + GELU + Linear(m·d, d)); 0 turns it off. */
  ffMult: number;
  norm: 'rms' | 'layer';
  /** Dropout probability on the minRNN and FF branches before their residual sums, in training only; 0: off. */
  dropout: number;
}

export function minRnnBlockOptions(cfg: ModelConfig): MinRnnBlockOptions {
  return {
    expansion: optNumber(cfg, 'expansion', 1, { min: 0 }),
    bias: optBool(cfg, 'bias', false),
    h0: optChoice(cfg, 'h0', ['zero', 'learned'] as const, 'zero'),
    normalize: optBool(cfg, 'normalize', true),
    forgetBias: optNumber(cfg, 'forgetBias', 0),
    convKernel: optNumber(cfg, 'convKernel', 0, { integer: true, min: 0 }),
    ffMult: optNumber(cfg, 'ffMult', 4, { min: 0 }),
    norm: optChoice(cfg, 'norm', ['rms', 'layer'] as const, 'rms'),
    dropout: optNumber(cfg, 'dropout', 0, { min: 0, max: 0.99 }),
  };
}

/** RMSNorm (weight ones) or LayerNorm (ones, zeros) over the last axis, as a function of x. */
export function createNorm(kind: 'rms' | 'layer', name: string, d: number, init: Init): { params: Parameter[]; apply(x: Tensor): Tensor } {
  const w = init.ones(`${name}.weight`, [d]);
  if (kind === 'rms') return { params: [w], apply: (x) => rmsNorm(x, w.value) };
  const bta = init.zeros(`${name}.bias`, [d]);
  return { params: [w, bta], apply: (x) => layerNorm(x, w.value, bta.value) };
}

/** Layer `index` of a minGRU / minLSTM language model: the paper's block (models.md §C.6). */
export function createMinRnnBlock(kind: MinRnnKind, cfg: ModelConfig, index: number, init: Init): SequenceLayer {
  const o = minRnnBlockOptions(cfg);
  const d = cfg.dim;
  const params: Parameter[] = [];
  const K = o.convKernel;
  let conv: { dw: Parameter; db: Parameter; pw: Parameter; pb: Parameter } | null = null;
  if (K > 0) {
    conv = {
      dw: init.fanIn('conv.dw.weight', [K, d], K),
      db: init.fanIn('conv.dw.bias', [d], K),
      pw: init.fanIn('conv.pw.weight', [d, d], d),
      pb: init.fanIn('conv.pw.bias', [d], d),
    };
    params.push(conv.dw, conv.db, conv.pw, conv.pb);
  }
  const norm1 = createNorm(o.norm, 'norm', d, init);
  const cell = createMinRnnCell({ ...o, kind, dim: d }, init.scope('rnn.'));
  params.push(...norm1.params, ...cell.params());
  let ff: { norm: ReturnType<typeof createNorm>; w1: Parameter; b1: Parameter; w2: Parameter; b2: Parameter; m: number } | null = null;
  if (o.ffMult > 0) {
    const m = Math.round(o.ffMult * d);
    ff = {
      norm: createNorm(o.norm, 'ff_norm', d, init),
      w1: init.fanIn('ff.0.weight', [m, d], d),
      b1: init.fanIn('ff.0.bias', [m], d),
      w2: init.fanIn('ff.2.weight', [d, m], m),
      b2: init.fanIn('ff.2.bias', [d], m),
      m,
    };
    params.push(...ff.norm.params, ff.w1, ff.b1, ff.w2, ff.b2);
  }

  /** A residual branch's output with inverted dropout applied (training only). */
  const drop = (branch: Tensor, opts: ForwardOptions): Tensor => {
    if (!(opts.training && o.dropout > 0)) return branch;
    const m = dropoutMask(branch.shape, o.dropout, opts.random, branch, `${kind} layer ${index}`);
    const out = mul(branch, m);
    m.dispose();
    return out;
  };

  function forward(x: Tensor, state: LayerState | null, opts: ForwardOptions): { y: Tensor; state: LayerState } {
    if (x.shape.length !== 3 || x.shape[2] !== d) throw new ShapeError(`${kind} layer ${index}: input has shape ${fmtShape(x.shape)}, expected [T, B, ${d}]`);
    const [T, B] = x.shape as [number, number, number];
    const next: Record<string, Tensor> = {};
    if (conv) {
      const cs = state?.conv ?? zeros([K - 1, B, d], { backend: x.backend.name });
      if (cs.shape.length !== 3 || cs.shape[0] !== K - 1 || cs.shape[1] !== B || cs.shape[2] !== d) {
        throw new ShapeError(`${kind} layer ${index}: carried conv state has shape ${fmtShape(cs.shape)}, expected [${K - 1}, ${B}, ${d}]`);
      }
      const [c, cNext] = causalConv1d(x, conv.dw.value, { bias: conv.db.value, state: cs }) as [Tensor, Tensor];
      const pw = matmul(c.reshape([T * B, d]), conv.pw.value, { transB: true, bias: conv.pb.value }).reshape([T, B, d]);
      x = add(pw, x);
      next.conv = cNext;
    }
    const { y, hT } = cell.run(norm1.apply(x), state?.h ?? null);
    x = add(drop(y, opts), x);
    next.h = hT;
    if (ff) {
      const n = ff.norm.apply(x).reshape([T * B, d]);
      const u = gelu(matmul(n, ff.w1.value, { transB: true, bias: ff.b1.value }));
      x = add(drop(matmul(u, ff.w2.value, { transB: true, bias: ff.b2.value }).reshape([T, B, d]), opts), x);
    }
    return { y: x, state: next };
  }

  return {
    kind,
    params: () => params,
    forward: (x, state, opts) => forward(x, state, opts),
    step(x, state) {
      if (x.shape.length !== 3 || x.shape[0] !== 1) throw new ShapeError(`${kind} layer ${index}: step takes x of shape [1, B, ${d}], got ${fmtShape(x.shape)}`);
      return forward(x, state, { training: false });
    },
  };
}
