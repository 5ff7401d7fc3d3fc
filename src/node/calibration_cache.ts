// Node only: persists scheduler calibrations as one JSON file (~/.cache/recur/calibration.json, else the OS temp
// directory), keyed by backend identity; written atomically (temp file + rename). A corrupt file is re-measured.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isCalibration, type CalibrationStore } from '../scheduler/calibrate.js';
import type { Calibration } from '../scheduler/cost_model.js';

/** Identities kept in the file (the most recent ones). */
const MAX_ENTRIES = 8;

/** The default cache file: $RECUR_CACHE_DIR, else ~/.cache/recur, else <tmpdir>/recur. */
export function defaultCalibrationPath(): string {
  const env = process.env['RECUR_CACHE_DIR'];
  if (env) return join(env, 'calibration.json');
  let home = '';
  try {
    home = homedir();
  } catch {
    home = '';
  }
  return join(home ? join(home, '.cache', 'recur') : join(tmpdir(), 'recur'), 'calibration.json');
}

function readAll(path: string): Calibration[] {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter(isCalibration) : [];
  } catch {
    return []; // missing or corrupt: measure again
  }
}

/** A CalibrationStore over one JSON file. Write failures (read-only home) warn once and keep going. */
export function fileCalibrationStore(path = defaultCalibrationPath()): CalibrationStore & { path: string } {
  let warned = false;
  return {
    path,
    load(identity) {
      return readAll(path).find((c) => c.identity === identity) ?? null;
    },
    save(c) {
      const all = [c, ...readAll(path).filter((x) => x.identity !== c.identity)].slice(0, MAX_ENTRIES);
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(tmp, `${JSON.stringify(all, null, 1)}\n`);
        renameSync(tmp, path);
      } catch (e) {
        if (!warned) console.warn(`recur: could not cache the calibration in ${path} (${(e as Error).message}); it will be measured again next time`);
        warned = true;
      }
    },
  };
}
