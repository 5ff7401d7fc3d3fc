// safetensors: round trips of random tensors, a golden byte-level check of what the encoder writes, the
// F16/BF16 widening, and one targeted test per validation rule (each error names the file and the problem).
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { decodeSafetensors, encodeSafetensors, halfToFloat } from '../../src/io/safetensors.js';
import { Rng } from '../helpers/rng.js';
import { randomTensors, rawFile, sameBits, withHeaderLength } from '../helpers/safetensors.js';

describe('safetensors round trip', () => {
  it('random tensors (scalars, zero-size, odd names) come back bit for bit, in order, with metadata', () => {
    const rng = new Rng(4101);
    for (let trial = 0; trial < 200; trial++) {
      const tensors = randomTensors(rng, rng.int(0, 6));
      const metadata: Record<string, string> = trial % 3 === 0 ? {} : { format: 'pt', step: String(trial), 'ünï': 'çødé 😀' };
      const file = encodeSafetensors(tensors, metadata);
      for (const copy of [false, true]) {
        const back = decodeSafetensors(file, { copy });
        expect(back.metadata).toEqual(metadata);
        expect(back.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
        back.tensors.forEach((t, i) => {
          const want = tensors[i]!;
          expect(t.dtype).toBe(want.dtype);
          expect(t.storedDtype).toBe(want.dtype);
          expect(t.shape).toEqual(want.shape);
          expect(sameBits(t.data, want.data), `${t.name} data`).toBe(true);
          if (copy) expect(t.data.buffer).not.toBe(file.buffer);
        });
      }
    }
  });

  it('keeps NaN, -0, infinities and int extremes exactly', () => {
    const f = Float32Array.of(NaN, -0, Infinity, -Infinity, 3.4e38, 1e-45);
    const i = Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0, -1);
    const back = decodeSafetensors(encodeSafetensors([{ name: 'f', dtype: 'F32', shape: [6], data: f }, { name: 'i', dtype: 'I32', shape: [2, 2], data: i }]));
    expect(sameBits(back.tensors[0]!.data, f)).toBe(true);
    expect(Array.from(back.tensors[1]!.data)).toEqual(Array.from(i));
  });

  it('gives views into the bytes when aligned and copies when not', () => {
    const file = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) }]);
    expect(decodeSafetensors(file).tensors[0]!.data.buffer).toBe(file.buffer);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const t = decodeSafetensors(shifted.subarray(1)).tensors[0]!;
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });
});

describe('safetensors golden bytes', () => {
  it('writes exactly the reference layout: u64 LE length, compact JSON padded with spaces to 8, data in order', () => {
    const file = encodeSafetensors(
      [
        { name: 'b', dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
        { name: 'a', dtype: 'I32', shape: [], data: Int32Array.of(7) },
      ],
      { format: 'pt' },
    );
    const expectJson = '{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}';
    const n = Math.ceil(expectJson.length / 8) * 8; // the JSON is 138 bytes: six spaces of padding
    expect(n).toBe(144);
    const bytes = Array.from(file);
    expect(bytes.slice(0, 8)).toEqual([n & 0xff, n >> 8, 0, 0, 0, 0, 0, 0]);
    const header = String.fromCharCode(...bytes.slice(8, 8 + n));
    expect(header).toBe(expectJson + ' '.repeat(n - expectJson.length));
    expect(bytes.slice(8 + n)).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x07, 0x00, 0x00, 0x00]);
    expect(file.length).toBe(8 + n + 12);
  });

  it('reads a hand-built file as other tools write it (F16 and BF16 widened to F32, no metadata, unpadded)', () => {
    const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x0000, 0x8000];
    const bf16 = [0x3f80, 0xc040, 0x0000];
    const data = new Uint8Array(2 * (f16.length + bf16.length));
    const dv = new DataView(data.buffer);
    [...f16, ...bf16].forEach((h, k) => dv.setUint16(2 * k, h, true));
    const header = `{"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},"g":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}`;
    const back = decodeSafetensors(rawFile(header, data, false));
    const h = back.tensors[0]!;
    expect([h.dtype, h.storedDtype, h.shape]).toEqual(['F32', 'F16', [2, 4]]);
    expect(Array.from(h.data)).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity, 0, -0]);
    expect(Array.from(back.tensors[1]!.data)).toEqual([1, -3, 0]);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });
});

/** Expects a CheckpointError whose message contains every fragment. */
function rejects(file: Uint8Array, ...fragments: string[]): void {
  let err: unknown;
  try {
    decodeSafetensors(file, { file: 'm.safetensors' });
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error mentioning ${fragments.join(' / ')}`).toBeInstanceOf(CheckpointError);
  const msg = (err as Error).message;
  expect(msg.startsWith('m.safetensors: ')).toBe(true);
  for (const f of fragments) expect(msg).toContain(f);
}

const four = new Uint8Array(4);
const entry = (fields: string) => `{"t":{${fields}}}`;

describe('safetensors validation rules', () => {
  it('length field: short file, claims past the end (2^60 and u64 max), too small', () => {
    rejects(new Uint8Array(5), 'too short');
    const ok = rawFile(entry('"dtype":"F32","shape":[1],"data_offsets":[0,4]'), four);
    rejects(withHeaderLength(ok, 2n ** 60n), 'header length 1152921504606846976', 'exceeds the file size');
    rejects(withHeaderLength(ok, -1n), '18446744073709551615');
    rejects(withHeaderLength(ok, 1n), 'too small');
  });

  it('header text: not "{", bad UTF-8, bad JSON, not an object, duplicates, nesting, numbers', () => {
    rejects(rawFile('[1,2]'), 'does not start with "{"');
    rejects(rawFile(Uint8Array.of(0x7b, 0xff, 0x7d)), 'not valid UTF-8');
    rejects(rawFile('{"t":'), 'not valid JSON', 'ends early');
    rejects(rawFile('{"t":1} x'), 'after the JSON');
    rejects(rawFile('{"a":{},"a":{}}'), 'duplicate key "a"');
    rejects(rawFile(`{"t":${'['.repeat(40)}${']'.repeat(40)}}`), 'nested deeper');
    rejects(rawFile(entry('"dtype":"F32","shape":[1.5],"data_offsets":[0,4]')), 'non-integer');
    rejects(rawFile(entry('"dtype":"F32","shape":[-1],"data_offsets":[0,4]')), 'negative');
    rejects(rawFile(entry('"dtype":"F32","shape":[01],"data_offsets":[0,4]')), 'leading zero');
    rejects(rawFile(entry('"dtype":"F32","shape":[1e0],"data_offsets":[0,4]')), 'non-integer');
    rejects(rawFile(entry('"dtype":"F32","shape":[99999999999999999],"data_offsets":[0,4]')), 'larger than 2^53');
  });

  it('entries: dtype, shape, offsets, unknown fields, metadata', () => {
    rejects(rawFile(entry('"dtype":"F33","shape":[1],"data_offsets":[0,4]'), four), 'tensor "t"', 'unknown dtype "F33"');
    rejects(rawFile(entry('"dtype":"F64","shape":[],"data_offsets":[0,8]'), new Uint8Array(8)), 'F64 is valid safetensors but recur reads only');
    rejects(rawFile(entry('"dtype":5,"shape":[1],"data_offsets":[0,4]'), four), 'dtype is missing');
    rejects(rawFile(entry('"shape":[1],"data_offsets":[0,4]'), four), 'dtype is missing');
    rejects(rawFile(entry('"dtype":"F32","shape":"1","data_offsets":[0,4]'), four), 'shape is missing');
    rejects(rawFile(entry('"dtype":"F32","shape":[1],"data_offsets":[0]'), four), 'data_offsets is missing');
    rejects(rawFile(entry('"dtype":"F32","shape":[1],"data_offsets":[4,0]'), four), 'end before they begin');
    rejects(rawFile(entry('"dtype":"F32","shape":[2],"data_offsets":[0,8]'), four), 'run past the data section');
    rejects(rawFile(entry('"dtype":"F32","shape":[2],"data_offsets":[0,4]'), new Uint8Array(8)), 'hold 4 bytes', 'needs 8');
    rejects(rawFile(entry('"dtype":"F32","shape":[9007199254740991,9007199254740991],"data_offsets":[0,4]'), four), 'needs more bytes');
    rejects(rawFile(entry('"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1'), four), 'unknown field "extra"');
    rejects(rawFile('{"t":[1]}', four), 'entry is not an object');
    rejects(rawFile('{"__metadata__":{"k":1}}'), '__metadata__.k is not a string');
    rejects(rawFile('{"__metadata__":[]}'), '__metadata__ is not an object');
  });

  it('coverage: overlap, gap, trailing bytes; zero-size tensors are fine anywhere', () => {
    const two = (a: string, b: string) => `{"a":{"dtype":"F32","shape":[1],"data_offsets":${a}},"b":{"dtype":"F32","shape":[1],"data_offsets":${b}}}`;
    rejects(rawFile(two('[0,4]', '[0,4]'), new Uint8Array(8)), 'overlap');
    rejects(rawFile(two('[0,4]', '[8,12]'), new Uint8Array(12)), 'gap after byte 4');
    rejects(rawFile(entry('"dtype":"F32","shape":[1],"data_offsets":[0,4]'), new Uint8Array(5)), '1 trailing bytes');
    const z = '{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const back = decodeSafetensors(rawFile(z, four));
    expect(back.tensors.map((t) => [t.name, t.data.length])).toEqual([['z', 0], ['a', 1]]);
    const big = '{"z":{"dtype":"F32","shape":[9007199254740991,0],"data_offsets":[0,0]}}';
    expect(decodeSafetensors(rawFile(big)).tensors[0]!.shape).toEqual([9007199254740991, 0]);
  });

  it('the encoder refuses what it cannot write faithfully', () => {
    const t = { name: 'w', dtype: 'F32' as const, shape: [2], data: Float32Array.of(1, 2) };
    expect(() => encodeSafetensors([t, t])).toThrow(/appears twice/);
    expect(() => encodeSafetensors([{ ...t, shape: [3] }])).toThrow(/has 3 elements but data has 2/);
    expect(() => encodeSafetensors([{ ...t, data: Int32Array.of(1, 2) }])).toThrow(/needs a Float32Array/);
    expect(() => encodeSafetensors([{ ...t, name: '__metadata__' }])).toThrow(CheckpointError);
    expect(() => encodeSafetensors([t], { k: 3 as unknown as string })).toThrow(/must be strings/);
  });
});
