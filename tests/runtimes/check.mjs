// The runtime-neutral fixture check, run inside every runtime (Node, Deno, Bun, workerd, Chromium): load the
// checkpoint through recur/infer, generate the fixture's 64 tokens with its seed, and compare the logits of one
// forward over prompt + expected tokens with the rows Node computed on wasm (scripts/make-fixture.ts).

/** float32 agreement across backends and runtimes: |a - b| <= ABS + REL * |b|, stated once for every runtime. */
export const TOLERANCE = { abs: 1e-4, rel: 1e-4 };

/**
 * @param infer the recur/infer module of the runtime under test
 * @param source what loadModel takes (bytes, Responses, a URL, or a path)
 * @param expected tests/runtimes/fixture/expected.json
 * @param backend 'wasm' or 'webgpu'
 */
export async function checkFixture(infer, source, expected, backend) {
  const m = await infer.loadModel(source, { backend });
  try {
    const tokens = await m.generate({ prompt: expected.promptIds, tokens: expected.tokens, seed: expected.seed, temperature: expected.temperature });
    const seq = [...expected.promptIds, ...expected.expectedTokens];
    const logits = await m.logits(seq);
    const V = m.config.vocabSize;
    let maxAbsDiff = 0;
    let worstRatio = 0;
    expected.logitRows.forEach((t, r) => {
      for (let v = 0; v < V; v++) {
        const want = expected.logits[r][v];
        const d = Math.abs(logits[t * V + v] - want);
        maxAbsDiff = Math.max(maxAbsDiff, d);
        worstRatio = Math.max(worstRatio, d / (TOLERANCE.abs + TOLERANCE.rel * Math.abs(want)));
      }
    });
    const tokensEqual = tokens.length === expected.expectedTokens.length && tokens.every((id, i) => id === expected.expectedTokens[i]);
    const logitsAgree = !(worstRatio > 1) && Number.isFinite(maxAbsDiff);
    return { backend: m.backend, ok: tokensEqual && logitsAgree, tokensEqual, logitsAgree, maxAbsDiff, text: m.tokenizer.decode(tokens) };
  } finally {
    m.dispose();
  }
}

/** A failure as a result row, so a runner always reports every backend it tried. */
export const failure = (backend, e) => ({ backend, ok: false, error: `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}` });
