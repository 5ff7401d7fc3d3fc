// Brings up every backend present for a test file: reference, wasm (relaxed when the engine has it), webgpu.
// WebGPU follows tests/helpers/webgpu.ts: a missing adapter fails where CI is set, else skips loudly.
import { afterAll } from 'vitest';
import type { BackendName } from '../../src/backends/backend.js';
import { availableBackends, registerBackend } from '../../src/engine.js';
import { init } from '../../src/index.js';
import { getWebGpu, releaseWebGpu } from './webgpu.js';

let ready: Promise<BackendName[]> | null = null;

// Destroy the Dawn device when a test file ends, so its process can exit.
afterAll(() => releaseWebGpu());

/** Backends under test besides the reference, in a stable order. */
export function setupBackends(): Promise<BackendName[]> {
  ready ??= (async () => {
    await init();
    const gpu = await getWebGpu();
    if (gpu) registerBackend(gpu);
    return availableBackends().filter((b) => b !== 'reference');
  })();
  return ready;
}
