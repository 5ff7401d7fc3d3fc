// Device loss mid-training: a minGRU LM trains on WebGPU (Dawn on SwiftShader), the device is destroyed after
// step LOSE_AT, and the run finishes on wasm with the step count, data position and parameters an uninterrupted
// run has: compared with one that makes the same backend switch at the same step by hand (float32 tolerance,
// below), and with an all-wasm run (a looser bound: the first steps ran on another backend's arithmetic).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { availableBackends, tensor } from '../../src/engine.js';
import { createLanguageModel } from '../../src/models/lm.js';
import { AdamW } from '../../src/optim/adamw.js';
import { resetWarnings } from '../../src/scheduler/explain.js';
import { trainWithDeviceFallback } from '../../src/train/device_loss.js';
import { Trainer } from '../../src/train/trainer.js';
import { setupBackends } from '../helpers/backends.js';
import { getWebGpu, releaseWebGpu } from '../helpers/webgpu.js';
import { Rng } from '../helpers/rng.js';

/** float32 tolerance of parameters after STEPS AdamW steps: same switch point (atol, rtol). */
const TOL = { atol: 2e-5, rtol: 2e-4 };
/** Against the all-wasm run: LOSE_AT steps ran on GPU arithmetic, each moving a weight by at most ~lr. */
const TOL_ALL_WASM = { atol: 2e-3, rtol: 0 };
const V = 12;
const STEPS = 6;
const LOSE_AT = 3;

function text(n: number): Int32Array {
  const rng = new Rng(11);
  const ids = new Int32Array(n);
  for (let i = 1; i < n; i++) ids[i] = rng.next() < 0.85 ? (3 * ids[i - 1]! + 2) % V : rng.int(0, V);
  return ids;
}
const data = { train: text(3000) };
const cfg = { clip: 1, data, batchSize: 2, seqLen: 8, seed: 9, steps: STEPS };

function setup(backend: 'wasm' | 'webgpu') {
  const model = createLanguageModel({ model: 'mingru', vocabSize: V, dim: 8, layers: 1 }, { seed: 5, backend });
  return { model, optimizer: new AdamW(model.params(), { lr: 1e-3, weightDecay: 0.01 }) };
}

async function weights(m: { params(): { value: { data(): Promise<ArrayLike<number>> } }[] }): Promise<number[][]> {
  const out: number[][] = [];
  for (const p of m.params()) out.push(Array.from(await p.value.data()));
  return out;
}

function maxExcess(a: number[][], b: number[][], tol: { atol: number; rtol: number }): number {
  let worst = -Infinity;
  a.forEach((row, i) => row.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b[i]![j]!) - (tol.atol + tol.rtol * Math.abs(b[i]![j]!))))));
  return worst;
}

let gpu: WebGpuBackend | null = null;
beforeAll(async () => {
  await setupBackends();
  gpu = await getWebGpu();
});
afterAll(() => releaseWebGpu());

describe('device loss during training', () => {
  it('a run that loses its GPU continues on wasm with parameters and optimizer state intact', async () => {
    if (!gpu) return; // getWebGpu() already failed loudly in CI or warned
    // Reference: LOSE_AT steps on the GPU, then by hand: read everything back, rebuild on wasm, continue.
    const ref = setup('webgpu');
    let t = new Trainer({ ...cfg, ...ref });
    for (let i = 0; i < LOSE_AT; i++) await t.trainStep();
    const snap = await t.snapshot();
    const state = await ref.optimizer.state();
    const w = await weights(ref.model);
    t.dispose();
    ref.model.params().forEach((p, i) => p.assign(tensor(w[i]!, p.shape, { backend: 'wasm' })));
    ref.optimizer.loadState(state);
    t = new Trainer({ ...cfg, ...ref, resume: snap });
    while (t.step < STEPS) await t.trainStep();
    const refPos = t.batcher.position;
    t.dispose();
    const expected = await weights(ref.model);

    // All wasm, for the looser comparison.
    const cpu = setup('wasm');
    await trainWithDeviceFallback({ ...cfg, ...cpu });
    const allWasm = await weights(cpu.model);

    // The run under test: the device is destroyed (as a driver reset would) right after step LOSE_AT.
    resetWarnings();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const run = setup('webgpu');
    const steps: number[] = [];
    const r = await trainWithDeviceFallback({
      ...cfg,
      ...run,
      onStep: (info, trainer) => {
        steps.push(info.step);
        if (info.step === LOSE_AT) {
          gpu!.device.destroy();
          expect(trainer.backend).toBe('webgpu');
        }
      },
    });
    const lossWarnings = warn.mock.calls.filter((c) => /device was lost during training/.test(String(c[0])));
    warn.mockRestore();
    expect(r.deviceLost).toMatch(/destroyed/i);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]); // no step lost or repeated
    expect(r.losses).toHaveLength(STEPS);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(run.optimizer.stepCount).toBe(STEPS);
    expect(r.snapshot.step).toBe(STEPS);
    expect(r.snapshot.dataPosition).toEqual(refPos);
    expect(lossWarnings).toHaveLength(1);
    expect(availableBackends()).not.toContain('webgpu');
    for (const p of run.model.params()) expect(p.value.backend.name).toBe('wasm');
    const got = await weights(run.model);
    expect(maxExcess(got, expected, TOL)).toBeLessThanOrEqual(0);
    expect(maxExcess(got, allWasm, TOL_ALL_WASM)).toBeLessThanOrEqual(0);
    for (const m of [ref, cpu, run]) {
      m.optimizer.dispose();
      m.model.dispose();
    }
  });
});
