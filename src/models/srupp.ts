// SRU++ (models.md Part B): U comes from attention (Q = W1·x, [K|V] = W2·Q over [memory; segment], U = W3·LN(Q + α·A),
// α from 0) or, in layers without attention, from SRUppProjectedLinear (U = W2·LN(W1·x)); then the SRU recurrence (k = 3).
import type { Parameter } from '../autograd/parameter.js';
import { OptionError, ShapeError } from '../errors.js';
import { add, attention, concat, layerNorm, mul, slice, sruScan } from '../ops/api.js';
import { fmtShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import {
  checkInput, checkRange, checkSize, constant, countOf, dropoutMask, layerInit, linear, makeParam, uniformValues, xavierBound, type LayerInitOptions,
} from './recurrent_util.js';
import type { Init } from './init.js';
import { optBool, optNumber } from './options.js';
import type { ForwardOptions, LayerState, ModelConfig, SequenceLayer } from './types.js';

export interface SruppOptions extends LayerInitOptions {
  /** d: the layer's input and output width. */
  dim: number;
  /** d': the attention (projection) width. */
  attnDim: number;
  /** Attention in this layer (else SRUppProjectedLinear). See sruppHasAttention for "every k-th layer". */
  attention: boolean;
  heads?: number;
  /** Dropout on LN(·) before W3 and variational dropout in the recurrence (none in the last layer: `last`). */
  dropout?: number;
  /** The top layer of a stack: no recurrence dropout (as SRUpp passes to its last layer). */
  last?: boolean;
  /** b_r's initial value: −2 in every published run. */
  highwayBias?: number;
  /** Memory kept for the next segment: the last memLen layer inputs (default 0 = none; the official runs keep the
   *  previous segment, i.e. memLen = the unroll size). */
  memLen?: number;
  /** Evaluation (training false): every query sees exactly the memLen + 1 latest keys (models.md §B.5 same_length). */
  sameLength?: boolean;
}

/** 0-based layer i has attention iff (i + 1) mod k == 0 (§B.3); k = 0 means no attention anywhere. */
export function sruppHasAttention(i: number, every: number): boolean {
  return every > 0 && (i + 1) % every === 0;
}

/** Parameter shapes by name: the closed form of §B.9 is the sum of their sizes (nothing is allocated). */
export function sruppParamShapes(o: Pick<SruppOptions, 'dim' | 'attnDim' | 'attention'>): Record<string, Shape> {
  checkSize('SRU++', 'dim', o.dim);
  checkSize('SRU++', 'attnDim', o.attnDim);
  const [d, da] = [o.dim, o.attnDim];
  const s: Record<string, Shape> = o.attention
    ? { 'attn.w1': [d, da], 'attn.w2': [da, 2 * da], 'attn.w3': [da, 3 * d], 'attn.alpha': [1] }
    : { 'proj.w1': [d, da], 'proj.w2': [da, 3 * d] };
  s[o.attention ? 'attn.ln.weight' : 'proj.ln.weight'] = [da];
  s[o.attention ? 'attn.ln.bias' : 'proj.ln.bias'] = [da];
  s['weight_c'] = [2 * d];
  s['bias'] = [2 * d];
  return s;
}

export const sruppParamCount = (o: Pick<SruppOptions, 'dim' | 'attnDim' | 'attention'>): number => countOf(sruppParamShapes(o));

/**
 * One SRU++ layer. State: c (B, d) and, in attention layers with memLen > 0, mem (Lm, B, d): the layer inputs of the
 * latest Lm positions (Lm ≤ memLen), re-projected by the current W1 every segment as the official code does; it
 * is carried as a plain tensor, so the next segment's graph starts there (detached). step() also carries kv
 * (Lm, B, 2d'), the keys/values of mem cached so a generated token costs O(memLen·d') attention; forward() ignores
 * kv and recomputes from mem (the weights may have changed since), and step() rebuilds kv from mem when absent.
 */
export class SruppLayer implements SequenceLayer {
  readonly kind = 'srupp';
  readonly w1: Parameter;
  readonly w2: Parameter;
  readonly w3: Parameter | null = null;
  readonly alpha: Parameter | null = null;
  readonly lnWeight: Parameter;
  readonly lnBias: Parameter;
  readonly weightC: Parameter;
  readonly bias: Parameter;
  readonly memLen: number;
  private readonly heads: number;
  private readonly dropout: number;

  constructor(readonly options: SruppOptions) {
    const shapes = sruppParamShapes(options);
    const [d, da] = [options.dim, options.attnDim];
    this.heads = options.heads ?? 1;
    checkSize('SRU++', 'heads', this.heads);
    if (options.attention && da % this.heads !== 0) throw new OptionError(`SRU++: attnDim ${da} is not a multiple of heads ${this.heads}`);
    this.dropout = options.dropout ?? 0;
    checkRange('SRU++', 'dropout', this.dropout, 0, 1);
    this.memLen = options.memLen ?? 0;
    if (!(Number.isInteger(this.memLen) && this.memLen >= 0)) throw new OptionError(`SRU++: memLen must be an integer >= 0, got ${this.memLen}`);
    const hb = options.highwayBias ?? -2;
    const init = layerInit(options);
    const pre = options.attention ? 'attn.' : 'proj.';
    // §B.7: linear1/2/3 (and the projected-linear weights) Xavier uniform; the last one ×√(1−dropout); α = 0;
    // v ~ U(−1, 1); b_f = 0, b_r = highwayBias; LN γ = 1, β = 0.
    const xavier = (name: string, scale = 1): Parameter => {
      const [fi, fo] = shapes[name] as [number, number];
      return makeParam(init, name, uniformValues(init, fi * fo, xavierBound(fi, fo) * scale), [fi, fo]);
    };
    const keep = Math.sqrt(1 - this.dropout);
    this.w1 = xavier(pre + 'w1');
    if (options.attention) {
      this.w2 = xavier('attn.w2');
      this.w3 = xavier('attn.w3', keep);
      this.alpha = makeParam(init, 'attn.alpha', [0], [1]);
    } else {
      this.w2 = xavier('proj.w2', keep);
    }
    this.lnWeight = makeParam(init, pre + 'ln.weight', new Float64Array(da).fill(1), [da]);
    this.lnBias = makeParam(init, pre + 'ln.bias', new Float64Array(da), [da]);
    this.weightC = makeParam(init, 'weight_c', uniformValues(init, 2 * d, 1), [2 * d]);
    this.bias = makeParam(init, 'bias', new Float64Array(2 * d).fill(hb, d), [2 * d]);
  }

  get hasAttention(): boolean {
    return this.options.attention;
  }

  params(): Parameter[] {
    const core = this.w3 ? [this.w1, this.w2, this.w3, this.alpha!] : [this.w1, this.w2];
    return [...core, this.lnWeight, this.lnBias, this.weightC, this.bias];
  }

  forward(x: Tensor, state: LayerState | null, opts: ForwardOptions): { y: Tensor; state: LayerState } {
    return this.run(x, state, opts, false);
  }

  step(x: Tensor, state: LayerState | null): { y: Tensor; state: LayerState } {
    if (x.shape[0] !== 1) throw new ShapeError(`SRU++.step: x must be (1, B, ${this.options.dim}), got ${fmtShape(x.shape)}`);
    return this.run(x, state, { training: false }, true);
  }

  private run(x: Tensor, state: LayerState | null, opts: ForwardOptions, stepMode: boolean): { y: Tensor; state: LayerState } {
    const where = stepMode ? 'SRU++.step' : 'SRU++.forward';
    const d = this.options.dim;
    checkInput(where, x, d);
    const B = x.shape[1]!;
    const c0 = state?.['c'];
    if (c0 && (c0.shape.length !== 2 || c0.shape[0] !== B || c0.shape[1] !== d)) throw new ShapeError(`${where}: state c must be (${B}, ${d}), got ${fmtShape(c0.shape)}`);
    const next: Record<string, Tensor> = {};
    const U = this.w3 ? this.attend(x, state, opts, stepMode, next, where) : this.project(x, opts);
    const useMask = opts.training && this.dropout > 0 && !this.options.last;
    const mask = useMask ? dropoutMask([B, d], this.dropout, opts.random, x, where) : undefined;
    const scanOpts: { c0?: Tensor; mask?: Tensor } = {};
    if (c0) scanOpts.c0 = c0;
    if (mask) scanOpts.mask = mask;
    const [h, cLast, C] = sruScan(U, x, this.weightC.value, this.bias.value, {
      k: 3, bidirectional: false, scaleX: 1, hasSkip: true, activation: 'identity',
    }, scanOpts) as [Tensor, Tensor, Tensor];
    U.dispose();
    C.dispose();
    mask?.dispose();
    return { y: h, state: { c: cLast, ...next } };
  }

  /** SRUppProjectedLinear: U = W2·Dropout(LN(W1·x)). */
  private project(x: Tensor, opts: ForwardOptions): Tensor {
    const z = linear(x, this.w1.value);
    const y = this.normDrop(z, opts);
    z.dispose();
    const U = linear(y, this.w2.value);
    y.dispose();
    return U;
  }

  private normDrop(z: Tensor, opts: ForwardOptions): Tensor {
    const y = layerNorm(z, this.lnWeight.value, this.lnBias.value);
    if (!(opts.training && this.dropout > 0)) return y;
    const m = dropoutMask(y.shape, this.dropout, opts.random, y, 'SRU++.forward');
    const out = mul(y, m);
    y.dispose();
    m.dispose();
    return out;
  }

  /** The attention sub-module of §B.4; writes the carried memory (and the step cache) into `next`. */
  private attend(x: Tensor, state: LayerState | null, opts: ForwardOptions, stepMode: boolean, next: Record<string, Tensor>, where: string): Tensor {
    const [L, B, d] = x.shape as [number, number, number];
    const da = this.options.attnDim;
    let mem = state?.['mem'];
    if (mem && (mem.shape.length !== 3 || mem.shape[1] !== B || mem.shape[2] !== d)) throw new ShapeError(`${where}: state mem must be (Lm, ${B}, ${d}), got ${fmtShape(mem.shape)}`);
    if (mem && mem.shape[0]! > this.memLen) mem = slice(mem, 0, mem.shape[0]! - this.memLen, this.memLen); // a state from a longer window
    const Lm = mem ? mem.shape[0]! : 0;
    let q: Tensor;
    let kv: Tensor;
    const cached = stepMode ? state?.['kv'] : undefined;
    if (cached && cached.shape[0] === Lm && cached.shape[1] === B && cached.shape[2] === 2 * da) {
      q = linear(x, this.w1.value);
      const kvNew = linear(q, this.w2.value);
      kv = Lm > 0 ? concat([cached, kvNew], 0) : kvNew;
      if (kv !== kvNew) kvNew.dispose();
    } else {
      const xs = mem && Lm > 0 ? concat([mem, x], 0) : x;
      const z = linear(xs, this.w1.value);
      if (xs !== x) xs.dispose();
      q = Lm > 0 ? slice(z, 0, Lm, L) : z;
      kv = linear(z, this.w2.value);
      if (z !== q) z.dispose();
    }
    // Same-length evaluation with a short memory: pad the memory with masked rows up to memLen, so that query i's
    // window [i, memLen + i] of the attention op is exactly the memLen + 1 latest positions.
    const same = !!this.options.sameLength && !opts.training && !stepMode && this.memLen > 0;
    let kvA = kv;
    let padMask: Tensor | undefined;
    let memA = Lm;
    if (same && Lm < this.memLen) {
      const extra = this.memLen - Lm;
      const zero = constant(new Float32Array(extra * B * 2 * da), [extra, B, 2 * da], kv);
      kvA = concat([zero, kv], 0);
      zero.dispose();
      padMask = constant(new Float32Array((this.memLen + L) * B).fill(1, 0, extra * B), [this.memLen + L, B], kv);
      memA = this.memLen;
    }
    const attOpts = { heads: this.heads, causal: true, memLen: memA, sameLength: same, ...(padMask ? { mask: padMask } : {}) };
    const [a, lse] = attention(q, kvA, attOpts) as [Tensor, Tensor];
    lse.dispose();
    padMask?.dispose();
    if (kvA !== kv) kvA.dispose();
    const scaled = mul(a, this.alpha!.value);
    a.dispose();
    const yq = add(q, scaled);
    scaled.dispose();
    q.dispose();
    const y = this.normDrop(yq, opts);
    yq.dispose();
    const U = linear(y, this.w3!.value);
    y.dispose();
    // Carried memory: the latest min(memLen, Lm + L) layer inputs (and, in step mode, their keys/values).
    const keepN = Math.min(this.memLen, Lm + L);
    if (keepN > 0) {
      const fromX = Math.min(keepN, L);
      const parts: Tensor[] = [];
      if (keepN > fromX) parts.push(slice(mem!, 0, Lm - (keepN - fromX), keepN - fromX));
      parts.push(fromX === L ? x : slice(x, 0, L - fromX, fromX));
      next['mem'] = parts.length === 1 && parts[0] === x ? concat([x], 0) : concat(parts, 0);
      for (const p of parts) if (p !== x) p.dispose();
      if (stepMode) next['kv'] = slice(kv, 0, Lm + L - keepN, keepN);
    }
    kv.dispose();
    if (mem && mem !== state?.['mem']) mem.dispose();
    return U;
  }
}

/**
 * The 'srupp' entry of the layer-factory table. Options: attnDim (d', default max(1, ⌊d/4⌋)), attentionEvery (k,
 * default 1: every layer), heads (1), dropout (0), highwayBias (−2), memLen (64: positions of memory carried between
 * segments; set it to the training unroll as the official runs do), sameLength (false; evaluation window).
 */
export function createSruppLayer(cfg: ModelConfig, index: number, init: Init): SruppLayer {
  const every = optNumber(cfg, 'attentionEvery', 1, { integer: true, min: 0 });
  return new SruppLayer({
    dim: cfg.dim,
    attnDim: optNumber(cfg, 'attnDim', Math.max(1, Math.floor(cfg.dim / 4)), { integer: true, min: 1 }),
    attention: sruppHasAttention(index, every),
    heads: optNumber(cfg, 'heads', 1, { integer: true, min: 1 }),
    dropout: optNumber(cfg, 'dropout', 0, { min: 0, max: 0.99 }),
    last: index === cfg.layers - 1,
    highwayBias: optNumber(cfg, 'highwayBias', -2),
    memLen: optNumber(cfg, 'memLen', 64, { integer: true, min: 0 }),
    sameLength: optBool(cfg, 'sameLength', false),
    init,
  });
}
