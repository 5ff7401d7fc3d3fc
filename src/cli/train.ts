// `recur train`: trains a language model on a UTF-8 file (default: the Brown corpus) with a progress bar (TTY) or
// plain progress lines, periodic validation BPC, atomic checkpoints and a loss-curve SVG in --out; --resume
// continues exactly. With --json the last stdout line is {step, trainLoss, valLoss, valBpc, tokensPerSec, backend, params}.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { splitByPosition } from '../data/split.js';
import { byteTokenizer, charTokenizerFromText, tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import { OptionError } from '../errors.js';
import { countParams, createLanguageModel } from '../models/lm.js';
import type { LanguageModel } from '../models/types.js';
import { loadCheckpoint, saveCheckpoint } from '../node/checkpoint_fs.js';
import { loadBrownCorpus, readTextFile } from '../node/corpus.js';
import { AdamW } from '../optim/adamw.js';
import type { MomentOptimizer } from '../optim/optimizer.js';
import { RAdam } from '../optim/radam.js';
import { warmupCosine } from '../optim/schedule.js';
import { generate } from '../train/generate.js';
import { lmCheckpoint, loadWeights, modelConfigOf, optimizerStateOf, trainerSnapshotOf } from '../train/lm_checkpoint.js';
import { Trainer, type TrainerSnapshot } from '../train/trainer.js';
import { writeFileAtomic } from './bench.js';
import { startBackend } from './lm_common.js';
import { lossPlotSvg, type CurvePoint } from './loss_plot.js';
import { TrainProgress } from './train_progress.js';
import { freshSettings, resumedSettings, runFlags, settingsFromFlags, type TrainFlags, type TrainSettings } from './train_options.js';

interface Curve {
  every: number;
  train: [number, number][];
  validation: [number, number][];
}

interface Run {
  settings: TrainSettings;
  tokenizer: Tokenizer;
  ids: Int32Array;
  model: LanguageModel;
  optimizer: MomentOptimizer;
  resume?: TrainerSnapshot;
  curve: Curve;
}

/** The stored loss curve, or a new one averaging blocks of steps so that a run keeps about 500 points. */
function curveOf(stored: unknown, steps: number): Curve {
  const c = stored as Partial<Curve> | undefined;
  if (c && Number.isSafeInteger(c.every) && Array.isArray(c.train) && Array.isArray(c.validation)) return c as Curve;
  return { every: Math.max(1, Math.ceil(steps / 500)), train: [], validation: [] };
}

function makeOptimizer(model: LanguageModel, s: TrainSettings): MomentOptimizer {
  const lr = warmupCosine({ peakLr: s.lr, warmupSteps: s.warmup, totalSteps: s.steps, minLr: s.minLr });
  return s.optimizer === 'radam' ? new RAdam(model.params(), { lr, weightDecay: s.weightDecay }) : new AdamW(model.params(), { lr, weightDecay: s.weightDecay });
}

function readData(s: TrainSettings): string {
  return s.data === 'brown' ? loadBrownCorpus() : readTextFile(s.data);
}

/** Builds a fresh run, or restores one from the checkpoint in `ckptDir`. */
async function setUp(flags: TrainFlags, ckptDir: string, backend: 'wasm' | 'webgpu'): Promise<Run> {
  const given = settingsFromFlags(flags, (p) => resolve(p));
  if (given.data !== undefined && given.data !== 'brown' && !existsSync(given.data)) throw new OptionError(`--data ${flags.data}: no such file`);
  if (flags.resume) {
    if (!existsSync(ckptDir)) throw new OptionError(`--resume: no checkpoint at ${ckptDir} (train without --resume first, or give the run's --out)`);
    const ckpt = await loadCheckpoint(ckptDir);
    const stored = ckpt.config['training'] as TrainSettings | undefined;
    if (!stored || typeof stored !== 'object') throw new OptionError(`--resume: ${ckptDir} was not written by recur train (config.json has no "training")`);
    const arch = modelConfigOf(ckpt, ckptDir);
    if (given.model && given.model !== arch.model) throw new OptionError(`--model ${given.model}: the checkpoint in ${ckptDir} is a ${arch.model} model`);
    const settings = resumedSettings(stored, given, ckptDir);
    const tokenizer = tokenizerFromJSON(ckpt.config.vocabulary);
    const ids = tokenizer.encode(readData(settings));
    const model = createLanguageModel(arch, { seed: settings.seed, backend });
    try {
      loadWeights(model, ckpt, ckptDir);
      const optimizer = makeOptimizer(model, settings);
      optimizer.loadState(optimizerStateOf(ckpt));
      return { settings, tokenizer, ids, model, optimizer, resume: trainerSnapshotOf(ckpt), curve: curveOf(ckpt.config['curve'], settings.steps) };
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  const settings = freshSettings(given);
  if (existsSync(ckptDir) && !flags.overwrite) {
    throw new OptionError(`${ckptDir} already holds a checkpoint: pass --resume to continue it, --overwrite to start again, or another --out`);
  }
  const text = readData(settings);
  const tokenizer = settings.vocab === 'char' ? charTokenizerFromText(text) : byteTokenizer();
  const ids = tokenizer.encode(text);
  const options = settings.dropout > 0 ? { options: { dropout: settings.dropout } } : {};
  const config = { model: settings.model, vocabSize: tokenizer.vocabSize, dim: settings.dim, layers: settings.layers, ...options };
  const model = createLanguageModel(config, { seed: settings.seed, backend });
  return { settings, tokenizer, ids, model, optimizer: makeOptimizer(model, settings), curve: curveOf(undefined, settings.steps) };
}

export async function trainCommand(flags: TrainFlags): Promise<number> {
  if (flags.model !== undefined) settingsFromFlags({ model: flags.model }, (p) => p); // fail fast on a bad --model
  const backend = await startBackend(runFlags(flags, 1).backend);
  const modelName = flags.model ?? 'mingru';
  const outDir = resolve(flags.out ?? join('runs', modelName));
  const ckptDir = join(outDir, 'checkpoint');
  const run = await setUp(flags, ckptDir, backend === 'webgpu' ? 'webgpu' : 'wasm');
  const { settings: s, model, optimizer } = run;
  const rf = runFlags(flags, s.steps);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let trainer: Trainer | null = null;
  try {
    const { train, validation } = splitByPosition(run.ids, s.validationFraction);
    trainer = new Trainer({ model, optimizer, clip: s.clip, data: { train, validation }, batchSize: s.batch, seqLen: s.seq, seed: s.seed, resume: run.resume });
    const params = countParams(model);
    const source = s.data === 'brown' ? 'the Brown corpus' : s.data;
    out(`${flags.resume ? 'resuming' : 'training'} ${s.model} (${params.toLocaleString('en-US')} parameters, dim ${s.dim}, ${s.layers} layer${s.layers === 1 ? '' : 's'}) on ${source}: ${train.length.toLocaleString('en-US')} training / ${validation.length.toLocaleString('en-US')} validation tokens (${run.tokenizer.kind}-level, vocabulary ${run.tokenizer.vocabSize}); batch ${s.batch} x seq ${s.seq}, ${backend}`);
    mkdirSync(outDir, { recursive: true });
    const save = async (t: Trainer) => {
      const ckpt = await lmCheckpoint({
        model, optimizer, tokenizer: run.tokenizer.toJSON(), trainer: await t.snapshot(),
        optimizerConfig: { lr: s.lr, minLr: s.minLr, warmup: s.warmup, weightDecay: s.weightDecay, clip: s.clip },
        extra: { training: s, curve: run.curve },
      });
      await saveCheckpoint(ckptDir, ckpt);
      const pts = (xs: [number, number][]): CurvePoint[] => xs.map(([step, value]) => ({ step, value }));
      writeFileAtomic(join(outDir, 'loss.svg'), lossPlotSvg({ title: `${s.model} on ${s.data === 'brown' ? 'Brown' : s.data.split('/').pop()}: loss`, train: pts(run.curve.train), validation: pts(run.curve.validation) }));
    };
    let stop = false;
    const onSigint = () => void (stop = true);
    process.once('SIGINT', onSigint);
    const progress = new TrainProgress(s.steps, rf.logEvery, out);
    const recent: number[] = [];
    let block: number[] = [];
    let last = { loss: NaN, bpc: NaN };
    const evaluateNow = async (t: Trainer, maxTokens?: number) => {
      const e = await t.evaluate({ maxTokens });
      run.curve.validation.push([t.step, e.loss]);
      last = { loss: e.loss, bpc: e.bpc };
      progress.validation(t.step, e.loss, e.bpc);
      return e;
    };
    try {
      while (trainer.step < rf.until && !stop) {
        const t0 = performance.now();
        const info = await trainer.trainStep();
        const ms = performance.now() - t0;
        recent.push(info.loss);
        if (recent.length > 20) recent.shift();
        block.push(info.loss);
        if (block.length === run.curve.every || info.step === s.steps) {
          run.curve.train.push([info.step, block.reduce((a, x) => a + x, 0) / block.length]);
          block = [];
        }
        progress.step(info.step, info.loss, info.tokens, ms);
        if (rf.evalEvery > 0 && info.step % rf.evalEvery === 0 && info.step < rf.until) {
          await evaluateNow(trainer, rf.evalTokens);
          await save(trainer);
        }
      }
    } finally {
      progress.stop();
      process.removeListener('SIGINT', onSigint);
    }
    if (stop) {
      await save(trainer);
      process.stderr.write(`recur: interrupted at step ${trainer.step}; checkpoint saved in ${ckptDir} (continue with --resume --out ${outDir})\n`);
      return 130;
    }
    const final = await evaluateNow(trainer, rf.evalTokens);
    await save(trainer);
    if (trainer.step < s.steps) out(`stopped at step ${trainer.step} of ${s.steps} (--until); continue with --resume --out ${outDir}`);
    out(`step ${trainer.step}: validation loss ${final.loss.toFixed(4)} nats/char, ${final.bpc.toFixed(4)} bits/char over ${final.tokens.toLocaleString('en-US')} tokens; checkpoint ${ckptDir}, loss curve ${join(outDir, 'loss.svg')}`);
    if (rf.sample > 0) {
      let prompt: Int32Array = Int32Array.of(0);
      try {
        prompt = run.tokenizer.encode('\n');
      } catch {
        // A char vocabulary without a newline: start from its first character.
      }
      const ids = await generate(model, { prompt, tokens: rf.sample, temperature: 0.8, topK: 20, seed: s.seed });
      out(`sample (${rf.sample} tokens, temperature 0.8, top-k 20):\n${run.tokenizer.decode(ids)}\n`);
    }
    if (rf.json) {
      const trainLoss = recent.length ? recent.reduce((a, x) => a + x, 0) / recent.length : null;
      out(JSON.stringify({ step: trainer.step, trainLoss, valLoss: last.loss, valBpc: last.bpc, tokensPerSec: progress.tokensPerSec(), backend, params }));
    }
    return 0;
  } finally {
    trainer?.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
