// One WebGPU backend per test process. No adapter: FAIL where CI is set (a check that cannot fail is a defect),
// else skip with a loud warning. releaseWebGpu() destroys the device so the process can exit.
import { createWebGpuBackend, type WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { availableBackends, getBackend, unregisterBackend } from '../../src/engine.js';

let pending: Promise<WebGpuBackend | null> | null = null;

function inCi(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return !!env?.['CI'] && env['CI'] !== 'false' && env['CI'] !== '0';
}

/** The shared WebGPU backend, or null (after a loud warning) where no adapter exists outside CI. */
export function getWebGpu(): Promise<WebGpuBackend | null> {
  pending ??= (async () => {
    const r = await createWebGpuBackend();
    if ('backend' in r) return r.backend;
    const msg = `WebGPU is not available: ${r.reason}`;
    if (inCi()) throw new Error(`${msg}. CI is set, so WebGPU tests must run: install libvulkan1 and chromium (SwiftShader) on the runner.`);
    const bar = '!'.repeat(100);
    console.warn(`\n${bar}\n!! SKIPPING WebGPU TESTS: ${msg}\n!! (set CI=1 to make this a failure)\n${bar}\n`);
    return null;
  })();
  return pending;
}

/** Destroys the shared backend (unregistering it from the engine when it was registered there). */
export async function releaseWebGpu(): Promise<void> {
  if (!pending) return;
  const gpu = await pending.catch(() => null);
  pending = null;
  if (!gpu) return;
  if (availableBackends().includes('webgpu') && getBackend('webgpu') === gpu) unregisterBackend('webgpu');
  else gpu.dispose();
}
