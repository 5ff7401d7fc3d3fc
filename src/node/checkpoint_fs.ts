// Node only: checkpoints on disk, written atomically. Both files go to `<dir>.tmp-<pid>` (fsynced), the
// previous checkpoint is renamed to `<dir>.old-<pid>`, the new one renamed to `<dir>`, then the old removed.
// A crash at any point leaves `<dir>` complete, or lets loadCheckpoint() put the newest complete one back.
import { open, readdir, readFile, rename, rm, stat, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../errors.js';
import {
  CONFIG_FILE, WEIGHTS_FILE, checkpointFromBytes, checkpointToBytes,
  type Checkpoint, type CheckpointInput, type FromBytesOptions,
} from '../io/checkpoint.js';

/** Points in a save, in order; `onStage` is called after each (tests kill the writer there). */
export type SaveStage =
  | 'tmp-created' | 'weights-partial' | 'weights-written' | 'config-written' | 'tmp-synced'
  | 'previous-moved-aside' | 'new-in-place' | 'previous-removed';

export interface SaveOptions {
  onStage?: (stage: SaveStage) => void;
  /** Bytes per write call for the weights (default 8 MiB). */
  chunkBytes?: number;
}

const exists = async (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncPath(p: string): Promise<void> {
  let h;
  try {
    h = await open(p, 'r');
    await h.sync();
  } catch {
    // Directories cannot be opened or fsynced on some platforms (Windows); the rename is still atomic.
  } finally {
    await h?.close();
  }
}

async function writeSynced(path: string, bytes: Uint8Array, chunk: number, onChunk?: () => void): Promise<void> {
  const h = await open(path, 'wx');
  try {
    let at = 0;
    do {
      const { bytesWritten } = await h.write(bytes, at, Math.min(chunk, bytes.length - at), at);
      if (at === 0) onChunk?.();
      at += bytesWritten;
    } while (at < bytes.length);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Leftovers beside `dir`: `<name>.tmp-<pid>` and `<name>.old-<pid>`. */
async function leftovers(dir: string): Promise<{ path: string; kind: 'tmp' | 'old'; pid: number }[]> {
  const prefix = `${basename(dir)}.`;
  const names = await readdir(dirname(dir)).catch(() => [] as string[]);
  const out = [];
  for (const n of names) {
    const m = /^(tmp|old)-(\d+)$/.exec(n.slice(prefix.length));
    if (n.startsWith(prefix) && m) out.push({ path: join(dirname(dir), n), kind: m[1] as 'tmp' | 'old', pid: Number(m[2]) });
  }
  return out;
}

async function loadsCompletely(path: string): Promise<boolean> {
  try {
    await readCheckpointDir(path, {});
    return true;
  } catch {
    return false;
  }
}

export type RecoveryResult = 'intact' | 'restored-new' | 'restored-previous' | 'missing';

/**
 * If a crashed save left no `<dir>`, puts the newest complete checkpoint back: the crashed writer's new one
 * when both its files are complete, else the previous one it had moved aside. Changes nothing when `<dir>` exists.
 */
export async function recoverCheckpoint(dirPath: string): Promise<RecoveryResult> {
  const dir = resolve(dirPath);
  if (await exists(dir)) return 'intact';
  const found = (await leftovers(dir)).filter((l) => !pidAlive(l.pid));
  for (const old of found.filter((l) => l.kind === 'old')) {
    const tmp = found.find((l) => l.kind === 'tmp' && l.pid === old.pid);
    if (tmp && (await loadsCompletely(tmp.path))) {
      await rename(tmp.path, dir);
      await rm(old.path, { recursive: true, force: true });
      return 'restored-new';
    }
    await rename(old.path, dir);
    return 'restored-previous';
  }
  for (const tmp of found.filter((l) => l.kind === 'tmp')) {
    if (await loadsCompletely(tmp.path)) {
      await rename(tmp.path, dir);
      return 'restored-new';
    }
  }
  return 'missing';
}

/** Writes a checkpoint directory atomically (see the file header); replaces an existing one. */
export async function saveCheckpoint(dirPath: string, ckpt: CheckpointInput, opts: SaveOptions = {}): Promise<void> {
  const dir = resolve(dirPath);
  const stage = opts.onStage ?? (() => {});
  const bytes = checkpointToBytes(ckpt); // validates before anything touches the disk
  await mkdir(dirname(dir), { recursive: true });
  await recoverCheckpoint(dir);
  for (const l of await leftovers(dir)) if (!pidAlive(l.pid) || l.pid === process.pid) await rm(l.path, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  let movedAside = false;
  try {
    await mkdir(tmp);
    stage('tmp-created');
    await writeSynced(join(tmp, WEIGHTS_FILE), bytes.weights, opts.chunkBytes ?? 8 << 20, () => stage('weights-partial'));
    stage('weights-written');
    await writeSynced(join(tmp, CONFIG_FILE), new TextEncoder().encode(bytes.config), 1 << 20);
    stage('config-written');
    await fsyncPath(tmp);
    stage('tmp-synced');
    if (await exists(dir)) {
      await rename(dir, old);
      movedAside = true;
      stage('previous-moved-aside');
    }
    await rename(tmp, dir);
    await fsyncPath(dirname(dir));
    stage('new-in-place');
  } catch (e) {
    if (movedAside && !(await exists(dir))) await rename(old, dir).catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`saving checkpoint ${dir} failed (the previous one, if any, is unchanged): ${(e as Error).message}`);
  }
  if (movedAside) await rm(old, { recursive: true, force: true });
  stage('previous-removed');
}

async function readCheckpointDir(dir: string, opts: FromBytesOptions): Promise<Checkpoint> {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, file));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CheckpointError(`${join(dir, file)}: missing (a checkpoint directory holds ${WEIGHTS_FILE} and ${CONFIG_FILE})`);
      throw new CheckpointError(`${join(dir, file)}: cannot be read (${(e as Error).message})`);
    }
  };
  const weights = await read(WEIGHTS_FILE);
  const config = await read(CONFIG_FILE);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(config);
  } catch {
    throw new CheckpointError(`${join(dir, CONFIG_FILE)}: not valid UTF-8`);
  }
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  return checkpointFromBytes({ weights: bytes, config: text }, { ...opts, source: dir });
}

/** Reads a checkpoint directory, first recovering from a crashed save if one left no `<dir>`. */
export async function loadCheckpoint(dirPath: string, opts: Omit<FromBytesOptions, 'source'> = {}): Promise<Checkpoint> {
  const dir = resolve(dirPath);
  if ((await recoverCheckpoint(dir)) === 'missing') {
    const left = (await leftovers(dir)).map((l) => basename(l.path));
    throw new CheckpointError(`no checkpoint at ${dir}${left.length ? ` (incomplete saves beside it: ${left.join(', ')})` : ''}`);
  }
  const s = await stat(dir);
  if (!s.isDirectory()) throw new CheckpointError(`${dir}: not a directory (a checkpoint is a directory with ${WEIGHTS_FILE} and ${CONFIG_FILE})`);
  return readCheckpointDir(dir, opts);
}
