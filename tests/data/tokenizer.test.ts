// Tokenizers: byte-level and char-level round trips, the config JSON round trip, and the errors for
// unknown characters (named, with position) and ids outside the vocabulary.
import { describe, expect, it } from 'vitest';
import { byteTokenizer, charTokenizerFromText, tokenizerFromJSON } from '../../src/data/tokenizer.js';
import { DataError } from '../../src/errors.js';

const sample = 'Héllo, wörld!\n😀 tabs\tand 🎉 "quotes" — ünïcödé';

describe('byte tokenizer', () => {
  it('encodes UTF-8 bytes (vocab 256) and decodes them back', () => {
    const t = byteTokenizer();
    expect(t.vocabSize).toBe(256);
    const ids = t.encode(sample);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(Array.from(ids)).toEqual(Array.from(new TextEncoder().encode(sample)));
    expect(t.decode(ids)).toBe(sample);
    expect(t.decode(ids.subarray(0, 2))).toBe('H\ufffd'); // cut mid-character: replacement char, no throw
  });

  it('rejects ids outside [0, 256)', () => {
    expect(() => byteTokenizer().decode([65, 256])).toThrow(/id 256 at position 1 is outside the vocabulary \[0, 256\)/);
    expect(() => byteTokenizer().decode([-1])).toThrow(DataError);
  });
});

describe('char tokenizer', () => {
  it('builds a sorted code-point vocabulary and round-trips text with astral characters', () => {
    const t = charTokenizerFromText(sample);
    const chars = t.toJSON().kind === 'char' ? (t.toJSON() as { chars: string[] }).chars : [];
    expect(chars.length).toBe(t.vocabSize);
    expect(chars).toEqual([...new Set(Array.from(sample))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
    const ids = t.encode(sample);
    expect(ids.length).toBe(Array.from(sample).length);
    expect(t.decode(ids)).toBe(sample);
  });

  it('survives the config JSON round trip with the same ids', () => {
    const t = charTokenizerFromText(sample);
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));
    expect(back.vocabSize).toBe(t.vocabSize);
    expect(Array.from(back.encode(sample))).toEqual(Array.from(t.encode(sample)));
    expect(tokenizerFromJSON({ kind: 'byte' }).vocabSize).toBe(256);
  });

  it('names an unknown character and its position (no silent <unk>)', () => {
    const t = charTokenizerFromText('abc\n');
    expect(() => t.encode('ab\ncaz')).toThrow(/"z" \(U\+007A\) at character 5 \(line 2, column 3\) is not in the 4-character vocabulary/);
    expect(() => t.encode('a😀')).toThrow(/U\+1F600/);
    expect(() => t.encode('a\u0007')).toThrow(/U\+0007 at character 1/);
    expect(() => t.decode([4])).toThrow(/id 4 at position 0 is outside/);
  });

  it('rejects malformed vocabularies', () => {
    expect(() => tokenizerFromJSON({ kind: 'word' })).toThrow(/unknown tokenizer kind "word"/);
    expect(() => tokenizerFromJSON({ kind: 'char', chars: [] })).toThrow(/non-empty list/);
    expect(() => tokenizerFromJSON({ kind: 'char', chars: ['a', 'a'] })).toThrow(/appears twice/);
    expect(() => tokenizerFromJSON({ kind: 'char', chars: ['ab'] })).toThrow(/is not one character/);
    expect(() => charTokenizerFromText('')).toThrow(DataError);
  });
});
