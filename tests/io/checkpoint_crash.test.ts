// The crash property of saveCheckpoint: a writer process SIGKILLed at any point of a save (at each stage,
// and from outside in the middle of writing the weights) leaves a complete checkpoint that loads intact.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { loadCheckpoint, saveCheckpoint, type SaveStage } from '../../src/node/checkpoint_fs.js';
import { crashTestCheckpoint, verifyCrashTestCheckpoint } from './fixtures/checkpoint_data.js';

const ELEMENTS = 1 << 21; // an 8 MiB weight tensor, written in 64 KiB chunks by the child
let work = '';
let writer = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'recur-ckpt-crash-'));
  writer = join(work, 'writer.mjs');
  await build({ entryPoints: [join(import.meta.dirname, 'fixtures/checkpoint_writer.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: writer, logLevel: 'error' });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  signal: NodeJS.Signals | null;
  stages: string[];
}

/** Runs the writer; it kills itself at `killAt`, or the parent kills it on first seeing `killOnSeeing`. */
function runWriter(dir: string, step: number, killAt: SaveStage | 'none', killOnSeeing?: SaveStage): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(step), String(ELEMENTS), killAt], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stages: string[] = [];
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      for (const line of s.split('\n').filter(Boolean)) {
        stages.push(line);
        if (line === killOnSeeing) child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`writer exited with ${code}: ${err}`));
      else resolveRun({ signal, stages });
    });
  });
}

const BEFORE_NEW_IS_COMPLETE: SaveStage[] = ['tmp-created', 'weights-partial', 'weights-written', 'config-written', 'tmp-synced'];
const AFTER_NEW_IS_COMPLETE: SaveStage[] = ['previous-moved-aside', 'new-in-place', 'previous-removed'];

describe('checkpoint crash safety', () => {
  it.each([...BEFORE_NEW_IS_COMPLETE, ...AFTER_NEW_IS_COMPLETE])('a writer killed after %s leaves a complete checkpoint', async (stage) => {
    const dir = join(work, `at-${stage}`, 'ckpt');
    await saveCheckpoint(dir, crashTestCheckpoint(1, ELEMENTS));
    const run = await runWriter(dir, 2, stage);
    expect(run.signal).toBe('SIGKILL');
    expect(run.stages.at(-1)).toBe(stage);
    const loaded = await loadCheckpoint(dir);
    const want = BEFORE_NEW_IS_COMPLETE.includes(stage) ? 1 : 2;
    expect(verifyCrashTestCheckpoint(loaded, ELEMENTS)).toBe(want);
    // The next save works and clears the dead writer's leftovers.
    await saveCheckpoint(dir, crashTestCheckpoint(3, ELEMENTS));
    expect(verifyCrashTestCheckpoint(await loadCheckpoint(dir), ELEMENTS)).toBe(3);
    expect(readdirSync(join(work, `at-${stage}`))).toEqual(['ckpt']);
  });

  it('a writer killed from outside in the middle of writing the weights leaves the previous checkpoint', async () => {
    for (let k = 0; k < 3; k++) {
      const dir = join(work, `outside-${k}`, 'ckpt');
      await saveCheckpoint(dir, crashTestCheckpoint(1, ELEMENTS));
      const run = await runWriter(dir, 2, 'none', 'weights-partial');
      const loaded = await loadCheckpoint(dir);
      const step = verifyCrashTestCheckpoint(loaded, ELEMENTS);
      // Where the kill lands is up to the scheduler; whatever it hit, the result is one whole checkpoint.
      if (run.signal === 'SIGKILL' && !run.stages.some((s) => AFTER_NEW_IS_COMPLETE.includes(s as SaveStage))) expect(step).toBe(1);
      else expect([1, 2]).toContain(step);
    }
  });

  it('a first save killed midway leaves no checkpoint, and loading says so clearly', async () => {
    const dir = join(work, 'first', 'ckpt');
    const run = await runWriter(dir, 1, 'weights-partial');
    expect(run.signal).toBe('SIGKILL');
    await expect(loadCheckpoint(dir)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/no checkpoint at .*incomplete saves beside it: ckpt\.tmp-\d+/);
  });
});
