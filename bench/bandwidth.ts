// Memory bandwidth measured in the bench's own run (baselines.md: "bandwidth is STREAM-style byte counting"), for
// the scan suites to divide by. Two copies of arrays larger than the caches, bytes counted as read + written:
// - `wasm-copy`: f32x4 loads and stores in a loop (stream_copy_f32x4), the limit for a wasm kernel. WebAssembly has no
//   non-temporal stores, so each written cache line is read first, as in every kernel; this is the copy of
//   baselines.md's table ("WebAssembly SIMD limits of one core": copy 12.0 GB/s), and the reference.
// - `memmove`: Float32Array.prototype.set. glibc's memmove switches to non-temporal stores once a copy is larger than
//   most of the last-level cache, which no wasm code can do (on this machine kind, seen: 11-12 GB/s for both copies at
//   32 MiB, 19 GB/s for memmove and 11 GB/s for the f32x4 loop at 256 MiB and 1 GiB). Reported beside, for reference.
import { loadModule } from '../src/backends/wasm/module.js';
import { timeRoundRobin, type TimingPlan } from './runner.js';

export interface Bandwidth {
  /** Floats per array of the copies actually measured (halved from the request while allocation failed). */
  floats: number;
  /** GB/s of the wasm f32x4 copy loop (the memory-bandwidth reference of the scan targets). */
  wasmCopy: number;
  /** GB/s of memmove (Float32Array.prototype.set), non-temporal stores on large copies. */
  memmove: number;
}

const PAGE = 65536;

/**
 * Floats per array: STREAM's rule asks each array to be at least 4x the last-level cache. 1 GiB arrays in Node (this
 * machine kind reports a 260 MiB L3); 256 MiB in a browser tab, where wasm memory beyond ~2 GiB often fails; 4 KiB in
 * smoke runs, which only prove the code runs.
 */
export function bandwidthFloats(smoke: boolean): number {
  if (smoke) return 1 << 10;
  return inNode() ? 1 << 28 : 1 << 26;
}

export function inNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** GB/s of both copies of m floats, timed round-robin. The wasm copy runs in a module instance of its own (its memory is
 *  garbage once this returns) so the backend's memory does not keep 2 GiB it will never use again. */
async function measure(m: number, plan: TimingPlan, label: string): Promise<Bandwidth> {
  const bytes = 4 * m;
  const mod = await loadModule();
  const base = Math.ceil((mod.exports['heap_base']!() as number) / 64) * 64;
  const have = mod.memory.buffer.byteLength;
  if (base + 2 * bytes > have) mod.memory.grow(Math.ceil((base + 2 * bytes - have) / PAGE)); // RangeError when it cannot
  const [src, dst] = [base, base + bytes];
  // Every page written before timing: a page of fresh wasm memory never written maps the kernel's shared zero page, so
  // reading it hits the cache and inflates the copy (seen: 16.8 GB/s instead of 12.2). The data itself does not matter.
  new Float32Array(mod.memory.buffer, src, m).fill(0.5);
  new Float32Array(mod.memory.buffer, dst, m).fill(1);
  const copy = mod.exports['stream_copy_f32x4']!;
  const a = new Float32Array(m).fill(2); // fill writes every page (see above)
  const b = new Float32Array(m);
  const secs = await timeRoundRobin({ 'wasm-copy': () => void copy(dst, src, bytes), memmove: () => b.set(a) }, plan, label);
  const rate = (s: number) => (2 * bytes) / s / 1e9;
  const out = new Float32Array(mod.memory.buffer, dst, m);
  if (out[0] !== 0.5 || out[m - 1] !== 0.5 || b[0] !== 2 || b[m - 1] !== 2) {
    throw new Error('bandwidth: a copy did not copy');
  }
  return { floats: m, wasmCopy: rate(secs['wasm-copy']!), memmove: rate(secs.memmove!) };
}

const measured = new Map<number, Promise<Bandwidth>>();

/**
 * The bandwidth copies at the plan's size, once per process and size (a smoke run's 4 KiB copy must not stand in for a
 * later quick run's in the same process, the demo's worker), halving the arrays while they cannot be allocated (down
 * to 64 MiB).
 */
export function memoryBandwidth(plan: TimingPlan, log: (msg: string) => void): Promise<Bandwidth> {
  const want = bandwidthFloats(plan.minSampleMs === 0);
  let p = measured.get(want);
  if (!p) {
    p = (async () => {
      for (let m = want; ; m >>= 1) {
        try {
          return await measure(m, plan, 'memory-bandwidth');
        } catch (e) {
          if (!(e instanceof RangeError) || m <= 1 << 24) throw e;
          log(`memory bandwidth: ${(4 * m) / 2 ** 20} MiB arrays could not be allocated (${e.message}); halving`);
        }
      }
    })();
    measured.set(want, p);
  }
  return p;
}
