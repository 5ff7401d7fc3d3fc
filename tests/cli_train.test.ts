// `recur train | sample | eval` through the bundled CLI (bin/recur.js -> dist/node/cli.js) on a small temp text:
// the --json summary's keys, the run directory's files, --until + --resume equal a straight run, sampling streams
// the same text for the same seed, eval's JSON; bad options, missing files and a checkpoint of another
// architecture exit non-zero with one line on stderr and no stack trace.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from './helpers/rng.js';

const CLI = 'dist/node/cli.js';
let tmp = '';
let text = '';

function recur(...args: string[]) {
  const r = spawnSync(process.execPath, [resolve('bin/recur.js'), ...args], { encoding: 'utf8', timeout: 300_000, cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object on the last line of stdout. */
function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const SMALL = ['--batch', '2', '--seq', '16', '--dim', '16', '--layers', '1', '--eval-every', '4', '--log-every', '100'];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'recur-cli-train-'));
  const rng = new Rng(3);
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'it', 'was', 'red'];
  const sentences: string[] = [];
  for (let i = 0; i < 300; i++) sentences.push(`${Array.from({ length: 4 + rng.int(0, 6) }, () => words[rng.int(0, words.length)]).join(' ')}.`);
  text = sentences.join('\n');
  writeFileSync(join(tmp, 'text.txt'), text);
  if (!existsSync(CLI)) {
    const b = spawnSync('npm', ['run', 'build'], { encoding: 'utf8', timeout: 600_000 });
    if (b.status !== 0) throw new Error(`npm run build failed (needed for ${CLI}):\n${b.stderr.slice(-2000)}`);
  }
}, 660_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('recur train | sample | eval', () => {
  it('train --json ends with the summary line and leaves a checkpoint and a loss plot', () => {
    const r = recur('train', '--model', 'mingru', '--data', 'text.txt', '--steps', '8', ...SMALL, '--log-every', '4', '--out', 'run', '--json');
    expect(r.code, r.stderr).toBe(0);
    // Without a terminal the progress bar is a line every --log-every steps: step, loss, tokens/s and ETA.
    expect(r.stdout).toMatch(/^step 4\/8 {2}loss \d+\.\d{4} {2}[\d,]+ tok\/s {2}ETA \d+s$/m);
    expect(r.stdout).toMatch(/^step 8\/8 {2}loss \d+\.\d{4} {2}[\d,]+ tok\/s {2}ETA 0s$/m);
    const j = lastJson(r.stdout);
    expect(Object.keys(j).sort()).toEqual(['backend', 'params', 'step', 'tokensPerSec', 'trainLoss', 'valBpc', 'valLoss']);
    expect(j['step']).toBe(8);
    expect(j['backend']).toBe('wasm');
    for (const k of ['trainLoss', 'valLoss', 'valBpc', 'tokensPerSec', 'params']) expect(Number.isFinite(j[k]), k).toBe(true);
    expect(j['tokensPerSec'] as number, 'tokens/s times each step (evaluations every 4 steps excluded)').toBeGreaterThan(0);
    expect(j['valBpc'] as number).toBeCloseTo((j['valLoss'] as number) / Math.LN2, 10);
    expect(r.stdout).toMatch(/step 4\s+validation loss/);
    for (const f of ['checkpoint/model.safetensors', 'checkpoint/config.json', 'loss.svg']) expect(existsSync(join(tmp, 'run', f)), f).toBe(true);
    expect(readFileSync(join(tmp, 'run', 'loss.svg'), 'utf8')).toMatch(/^<svg[^]*<polyline[^]*<\/svg>\s*$/);
    const again = recur('train', '--model', 'mingru', '--data', 'text.txt', '--steps', '8', ...SMALL, '--out', 'run');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint: pass --resume/);
  });

  it('--until then --resume ends exactly where a straight run ends (char vocabulary, dropout from the stored RNG)', () => {
    const args = ['--model', 'mingru', '--data', 'text.txt', '--vocab', 'char', '--steps', '12', '--dropout', '0.1', ...SMALL, '--json'];
    const straight = recur('train', ...args, '--out', 'straight');
    expect(straight.code, straight.stderr).toBe(0);
    const half = recur('train', ...args, '--out', 'split', '--until', '5');
    expect(half.code, half.stderr).toBe(0);
    expect(half.stdout).toMatch(/stopped at step 5 of 12/);
    const rest = recur('train', '--resume', '--out', 'split', '--json', '--eval-every', '4');
    expect(rest.code, rest.stderr).toBe(0);
    const [a, b] = [lastJson(straight.stdout), lastJson(rest.stdout)];
    expect(b['step']).toBe(12);
    expect(b['valLoss']).toBe(a['valLoss']);
    expect(b['valBpc']).toBe(a['valBpc']);
    const weights = (dir: string) => readFileSync(join(tmp, dir, 'checkpoint', 'model.safetensors'));
    expect(weights('split').equals(weights('straight'))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(tmp, 'split', 'checkpoint', 'config.json'), 'utf8'));
    expect(cfg.architecture.options).toEqual({ dropout: 0.1 });
    expect(cfg.training.dropout).toBe(0.1);
    // Dropout is on: the same run without it ends elsewhere.
    const plain = recur('train', ...args.filter((a, i) => a !== '--dropout' && args[i - 1] !== '--dropout'), '--out', 'plain');
    expect(plain.code, plain.stderr).toBe(0);
    expect(lastJson(plain.stdout)['valLoss']).not.toBe(a['valLoss']);
  });

  it('sample streams the prompt and the same text for the same seed', () => {
    const a = recur('sample', '--checkpoint', 'run', '--prompt', 'the cat', '--tokens', '30', '--seed', '4', '--top-k', '5');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.startsWith('the cat')).toBe(true);
    expect(a.stdout.length).toBeGreaterThan('the cat'.length);
    const b = recur('sample', '--checkpoint', join('run', 'checkpoint'), '--prompt', 'the cat', '--tokens', '30', '--seed', '4', '--top-k', '5');
    expect(b.stdout).toBe(a.stdout);
    const greedy = recur('sample', '--checkpoint', 'run', '--tokens', '10', '--temperature', '0');
    expect(greedy.code, greedy.stderr).toBe(0);
  });

  it('eval --json prints bpc, loss and tokens for the whole file', () => {
    const r = recur('eval', '--checkpoint', 'run', '--data', 'text.txt', '--json', '--batch', '1', '--seq', '64');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(Object.keys(j).sort()).toEqual(['bpc', 'loss', 'tokens']);
    expect(j['tokens']).toBe(Buffer.byteLength(text) - 1);
    expect(j['bpc'] as number).toBeCloseTo((j['loss'] as number) / Math.LN2, 10);
    expect(j['bpc'] as number).toBeGreaterThan(0);
  });

  it('a checkpoint whose weights belong to another architecture fails with one line', () => {
    cpSync(join(tmp, 'run'), join(tmp, 'other'), { recursive: true });
    const cfgPath = join(tmp, 'other', 'checkpoint', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.architecture.model = 'minlstm';
    writeFileSync(cfgPath, JSON.stringify(cfg));
    for (const args of [['sample', '--checkpoint', 'other'], ['eval', '--checkpoint', 'other', '--data', 'text.txt'], ['train', '--resume', '--out', 'other']]) {
      const r = recur(...args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/recur: .*other\/checkpoint: weight/);
    }
  });

  it.each([
    [['train', '--model', 'nope'], 2, /--model nope: expected one of mingru, minlstm/],
    [['train', '--model', 'mingru', '--steps', '0'], 2, /--steps 0: expected an integer >= 1/],
    [['train', '--model', 'mingru', '--data', 'missing.txt'], 2, /--data missing.txt: no such file/],
    [['train', '--model', 'mingru', '--data', 'text.txt', '--batch', '64', '--seq', '512', '--out', 'big'], 1, /too few for 64 streams of 512 steps/],
    [['train', '--data', 'text.txt'], 2, /--model is required/],
    [['train', '--resume', '--out', 'nowhere'], 2, /--resume: no checkpoint at/],
    [['train', '--resume', '--out', 'run', '--model', 'minlstm'], 2, /--model minlstm: the checkpoint in .* is a mingru model/],
    [['train', '--resume', '--out', 'run', '--dim', '32'], 2, /--dim 32: the checkpoint in .* was trained with dim 16/],
    [['train', '--model', 'mingru', '--backend', 'cuda'], 2, /--backend cuda: expected one of auto, wasm, webgpu/],
    [['train', '--model', 'mingru', '--dropout', '1'], 2, /--dropout 1: expected a number in \[0, 0.99\]/],
    [['train', '--resume', '--out', 'run', '--dropout', '0.2'], 2, /--dropout 0.2: the checkpoint in .* was trained with dropout 0/],
    [['sample', '--checkpoint', 'nowhere'], 1, /--checkpoint nowhere: no such directory/],
    [['sample', '--checkpoint', 'run', '--temperature', 'hot'], 2, /--temperature hot: expected a number/],
    [['sample', '--checkpoint', 'run', '--top-k', '0'], 2, /--top-k 0: expected an integer >= 1/],
    [['sample'], 2, /required option '--checkpoint <dir>' not specified/],
    [['eval', '--checkpoint', 'run'], 2, /required option '--data <file>' not specified/],
    [['eval', '--checkpoint', 'run', '--data', 'missing.txt'], 1, /missing.txt: no such file/],
  ])('%j exits %i with one line on stderr', (args, code, message) => {
    const r = recur(...(args as string[]));
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
