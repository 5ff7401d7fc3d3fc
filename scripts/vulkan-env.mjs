// Points Dawn at a working Vulkan driver: when no real GPU driver is installed, use the SwiftShader ICD that
// Debian's chromium package ships. Must run in the parent process before Dawn starts (workers copy env).
import { existsSync, readdirSync } from 'node:fs';

export const SWIFTSHADER_ICD_PATHS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

/** True when the system has a Vulkan ICD other than lavapipe (which Dawn rejects). */
function hasRealVulkanDriver() {
  for (const dir of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d']) {
    if (!existsSync(dir)) continue;
    if (readdirSync(dir).some((f) => f.endsWith('.json') && !f.includes('lvp') && !f.includes('swiftshader'))) return true;
  }
  return false;
}

/** Sets VK_ICD_FILENAMES to SwiftShader if no driver is configured; returns the ICD used (or null). */
export function configureVulkanForNode() {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (hasRealVulkanDriver()) return null;
  const icd = SWIFTSHADER_ICD_PATHS.find((p) => existsSync(p));
  if (!icd) return null;
  process.env.VK_ICD_FILENAMES = icd;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  return icd;
}
