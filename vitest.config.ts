// Two projects: node (wasm + WebGPU through Dawn on SwiftShader) and browser (headless Debian Chromium).
import { readFileSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type Plugin } from 'vitest/config';
import { configureVulkanForNode } from './scripts/vulkan-env.mjs';

// Dawn reads VK_ICD_FILENAMES when it starts; worker processes inherit this process's environment.
configureVulkanForNode();

/** Mirrors esbuild's loaders so src/ runs unbundled: .wasm -> Uint8Array, .wgsl -> string. */
function rawAssets(): Plugin {
  return {
    name: 'recur-raw-assets',
    enforce: 'pre',
    load(id) {
      const file = id.split('?')[0]!;
      if (file.endsWith('.wasm')) {
        const b64 = readFileSync(file).toString('base64');
        return `const s = atob(${JSON.stringify(b64)}); const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i); export default b;`;
      }
      if (file.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(file, 'utf8'))};`;
      return null;
    },
  };
}

export default defineConfig({
  plugins: [rawAssets()],
  test: {
    projects: [
      {
        plugins: [rawAssets()],
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/browser/**'],
          environment: 'node',
          pool: 'forks',
          setupFiles: ['tests/helpers/setup-node.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Debian's chromium with WebGPU on SwiftShader (toolchain.md); never `npx playwright install`.
        plugins: [rawAssets()],
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            api: { host: '127.0.0.1' },
            instances: [{ browser: 'chromium' }],
            provider: playwright({
              launchOptions: {
                executablePath: '/usr/bin/chromium',
                args: [
                  '--enable-unsafe-webgpu',
                  '--enable-unsafe-swiftshader',
                  '--use-webgpu-adapter=swiftshader',
                  '--no-sandbox',
                  '--disable-quic',
                  '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update',
                  '--disable-sync',
                  '--disable-default-apps',
                  '--disable-domain-reliability',
                  '--metrics-recording-only',
                ],
              },
            }),
          },
        },
      },
    ],
  },
});
