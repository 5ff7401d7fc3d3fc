// The built-in corpus (Brown, tags stripped) and readTextFile's errors for files that cannot be trained on.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brownFileToText, joinTokens, stripTag } from '../../src/data/brown.js';
import { decodeText, firstInvalidUtf8 } from '../../src/data/text.js';
import { DataError } from '../../src/errors.js';
import { loadBrownCorpus, readTextFile } from '../../src/node/corpus.js';

describe('Brown corpus', () => {
  const text = loadBrownCorpus();

  it('loads as more than 1 MB of plain English with no /tag remnants', () => {
    expect(new TextEncoder().encode(text).length).toBeGreaterThan(1_000_000);
    expect(text.startsWith('The Fulton County Grand Jury said Friday an investigation of')).toBe(true);
    // A tag would follow a word character directly: `said/vbd`, `Jury/nn-tl`, `./.`, `,/,` (slashes inside words like
    // 1/2 or and/or, and phonetics like /l/, are text).
    expect(text).not.toMatch(/[\w.,;:?!'`]\/(at|nn|nns|in|jj|vbd|vbn|np|cc|pps|rb|dt|to|cs)(-tl|-hl)?[\s$]/);
    expect(text).not.toMatch(/\.\/\.|,\/,|``\/``/);
    // What slashes remain are in words (fractions like 1/2, "and/or"): rare.
    const slashes = text.split('/').length - 1;
    expect(slashes).toBeLessThan(1000);
    expect(text).not.toMatch(/``| [,.;:?!] /); // quotes became ", punctuation hugs its word ('' stays only as inches: 4' 10'')
    expect(text).toContain('each day the hurt was a little duller'); // doubled ";" collapsed, clause kept
    expect(text).not.toContain(';;');
  });

  it('returns the same string on a second call (cached)', () => {
    expect(loadBrownCorpus()).toBe(text);
  });

  it('strips tags and spaces punctuation', () => {
    expect(stripTag('1-1/2/cd')).toBe('1-1/2');
    expect(stripTag('Atlanta\'s/np$')).toBe("Atlanta's");
    expect(joinTokens(['He', 'said', '``', 'no', "''", ',', '(', 'twice', ')', 'then', 'left', '.'])).toBe('He said "no", (twice) then left.');
    expect(brownFileToText('\n\n\tA/at b/nn ;/. ;/.\n\n\n\tc/nn ./.\n\n\tD/np ./.\n')).toBe('A b; c.\nD.');
  });
});

describe('readTextFile and decodeText', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recur-text-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads UTF-8 (dropping a BOM)', () => {
    writeFileSync(join(dir, 'ok.txt'), Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('héllo 😀\n')]));
    expect(readTextFile(join(dir, 'ok.txt'))).toBe('héllo 😀\n');
  });

  it('names the problem: missing, a directory, empty, invalid UTF-8 with its byte offset', () => {
    expect(() => readTextFile(join(dir, 'nope.txt'))).toThrow(/nope\.txt: no such file/);
    mkdirSync(join(dir, 'sub'));
    expect(() => readTextFile(join(dir, 'sub'))).toThrow(/sub: is a directory/);
    writeFileSync(join(dir, 'empty.txt'), '');
    expect(() => readTextFile(join(dir, 'empty.txt'))).toThrow(/empty\.txt: is empty/);
    writeFileSync(join(dir, 'bad.txt'), Buffer.from([0x61, 0x62, 0xc3, 0xa9, 0x63, 0xff, 0x64]));
    expect(() => readTextFile(join(dir, 'bad.txt'))).toThrow(/bad\.txt: is not valid UTF-8 at byte offset 5 \(bytes ff 64\)/);
    expect(() => readTextFile(join(dir, 'bad.txt'))).toThrow(DataError);
  });

  it('finds the first invalid byte of every kind of malformed sequence', () => {
    const cases: [number[], number][] = [
      [[0x41, 0xc3, 0xa9], -1],
      [[0x41, 0x80], 1], // lone continuation
      [[0xc0, 0xaf], 0], // overlong 2-byte
      [[0xe0, 0x80, 0xaf], 0], // overlong 3-byte
      [[0xed, 0xa0, 0x80], 0], // surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0x41, 0x42, 0xe2, 0x82], 2], // truncated at the end
      [[0xf0, 0x9f, 0x98, 0x80, 0xf5], 4],
    ];
    for (const [bytes, at] of cases) {
      expect(firstInvalidUtf8(Uint8Array.from(bytes)), JSON.stringify(bytes)).toBe(at);
      if (at >= 0) expect(() => decodeText(Uint8Array.from(bytes), 'x')).toThrow(`at byte offset ${at}`);
    }
  });
});
