// WebGPU device bring-up: navigator.gpu where the runtime has it, else the npm `webgpu` package (Dawn) in Node,
// loaded lazily. Reads the adapter's limits and features, watches device loss and uncaptured errors.
import { DeviceLostError, RecurError } from '../../errors.js';
import { configureVulkanForNode } from './node_vulkan.js';

/** Limits requested at the adapter's maximum and reported by `info()`; kernels read them, never assume. */
export const KEY_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;
export type KeyLimit = (typeof KEY_LIMITS)[number];

/** Optional features requested when the adapter has them (recorded in `features`). */
const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface GpuDeviceInfo {
  /** 'navigator.gpu' or 'webgpu (Dawn)'. */
  runtime: string;
  adapter: AdapterSummary;
  /** Features enabled on the device. */
  features: string[];
  limits: Record<KeyLimit, number>;
  fallbackAdapter?: boolean;
  /** The Vulkan ICD Dawn was pointed at in Node (SwiftShader when no driver is installed). */
  vulkanIcd?: string | null;
}

/** RECUR_DEBUG level (0 when unset or where the runtime has no process.env). */
export function debugLevel(): number {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['RECUR_DEBUG'];
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

// Node: one GPU instance (Dawn) shared by the devices made from it, dropped when the last is destroyed.
let nodeGpu: GPU | null = null;
let nodeDevices = 0;
let nodeIcd: string | null = null;

/** A device and what we learned about it; turns loss and uncaptured errors into clear exceptions. */
export class GpuDevice {
  private lostReason: string | null = null;
  private disposed = false;
  private uncaptured: RecurError | null = null;
  private lostListeners: ((reason: string) => void)[] = [];
  /** Resolves with a readable reason when the device is lost (never when disposed on purpose). */
  readonly lost: Promise<string>;

  constructor(readonly device: GPUDevice, readonly info: GpuDeviceInfo, private readonly fromNode: boolean) {
    let resolveLost!: (r: string) => void;
    this.lost = new Promise((r) => (resolveLost = r));
    device.lost.then((li) => {
      if (this.disposed) return;
      this.lostReason = `${li.reason ?? 'unknown'}${li.message ? `: ${li.message}` : ''}`;
      if (debugLevel() >= 1) console.warn(`[recur] WebGPU device lost (${this.lostReason})`);
      resolveLost(this.lostReason);
      for (const l of this.lostListeners) l(this.lostReason);
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      const e = ev.error;
      const kind = e.constructor?.name && e.constructor.name !== 'Object' ? e.constructor.name : 'GPUError';
      const err = new RecurError(`WebGPU ${kind} (uncaptured): ${e.message}`);
      if (debugLevel() >= 1) console.error(`[recur] ${err.message}`);
      this.uncaptured ??= err;
    };
  }

  /** Null while usable; else why not. */
  get lostBecause(): string | null {
    return this.disposed ? 'disposed (WebGpuBackend.dispose() was called)' : this.lostReason;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Throws DeviceLostError naming the reason when the device is lost or disposed. */
  assertAlive(what: string): void {
    const why = this.lostBecause;
    if (why) throw new DeviceLostError(`webgpu: ${what}: the WebGPU device is lost (${why}); re-run init({ webgpu: true }) or use another backend`);
  }

  /** The first uncaptured error since the last call, cleared once taken. */
  takeUncapturedError(): RecurError | null {
    const e = this.uncaptured;
    this.uncaptured = null;
    return e;
  }

  /** Destroys the device on purpose (not reported as a loss) and lets Node exit. */
  destroy(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device.destroy();
    if (this.fromNode && --nodeDevices === 0) nodeGpu = null;
  }
}

function hasNavigatorGpu(): GPU | null {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? null;
}

function isNodeLike(): boolean {
  return !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
}

async function nodeGpuInstance(): Promise<GPU | string> {
  if (nodeGpu) return nodeGpu;
  nodeIcd = await configureVulkanForNode();
  let mod: { create(opts: string[]): GPU; globals: object };
  try {
    const name = 'webgpu'; // optionalDependency: never imported statically, kept out of bundles
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (e) {
    return `the optional 'webgpu' package (Dawn for Node) could not be loaded (${(e as Error).message.split('\n')[0]}); install it with npm i webgpu`;
  }
  Object.assign(globalThis, mod.globals);
  nodeGpu = mod.create([]);
  return nodeGpu;
}

function summarise(adapter: GPUAdapter): AdapterSummary {
  const i = (adapter as { info?: GPUAdapterInfo }).info;
  return { vendor: i?.vendor ?? '', architecture: i?.architecture ?? '', device: i?.device ?? '', description: i?.description ?? '' };
}

/** Finds an adapter and creates a device with the adapter's key limits; a reason string when there is none. */
export async function acquireGpuDevice(): Promise<GpuDevice | { reason: string }> {
  const r = await acquire();
  if ('reason' in r && nodeDevices === 0) nodeGpu = null; // let Node exit when nothing came of it
  return r;
}

async function acquire(): Promise<GpuDevice | { reason: string }> {
  let gpu = hasNavigatorGpu();
  const fromNode = !gpu && isNodeLike();
  if (!gpu && !fromNode) return { reason: 'this runtime has no navigator.gpu (WebGPU is not exposed here)' };
  if (!gpu) {
    const g = await nodeGpuInstance();
    if (typeof g === 'string') return { reason: g };
    gpu = g;
  }
  const where = fromNode ? `webgpu (Dawn)${nodeIcd ? `, VK_ICD_FILENAMES=${nodeIcd}` : ''}` : 'navigator.gpu';
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { reason: `requestAdapter() failed on ${where}: ${(e as Error).message}` };
  }
  if (!adapter) {
    const hint = fromNode && !nodeIcd ? ' (no Vulkan driver configured; install chromium for SwiftShader or set VK_ICD_FILENAMES)' : '';
    return { reason: `no WebGPU adapter from ${where}${hint}` };
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of KEY_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'recur' });
  } catch (e) {
    return { reason: `requestDevice() failed on ${where}: ${(e as Error).message}` };
  }
  const limits = {} as Record<KeyLimit, number>;
  for (const k of KEY_LIMITS) limits[k] = (device.limits as unknown as Record<string, number>)[k] ?? 0;
  const info: GpuDeviceInfo = {
    runtime: fromNode ? 'webgpu (Dawn)' : 'navigator.gpu',
    adapter: summarise(adapter),
    features: [...device.features].map(String).sort(),
    limits,
  };
  const fallback = (adapter as { info?: { isFallbackAdapter?: boolean } }).info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  if (fallback !== undefined) info.fallbackAdapter = fallback;
  if (fromNode) {
    info.vulkanIcd = nodeIcd;
    nodeDevices++;
  }
  return new GpuDevice(device, info, fromNode);
}
