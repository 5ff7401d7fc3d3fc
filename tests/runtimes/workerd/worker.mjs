// The workerd runner: recur/infer's workerd build (wasm imported as compiled modules; workerd forbids compiling
// wasm from bytes) checks the fixture, embedded as data modules, on wasm and answers every request with
// `RESULT <json>`. Modules and their names are listed in config.capnp beside this file.
import * as infer from './infer.js';
import { checkFixture, failure } from './check.mjs';
import weights from './model.safetensors';
import config from './config.json';
import expected from './expected.json';

export default {
  async fetch() {
    let result;
    try {
      // Responses, as a fetched checkpoint would arrive.
      result = await checkFixture(infer, { weights: new Response(weights), config: new Response(config) }, expected, 'wasm');
    } catch (e) {
      result = failure('wasm', e);
    }
    return new Response(`RESULT ${JSON.stringify({ runtime: 'workerd', results: [{ ...result, source: 'Response' }] })}\n`);
  },
};
