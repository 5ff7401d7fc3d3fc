// Seeded parameter initialisation shared by every layer: one mulberry32 stream per model, consumed in creation
// order, so the same seed always gives the same weights (rounded to f32, identical on every backend).
import type { BackendName } from '../backends/backend.js';
import { tensor } from '../engine.js';
import { OptionError, ShapeError } from '../errors.js';
import { Parameter } from '../autograd/parameter.js';
import { fmtShape, sizeOf } from '../shape.js';

/** A small seeded RNG: mulberry32 for uniforms, Box-Muller for normals. State is one 32-bit integer. */
export class InitRng {
  private s: number;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new OptionError(`InitRng: seed must be an integer, got ${seed}`);
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

/**
 * Makes named Parameters from one RNG stream. `scope('layers.0.')` returns an Init sharing the stream whose
 * names get that prefix, so a layer names its parameters locally ('to_out.weight') and the model's names are
 * unique ('layers.0.to_out.weight').
 */
export class Init {
  private constructor(
    readonly rng: InitRng,
    readonly backend: BackendName | undefined,
    readonly prefix: string,
    private readonly made: Set<string>,
    private readonly all: Parameter[],
  ) {}

  static create(seed: number, backend?: BackendName): Init {
    return new Init(new InitRng(seed), backend, '', new Set(), []);
  }

  scope(prefix: string): Init {
    return new Init(this.rng, this.backend, this.prefix + prefix, this.made, this.all);
  }

  /** Every Parameter made through this Init and its scopes (so a failed model construction can free them). */
  created(): readonly Parameter[] {
    return this.all;
  }

  /** U(−bound, bound). */
  uniform(name: string, shape: readonly number[], bound: number): Parameter {
    return this.make(name, shape, () => (2 * this.rng.next() - 1) * bound);
  }

  /** nn.Linear's default: U(±1/√fan_in). */
  fanIn(name: string, shape: readonly number[], fanIn: number): Parameter {
    return this.uniform(name, shape, 1 / Math.sqrt(fanIn));
  }

  normal(name: string, shape: readonly number[], std = 1, mean = 0): Parameter {
    return this.make(name, shape, () => mean + std * this.rng.normal());
  }

  constant(name: string, shape: readonly number[], value: number): Parameter {
    return this.make(name, shape, () => value);
  }

  zeros(name: string, shape: readonly number[]): Parameter {
    return this.constant(name, shape, 0);
  }

  ones(name: string, shape: readonly number[]): Parameter {
    return this.constant(name, shape, 1);
  }

  /** A Parameter from explicit values (e.g. a bias with a slice shifted after drawing it). */
  fromValues(name: string, shape: readonly number[], values: Float32Array): Parameter {
    return this.make(name, shape, (i) => values[i]!);
  }

  private make(name: string, shape: readonly number[], draw: (i: number) => number): Parameter {
    const full = this.prefix + name;
    if (this.made.has(full)) throw new OptionError(`Init: parameter name '${full}' is used twice`);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`Init: parameter '${full}' has an invalid shape ${fmtShape(shape)}`);
    this.made.add(full);
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = draw(i);
    const p = new Parameter(full, tensor(data, shape, { dtype: 'f32', backend: this.backend }));
    this.all.push(p);
    return p;
  }
}
