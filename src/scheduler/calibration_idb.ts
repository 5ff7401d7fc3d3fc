// Browsers (and any runtime with indexedDB): scheduler calibrations in an IndexedDB object store keyed by backend
// identity, so a page measures once per browser and GPU. calibrate() uses it when no other store was set.
import { isCalibration, type CalibrationStore } from './calibrate.js';
import type { Calibration } from './cost_model.js';

const DB = 'recur';
const STORE = 'calibration';

/** A CalibrationStore over IndexedDB, or null where the runtime has none (Node, workerd). */
export function indexedDbCalibrationStore(idb: IDBFactory | undefined = (globalThis as { indexedDB?: IDBFactory }).indexedDB): CalibrationStore | null {
  if (!idb) return null;
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const r = idb.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const request = async <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const req = fn(db.transaction(STORE, mode).objectStore(STORE));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    } finally {
      db.close();
    }
  };
  return {
    async load(identity) {
      const v: unknown = await request('readonly', (s) => s.get(identity));
      return isCalibration(v) && v.identity === identity ? v : null;
    },
    async save(c: Calibration) {
      await request('readwrite', (s) => s.put(c, c.identity));
    },
  };
}
