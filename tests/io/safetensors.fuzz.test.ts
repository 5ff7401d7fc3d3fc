// Seeded fuzzing of the safetensors decoder: every mutation of a valid file either decodes or throws a
// CheckpointError (never another error type), and no mutation makes it allocate more than the file size.
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../src/io/safetensors.js';
import { Rng } from '../helpers/rng.js';
import { probeAllocations, randomTensors, rawFile, withHeaderLength } from '../helpers/safetensors.js';

type Outcome = 'ok' | 'error';

/** Decodes under the allocation probe; fails the test on a foreign error type or an oversized allocation. */
function attempt(file: Uint8Array, what: string): Outcome {
  const r = probeAllocations(() => decodeSafetensors(file, { file: 'fuzz.safetensors', copy: true }));
  expect(r.maxBytes, `${what}: allocated ${r.maxBytes} bytes for a ${file.length}-byte file`).toBeLessThanOrEqual(file.length);
  if (r.error === undefined) return 'ok';
  if (!(r.error instanceof CheckpointError)) throw new Error(`${what}: threw ${String(r.error)} instead of a CheckpointError`);
  expect((r.error as Error).message.startsWith('fuzz.safetensors: ')).toBe(true);
  return 'error';
}

function mustFail(file: Uint8Array, what: string): void {
  expect(attempt(file, what), `${what} should be rejected`).toBe('error');
}

const small: SafetensorsTensor[] = [
  { name: 'w', dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  { name: 'step', dtype: 'I32', shape: [], data: Int32Array.of(42) },
];
const smallFile = encodeSafetensors(small, { format: 'recur' });

function headerOf(file: Uint8Array): { json: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { json: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), data: file.subarray(8 + n) };
}

describe('safetensors fuzz', () => {
  it('the allocation probe sees typed-array allocations (so the bound below means something)', () => {
    expect(probeAllocations(() => new Float32Array(10)).maxBytes).toBe(40);
    expect(probeAllocations(() => decodeSafetensors(smallFile, { copy: true })).maxBytes).toBeGreaterThan(0);
  });

  it('truncation at every length is rejected', () => {
    for (let len = 0; len < smallFile.length; len++) mustFail(smallFile.subarray(0, len), `truncated to ${len}`);
    expect(attempt(smallFile, 'intact')).toBe('ok');
  });

  it('a header length of anything but the true value is rejected (huge, u64 "negative", off by a few)', () => {
    const rng = new Rng(7);
    const truth = BigInt(headerOf(smallFile).data.byteOffset - 8);
    const values = [0n, 1n, 7n, 2n ** 32n, 2n ** 53n, 2n ** 60n, 2n ** 63n, -1n, -8n, BigInt(smallFile.length), BigInt(smallFile.length - 8)];
    for (let d = -12n; d <= 12n; d++) if (d !== 0n && truth + d >= 0n) values.push(truth + d);
    for (let k = 0; k < 300; k++) values.push((BigInt(rng.int(0, 2 ** 31)) << 33n) ^ BigInt(rng.int(0, 2 ** 31)));
    for (const v of values) if (v !== truth) mustFail(withHeaderLength(smallFile, v), `header length ${v}`);
  });

  it('random byte flips decode or fail cleanly; flips inside the length field always fail', () => {
    const rng = new Rng(99);
    const files = [smallFile, encodeSafetensors(randomTensors(rng, 4)), encodeSafetensors(randomTensors(rng, 6), { a: 'b' })];
    const tally = { ok: 0, error: 0 };
    for (let k = 0; k < 3000; k++) {
      const f = files[k % files.length]!.slice();
      const flips = 1 + rng.int(0, 3);
      let inLength = false;
      for (let j = 0; j < flips; j++) {
        const at = rng.int(0, f.length);
        f[at]! ^= 1 + rng.int(0, 255);
        inLength ||= at < 8;
      }
      const out = attempt(f, `flip #${k}`);
      tally[out]++;
      if (inLength) expect(out).toBe('error');
    }
    expect(tally.error).toBeGreaterThan(500); // most flips land in the header and must be caught
  });

  it('seeded JSON edits (dtype, shape, offsets, duplicates, fields, metadata, trailing bytes) are rejected', () => {
    const rng = new Rng(2024);
    const badDtypes: unknown[] = ['F33', 'f32', '', 'I64x', 5, null, ['F32'], 'F64'];
    const badDims: unknown[] = [-1, 1.5, '2', null, 2 ** 60, true];
    for (let k = 0; k < 600; k++) {
      const base = k % 2 ? smallFile : encodeSafetensors(randomTensors(rng, 1 + rng.int(0, 5)));
      const { json, data } = headerOf(base);
      const names = Object.keys(json).filter((n) => n !== '__metadata__');
      const name = names[rng.int(0, names.length)]!;
      const e = json[name] as { dtype: unknown; shape: unknown[]; data_offsets: number[] };
      const [b, end] = e.data_offsets as [number, number];
      let extra = new Uint8Array(0);
      let text: string | null = null;
      const kind = rng.int(0, 9);
      if (kind === 0) e.dtype = badDtypes[rng.int(0, badDtypes.length)];
      else if (kind === 1) e.shape = e.shape.length ? e.shape.map((d, i) => (i === 0 ? badDims[rng.int(0, badDims.length)] : d)) : ['x'];
      else if (kind === 2) {
        const moved = b === end ? [end + 1, b] : [b + 4, end + 4]; // a zero-size tensor may sit anywhere
        e.data_offsets = [[b, end + 4], moved, [end + 1, b], [0, data.length + 8], [b], [b, end, 0]][rng.int(0, 6)]!;
      } else if (kind === 3) e.shape = b === end ? [1] : [...e.shape, 2];
      else if (kind === 4) (e as Record<string, unknown>)['extra'] = 1;
      else if (kind === 5) json['__metadata__'] = { k: rng.int(0, 9) };
      else if (kind === 6) extra = Uint8Array.from({ length: 1 + rng.int(0, 16) }, () => rng.int(0, 256));
      else if (kind === 7) {
        const s = JSON.stringify(json);
        const entryText = `${JSON.stringify(name)}:${JSON.stringify(e)}`;
        text = s.replace(entryText, `${entryText},${entryText}`); // duplicate name
      } else {
        // overlap: point this entry at another's bytes (or past the end when alone)
        const other = names.find((n) => n !== name);
        if (b === end) e.data_offsets = [end + 1, b]; // a zero-size tensor overlaps nothing; reverse it instead
        else e.data_offsets = other ? (json[other] as typeof e).data_offsets : [b + 1, end + 1];
      }
      const grown = new Uint8Array(data.length + extra.length);
      grown.set(data);
      grown.set(extra, data.length);
      const file = rawFile(text ?? JSON.stringify(json), grown);
      mustFail(file, `edit kind ${kind} of ${JSON.stringify(name)} (#${k})`);
    }
  });

  it('random edits of the header text and random garbage decode or fail cleanly', () => {
    const rng = new Rng(31337);
    const { json, data } = headerOf(encodeSafetensors(randomTensors(rng, 5), { m: 'x' }));
    const text = JSON.stringify(json);
    const alphabet = '{}[]:,"\\0123456789-.eE tfnul\u00e9\ud83d';
    for (let k = 0; k < 2000; k++) {
      const at = rng.int(0, text.length);
      const c = alphabet[rng.int(0, alphabet.length)]!;
      const op = rng.int(0, 3);
      const edited = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + c + text.slice(at) : text.slice(0, at) + c + text.slice(at + 1);
      attempt(rawFile(edited, data), `text edit #${k}`);
    }
    for (let k = 0; k < 500; k++) {
      const f = Uint8Array.from({ length: rng.int(0, 200) }, () => rng.int(0, 256));
      if (f.length >= 8 && k % 2) new DataView(f.buffer).setBigUint64(0, BigInt(rng.int(0, f.length - 7)), true);
      if (f.length > 8 && k % 4 === 1) f[8] = 0x7b;
      attempt(f, `garbage #${k}`);
    }
  });
});
