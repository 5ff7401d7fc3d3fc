// Makes docs/demo.png, the README's picture of the demo: trains a small minGRU on the built-in corpus on wasm in
// headless Debian Chromium (playwright-core), generates text and screenshots the page. Takes about 1-2 minutes.
// Run: node scripts/demo-screenshot.mjs [out.png] (builds the demo first when dist/demo is missing).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildDemo, DEMO_OUT } from './build-demo.mjs';
import { serveDemo } from './serve-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'docs', 'demo.png'));
const SETTINGS = 'model=mingru&backend=wasm&dim=128&layers=2&batch=16&seq=64&steps=1000&lr=0.006&tokens=240&prompt=The%20&temperature=0.7';
const ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!existsSync(join(DEMO_OUT, 'index.html'))) await buildDemo();
const { server, url } = await serveDemo({ port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${url}?${SETTINGS}`);
  const wait = async (cond, timeout) => {
    await page.waitForFunction(`(() => { const d = globalThis.recurDemo; return d && (d.errors.length > 0 || (${cond})); })()`, null, { timeout });
    const errors = await page.evaluate(() => globalThis.recurDemo.errors);
    if (errors.length) throw new Error(`demo page: ${errors.join('; ')}`);
  };
  await wait('d.ready', 60_000);
  await page.click('#train');
  await wait('d.trained !== null', 600_000);
  await page.click('#generate');
  await wait('!d.generating && d.generated.length > 0', 120_000);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  server.close();
}
