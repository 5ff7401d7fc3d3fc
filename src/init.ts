// Backend bring-up (reference, wasm, and WebGPU on request); shared by the full API and the inference entry.
import type { BackendName } from './backends/backend.js';
import { ReferenceBackend } from './backends/reference.js';
import { WasmBackend } from './backends/wasm/backend.js';
import type { WasmModuleOptions } from './backends/wasm/module.js';
import { availableBackends, registerBackend } from './engine.js';

export interface InitOptions {
  /** wasm module choice ('debug' turns kernel assertions on). */
  wasm?: WasmModuleOptions;
  /** Also bring up WebGPU (navigator.gpu, or the `webgpu` package in Node). */
  webgpu?: boolean;
  /** Measure (or load cached) backend costs for the scheduler when WebGPU comes up (default true; full API only). */
  calibrate?: boolean;
}

/** The start-up calibration, installed by the full API (src/index.ts) so the inference bundle stays small. */
let startupCalibration: (() => Promise<unknown>) | null = null;
export function setStartupCalibration(fn: (() => Promise<unknown>) | null): void {
  startupCalibration = fn;
}

export interface InitReport {
  backends: BackendName[];
  /** Why WebGPU is not available, when it was asked for and is not. */
  webgpuUnavailable?: string;
}

/** Brings up the backends. Safe to call again (e.g. to add WebGPU later). */
export async function init(opts: InitOptions = {}): Promise<InitReport> {
  if (!availableBackends().includes('reference')) registerBackend(new ReferenceBackend());
  if (!availableBackends().includes('wasm') || opts.wasm) registerBackend(await WasmBackend.create(opts.wasm));
  const report: InitReport = { backends: [] };
  if (opts.webgpu && !availableBackends().includes('webgpu')) {
    const { createWebGpuBackend } = await import('./backends/webgpu/backend.js');
    const r = await createWebGpuBackend();
    if ('backend' in r) {
      registerBackend(r.backend); // the engine unregisters it (one warning) if the device is lost
    }
    else report.webgpuUnavailable = r.reason;
  }
  report.backends = availableBackends();
  if (opts.webgpu && opts.calibrate !== false && report.backends.includes('webgpu') && startupCalibration) await startupCalibration();
  return report;
}
