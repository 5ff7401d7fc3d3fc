// `recur sample --checkpoint DIR [--prompt STR] [--tokens N] [--temperature X] [--top-k K] [--seed S]`: prints the
// prompt, then streams each generated token's text to stdout as it is drawn (bytes joined into whole characters).
import { OptionError } from '../errors.js';
import { generate } from '../train/generate.js';
import { BACKENDS, intOption, loadLanguageModel, numberOption, startBackend, type BackendChoice } from './lm_common.js';

export interface SampleFlags {
  checkpoint: string;
  prompt?: string;
  tokens?: string;
  temperature?: string;
  topK?: string;
  seed?: string;
  backend?: string;
}

export async function sampleCommand(f: SampleFlags): Promise<number> {
  const tokens = intOption('--tokens', f.tokens, 0) ?? 200;
  const temperature = numberOption('--temperature', f.temperature, 0, 100) ?? 0.8;
  const topK = intOption('--top-k', f.topK, 1);
  const seed = intOption('--seed', f.seed, 0, 0xffffffff) ?? 0;
  if (f.backend !== undefined && !BACKENDS.includes(f.backend as BackendChoice)) throw new OptionError(`--backend ${f.backend}: expected one of ${BACKENDS.join(', ')}`);
  const backend = await startBackend((f.backend as BackendChoice | undefined) ?? 'auto');
  const { model, tokenizer } = await loadLanguageModel(f.checkpoint, backend);
  try {
    if (f.prompt === '') throw new OptionError('--prompt: must not be empty (generation continues from at least one token)');
    // Default: a newline, or the first character of a char vocabulary without one.
    const promptText = f.prompt ?? (tokenizer.kind === 'char' && !(tokenizer.toJSON() as { chars: string[] }).chars.includes('\n') ? tokenizer.decode([0]) : '\n');
    const prompt = tokenizer.encode(promptText);
    process.stdout.write(promptText);
    const decoder = new TextDecoder('utf-8');
    await generate(model, {
      prompt, tokens, temperature, topK, seed,
      onToken: (id) => {
        const text = tokenizer.kind === 'byte' ? decoder.decode(Uint8Array.of(id), { stream: true }) : tokenizer.decode([id]);
        if (text) process.stdout.write(text);
      },
    });
    process.stdout.write(`${tokenizer.kind === 'byte' ? decoder.decode() : ''}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
