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

export type ToWorker =
  | { type: 'train'; settings: TrainSettings }
  | { type: 'stop' }
  | { type: 'generate'; settings: GenerateSettings }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array; name: string; backend: BackendChoice }
  | { type: 'bench'; suites: string[]; mode: BenchMode };

export interface ModelSummary {
  model: DemoModel;
  backend: string;
  params: number;
  dim: number;
  layers: number;
  step: number;
}

export type FromWorker =
  | { type: 'ready'; backends: string[]; webgpuUnavailable?: string; suites: string[]; defaultSuites: string[]; wasmVariant: string }
  | { type: 'status'; text: string }
  | { type: 'started'; summary: ModelSummary; trainTokens: number; validationTokens: number }
  | { type: 'step'; step: number; steps: number; loss: number; lr: number; tokensPerSec: number }
  | { type: 'trained'; step: number; loss: number; valBpc: number | null; stopped: boolean }
  | { type: 'token'; text: string }
  | { type: 'generated'; tokens: number; tokensPerSec: number }
  | { type: 'checkpoint'; bytes: Uint8Array; name: string }
  | { type: 'loaded'; summary: ModelSummary }
  | { type: 'bench-log'; line: string }
  | { type: 'bench-done'; rows: BenchRow[]; table: string; seconds: number }
  | { type: 'error'; during: string; message: string };
