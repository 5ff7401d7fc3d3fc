// Training leaves memory flat: a tiny MLP (embedding → matmul+bias → gelu → matmul → cross-entropy, AdamW with
// warm-up + cosine and clipping) for 1,000 steps on wasm and on WebGPU; allocation counts (wasm blocks, GPU
// buffers) stay flat after warm-up, the wasm heap does not grow, and the loss falls. SwiftShader runs every dispatch
// on the CPU and each GPU read is a round trip, so on WebGPU the clipping (which reads the norm), the loss read and
// the queue sync happen every 10th step (~40 s in all); the buffer count is still checked after every step.
import { beforeAll, describe, expect, it } from 'vitest';
import { Parameter } from '../../src/autograd/parameter.js';
import { valueAndGrad } from '../../src/autograd/value_and_grad.js';
import type { BackendName } from '../../src/backends/backend.js';
import { getBackend, tensor } from '../../src/engine.js';
import { embedding, gelu, matmul, mean, softmaxCrossEntropy } from '../../src/ops/api.js';
import { AdamW } from '../../src/optim/adamw.js';
import { clipGradNorm } from '../../src/optim/clip.js';
import { warmupCosine } from '../../src/optim/schedule.js';
import { setupBackends } from '../helpers/backends.js';
import { generate, Rng } from '../helpers/rng.js';

const [V, D, H, N] = [16, 8, 32, 32];
const WARMUP = 10;

let backends: BackendName[] = [];
beforeAll(async () => {
  backends = await setupBackends();
});

/** Trains for `steps` steps; returns the losses and the live allocation counts after each step. */
async function train(b: BackendName, steps: number, readEvery = 1): Promise<{ losses: number[]; live: number[]; refLive: number[] }> {
  const rng = new Rng(42);
  const init = (name: string, shape: number[], scale: number) =>
    new Parameter(name, tensor(generate(rng, 'normal', shape.reduce((x, y) => x * y, 1)).map((v) => v * scale), shape, { backend: b }));
  const params = [init('emb', [V, D], 1), init('w1', [D, H], 1 / Math.sqrt(D)), init('b1', [H], 0), init('w2', [H, V], 1 / Math.sqrt(H))];
  const [emb, w1, b1, w2] = params as [Parameter, Parameter, Parameter, Parameter];
  const opt = new AdamW(params, { lr: warmupCosine({ peakLr: 1e-2, warmupSteps: 20, totalSteps: steps, minLr: 1e-3 }), weightDecay: 0.01 });
  const out = { losses: [] as number[], live: [] as number[], refLive: [] as number[] };
  for (let s = 0; s < steps; s++) {
    // The task: predict (3·id + 1) mod V from id.
    const idData = Int32Array.from({ length: N }, () => rng.int(0, V));
    const ids = tensor(idData, [N], { backend: b });
    const targets = tensor(idData.map((id) => (3 * id + 1) % V), [N], { backend: b });
    const { loss, grads } = valueAndGrad(() => {
      const h = gelu(matmul(embedding(ids, emb.value), w1.value, { bias: b1.value }));
      return mean(softmaxCrossEntropy(matmul(h, w2.value), targets), 0);
    }, params);
    const read = s % readEvery === 0 || s === steps - 1;
    if (read) await clipGradNorm(grads, 1);
    opt.step(grads);
    if (read) out.losses.push((await loss.data())[0]!);
    [ids, targets, loss, ...grads].forEach((t) => t?.dispose());
    if (read) await getBackend(b).sync();
    out.live.push(getBackend(b).liveCount());
    out.refLive.push(getBackend('reference').liveCount());
  }
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

function expectFlatAndLearning(b: BackendName, r: { losses: number[]; live: number[]; refLive: number[] }): void {
  const steps = r.live.length;
  expect(r.live.slice(WARMUP), `${b}: live allocations after step ${WARMUP} (params + AdamW moments only)`).toEqual(new Array(steps - WARMUP).fill(r.live[WARMUP]));
  expect(r.live[WARMUP], `${b}: 4 params + 8 moments`).toBe(r.live[0]);
  expect(new Set(r.refLive).size, `${b}: nothing lands on the reference backend`).toBe(1);
  const avg = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const first = avg(r.losses.slice(0, 10));
  const last = avg(r.losses.slice(-10));
  expect(r.losses.every(Number.isFinite), `${b}: finite losses`).toBe(true);
  expect(last, `${b}: loss falls (first 10 steps ${first.toFixed(3)}, last 10 ${last.toFixed(3)})`).toBeLessThan(0.5 * first);
}

describe('training memory', () => {
  it('1,000 AdamW steps on wasm leave live allocations and the wasm heap flat; the loss falls', async () => {
    const wasm = getBackend('wasm');
    const before = wasm.liveCount();
    const heap0 = wasm.info()['memoryBytes'];
    const r = await train('wasm', 1000);
    expectFlatAndLearning('wasm', r);
    expect(wasm.liveCount(), 'wasm: everything freed after dispose').toBe(before);
    // The heap may grow during the first steps (arena), never after: compare a second run's growth with zero.
    const heap1 = wasm.info()['memoryBytes'];
    await train('wasm', 200);
    expect(wasm.info()['memoryBytes'], `wasm heap after a second run (was ${heap0} before the first)`).toBe(heap1);
  });

  it('1,000 AdamW steps on WebGPU leave the GPU buffer count flat; the loss falls', async () => {
    if (!backends.includes('webgpu')) return; // setupBackends failed loudly under CI, warned otherwise
    const gpu = getBackend('webgpu');
    const before = gpu.liveCount();
    const r = await train('webgpu', 1000, 10);
    expect(r.live).toHaveLength(1000);
    expectFlatAndLearning('webgpu', r);
    expect(gpu.liveCount(), 'webgpu: everything freed after dispose').toBe(before);
  });
});
