// A tiny stand-in LanguageModel for testing the training loop apart from the real models: logits of token t are
// E[x_t]·W + E[x_{t-1}]·U, where x_{-1}'s embedding is the carried state (so carrying it across segments matters),
// with dropout on the embeddings while training (so the trainer's RNG matters).
import { Parameter } from '../../src/autograd/parameter.js';
import type { BackendName } from '../../src/backends/backend.js';
import { tensor } from '../../src/engine.js';
import type { ForwardOptions, LanguageModel, ModelConfig, ModelState } from '../../src/models/types.js';
import { add, concat, embedding, matmul, mul, slice } from '../../src/ops/api.js';
import type { Tensor } from '../../src/tensor.js';
import { Rng } from './rng.js';

export interface BigramOptions {
  vocab: number;
  dim: number;
  seed?: number;
  backend?: BackendName;
  /** Dropout rate on the embeddings while training (default 0.1). */
  dropout?: number;
}

export class BigramLM implements LanguageModel {
  readonly config: ModelConfig;
  readonly E: Parameter;
  readonly W: Parameter;
  readonly U: Parameter;
  private readonly backend?: BackendName;
  private readonly dropout: number;

  constructor(o: BigramOptions) {
    const rng = new Rng(o.seed ?? 1);
    const init = (name: string, shape: [number, number], scale: number) =>
      new Parameter(name, tensor(Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal() * scale), shape, { backend: o.backend }));
    this.config = { model: 'mingru', vocabSize: o.vocab, dim: o.dim, layers: 1, options: { standIn: 'bigram' } };
    this.E = init('embed.weight', [o.vocab, o.dim], 1);
    this.W = init('W', [o.dim, o.vocab], 0.1);
    this.U = init('U', [o.dim, o.vocab], 0.1);
    this.backend = o.backend;
    this.dropout = o.dropout ?? 0.1;
  }

  params(): Parameter[] {
    return [this.E, this.W, this.U];
  }

  private drop(e: Tensor, opts: ForwardOptions): Tensor {
    if (!opts.training || this.dropout === 0 || !opts.random) return e;
    const keepP = 1 - this.dropout;
    const mask = Float32Array.from({ length: e.size }, () => (opts.random!() < keepP ? 1 / keepP : 0));
    return mul(e, tensor(mask, e.shape, { backend: e.backend.name }));
  }

  forward(tokens: Tensor, state: ModelState | null, opts: ForwardOptions): { logits: Tensor; state: ModelState } {
    const [T, B] = tokens.shape as [number, number];
    const D = this.config.dim;
    const e = this.drop(embedding(tokens, this.E.value), opts); // (T, B, D)
    const first = state ? state[0]!['e']! : tensor(new Float32Array(B * D), [1, B, D], { backend: e.backend.name });
    const prev = T === 1 ? first : concat([first, slice(e, 0, 0, T - 1)], 0);
    const logits = add(matmul(e.reshape([T * B, D]), this.W.value), matmul(prev.reshape([T * B, D]), this.U.value));
    return { logits, state: [{ e: slice(e, 0, T - 1, 1) }] };
  }

  step(tokens: Tensor, state: ModelState | null): { logits: Tensor; state: ModelState } {
    const [B] = tokens.shape as [number];
    const D = this.config.dim;
    const e = embedding(tokens, this.E.value); // (B, D)
    const prev = state ? state[0]!['e']!.reshape([B, D]) : tensor(new Float32Array(B * D), [B, D], { backend: e.backend.name });
    const logits = add(matmul(e, this.W.value), matmul(prev, this.U.value));
    return { logits, state: [{ e: e.reshape([1, B, D]) }] };
  }

  dispose(): void {
    for (const p of this.params()) p.dispose();
  }
}
