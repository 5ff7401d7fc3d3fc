// Checkpoints: bytes round trip (the browser path), config validation, the directory layout on disk,
// clear errors for missing, truncated and mismatched files, and recovery from leftovers of a crashed save.
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { checkpointFromBytes, checkpointToBytes, CONFIG_FILE, WEIGHTS_FILE } from '../../src/io/checkpoint.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint, recoverCheckpoint, saveCheckpoint } from '../../src/node/checkpoint_fs.js';
import { crashTestCheckpoint, verifyCrashTestCheckpoint } from './fixtures/checkpoint_data.js';

const work = mkdtempSync(join(tmpdir(), 'recur-ckpt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('checkpoint bytes', () => {
  it('round-trips weights, optimizer state (under optim.) and the config', () => {
    const input = crashTestCheckpoint(5, 100);
    const bytes = checkpointToBytes(input);
    const names = decodeSafetensors(bytes.weights).tensors.map((t) => t.name);
    expect(names).toEqual(['embed.w', 'head.b', 'optim.m.embed.w', 'optim.t']);
    const back = checkpointFromBytes(bytes);
    expect(verifyCrashTestCheckpoint(back, 100)).toBe(5);
    expect([...back.weights.keys()]).toEqual(['embed.w', 'head.b']);
    expect([...back.optimizerState.keys()]).toEqual(['m.embed.w', 't']);
    expect(back.config).toEqual({ format: 'recur-checkpoint', version: 1, ...input.config });
  });

  it('refuses to write a config JSON cannot hold, or a weight under the optim. prefix', () => {
    const input = crashTestCheckpoint(1, 4);
    expect(() => checkpointToBytes({ ...input, config: { ...input.config, optimizer: { name: 'adamw', step: 1, lr: NaN } } })).toThrow(/lr is NaN/);
    expect(() => checkpointToBytes({ ...input, config: { ...input.config, rng: { s: 2 ** 60 } } })).toThrow(/beyond 2\^53/);
    expect(() => checkpointToBytes({ ...input, config: { ...input.config, step: -1 } })).toThrow(/step -1 is not a non-negative integer/);
    expect(() => checkpointToBytes({ ...input, weights: { 'optim.x': { shape: [], data: Float32Array.of(1) } } })).toThrow(/reserved for optimizer state/);
  });

  it('names the file and the field for a bad config', () => {
    const { weights, config } = checkpointToBytes(crashTestCheckpoint(2, 4));
    const edit = (f: (c: Record<string, unknown>) => void): string => {
      const c = JSON.parse(config);
      f(c);
      return JSON.stringify(c);
    };
    const load = (c: string) => () => checkpointFromBytes({ weights, config: c }, { source: 'run1' });
    expect(load('{"format":')).toThrow(/^run1\/config\.json: not valid JSON/);
    expect(load('[]')).toThrow(/config\.json: is not a JSON object/);
    expect(load(edit((c) => (c.format = 'other')))).toThrow(/format is "other"/);
    expect(load(edit((c) => (c.version = 2)))).toThrow(/version 2 was written by a newer recur/);
    expect(load(edit((c) => delete c.architecture))).toThrow(/architecture is missing/);
    expect(load(edit((c) => ((c.optimizer as Record<string, unknown>).step = 1.5)))).toThrow(/optimizer\.step 1\.5/);
    expect(load(edit((c) => (c.step = 3)))).toThrow(/run1\/model\.safetensors was written at step 2 but run1\/config\.json says step 3/);
    expect(() => checkpointFromBytes({ weights: weights.subarray(0, 50), config }, { source: 'run1' })).toThrow(/^run1\/model\.safetensors: /);
  });
});

describe('checkpoint directories', () => {
  it('saves model.safetensors and config.json, replaces an older one, and loads it back', async () => {
    const dir = join(work, 'a', 'ckpt');
    await saveCheckpoint(dir, crashTestCheckpoint(1, 50));
    await saveCheckpoint(dir, crashTestCheckpoint(2, 50));
    expect(readdirSync(dir).sort()).toEqual([CONFIG_FILE, WEIGHTS_FILE]);
    expect(readdirSync(join(work, 'a'))).toEqual(['ckpt']);
    expect(JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')).step).toBe(2);
    expect(verifyCrashTestCheckpoint(await loadCheckpoint(dir), 50)).toBe(2);
  });

  it('gives clear errors: no checkpoint, a missing file, a truncated file, a file in place of the directory', async () => {
    await expect(loadCheckpoint(join(work, 'nothing'))).rejects.toThrow(/^no checkpoint at .*nothing$/);
    const dir = join(work, 'b');
    await saveCheckpoint(dir, crashTestCheckpoint(1, 50));
    truncateSync(join(dir, WEIGHTS_FILE), 100);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/b\/model\.safetensors: .*(truncated|run past)/);
    rmSync(join(dir, WEIGHTS_FILE));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/b\/model\.safetensors: missing/);
    writeFileSync(join(work, 'plain'), 'x');
    await expect(loadCheckpoint(join(work, 'plain'))).rejects.toThrow(/not a directory/);
    await expect(loadCheckpoint(dir)).rejects.toBeInstanceOf(CheckpointError);
  });

  it('recovers from leftovers: the complete new one if intact, else the previous one', async () => {
    // Simulate a writer (pid 999999, not running) that died after moving the previous checkpoint aside.
    const root = join(work, 'c');
    const dir = join(root, 'ckpt');
    await saveCheckpoint(dir, crashTestCheckpoint(1, 50));
    await saveCheckpoint(join(root, 'new'), crashTestCheckpoint(2, 50));
    renameSync(dir, `${dir}.old-999999`);
    renameSync(join(root, 'new'), `${dir}.tmp-999999`);
    cpSync(`${dir}.old-999999`, join(root, 'old-copy'), { recursive: true });
    cpSync(`${dir}.tmp-999999`, join(root, 'tmp-copy'), { recursive: true });
    expect(await recoverCheckpoint(dir)).toBe('restored-new');
    expect(verifyCrashTestCheckpoint(await loadCheckpoint(dir), 50)).toBe(2);
    // Now with the new one damaged: the previous one comes back.
    rmSync(dir, { recursive: true });
    renameSync(join(root, 'old-copy'), `${dir}.old-999999`);
    renameSync(join(root, 'tmp-copy'), `${dir}.tmp-999999`);
    truncateSync(join(`${dir}.tmp-999999`, WEIGHTS_FILE), 1000);
    expect(verifyCrashTestCheckpoint(await loadCheckpoint(dir), 50)).toBe(1);
    expect(await recoverCheckpoint(dir)).toBe('intact');
    await saveCheckpoint(dir, crashTestCheckpoint(3, 50)); // clears the dead writer's leftovers
    expect(readdirSync(root).sort()).toEqual(['ckpt']);
  });

  it('a failed save (bad config) touches nothing on disk', async () => {
    const dir = join(work, 'd');
    await saveCheckpoint(dir, crashTestCheckpoint(1, 50));
    const bad = crashTestCheckpoint(2, 50);
    bad.config.step = 0.5;
    await expect(saveCheckpoint(dir, bad)).rejects.toThrow(CheckpointError);
    expect(verifyCrashTestCheckpoint(await loadCheckpoint(dir), 50)).toBe(1);
    expect(readdirSync(work).filter((n) => n.startsWith('d.'))).toEqual([]);
  });
});
