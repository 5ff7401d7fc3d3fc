// The training and sampling RNG: xoshiro128** (four 32-bit words of state, seeded through splitmix32). Its state
// is plain 32-bit words, so a checkpoint stores it exactly as JSON numbers and a resumed run draws the same numbers.
import { OptionError } from '../errors.js';

export interface RngState {
  kind: 'xoshiro128**';
  words: [number, number, number, number];
}

/** A seeded uniform RNG in [0, 1); `state()` / `Rng.fromState()` round-trip it exactly. */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new OptionError(`rng: seed ${seed} must be an integer`);
    // splitmix32 over the seed's low and high words fills the state (never all zero).
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  static fromState(state: unknown): Rng {
    const st = state as Partial<RngState> | null;
    const w = st?.words;
    const ok = st?.kind === 'xoshiro128**' && Array.isArray(w) && w.length === 4 && w.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff) && w.some((v) => v !== 0);
    if (!ok) throw new OptionError(`rng: state ${JSON.stringify(state)} is not an xoshiro128** state (kind and four non-zero 32-bit words)`);
    const r = new Rng(0);
    r.s = Uint32Array.from(w as number[]);
    return r;
  }

  state(): RngState {
    const [a, b, c, d] = this.s;
    return { kind: 'xoshiro128**', words: [a!, b!, c!, d!] };
  }

  /** The next 32-bit unsigned word. */
  nextU32(): number {
    const s = this.s;
    let [s0, s1, s2, s3] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
