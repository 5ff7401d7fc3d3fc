// The runtime fixture check (tests/runtimes/check.mjs) in headless Chromium on the browser build of recur/infer
// (dist/browser/infer.js, one wasm module inlined): the checkpoint is fetched by URL on wasm and from Responses on
// WebGPU (SwiftShader). Tokens must equal Node's on wasm; logits agree within check.mjs's TOLERANCE.
import { expect, it } from 'vitest';
import { checkFixture, type FixtureExpected } from '../runtimes/check.mjs';

const FIXTURE = '/tests/runtimes/fixture/';

async function build(): Promise<unknown> {
  return import(/* @vite-ignore */ `${location.origin}/dist/browser/infer.js`);
}

it('recur/infer (browser build) in Chromium: wasm from a URL, WebGPU from Responses', async () => {
  const infer = await build();
  const expected = (await (await fetch(`${FIXTURE}expected.json`)).json()) as FixtureExpected;
  const ckpt = new URL(`${FIXTURE}checkpoint/`, location.href);
  const wasm = await checkFixture(infer, ckpt, expected, 'wasm');
  expect(wasm, JSON.stringify(wasm)).toMatchObject({ ok: true, tokensEqual: true, logitsAgree: true });
  const responses = { weights: await fetch(new URL('model.safetensors', ckpt)), config: await fetch(new URL('config.json', ckpt)) };
  const gpu = await checkFixture(infer, responses, expected, 'webgpu');
  expect(gpu, JSON.stringify(gpu)).toMatchObject({ ok: true, tokensEqual: true, logitsAgree: true });
}, 120_000);
