// A language model's training run as a checkpoint (src/io/checkpoint.ts) and back: weights, optimizer moments,
// the state carried into the next segment (weights named `carry.<layer>.<key>`), architecture, vocabulary, step,
// data position, RNG words and the training settings. Runtime-neutral: the Node CLI writes it with checkpoint_fs.
import type { BackendName } from '../backends/backend.js';
import { tensor } from '../engine.js';
import { CheckpointError } from '../errors.js';
import type { Checkpoint, CheckpointInput, ArrayTensor } from '../io/checkpoint.js';
import { createLanguageModel } from '../models/lm.js';
import type { LanguageModel, ModelConfig } from '../models/types.js';
import type { MomentOptimizer, OptimizerState } from '../optim/optimizer.js';
import { tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from '../data/tokenizer.js';
import type { TrainerSnapshot } from './trainer.js';
import type { StateSnapshot } from './state.js';

const CARRY = 'carry.';
const MODELS: readonly ModelConfig['model'][] = ['mingru', 'minlstm', 'sru', 'srupp', 'gru', 'lstm'];

export interface LmCheckpointParts {
  model: LanguageModel;
  tokenizer: TokenizerJSON;
  optimizer?: MomentOptimizer;
  /** Optimizer hyper-parameters stored beside its name and step (lr, warm-up, decay, ...). */
  optimizerConfig?: Record<string, unknown>;
  trainer?: TrainerSnapshot;
  /** Anything else for config.json (training settings, the loss curve, ...). */
  extra?: Record<string, unknown>;
}

/** Builds the checkpoint of a model (and, when given, its optimizer and trainer) for saveCheckpoint / checkpointToBytes. */
export async function lmCheckpoint(p: LmCheckpointParts): Promise<CheckpointInput> {
  const weights = new Map<string, ArrayTensor>();
  for (const param of p.model.params()) weights.set(param.name, { shape: [...param.shape], data: Float32Array.from(await param.value.data()) });
  const carry = p.trainer?.carry ?? null;
  carry?.forEach((layer, i) => {
    for (const [k, v] of Object.entries(layer)) weights.set(`${CARRY}${i}.${k}`, v);
  });
  const opt: OptimizerState | null = p.optimizer ? await p.optimizer.state() : null;
  const optimizerState = new Map<string, ArrayTensor>();
  for (const [k, v] of Object.entries(opt?.tensors ?? {})) optimizerState.set(k, v);
  const t = p.trainer;
  return {
    config: {
      ...p.extra,
      architecture: { ...p.model.config },
      vocabulary: { ...p.tokenizer },
      optimizer: { ...p.optimizerConfig, name: opt?.kind ?? 'none', step: opt?.step ?? 0 },
      step: t?.step ?? 0,
      dataPosition: { ...(t?.dataPosition ?? {}) },
      rng: { ...(t?.rng ?? {}) },
      carryLayers: carry ? carry.length : null,
    },
    weights,
    optimizerState,
  };
}

/** The architecture a checkpoint stores, checked field by field. */
export function modelConfigOf(ckpt: Checkpoint, source: string): ModelConfig {
  const a = ckpt.config.architecture as Partial<ModelConfig>;
  const fail = (what: string): never => {
    throw new CheckpointError(`${source}: architecture ${what}`);
  };
  if (!MODELS.includes(a.model as ModelConfig['model'])) fail(`model ${JSON.stringify(a.model)} is not one of ${MODELS.join(', ')}`);
  for (const k of ['vocabSize', 'dim', 'layers'] as const) if (!Number.isSafeInteger(a[k]) || (a[k] as number) < 1) fail(`${k} ${JSON.stringify(a[k])} is not a positive integer`);
  if (a.options !== undefined && (typeof a.options !== 'object' || a.options === null)) fail('options is not an object');
  return a as ModelConfig;
}

/** Copies a checkpoint's weights into the model's parameters; every parameter must be there with its shape. */
export function loadWeights(model: LanguageModel, ckpt: Checkpoint, source: string): void {
  const params = model.params();
  const names = new Set(params.map((p) => p.name));
  const unknown = [...ckpt.weights.keys()].filter((k) => !k.startsWith(CARRY) && !names.has(k));
  if (unknown.length) throw new CheckpointError(`${source}: weights ${unknown.slice(0, 4).join(', ')} belong to no parameter of this ${model.config.model} model`);
  for (const p of params) {
    const w = ckpt.weights.get(p.name);
    if (!w) throw new CheckpointError(`${source}: weight '${p.name}' of the ${model.config.model} model is missing`);
    if (w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) {
      throw new CheckpointError(`${source}: weight '${p.name}' has shape [${w.shape.join(', ')}], the model expects [${p.shape.join(', ')}]`);
    }
    if (!(w.data instanceof Float32Array)) throw new CheckpointError(`${source}: weight '${p.name}' is not float32`);
  }
  const backend: BackendName = params[0]?.value.backend.name ?? 'wasm';
  for (const p of params) {
    const w = ckpt.weights.get(p.name)!;
    p.assign(tensor(w.data, w.shape, { backend: p.value.backend.name ?? backend }));
  }
}

/** The model a checkpoint describes, built on `backend` with its weights (disposed again if they do not fit), and its
 *  tokenizer, whose size must be the model's vocabulary. What the CLI, recur/infer and the demo load. */
export function languageModelFromCheckpoint(ckpt: Checkpoint, source: string, backend: BackendName): { config: ModelConfig; tokenizer: Tokenizer; model: LanguageModel } {
  const config = modelConfigOf(ckpt, source);
  const tokenizer = tokenizerFromJSON(ckpt.config.vocabulary);
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new CheckpointError(`${source}: the vocabulary has ${tokenizer.vocabSize} tokens but the model was built for ${config.vocabSize}`);
  }
  const model = createLanguageModel(config, { seed: 0, backend });
  try {
    loadWeights(model, ckpt, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { config, tokenizer, model };
}

/** The optimizer state stored in a checkpoint, for MomentOptimizer.loadState. */
export function optimizerStateOf(ckpt: Checkpoint): OptimizerState {
  const tensors: OptimizerState['tensors'] = {};
  for (const [k, v] of ckpt.optimizerState) tensors[k] = { shape: [...v.shape], data: Float32Array.from(v.data) };
  return { kind: ckpt.config.optimizer.name, step: ckpt.config.optimizer.step, tensors };
}

/** What the trainer needs to continue (data position, RNG, carried state) from a checkpoint. */
export function trainerSnapshotOf(ckpt: Checkpoint): TrainerSnapshot {
  const n = ckpt.config['carryLayers'];
  let carry: StateSnapshot | null = null;
  if (typeof n === 'number') {
    carry = Array.from({ length: n }, () => ({}));
    for (const [name, v] of ckpt.weights) {
      const m = /^carry\.(\d+)\.(.+)$/.exec(name);
      if (!m) continue;
      const layer = carry[Number(m[1])];
      if (!layer) throw new CheckpointError(`checkpoint: carried state '${name}' names a layer beyond the ${n} stored`);
      layer[m[2]!] = { shape: [...v.shape], data: Float32Array.from(v.data) };
    }
  }
  return {
    step: ckpt.config.step,
    dataPosition: ckpt.config.dataPosition as unknown as TrainerSnapshot['dataPosition'],
    rng: ckpt.config.rng as unknown as TrainerSnapshot['rng'],
    carry,
  };
}
