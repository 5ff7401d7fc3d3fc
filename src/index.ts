// Public API: tensors, ops, backends and initialisation.
/// <reference types="@webgpu/types" preserve="true" />
import { setStartupCalibration } from './init.js';
import { calibrateAtStartup } from './scheduler/calibrate.js';

export { Tensor } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export type { Shape } from './shape.js';
export type { BackendName } from './backends/backend.js';
export * from './errors.js';
export { tensor, zeros, tidy, keep, toBackend, availableBackends, getBackend, type TensorOptions, type CallOptions } from './engine.js';
export { setBackend, getBackendPin, withBackend, type BackendPin } from './scheduler/scheduler.js';
export { explain, resetExplain, setTracing, formatSummary, type Decision, type ExplainReport, type OpSummaryRow } from './scheduler/explain.js';
export { calibrate, setCalibrationStore, type CalibrateOptions, type CalibrationStore } from './scheduler/calibrate.js';
export type { Calibration, ClassRate, LinkRate, OpClass } from './scheduler/cost_model.js';
export { OPS, type OpName, type OpParams } from './ops/registry.js';
export * from './ops/api.js';
export { Parameter } from './autograd/parameter.js';
export { Tape, type BackwardOptions } from './autograd/tape.js';
export { valueAndGrad, type LossResult, type ValueAndGrad } from './autograd/value_and_grad.js';
export { AdamW, type AdamWConfig } from './optim/adamw.js';
export { RAdam, radamRectification, type RAdamConfig } from './optim/radam.js';
export type { LrSchedule, MomentOptimizer, MomentOptimizerOptions, OptimizerState } from './optim/optimizer.js';
export { clipGradNorm, clipGradNormSync } from './optim/clip.js';
export { warmupCosine, type WarmupCosineOptions } from './optim/schedule.js';
export { Trainer, train, type TrainerOptions, type TrainerSnapshot, type TrainOptions, type TrainResult, type StepInfo } from './train/trainer.js';
export { evaluate, type EvaluateOptions, type EvalResult } from './train/evaluate.js';
export { DeviceLossGuard, trainWithDeviceFallback, type ResilientTrainResult } from './train/device_loss.js';
export { generate, sampleLogits, type GenerateOptions } from './train/generate.js';
export { Rng, type RngState } from './train/rng.js';
export { lmCheckpoint, loadWeights, modelConfigOf, optimizerStateOf, trainerSnapshotOf, type LmCheckpointParts } from './train/lm_checkpoint.js';
export { createLanguageModel, countParams, type LanguageModelOptions } from './models/lm.js';
export type { LanguageModel, ModelConfig, ModelState, LayerState, SequenceLayer, ForwardOptions } from './models/types.js';
export { byteTokenizer, charTokenizerFromText, tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from './data/tokenizer.js';
export { splitByPosition, type Split } from './data/split.js';
export { StreamBatcher } from './data/batches.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
export { checkpointToBytes, checkpointFromBytes } from './io/checkpoint.js';
export { VERSION } from './version.js';
export { init, type InitOptions, type InitReport } from './init.js';

// The full API calibrates the scheduler when init() brings up WebGPU (the inference entry does not).
setStartupCalibration(calibrateAtStartup);
