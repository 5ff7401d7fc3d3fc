// The SRU v2 layer of models.md Part A: one fused bias-free GEMM U = X·W (interleaved k = 3 / k = 4 columns), the
// sru_scan recurrence with highway (scale_x), pre/post LayerNorm, variational dropout, bidirectional, padding mask.
import type { Parameter } from '../autograd/parameter.js';
import { OptionError, ShapeError } from '../errors.js';
import { layerNorm, sruScaleX, sruScan } from '../ops/api.js';
import { fmtShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import {
  checkInput, checkRange, checkSize, countOf, dropoutMask, layerInit, linear, makeParam, uniformValues, type LayerInitOptions,
} from './recurrent_util.js';
import type { Init } from './init.js';
import { optBool, optChoice, optNumber } from './options.js';
import type { ForwardOptions, LayerState, ModelConfig, SequenceLayer } from './types.js';

export interface SruOptions extends LayerInitOptions {
  inputSize: number;
  /** h, units per direction; n_out = ndir·h. */
  hiddenSize: number;
  bidirectional?: boolean;
  /** LayerNorm with affine parameters: 'pre' on the GEMM input (the highway keeps the raw x), 'post' on h. */
  layerNorm?: 'none' | 'pre' | 'post';
  /** Variational dropout inside the recurrence (mask (B, n_out) sampled once per forward call). */
  dropout?: number;
  /** b_r's initial value (SRU++ uses −2). */
  highwayBias?: number;
  /** scale_x = √(1 + 2·e^highwayBias) on the highway (k = 3), or on W's m = 3 columns at init (k = 4). */
  rescale?: boolean;
  /** Highway term h = r·g(c) + (1 − r)·x' (default true). */
  hasSkipTerm?: boolean;
  /** g = identity (default) or tanh (deprecated upstream). */
  activation?: 'identity' | 'tanh';
}

/** Resolved geometry of an SRU layer. */
export interface SruGeometryInfo {
  dIn: number; h: number; nd: number; nOut: number; k: 3 | 4; skip: boolean; ln: 'none' | 'pre' | 'post';
}

export function sruGeometry(o: SruOptions): SruGeometryInfo {
  const where = 'SRU';
  checkSize(where, 'inputSize', o.inputSize);
  checkSize(where, 'hiddenSize', o.hiddenSize);
  const nd = o.bidirectional ? 2 : 1;
  const nOut = nd * o.hiddenSize;
  const skip = o.hasSkipTerm ?? true;
  const ln = o.layerNorm ?? 'none';
  if (!['none', 'pre', 'post'].includes(ln)) throw new OptionError(`${where}: layerNorm must be 'none', 'pre' or 'post', got '${ln}'`);
  return { dIn: o.inputSize, h: o.hiddenSize, nd, nOut, k: skip && o.inputSize !== nOut ? 4 : 3, skip, ln };
}

/** Parameter shapes by name (the count of models.md §A.7 is the sum of their sizes; nothing is allocated). */
export function sruParamShapes(o: SruOptions): Record<string, Shape> {
  const g = sruGeometry(o);
  const s: Record<string, Shape> = { weight: [g.dIn, g.nOut * g.k], weight_c: [2 * g.nOut], bias: [2 * g.nOut] };
  if (g.ln !== 'none') {
    const w = g.ln === 'pre' ? g.dIn : g.nOut;
    s['ln.weight'] = [w];
    s['ln.bias'] = [w];
  }
  return s;
}

export const sruParamCount = (o: SruOptions): number => countOf(sruParamShapes(o));

/** Options of SRU's forward beyond the common ones: the padding mask (T, B) f32, 1 = pad (c carries over, h = 0). */
export interface SruForwardOptions extends ForwardOptions {
  pad?: Tensor;
}

export class SruLayer implements SequenceLayer {
  readonly kind = 'sru';
  readonly geometry: SruGeometryInfo;
  readonly weight: Parameter;
  readonly weightC: Parameter;
  readonly bias: Parameter;
  readonly lnWeight: Parameter | null = null;
  readonly lnBias: Parameter | null = null;
  private readonly dropout: number;
  private readonly scaleX: number;
  private readonly activation: 'identity' | 'tanh';

  constructor(readonly options: SruOptions) {
    const g = (this.geometry = sruGeometry(options));
    this.dropout = options.dropout ?? 0;
    checkRange('SRU', 'dropout', this.dropout, 0, 1);
    const hb = options.highwayBias ?? 0;
    if (!Number.isFinite(hb)) throw new OptionError(`SRU: highwayBias must be finite, got ${hb}`);
    this.activation = options.activation ?? 'identity';
    if (this.activation !== 'identity' && this.activation !== 'tanh') throw new OptionError(`SRU: activation must be 'identity' or 'tanh', got '${this.activation}'`);
    const sx = options.rescale && g.skip ? sruScaleX(hb) : 1;
    this.scaleX = g.k === 3 ? sx : 1;
    const init = layerInit(options);
    // §A.6 (master v2.6.0): W ~ U(±√(3/d_in)); gate columns ×√0.5; candidate ×√(1−p) under dropout; ×0.1 with LN;
    // k = 4 with rescale: highway columns ×scale_x. v ~ U(±√3)·√0.5; b_f = 0, b_r = highwayBias.
    const w = uniformValues(init, g.dIn * g.nOut * g.k, Math.sqrt(3 / g.dIn));
    const colScale = [Math.sqrt(1 - this.dropout), Math.sqrt(0.5), Math.sqrt(0.5), g.k === 4 ? sx : 1];
    const all = g.ln !== 'none' ? 0.1 : 1;
    for (let i = 0; i < w.length; i++) w[i]! *= colScale[(i % (g.nOut * g.k)) % g.k]! * all;
    this.weight = makeParam(init, 'weight', w, [g.dIn, g.nOut * g.k]);
    this.weightC = makeParam(init, 'weight_c', uniformValues(init, 2 * g.nOut, Math.sqrt(3)).map((v) => v * Math.sqrt(0.5)), [2 * g.nOut]);
    const b = new Float64Array(2 * g.nOut);
    b.fill(hb, g.nOut);
    this.bias = makeParam(init, 'bias', b, [2 * g.nOut]);
    if (g.ln !== 'none') {
      const wd = g.ln === 'pre' ? g.dIn : g.nOut;
      this.lnWeight = makeParam(init, 'ln.weight', new Float64Array(wd).fill(1), [wd]);
      this.lnBias = makeParam(init, 'ln.bias', new Float64Array(wd), [wd]);
    }
  }

  params(): Parameter[] {
    return [this.weight, this.weightC, this.bias, ...(this.lnWeight ? [this.lnWeight, this.lnBias!] : [])];
  }

  forward(x: Tensor, state: LayerState | null, opts: SruForwardOptions): { y: Tensor; state: LayerState } {
    const g = this.geometry;
    checkInput('SRU.forward', x, g.dIn);
    const [T, B] = x.shape as [number, number];
    const c0 = state?.['c'];
    if (c0 && (c0.shape.length !== 2 || c0.shape[0] !== B || c0.shape[1] !== g.nOut)) {
      throw new ShapeError(`SRU.forward: state c must be (B, n_out) = (${B}, ${g.nOut}), got ${fmtShape(c0.shape)}`);
    }
    if (opts.pad && (opts.pad.shape.length !== 2 || opts.pad.shape[0] !== T || opts.pad.shape[1] !== B)) {
      throw new ShapeError(`SRU.forward: pad must be (T, B) = (${T}, ${B}), got ${fmtShape(opts.pad.shape)}`);
    }
    const xin = g.ln === 'pre' ? layerNorm(x, this.lnWeight!.value, this.lnBias!.value) : x;
    const U = linear(xin, this.weight.value);
    if (xin !== x) xin.dispose();
    const mask = opts.training && this.dropout > 0 ? dropoutMask([B, g.nOut], this.dropout, opts.random, x, 'SRU.forward') : undefined;
    const scanOpts: { c0?: Tensor; mask?: Tensor; pad?: Tensor } = {};
    if (c0) scanOpts.c0 = c0;
    if (mask) scanOpts.mask = mask;
    if (opts.pad) scanOpts.pad = opts.pad;
    const [h, cLast, C] = sruScan(U, g.k === 3 && g.skip ? x : null, this.weightC.value, this.bias.value, {
      k: g.k, bidirectional: g.nd === 2, scaleX: this.scaleX, hasSkip: g.skip, activation: this.activation,
    }, scanOpts) as [Tensor, Tensor, Tensor];
    U.dispose();
    C.dispose();
    mask?.dispose();
    if (g.ln !== 'post') return { y: h, state: { c: cLast } };
    const y = layerNorm(h, this.lnWeight!.value, this.lnBias!.value);
    h.dispose();
    return { y, state: { c: cLast } };
  }

  /** One token per stream: the forward over T = 1 (no dropout). A bidirectional layer has no step mode. */
  step(x: Tensor, state: LayerState | null): { y: Tensor; state: LayerState } {
    if (this.geometry.nd === 2) throw new OptionError('SRU.step: a bidirectional SRU reads the future; it has no step mode (use forward over the whole sequence)');
    if (x.shape[0] !== 1) throw new ShapeError(`SRU.step: x must be (1, B, ${this.geometry.dIn}), got ${fmtShape(x.shape)}`);
    return this.forward(x, state, { training: false });
  }
}

/** A stack as the sru package builds it: layer 0 reads inputSize, the others n_out; the last layer gets no dropout. */
export function sruStack(o: SruOptions & { numLayers: number }): SruLayer[] {
  checkSize('SRU', 'numLayers', o.numLayers);
  const nOut = (o.bidirectional ? 2 : 1) * o.hiddenSize;
  return Array.from({ length: o.numLayers }, (_, i) => new SruLayer({
    ...o,
    inputSize: i === 0 ? o.inputSize : nOut,
    dropout: i === o.numLayers - 1 ? 0 : o.dropout ?? 0,
    seed: (o.seed ?? 1) + 7919 * i,
  }));
}

/**
 * The 'sru' entry of the layer-factory table: layer `index` of a d -> d stack. Options: layerNorm ('none' | 'pre' |
 * 'post', default 'none'), dropout (0; none in the last layer), highwayBias (0), rescale (false), activation.
 */
export function createSruLayer(cfg: ModelConfig, index: number, init: Init): SruLayer {
  return new SruLayer({
    inputSize: cfg.dim,
    hiddenSize: cfg.dim,
    layerNorm: optChoice(cfg, 'layerNorm', ['none', 'pre', 'post'] as const, 'none'),
    dropout: index === cfg.layers - 1 ? 0 : optNumber(cfg, 'dropout', 0, { min: 0, max: 0.99 }),
    highwayBias: optNumber(cfg, 'highwayBias', 0),
    rescale: optBool(cfg, 'rescale', false),
    activation: optChoice(cfg, 'activation', ['identity', 'tanh'] as const, 'identity'),
    init,
  });
}
