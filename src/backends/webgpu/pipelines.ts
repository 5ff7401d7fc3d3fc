// Compute pipeline cache keyed by shader source hash + entry point + override constants (layout 'auto').
// Validation errors are captured with error scopes and reported with the entry name and compiler messages.
import { RecurError } from '../../errors.js';
import { debugLevel } from './device.js';
import { expandIncludes } from './preprocess.js';

/** FNV-1a (32-bit) of a string, as 8 hex digits: names a shader in keys, labels and messages. */
export function hashSource(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

interface ShaderEntry {
  hash: string;
  module: GPUShaderModule;
}

export interface PipelineStats {
  hits: number;
  misses: number;
  pipelines: number;
  shaders: number;
}

function fmtOverrides(o: Record<string, number> | undefined): string {
  if (!o) return '';
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${o[k]}`)
    .join(',');
}

function numbered(src: string): string {
  return src
    .split('\n')
    .map((l, i) => `${String(i + 1).padStart(4)}  ${l}`)
    .join('\n');
}

export class PipelineCache {
  /** Source text -> module (the Map hashes the string; the FNV hash names it). */
  private shaders = new Map<string, ShaderEntry>();
  private pipelines = new Map<string, GPUComputePipeline>();
  /** Pipelines being created asynchronously (prepare()), by key. */
  private preparing = new Map<string, Promise<void>>();
  private checks: Promise<void>[] = [];
  private firstError: RecurError | null = null;
  hits = 0;
  misses = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline for an entry point of a shader with these override constants (created on first use). */
  get(source: string, entry: string, overrides?: Record<string, number>): GPUComputePipeline {
    const key = `${this.hashOf(source)}:${entry}:${fmtOverrides(overrides)}`;
    const hit = this.pipelines.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    if (debugLevel() >= 4) console.log(`[recur] webgpu pipeline ${key}`);
    const known = this.shaders.get(source);
    const code = known ? '' : expandIncludes(source); // throws on an unknown library before the error scope opens
    this.device.pushErrorScope('validation');
    const shader = known ?? this.compile(source, code);
    const pipeline = this.device.createComputePipeline({
      label: `${entry}@${shader.hash}`,
      layout: 'auto',
      compute: { module: shader.module, entryPoint: entry, ...(overrides ? { constants: overrides } : {}) },
    });
    this.pipelines.set(key, pipeline);
    const what = `pipeline '${entry}' (shader ${shader.hash}${overrides ? `, overrides ${fmtOverrides(overrides)}` : ''})`;
    this.checks.push(
      this.device.popErrorScope().then(async (err) => {
        if (!err) return;
        this.pipelines.delete(key);
        this.shaders.delete(source); // compile again next time (the error may have been the pipeline's)
        const detail = await compilerMessages(shader.module);
        this.firstError ??= new RecurError(`webgpu: ${what} failed validation: ${err.message}${detail}`);
      }, () => {}), // rejects only when the device is lost, which the backend reports itself
    );
    return pipeline;
  }

  /**
   * Creates the pipeline without blocking: Dawn compiles it on a worker thread (createComputePipeline blocks the
   * caller, ~1.5 s for the matmul shader on SwiftShader). Resolves once it is in the cache; a later get() of the
   * same key is then a hit. Failures are reported as get()'s are (takeError()).
   */
  prepare(source: string, entry: string, overrides?: Record<string, number>): Promise<void> {
    const key = `${this.hashOf(source)}:${entry}:${fmtOverrides(overrides)}`;
    if (this.pipelines.has(key)) return Promise.resolve();
    let p = this.preparing.get(key);
    if (p) return p;
    const known = this.shaders.get(source);
    const code = known ? '' : expandIncludes(source);
    this.device.pushErrorScope('validation');
    const shader = known ?? this.compile(source, code);
    const moduleOk = this.device.popErrorScope();
    p = this.device
      .createComputePipelineAsync({
        label: `${entry}@${shader.hash}`,
        layout: 'auto',
        compute: { module: shader.module, entryPoint: entry, ...(overrides ? { constants: overrides } : {}) },
      })
      .then(
        (pipeline) => {
          if (!this.pipelines.has(key)) this.pipelines.set(key, pipeline);
        },
        async (e: unknown) => {
          const err = await moduleOk.catch(() => null);
          if ((e as { reason?: string })?.reason !== 'validation' && !err) return; // device loss, internal: the backend reports those
          this.shaders.delete(source); // compile again next time
          const detail = await compilerMessages(shader.module);
          this.firstError ??= new RecurError(`webgpu: pipeline '${entry}' (shader ${shader.hash}) failed validation: ${(err ?? (e as Error)).message}${detail}`);
        },
      )
      .finally(() => this.preparing.delete(key));
    this.preparing.set(key, p);
    return p;
  }

  /** Pipelines still being created by prepare(). */
  get preparingCount(): number {
    return this.preparing.size;
  }

  /** Resolves when no prepare() is in flight. */
  async idle(): Promise<void> {
    while (this.preparing.size) await Promise.all([...this.preparing.values()]);
  }

  private hashOf(source: string): string {
    return this.shaders.get(source)?.hash ?? hashSource(source);
  }

  /**
   * Compiles `code` (the source with its `//!include` lines expanded; compiler line numbers refer to it, and
   * RECUR_DEBUG=4 prints it) and caches the module under `source`. Call inside the caller's error scope.
   */
  private compile(source: string, code: string): ShaderEntry {
    const hash = hashSource(source);
    if (debugLevel() >= 4) console.log(`[recur] webgpu shader ${hash}:\n${numbered(code)}`);
    const module = this.device.createShaderModule({ code, label: `shader ${hash}` });
    const entry = { hash, module };
    this.shaders.set(source, entry);
    return entry;
  }

  /** Waits for pending validation of new pipelines (failures are then available from takeError()). */
  async settle(): Promise<void> {
    while (this.checks.length) await Promise.all(this.checks.splice(0));
  }

  /** The first pipeline failure seen since the last call, cleared once taken. */
  takeError(): RecurError | null {
    const e = this.firstError;
    this.firstError = null;
    return e;
  }

  stats(): PipelineStats {
    return { hits: this.hits, misses: this.misses, pipelines: this.pipelines.size, shaders: this.shaders.size };
  }
}

/** The compiler's errors and warnings with line:column, or '' where the runtime gives none. */
async function compilerMessages(module: GPUShaderModule): Promise<string> {
  try {
    const info = await module.getCompilationInfo();
    const msgs = info.messages.map((m) => `\n  ${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`);
    return msgs.join('');
  } catch {
    return '';
  }
}
