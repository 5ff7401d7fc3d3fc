// Evaluation of a language model in bits per character: the ids are cut into B contiguous streams and run
// through in segments of T with the state carried across segments (as in training, but no gradients), so every
// prediction but each stream's first sees the whole history of its stream. loss is nats per token; bpc = loss/ln 2.
import type { BackendName } from '../backends/backend.js';
import { tensor, tidy } from '../engine.js';
import { DataError, OptionError } from '../errors.js';
import type { LanguageModel, ModelState } from '../models/types.js';
import { softmaxCrossEntropy, sum } from '../ops/api.js';
import { disposeStateExcept } from './state.js';

export interface EvaluateOptions {
  /** B: parallel streams (default 8; fewer when the text is short). */
  batchSize?: number;
  /** T: segment length (default 128). */
  seqLen?: number;
  /** Evaluate only the first maxTokens ids (default: all). */
  maxTokens?: number;
  /** Backend for the id tensors (default: where the model's first parameter lives). */
  backend?: BackendName;
}

export interface EvalResult {
  /** Mean cross-entropy in nats per predicted token. */
  loss: number;
  /** loss / ln 2: bits per character (per byte for the byte-level tokenizer). */
  bpc: number;
  /** Predicted tokens the mean is over. */
  tokens: number;
}

/** Bits per character of `model` on `ids` (see the file header). */
export async function evaluate(model: LanguageModel, ids: Int32Array, opts: EvaluateOptions = {}): Promise<EvalResult> {
  const T = opts.seqLen ?? 128;
  if (!Number.isSafeInteger(T) || T < 1) throw new OptionError(`evaluate: seqLen ${T} must be a positive integer`);
  const text = opts.maxTokens !== undefined && opts.maxTokens < ids.length ? ids.subarray(0, opts.maxTokens) : ids;
  if (text.length < 2) throw new DataError(`evaluate: ${text.length} token(s) are too few; evaluation needs at least 2 (an input and its target)`);
  const B = Math.min(opts.batchSize ?? 8, text.length - 1);
  if (!Number.isSafeInteger(B) || B < 1) throw new OptionError(`evaluate: batchSize ${opts.batchSize} must be a positive integer`);
  const L = Math.floor((text.length - 1) / B);
  const backend = opts.backend ?? model.params()[0]?.value.backend.name;
  let state: ModelState | null = null;
  let total = 0;
  let count = 0;
  try {
    for (let s = 0; s < L; s += T) {
      const len = Math.min(T, L - s);
      const inputs = new Int32Array(len * B);
      const targets = new Int32Array(len * B);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < len; t++) {
          inputs[t * B + b] = text[b * L + s + t]!;
          targets[t * B + b] = text[b * L + s + t + 1]!;
        }
      }
      const prev: ModelState | null = state;
      const out = tidy(() => {
        const x = tensor(inputs, [len, B], { dtype: 'i32', backend });
        const y = tensor(targets, [len * B], { dtype: 'i32', backend });
        const r = model.forward(x, prev, { training: false });
        return { total: sum(softmaxCrossEntropy(r.logits, y), 0), state: r.state };
      });
      disposeStateExcept(prev, out.state);
      state = out.state;
      try {
        total += (await out.total.data())[0]!;
      } finally {
        out.total.dispose();
      }
      count += len * B;
    }
  } finally {
    disposeStateExcept(state, null);
  }
  const loss = total / count;
  if (!Number.isFinite(loss)) throw new DataError(`evaluate: the loss is ${loss} over ${count} tokens; the model's weights are not finite`);
  return { loss, bpc: loss / Math.LN2, tokens: count };
}
