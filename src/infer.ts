// Inference entry point (`recur/infer`): read a trained checkpoint from bytes, a URL or Responses, build its model
// on wasm or WebGPU and generate. No training code (autograd tape, optimizers, trainer, CLI, bench) is reachable
// from here, so the bundle stays small. Node, Deno and Bun also accept a directory path (src/node/infer.ts).
/// <reference types="@webgpu/types" preserve="true" />
import type { BackendName } from './backends/backend.js';
import type { Tokenizer } from './data/tokenizer.js';
import { tensor, tidy } from './engine.js';
import { CheckpointError, OptionError } from './errors.js';
import { init } from './init.js';
import { CONFIG_FILE, WEIGHTS_FILE, checkpointFromBytes, type Checkpoint } from './io/checkpoint.js';
import type { LanguageModel, ModelConfig } from './models/types.js';
import { generate, type GenerateOptions } from './train/generate.js';
import { languageModelFromCheckpoint } from './train/lm_checkpoint.js';

export * from './errors.js';
export { init, type InitOptions, type InitReport } from './init.js';
export { Tensor } from './tensor.js';
export { tensor, tidy, availableBackends } from './engine.js';
export type { BackendName } from './backends/backend.js';
export { checkpointFromBytes, type Checkpoint, type CheckpointBytes } from './io/checkpoint.js';
export { tokenizerFromJSON, byteTokenizer, type Tokenizer, type TokenizerJSON } from './data/tokenizer.js';
export { createLanguageModel } from './models/lm.js';
export type { LanguageModel, ModelConfig, ModelState } from './models/types.js';
export { generate, sampleLogits, type GenerateOptions } from './train/generate.js';
export { VERSION } from './version.js';

type Bytes = Uint8Array | ArrayBuffer;
/**
 * Where a checkpoint comes from: the two files' contents (bytes/strings or fetch Responses), or the URL of the
 * checkpoint directory (its model.safetensors and config.json are fetched). Node, Deno and Bun: also a path.
 */
export type CheckpointSource = { weights: Bytes | Response; config: string | Bytes | Response } | URL | string;

export interface LoadOptions {
  /**
   * 'auto' (default) = 'wasm': this entry carries no calibration code (its size budget), and without a calibration
   * the scheduler runs each op where its inputs live, so with the weights on wasm every op runs on wasm; WebGPU is
   * therefore not started. 'webgpu' puts the weights and every op there (fails when no adapter is available). For
   * measured per-op placement use the full `recur` API: init({ webgpu: true }) calibrates, then 'auto' chooses.
   */
  backend?: 'auto' | 'wasm' | 'webgpu';
  /** fetch for URL sources (default: globalThis.fetch). */
  fetch?: (url: string) => Promise<Response>;
}

export interface ReadOptions extends LoadOptions {
  /** Names the checkpoint in errors (its URL or path). */
  name?: string;
}

export interface InferenceModel {
  readonly model: LanguageModel;
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  readonly backend: BackendName;
  /** Generates token ids after `prompt` (see GenerateOptions; seeded, so repeatable). */
  generate(opts: GenerateOptions): Promise<number[]>;
  /** Encodes `prompt`, generates `tokens` more and returns their text; `onText` streams it. */
  generateText(prompt: string, opts: Omit<GenerateOptions, 'prompt' | 'onToken'> & { onText?: (text: string) => void }): Promise<string>;
  /** Logits of one parallel forward over `tokens` from a fresh state: (T·V) row-major, row t for position t. */
  logits(tokens: ArrayLike<number>): Promise<Float32Array>;
  dispose(): void;
}

const hasScheme = (s: string): boolean => /^[a-z][a-z0-9+.-]+:/i.test(s);

async function bodyBytes(r: Response, what: string): Promise<Uint8Array> {
  if (!r.ok) throw new CheckpointError(`${what}: HTTP ${r.status} ${r.statusText}`.trim());
  return new Uint8Array(await r.arrayBuffer());
}

function utf8(bytes: Bytes, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError(`${what}: not valid UTF-8`);
  }
}

/** Reads a checkpoint (weights and config) from bytes, Responses or a directory URL. */
export async function readCheckpoint(source: CheckpointSource, opts: ReadOptions = {}): Promise<Checkpoint> {
  if (typeof source === 'string' || source instanceof URL) {
    const base = String(source);
    if (!hasScheme(base)) {
      throw new OptionError(
        `checkpoint '${base}': not a URL; in browsers and workers pass a URL (new URL(path, location.href) for a relative one) or the two files' bytes (file paths work in Node, Deno and Bun)`,
      );
    }
    const get = opts.fetch ?? globalThis.fetch;
    if (!get) throw new OptionError(`checkpoint ${base}: this runtime has no fetch; pass the files' bytes instead`);
    const dir = base.endsWith('/') ? base : `${base}/`;
    const fetchFile = async (f: string): Promise<Response> => {
      const url = new URL(f, dir).href;
      try {
        return await get(url);
      } catch (e) {
        throw new CheckpointError(`${url}: fetch failed (${(e as Error).message})`);
      }
    };
    const [w, c] = await Promise.all([fetchFile(WEIGHTS_FILE), fetchFile(CONFIG_FILE)]);
    return readCheckpoint({ weights: w!, config: c! }, { ...opts, name: base });
  }
  const src = opts.name;
  const at = (f: string): string => (src ? `${src.replace(/\/$/, '')}/${f}` : f);
  const isResponse = (v: unknown): v is Response => typeof Response !== 'undefined' && v instanceof Response;
  const weights = isResponse(source.weights) ? await bodyBytes(source.weights, at(WEIGHTS_FILE)) : source.weights;
  const c = source.config;
  const config = typeof c === 'string' ? c : utf8(isResponse(c) ? await bodyBytes(c, at(CONFIG_FILE)) : c, at(CONFIG_FILE));
  if (!(weights instanceof Uint8Array || weights instanceof ArrayBuffer)) throw new OptionError(`${at(WEIGHTS_FILE)}: expected a Uint8Array, ArrayBuffer or Response`);
  return checkpointFromBytes({ weights: weights instanceof Uint8Array ? weights : new Uint8Array(weights), config }, { source: src, copy: true });
}

/** Builds the checkpoint's model with its weights on the chosen backend (bringing the backend up if needed). */
export async function modelFromCheckpoint(ckpt: Checkpoint, opts: ReadOptions = {}): Promise<InferenceModel> {
  const source = opts.name ?? 'checkpoint';
  const choice = opts.backend ?? 'auto';
  if (!['auto', 'wasm', 'webgpu'].includes(choice)) throw new OptionError(`backend '${choice}': expected 'auto', 'wasm' or 'webgpu'`);
  // 'auto' does not start WebGPU: uncalibrated, the scheduler would keep every op with the weights on wasm anyway.
  const report = await init({ webgpu: choice === 'webgpu' });
  if (choice === 'webgpu' && !report.backends.includes('webgpu')) {
    throw new OptionError(`backend 'webgpu': WebGPU is not available here (${report.webgpuUnavailable ?? 'no adapter'}); use 'wasm'`);
  }
  const backend: BackendName = choice === 'webgpu' ? 'webgpu' : 'wasm';
  const { model, tokenizer } = languageModelFromCheckpoint(ckpt, source, backend);
  return wrap(model, tokenizer, backend);
}

/** readCheckpoint + modelFromCheckpoint. */
export async function loadModel(source: CheckpointSource, opts: LoadOptions = {}): Promise<InferenceModel> {
  const name = typeof source === 'string' || source instanceof URL ? String(source) : undefined;
  return modelFromCheckpoint(await readCheckpoint(source, { ...opts, name }), { ...opts, name });
}

function wrap(model: LanguageModel, tokenizer: Tokenizer, backend: BackendName): InferenceModel {
  const V = model.config.vocabSize;
  return {
    model,
    config: model.config,
    tokenizer,
    backend,
    generate: (o) => generate(model, o),
    async generateText(prompt, o) {
      // Byte tokens are joined into whole characters before they are handed out.
      const dec = new TextDecoder('utf-8');
      const text = (id: number): string => (tokenizer.kind === 'byte' ? dec.decode(Uint8Array.of(id), { stream: true }) : tokenizer.decode([id]));
      const onText = o.onText;
      const onToken = onText
        ? (id: number): void => {
            const t = text(id);
            if (t) onText(t);
          }
        : undefined;
      const ids = await generate(model, { ...o, prompt: tokenizer.encode(prompt), onToken });
      return tokenizer.decode(ids);
    },
    async logits(tokens) {
      for (let i = 0; i < tokens.length; i++) {
        const id = tokens[i]!;
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new OptionError(`logits: token ${id} at position ${i} is outside the vocabulary [0, ${V})`);
      }
      if (tokens.length === 0) return new Float32Array(0);
      const out = tidy(() => model.forward(tensor(Int32Array.from(tokens), [tokens.length, 1], { dtype: 'i32', backend }), null, { training: false }).logits);
      try {
        return Float32Array.from(await out.data());
      } finally {
        out.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}
