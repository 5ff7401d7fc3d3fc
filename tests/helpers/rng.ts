// Seeded random numbers for tests and benches (mulberry32 + Box-Muller), so failures reproduce.
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }
}

export type Gen =
  | 'normal'
  | 'positive' // uniform in [0.5, 2): safe for log, div
  | 'large' // normal * 30: exercises stable exp/log/sigmoid paths
  | { uniform: [number, number] }
  | { int: [number, number] }
  | { values: number[] };

export function generate(rng: Rng, gen: Gen, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (gen === 'normal') out[i] = rng.normal();
    else if (gen === 'positive') out[i] = rng.uniform(0.5, 2);
    else if (gen === 'large') out[i] = rng.normal() * 30;
    else if ('uniform' in gen) out[i] = rng.uniform(gen.uniform[0], gen.uniform[1]);
    else if ('int' in gen) out[i] = rng.int(gen.int[0], gen.int[1]);
    else out[i] = gen.values[i % gen.values.length]!;
  }
  // Round to float32 so every backend sees exactly the same inputs as the float64 reference.
  return Float64Array.from(Float32Array.from(out));
}
