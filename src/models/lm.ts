// The language model: embedding (V, d) -> config.layers × layer (from the layer-factory table) -> RMSNorm or
// LayerNorm -> bias-free output projection head (V, d). Tokens are time-major (T, B); logits rows are t·B + b.
import type { Parameter } from '../autograd/parameter.js';
import type { BackendName } from '../backends/backend.js';
import { OptionError, ShapeError } from '../errors.js';
import { embedding, matmul } from '../ops/api.js';
import { fmtShape } from '../shape.js';
import { withBackend, type BackendPin } from '../scheduler/scheduler.js';
import type { Tensor } from '../tensor.js';
import { Init } from './init.js';
import { layerFactory } from './layers.js';
import { createNorm } from './min_rnn.js';
import { optChoice } from './options.js';
import type { ForwardOptions, LanguageModel, LayerState, ModelConfig, ModelState, SequenceLayer } from './types.js';

export interface LanguageModelOptions {
  /** Seed of the initialisation RNG (same seed, same weights on every backend). */
  seed: number;
  /** Where the parameters live (default: the scheduler's default backend). */
  backend?: BackendName;
  /** Pins every op of this model (forward, step, and their gradients) to a backend; default 'auto'. */
  pin?: BackendPin;
}

function checkConfig(c: ModelConfig): void {
  const int = (k: 'vocabSize' | 'dim' | 'layers', min: number): void => {
    const v = c[k];
    if (!Number.isInteger(v) || v < min) throw new OptionError(`model '${c.model}': ${k} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  };
  int('vocabSize', 1);
  int('dim', 1);
  int('layers', 0);
}

/**
 * Builds a language model. Options (ModelConfig.options) besides the layers' own: `finalNorm` 'rms' (default)
 * or 'layer' (default: the layers' `norm` option, else 'rms').
 */
export function createLanguageModel(config: ModelConfig, opts: LanguageModelOptions): LanguageModel {
  checkConfig(config);
  const factory = layerFactory(config.model);
  const cfg: ModelConfig = { ...config, options: config.options ? { ...config.options } : undefined };
  const init = Init.create(opts.seed, opts.backend ?? (opts.pin && opts.pin !== 'auto' ? opts.pin : undefined));
  const { vocabSize: V, dim: d } = cfg;
  const embed = init.normal('embed.weight', [V, d]);
  const layers: SequenceLayer[] = [];
  const params: Parameter[] = [embed];
  try {
    for (let i = 0; i < cfg.layers; i++) {
      const layer = factory(cfg, i, init.scope(`layers.${i}.`));
      layers.push(layer);
      params.push(...layer.params());
    }
    const normKind = optChoice(cfg, 'finalNorm', ['rms', 'layer'] as const, optChoice(cfg, 'norm', ['rms', 'layer'] as const, 'rms'));
    const norm = createNorm(normKind, 'norm', d, init);
    const head = init.fanIn('head.weight', [V, d], d);
    params.push(...norm.params, head);
    const model = makeModel(cfg, embed, layers, norm, head, params);
    return opts.pin && opts.pin !== 'auto' ? pinned(model, opts.pin) : model;
  } catch (e) {
    for (const p of init.created()) p.dispose();
    throw e;
  }
}

function makeModel(
  config: ModelConfig,
  embed: Parameter,
  layers: SequenceLayer[],
  norm: { apply(x: Tensor): Tensor },
  head: Parameter,
  params: Parameter[],
): LanguageModel {
  const d = config.dim;
  const checkState = (state: ModelState | null): void => {
    if (state && state.length !== layers.length) throw new ShapeError(`language model: state has ${state.length} layer entries, expected ${layers.length}`);
  };
  const checkTokens = (tokens: Tensor, rank: number, what: string): void => {
    if (tokens.dtype !== 'i32' || tokens.shape.length !== rank) {
      throw new ShapeError(`language model ${what}: tokens must be i32 of shape ${rank === 2 ? '[T, B]' : '[B]'}, got ${tokens.dtype} ${fmtShape(tokens.shape)}`);
    }
  };
  const run = (tokens: Tensor, state: ModelState | null, each: (l: SequenceLayer, x: Tensor, s: LayerState | null) => { y: Tensor; state: LayerState }) => {
    const [T, B] = tokens.shape as [number, number];
    let x = embedding(tokens, embed.value).reshape([T, B, d]);
    const next: LayerState[] = [];
    layers.forEach((l, i) => {
      const r = each(l, x, state?.[i] ?? null);
      x = r.y;
      next.push(r.state);
    });
    const logits = matmul(norm.apply(x).reshape([T * B, d]), head.value, { transB: true });
    return { logits, state: next };
  };
  return {
    config,
    params: () => params,
    forward(tokens, state, opts: ForwardOptions) {
      checkTokens(tokens, 2, 'forward');
      checkState(state);
      return run(tokens, state, (l, x, s) => l.forward(x, s, opts));
    },
    step(tokens, state) {
      checkTokens(tokens, 1, 'step');
      checkState(state);
      return run(tokens.reshape([1, tokens.shape[0]!]), state, (l, x, s) => l.step(x, s));
    },
    dispose() {
      for (const p of params) p.dispose();
    },
  };
}

/** The model with forward and step run under withBackend(pin) (the tape carries the pin into backward). */
function pinned(m: LanguageModel, pin: BackendPin): LanguageModel {
  return { ...m, forward: (t, s, o) => withBackend(pin, () => m.forward(t, s, o)), step: (t, s) => withBackend(pin, () => m.step(t, s)) };
}

/** Total number of scalar parameters. */
export function countParams(model: { params(): Parameter[] }): number {
  return model.params().reduce((n, p) => n + p.value.size, 0);
}
