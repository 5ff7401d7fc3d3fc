// Messages between the demo page (main.ts) and its Web Worker (worker.ts), where the engine runs.
import type { BenchRow } from '../bench/runner.js';

export const MODELS = ['mingru', 'minlstm', 'sru', 'srupp'] as const;
export type DemoModel = (typeof MODELS)[number];
export const MODEL_LABELS: Record<DemoModel, string> = { mingru: 'minGRU', minlstm: 'minLSTM', sru: 'SRU', srupp: 'SRU++' };
export type BackendChoice = 'auto' | 'wasm' | 'webgpu';
export type BenchMode = 'smoke' | 'quick' | 'full';

export interface TrainSettings {
  model: DemoModel;
  backend: BackendChoice;
  /** 'corpus': the Brown slice the build wrote to corpus.txt; else the pasted text. */
  source: 'corpus' | 'text';
  text?: string;
  dim: number;
  layers: number;
  batch: number;
  seq: number;
  steps: number;
  lr: number;
  seed: number;
}

export interface GenerateSettings {
  prompt: string;
  tokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** The scheduler's calibration the worker started with (measured at start-up, or cached in IndexedDB). */
export interface CalibrationNote {
  backends: string[];
  measuredAt: string;
  tookMs: number;
}

/** Op calls per backend during a training run (the scheduler's placements; a pin puts them all on one). */
export type Placement = Record<string, number>;

export type ToWorker =
  | { type: 'train'; settings: TrainSettings }
  | { type: 'stop' }
  | { type: 'generate'; settings: GenerateSettings }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array; name: string; backend: BackendChoice }
  | { type: 'bench'; suites: string[]; mode: BenchMode };

export interface ModelSummary {
  model: DemoModel;
  /** The backend chosen on the page ('auto': parameters on wasm, each op placed by the scheduler). */
  backend: string;
  params: number;
  dim: number;
  layers: number;
  step: number;
}

export type FromWorker =
  | { type: 'ready'; backends: string[]; webgpuUnavailable?: string; suites: string[]; defaultSuites: string[]; wasmVariant: string; calibration: CalibrationNote | null }
  | { type: 'status'; text: string }
  | { type: 'started'; summary: ModelSummary; trainTokens: number; validationTokens: number }
  | { type: 'step'; step: number; steps: number; loss: number; lr: number; tokensPerSec: number }
  | { type: 'trained'; step: number; loss: number; valBpc: number | null; stopped: boolean; placement: Placement }
  | { type: 'token'; text: string }
  | { type: 'generated'; tokens: number; tokensPerSec: number }
  | { type: 'checkpoint'; bytes: Uint8Array; name: string }
  | { type: 'loaded'; summary: ModelSummary }
  | { type: 'bench-log'; line: string }
  | { type: 'bench-done'; rows: BenchRow[]; table: string; seconds: number }
  | { type: 'error'; during: string; message: string };
