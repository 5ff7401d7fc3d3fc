// Carried model state (truncated BPTT, generation): freeing it, and copying it to and from plain arrays for
// checkpoints, so a resumed run continues each stream from exactly the state an uninterrupted run would have.
import type { BackendName } from '../backends/backend.js';
import { tensor } from '../engine.js';
import { CheckpointError } from '../errors.js';
import type { ModelState } from '../models/types.js';
import { Tensor } from '../tensor.js';

/** One layer's carried tensors as plain float32 data. */
export type StateSnapshot = Record<string, { shape: number[]; data: Float32Array }>[];

function tensorsOf(state: ModelState | null): Set<Tensor> {
  const out = new Set<Tensor>();
  for (const layer of state ?? []) for (const t of Object.values(layer)) if (t instanceof Tensor) out.add(t);
  return out;
}

/** Disposes every tensor of `old` that `next` does not also hold (a layer may pass a tensor through). */
export function disposeStateExcept(old: ModelState | null, next: ModelState | null): void {
  const keepSet = tensorsOf(next);
  for (const t of tensorsOf(old)) if (!keepSet.has(t) && !t.disposed) t.dispose();
}

/** Reads a carried state into plain arrays (async: GPU reads are). */
export async function snapshotState(state: ModelState | null): Promise<StateSnapshot | null> {
  if (!state) return null;
  const out: StateSnapshot = [];
  for (const layer of state) {
    const entry: StateSnapshot[number] = {};
    for (const [k, t] of Object.entries(layer)) {
      if (t.dtype !== 'f32') throw new CheckpointError(`state: carried tensor '${k}' is ${t.dtype}; only f32 state can be saved`);
      entry[k] = { shape: [...t.shape], data: Float32Array.from(await t.data()) };
    }
    out.push(entry);
  }
  return out;
}

/** Makes tensors on `backend` from a snapshot. */
export function restoreState(snap: StateSnapshot | null, backend: BackendName | undefined): ModelState | null {
  if (!snap) return null;
  return snap.map((layer) => {
    const entry: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(layer)) entry[k] = tensor(v.data, v.shape, { backend });
    return entry;
  });
}
