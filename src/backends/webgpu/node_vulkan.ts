// Points Dawn (npm `webgpu`) at a working Vulkan driver in Node: SwiftShader from Debian's chromium package
// when no other driver is configured. Mirrors scripts/vulkan-env.mjs; node:fs is reached lazily (no static import).
export const SWIFTSHADER_ICD_PATHS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

interface FsLike {
  existsSync(p: string): boolean;
  readdirSync(p: string): string[];
}

async function loadFs(): Promise<FsLike | null> {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const builtin = proc?.getBuiltinModule?.('node:fs') as FsLike | undefined;
  if (builtin) return builtin;
  try {
    const name = 'node:fs';
    return (await import(/* @vite-ignore */ name)) as FsLike;
  } catch {
    return null;
  }
}

/** True when the system has a Vulkan ICD other than lavapipe (which Dawn rejects) or SwiftShader. */
function hasRealVulkanDriver(fs: FsLike): boolean {
  for (const dir of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d']) {
    if (!fs.existsSync(dir)) continue;
    if (fs.readdirSync(dir).some((f) => f.endsWith('.json') && !f.includes('lvp') && !f.includes('swiftshader'))) return true;
  }
  return false;
}

/**
 * Sets VK_ICD_FILENAMES to SwiftShader when no Vulkan driver is configured and the ICD file exists.
 * Returns the ICD in use (set before, or set now), or null when the system driver is left to Vulkan.
 * Only the main thread's environment reaches Dawn: inside a worker thread this has no effect.
 */
export async function configureVulkanForNode(): Promise<string | null> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!env) return null;
  if (env['VK_ICD_FILENAMES'] || env['VK_DRIVER_FILES']) return env['VK_ICD_FILENAMES'] ?? env['VK_DRIVER_FILES'] ?? null;
  const fs = await loadFs();
  if (!fs || hasRealVulkanDriver(fs)) return null;
  const icd = SWIFTSHADER_ICD_PATHS.find((p) => fs.existsSync(p));
  if (!icd) return null;
  env['VK_ICD_FILENAMES'] = icd;
  env['XDG_RUNTIME_DIR'] ??= '/tmp';
  return icd;
}
