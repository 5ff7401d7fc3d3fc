// `recur info [--json]`: the version and every backend with its details (wasm SIMD support and module variant;
// WebGPU adapter, features and key limits, or why it is unavailable).
import { availableBackends, getBackend } from '../engine.js';
import { init } from '../index.js';
import { VERSION } from '../version.js';

export interface InfoJson {
  version: string;
  backends: {
    wasm: Record<string, unknown> & { available: boolean; simd: boolean; relaxedSimd: boolean };
    webgpu: Record<string, unknown> & { available: boolean; adapter: Record<string, unknown> | null; features: string[]; limits: Record<string, number> };
    reference: { available: boolean; dtype: string };
  };
}

/** Brings up every backend (WebGPU included) and collects what each reports. */
export async function collectInfo(): Promise<InfoJson> {
  const report = await init({ webgpu: true, calibrate: false });
  const wasm = getBackend('wasm').info() as InfoJson['backends']['wasm'];
  let webgpu: InfoJson['backends']['webgpu'];
  if (availableBackends().includes('webgpu')) {
    const i = getBackend('webgpu').info();
    webgpu = { ...i, available: i['available'] !== false, adapter: (i['adapter'] as Record<string, unknown>) ?? null, features: (i['features'] as string[]) ?? [], limits: (i['limits'] as Record<string, number>) ?? {} };
  } else {
    webgpu = { available: false, reason: report.webgpuUnavailable ?? 'not initialised', adapter: null, features: [], limits: {} };
  }
  return { version: VERSION, backends: { wasm, webgpu, reference: { available: true, dtype: 'float64 (the oracle)' } } };
}

export async function infoCommand(opts: { json?: boolean }): Promise<number> {
  const info = await collectInfo();
  process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info));
  return 0;
}

function formatInfo({ version, backends: { wasm, webgpu } }: InfoJson): string {
  const yes = (b: unknown) => (b ? 'yes' : 'no');
  const lines = [`recur ${version}`, ''];
  lines.push(`wasm       available: ${yes(wasm.available)}`);
  lines.push(`           SIMD: ${yes(wasm.simd)}, relaxed SIMD: ${yes(wasm.relaxedSimd)}, module: ${String(wasm['module'] ?? '?')}`);
  lines.push(`webgpu     available: ${yes(webgpu.available)}${webgpu['reason'] ? ` (${String(webgpu['reason'])})` : ''}`);
  if (webgpu.adapter) {
    const a = webgpu.adapter;
    const desc = [a['vendor'], a['architecture'], a['device'], a['description']].filter((x) => x).join(' / ');
    lines.push(`           adapter: ${desc || '(no details)'}${webgpu['runtime'] ? ` via ${String(webgpu['runtime'])}` : ''}`);
    lines.push(`           features: ${webgpu.features.join(', ') || '(none)'}`);
    for (const [k, v] of Object.entries(webgpu.limits)) lines.push(`           ${k}: ${v}`);
  }
  lines.push('reference  available: yes (float64, the oracle)', '');
  return lines.join('\n');
}
