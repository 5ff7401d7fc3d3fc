// Node, Deno and Bun build of `recur` (dist/node/index.js): the full API of src/index.ts, with scheduler
// calibrations cached on disk by default ($RECUR_CACHE_DIR/calibration.json, else ~/.cache/recur, else the OS temp
// directory: src/node/calibration_cache.ts). Browser, workerd and inline builds never import this file (no node:fs).
import { setPlatformCalibrationStore } from '../scheduler/calibrate.js';
import { fileCalibrationStore } from './calibration_cache.js';

export * from '../index.js';

// Resolved at each calibrate() that has no store set, so RECUR_CACHE_DIR is read when calibrating, not at import.
setPlatformCalibrationStore(() => fileCalibrationStore());
