// The workerd runner: recur/infer's workerd build (wasm imported as compiled modules; workerd forbids compiling
// wasm from bytes) checks the fixture, embedded as data modules, on wasm and answers every request with
// `RESULT <json>`. It first tries to compile a minimal wasm module from bytes and reports what happened
// (`runtimeCompile`), so the test knows the build ran where run-time compilation is refused, as on Cloudflare.
// Modules and their names are listed in config.capnp beside this file.
import * as infer from './infer.js';
import { checkFixture, failure } from './check.mjs';
import weights from './model.safetensors';
import config from './config.json';
import expected from './expected.json';

/** The 8-byte header of an empty wasm module: valid, so only the embedder's policy can refuse it. */
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

async function runtimeCompile() {
  try {
    await WebAssembly.compile(EMPTY_MODULE);
    return 'allowed';
  } catch (e) {
    return `refused: ${e?.message ?? e}`;
  }
}

export default {
  async fetch() {
    const compile = await runtimeCompile();
    let result;
    try {
      // Responses, as a fetched checkpoint would arrive.
      result = await checkFixture(infer, { weights: new Response(weights), config: new Response(config) }, expected, 'wasm');
    } catch (e) {
      result = failure('wasm', e);
    }
    return new Response(`RESULT ${JSON.stringify({ runtime: 'workerd', runtimeCompile: compile, results: [{ ...result, source: 'Response' }] })}\n`);
  },
};
