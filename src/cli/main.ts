// The `recur` command line: parses arguments with commander and runs one command (info, bench, train, sample, eval).
// Usage mistakes print one line to stderr and exit 2; failures print one line and exit 1 (RECUR_DEBUG=1: stack).
import { Command, CommanderError, Option } from 'commander';
import { unregisterBackend, availableBackends } from '../engine.js';
import { OptionError } from '../errors.js';
import { VERSION } from '../version.js';
import { benchCommand, type BenchFlags } from './bench.js';
import { infoCommand } from './info.js';
import { calibrateCommand, type CalibrateFlags } from './calibrate.js';
import { fileCalibrationStore } from '../node/calibration_cache.js';
import { setCalibrationStore } from '../scheduler/calibrate.js';
import { evalCommand, type EvalFlags } from './eval.js';
import { sampleCommand, type SampleFlags } from './sample.js';
import { trainCommand } from './train.js';
import type { TrainFlags } from './train_options.js';

function program(done: (code: number) => void): Command {
  const p = new Command('recur')
    .description('recur: recurrent sequence models on WebAssembly SIMD and WebGPU')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`recur: ${str.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`) });
  p.command('info')
    .description('print the version and every backend with its details')
    .option('--json', 'print machine-readable JSON')
    .action(async (o: { json?: boolean }) => done(await infoCommand(o)));
  p.command('bench')
    .description('run bench suites and print GFLOP/s (or GB/s) side by side')
    .argument('<suite>', "a suite name, several joined with ',', or 'all'")
    .option('--quick', 'fewer cases and samples')
    .option('--smoke', 'tiny sizes, one iteration: only proves the suites run')
    .option('--engine <engine>', "timing engine: 'round-robin' (default; peers sampled in turn) or 'benny'")
    .addOption(new Option('--json <file>', 'also write the rows as JSON to <file>'))
    .action(async (suite: string, o: BenchFlags) => done(await benchCommand(suite, o)));
  p.command('calibrate')
    .description("measure each backend's throughput per op class and the wasm <-> WebGPU transfer costs (cached)")
    .option('--json', 'print machine-readable JSON')
    .option('--force', 'measure again even when the cache matches these backends')
    .action(async (o: CalibrateFlags) => done(await calibrateCommand(o)));
  p.command('train')
    .description('train a language model (default data: the Brown corpus), with checkpoints and a loss plot in --out')
    .option('--model <kind>', 'mingru, minlstm, sru, srupp, gru or lstm (required unless --resume)')
    .option('--data <file>', 'a UTF-8 text file (default: the built-in Brown corpus)')
    .option('--vocab <kind>', "'byte' (default, 256 ids) or 'char' (the text's characters)")
    .option('--steps <n>', 'train until this many steps are done (default 1000)')
    .option('--batch <B>', 'parallel streams (default 16)')
    .option('--seq <T>', 'BPTT segment length (default 128)')
    .option('--dim <D>', 'model width (default 128)')
    .option('--layers <L>', 'stacked layers (default 2)')
    .option('--lr <x>', 'peak learning rate (default 3e-3; warm-up then cosine to lr/10)')
    .option('--warmup <n>', 'warm-up steps (default min(100, steps/10))')
    .option('--clip <x>', 'maximum gradient norm, 0 for none (default 1)')
    .option('--weight-decay <x>', 'decoupled weight decay (default 0.01)')
    .option('--optimizer <name>', "'adamw' (default) or 'radam'")
    .option('--dropout <p>', 'dropout probability in training, in [0, 0.99] (default 0: off)')
    .option('--eval-every <n>', 'validate and save a checkpoint every n steps (default steps/10)')
    .option('--eval-tokens <n>', 'validation tokens per evaluation (default 65536)')
    .option('--log-every <n>', 'without a terminal: a progress line every n steps (default steps/20)')
    .option('--backend <name>', 'auto (default: the scheduler places each op, on WebGPU too where there is one), wasm or webgpu')
    .option('--seed <s>', 'seed of the initialisation and dropout (default 1)')
    .option('--out <dir>', 'run directory: checkpoint/ and loss.svg (default runs/<model>)')
    .option('--sample <n>', 'after training, print a sample of n tokens')
    .option('--until <n>', 'stop (and save) after step n; the schedule still runs to --steps, so --resume continues it')
    .option('--resume', 'continue the run in --out exactly where its checkpoint left off')
    .option('--overwrite', 'start a new run even if --out holds a checkpoint')
    .option('--json', 'make the last stdout line a JSON summary')
    .option('--explain', "at the end, print the scheduler's per-op summary (op, backend, calls, time) to stderr")
    .action(async (o: TrainFlags & ExplainFlag) => done(await explained(o, () => trainCommand(o))));
  p.command('sample')
    .description("generate text from a checkpoint, streaming each token as it is drawn")
    .requiredOption('--checkpoint <dir>', 'a checkpoint directory, or a run directory holding checkpoint/')
    .option('--prompt <text>', 'text to continue (default: a newline)')
    .option('--tokens <n>', 'tokens to generate (default 200)')
    .option('--temperature <x>', 'softmax temperature, 0 for greedy (default 0.8)')
    .option('--top-k <k>', 'sample among the k most likely tokens (default: all)')
    .option('--seed <s>', 'sampling seed (default 0)')
    .option('--backend <name>', 'auto (default: the scheduler places each op, on WebGPU too where there is one), wasm or webgpu')
    .option('--explain', "at the end, print the scheduler's per-op summary (op, backend, calls, time) to stderr")
    .action(async (o: SampleFlags & ExplainFlag) => done(await explained(o, () => sampleCommand(o))));
  p.command('eval')
    .description('bits per character of a checkpoint on a UTF-8 text file')
    .requiredOption('--checkpoint <dir>', 'a checkpoint directory, or a run directory holding checkpoint/')
    .requiredOption('--data <file>', 'a UTF-8 text file')
    .option('--batch <B>', 'parallel streams (default: the training batch)')
    .option('--seq <T>', 'segment length (default: the training seq)')
    .option('--backend <name>', 'auto (default: the scheduler places each op, on WebGPU too where there is one), wasm or webgpu')
    .option('--json', 'print {"bpc", "loss", "tokens"}')
    .action(async (o: EvalFlags) => done(await evalCommand(o)));
  return p;
}

interface ExplainFlag {
  explain?: boolean;
}

/** Runs a command; with --explain, times every op call and prints the per-op summary at the end (stderr). */
async function explained(o: ExplainFlag, run: () => Promise<number>): Promise<number> {
  if (!o.explain) return run();
  const { explain, formatSummary, resetExplain, setTracing } = await import('../scheduler/explain.js');
  setTracing(true);
  resetExplain();
  try {
    return await run();
  } finally {
    const rows = explain().summary;
    process.stderr.write(`\nrecur --explain: per-op summary (host time; GPU work is queued, not waited for)\n${rows.length ? formatSummary(rows) : '(no op calls)'}\n`);
  }
}

/** Runs the CLI on process.argv-style arguments; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  setCalibrationStore(fileCalibrationStore()); // start-up calibrations persist between runs
  try {
    await program((c) => (code = c)).parseAsync([...argv]);
  } catch (e) {
    code = exitCodeFor(e);
  } finally {
    // Release GPU devices so nothing keeps the process alive.
    if (availableBackends().includes('webgpu')) unregisterBackend('webgpu');
  }
  return code;
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed its one-line message (or the help / version, which exit 0).
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof OptionError) {
    process.stderr.write(`recur: ${e.message}\n`);
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`recur: ${err?.message ?? String(e)}\n`);
  if (process.env['RECUR_DEBUG']) process.stderr.write(`${err?.stack ?? ''}\n`);
  return 1;
}
