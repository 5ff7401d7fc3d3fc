// recur/infer's loaders on the committed runtime fixture: bytes, Responses, a URL (through a given fetch) and a
// path (Node build) all give the same model; bad sources fail with errors that name the problem.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CheckpointError, OptionError, availableBackends, loadModel, readCheckpoint } from '../../src/infer.js';
import { loadModel as loadModelNode } from '../../src/node/infer.js';
import { getCalibration } from '../../src/scheduler/scheduler.js';
import { explain, resetExplain } from '../../src/scheduler/explain.js';

const DIR = 'tests/runtimes/fixture/checkpoint';
const weights = new Uint8Array(readFileSync(`${DIR}/model.safetensors`));
const config = readFileSync(`${DIR}/config.json`, 'utf8');
const expected = JSON.parse(readFileSync('tests/runtimes/fixture/expected.json', 'utf8')) as { prompt: string; expectedTokens: number[]; seed: number; temperature: number; text: string };

/** A fetch over the fixture directory, as a server would answer. */
const fakeFetch = async (url: string): Promise<Response> => {
  const file = url.split('/').pop()!;
  if (url.startsWith('https://models.test/ckpt/') && (file === 'model.safetensors' || file === 'config.json')) {
    return new Response(file === 'config.json' ? config : weights);
  }
  return new Response('not found', { status: 404, statusText: 'Not Found' });
};

describe('recur/infer loaders', () => {
  it('bytes, Responses, a URL and a path give the same generation', async () => {
    const sources = [
      () => loadModel({ weights, config }),
      () => loadModel({ weights: new Response(weights), config: new Response(config) }),
      () => loadModel('https://models.test/ckpt', { fetch: fakeFetch }),
      () => loadModelNode(DIR),
    ];
    for (const load of sources) {
      const m = await load();
      try {
        let streamed = '';
        const text = await m.generateText(expected.prompt, { tokens: expected.expectedTokens.length, seed: expected.seed, temperature: expected.temperature, onText: (t) => (streamed += t) });
        expect(text).toBe(expected.text);
        expect(streamed).toBe(expected.text);
      } finally {
        m.dispose();
      }
    }
  });

  it("'auto' (the default) is wasm here: WebGPU is not started, nothing is calibrated, every op runs on wasm", async () => {
    for (const backend of [undefined, 'auto'] as const) {
      const m = await loadModel({ weights, config }, backend ? { backend } : {});
      try {
        resetExplain();
        expect(m.backend).toBe('wasm');
        await m.generate({ prompt: [1, 2, 3], tokens: 4, seed: 1 });
        expect(availableBackends()).not.toContain('webgpu');
        expect(getCalibration()).toBeNull();
        const rows = explain().summary;
        expect(rows.length).toBeGreaterThan(0);
        expect(new Set(rows.map((r) => r.backend))).toEqual(new Set(['wasm']));
      } finally {
        m.dispose();
      }
    }
  });

  it('bad sources fail with errors that name them', async () => {
    await expect(readCheckpoint('some/dir')).rejects.toThrow(OptionError);
    await expect(readCheckpoint('some/dir')).rejects.toThrow(/not a URL/);
    await expect(readCheckpoint('https://models.test/missing', { fetch: fakeFetch })).rejects.toThrow(/missing\/model\.safetensors: HTTP 404 Not Found/);
    const offline = async (): Promise<Response> => {
      throw new TypeError('network down');
    };
    await expect(readCheckpoint('https://models.test/ckpt/', { fetch: offline })).rejects.toThrow('https://models.test/ckpt/model.safetensors: fetch failed (network down)');
    await expect(readCheckpoint({ weights, config: Uint8Array.of(0xff, 0xfe) })).rejects.toThrow(/config\.json: not valid UTF-8/);
    await expect(readCheckpoint({ weights: 'abc' as unknown as Uint8Array, config })).rejects.toThrow(/expected a Uint8Array, ArrayBuffer or Response/);
    await expect(readCheckpoint({ weights: weights.subarray(0, 100), config })).rejects.toThrow(CheckpointError);
    await expect(loadModel({ weights, config }, { backend: 'gpu' as 'wasm' })).rejects.toThrow(/backend 'gpu': expected 'auto', 'wasm' or 'webgpu'/);
    await expect(loadModelNode('tests/runtimes/fixture/no-such-checkpoint')).rejects.toThrow(/no checkpoint at .*no-such-checkpoint/);
  });

  it('logits: one row of V per token; a token outside the vocabulary is refused', async () => {
    const m = await loadModel({ weights, config });
    try {
      const V = m.config.vocabSize;
      expect((await m.logits([1, 2, 3])).length).toBe(3 * V);
      await expect(m.logits([1, V])).rejects.toThrow(`logits: token ${V} at position 1 is outside the vocabulary [0, ${V})`);
    } finally {
      m.dispose();
    }
  });
});
