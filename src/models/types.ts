// The contracts between layers, language models and the training loop. Layers and models are compositions of
// ops (src/ops/api.ts): no kernels and no backend names inside. Tensors are time-major: (T, B, ·).
import type { Parameter } from '../autograd/parameter.js';
import type { Tensor } from '../tensor.js';

/** Per-layer recurrent state carried between segments (truncated BPTT) and between generated tokens. */
export type LayerState = Readonly<Record<string, Tensor>>;

export interface ForwardOptions {
  /** Dropout and other training-only behaviour is on. */
  training: boolean;
  /** Seeded uniform numbers in [0, 1) for dropout masks (the trainer owns the RNG so checkpoints restore it). */
  random?: () => number;
}

/** One stacked layer: (T, B, d) -> (T, B, d), with the state it carries. */
export interface SequenceLayer {
  readonly kind: string;
  /** Named parameters, names unique within the layer (the model prefixes them, e.g. 'layers.0.'). */
  params(): Parameter[];
  /** Parallel (training, prompt prefill) forward over a segment; `state` null means a fresh sequence. */
  forward(x: Tensor, state: LayerState | null, opts: ForwardOptions): { y: Tensor; state: LayerState };
  /** Step mode: one token per stream, x (1, B, d); must equal forward() over the same tokens (models.md G.9). */
  step(x: Tensor, state: LayerState | null): { y: Tensor; state: LayerState };
}

/** Architecture of a language model, stored in checkpoints' config.json. */
export interface ModelConfig {
  model: 'mingru' | 'minlstm' | 'sru' | 'srupp' | 'gru' | 'lstm';
  vocabSize: number;
  dim: number;
  layers: number;
  /** Layer-specific options (expansion factor, conv kernel, attention every k layers, ...). */
  options?: Record<string, number | boolean | string>;
}

/** Carried state of a whole model: one entry per layer. */
export type ModelState = readonly LayerState[];

export interface LanguageModel {
  readonly config: ModelConfig;
  /** Every trainable parameter with its unique name ('embed.weight', 'layers.0.W', ...). */
  params(): Parameter[];
  /** tokens (T, B) i32 -> logits (T·B, V) f32, row t·B + b; and the state after the segment. */
  forward(tokens: Tensor, state: ModelState | null, opts: ForwardOptions): { logits: Tensor; state: ModelState };
  /** tokens (B) i32 -> logits (B, V) and the next state: generation, O(1) per token for the recurrent models. */
  step(tokens: Tensor, state: ModelState | null): { logits: Tensor; state: ModelState };
  /** Frees parameters. */
  dispose(): void;
}
