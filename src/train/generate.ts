// Text generation: the prompt is prefilled with one parallel forward, then one token at a time in step mode from
// the carried state (O(1) per token for the recurrent models). Sampling with temperature and top-k from a seeded
// RNG; temperature 0 is greedy. Each token is handed to onToken as soon as it is drawn.
import type { BackendName } from '../backends/backend.js';
import { tensor, tidy, toBackend } from '../engine.js';
import { OptionError } from '../errors.js';
import type { LanguageModel, ModelState } from '../models/types.js';
import { slice } from '../ops/api.js';
import type { Tensor } from '../tensor.js';
import { Rng } from './rng.js';
import { disposeStateExcept } from './state.js';

export interface GenerateOptions {
  /** Prompt token ids (at least one). */
  prompt: ArrayLike<number>;
  /** Tokens to generate. */
  tokens: number;
  /** Softmax temperature (default 1); 0 picks the most likely token. */
  temperature?: number;
  /** Sample only among the k most likely tokens (default: all). */
  topK?: number;
  seed?: number;
  onToken?: (id: number, index: number) => void | Promise<void>;
}

/** Picks a token from a row of logits: temperature, then top-k (ties broken by lower id), then one uniform draw. */
export function sampleLogits(logits: ArrayLike<number>, opts: { temperature?: number; topK?: number }, uniform: number): number {
  const V = logits.length;
  const temperature = opts.temperature ?? 1;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (temperature === 0) return order[0]!;
  const k = Math.min(opts.topK ?? V, V);
  const top = order.slice(0, k);
  const mx = logits[top[0]!]!;
  const w = top.map((i) => Math.exp((logits[i]! - mx) / temperature));
  const total = w.reduce((a, x) => a + x, 0);
  let u = uniform * total;
  for (let j = 0; j < k; j++) {
    u -= w[j]!;
    if (u < 0) return top[j]!;
  }
  return top[k - 1]!;
}

function checkOptions(model: LanguageModel, o: GenerateOptions): void {
  const V = model.config.vocabSize;
  if (o.prompt.length < 1) throw new OptionError('generate: the prompt must hold at least one token');
  for (let i = 0; i < o.prompt.length; i++) {
    const id = o.prompt[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new OptionError(`generate: prompt token ${id} at position ${i} is outside the vocabulary [0, ${V})`);
  }
  if (!Number.isSafeInteger(o.tokens) || o.tokens < 0) throw new OptionError(`generate: tokens ${o.tokens} must be an integer >= 0`);
  const t = o.temperature ?? 1;
  if (!(Number.isFinite(t) && t >= 0)) throw new OptionError(`generate: temperature ${t} must be a finite number >= 0`);
  if (o.topK !== undefined && !(Number.isSafeInteger(o.topK) && o.topK >= 1)) throw new OptionError(`generate: topK ${o.topK} must be an integer >= 1`);
}

/** Generates `tokens` ids after the prompt; returns them (without the prompt). */
export async function generate(model: LanguageModel, opts: GenerateOptions): Promise<number[]> {
  checkOptions(model, opts);
  const rng = new Rng(opts.seed ?? 0);
  const backend: BackendName | undefined = model.params()[0]?.value.backend.name;
  const P = opts.prompt.length;
  const out: number[] = [];
  if (opts.tokens === 0) return out;
  // Prefill: logits of the last prompt position, and the state after the prompt.
  let { logits, state } = tidy(() => {
    const x = tensor(Int32Array.from(opts.prompt), [P, 1], { dtype: 'i32', backend });
    const r = model.forward(x, null, { training: false });
    return { logits: slice(r.logits, 0, P - 1, 1), state: r.state as ModelState };
  });
  try {
    state = await stateHome(state, backend);
    for (;;) {
      const row = await readAndFree(logits);
      const id = sampleLogits(row, opts, rng.next());
      out.push(id);
      await opts.onToken?.(id, out.length - 1);
      if (out.length === opts.tokens) break;
      const prev = state;
      const next = tidy(() => model.step(tensor(Int32Array.of(id), [1], { dtype: 'i32', backend }), prev));
      disposeStateExcept(prev, next.state);
      ({ logits, state } = next);
    }
  } finally {
    if (!logits.disposed) logits.dispose();
    disposeStateExcept(state, null);
  }
  return out;
}

/**
 * The carried state moved to where the parameters live. A long prompt's prefill may have run on a GPU (the
 * scheduler's choice), and GPU data stays on the GPU; the token loop's matvecs belong on the parameters' backend,
 * so the state comes home once, asynchronously (docs/scheduler.md). A no-op when it is already there.
 */
async function stateHome(state: ModelState, backend: BackendName | undefined): Promise<ModelState> {
  if (!backend || state.every((l) => Object.values(l).every((t) => t.backend.name === backend))) return state;
  const next: Record<string, Tensor>[] = [];
  try {
    for (const layer of state) {
      const entry: Record<string, Tensor> = {};
      next.push(entry);
      for (const [k, t] of Object.entries(layer)) entry[k] = await toBackend(t, backend);
    }
  } catch (e) {
    disposeStateExcept(next, state);
    throw e;
  }
  disposeStateExcept(state, next);
  return next;
}

async function readAndFree(t: Tensor): Promise<Float32Array> {
  try {
    return Float32Array.from(await t.data());
  } finally {
    t.dispose();
  }
}
