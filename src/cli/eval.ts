// `recur eval --checkpoint DIR --data FILE [--batch B] [--seq T] [--json]`: bits per character of a checkpoint's
// model on a UTF-8 file (all of it, state carried across segments); --json prints {"bpc", "loss", "tokens"}.
import { resolve } from 'node:path';
import { OptionError } from '../errors.js';
import { readTextFile } from '../node/corpus.js';
import { evaluate } from '../train/evaluate.js';
import { BACKENDS, intOption, loadLanguageModel, startBackend, type BackendChoice } from './lm_common.js';

export interface EvalFlags {
  checkpoint: string;
  data: string;
  batch?: string;
  seq?: string;
  json?: boolean;
  backend?: string;
}

export async function evalCommand(f: EvalFlags): Promise<number> {
  const batch = intOption('--batch', f.batch, 1, 4096);
  const seq = intOption('--seq', f.seq, 1, 65536);
  if (f.backend !== undefined && !BACKENDS.includes(f.backend as BackendChoice)) throw new OptionError(`--backend ${f.backend}: expected one of ${BACKENDS.join(', ')}`);
  const text = readTextFile(resolve(f.data));
  const backend = await startBackend((f.backend as BackendChoice | undefined) ?? 'auto');
  const { model, tokenizer, checkpoint } = await loadLanguageModel(f.checkpoint, backend);
  try {
    const ids = tokenizer.encode(text);
    const training = (checkpoint.config['training'] ?? {}) as { batch?: number; seq?: number };
    const r = await evaluate(model, ids, { batchSize: batch ?? training.batch ?? 8, seqLen: seq ?? training.seq ?? 128 });
    process.stdout.write(f.json ? `${JSON.stringify({ bpc: r.bpc, loss: r.loss, tokens: r.tokens })}\n` : `${f.data}: ${r.bpc.toFixed(4)} bits/char (loss ${r.loss.toFixed(4)} nats/char) over ${r.tokens.toLocaleString('en-US')} tokens\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
