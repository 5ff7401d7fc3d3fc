// Byte-level (UTF-8 bytes, vocabulary 256) and char-level (the text's code points) tokenizers, saved to and
// restored from a checkpoint's config. Char-level has no <unk>: a character outside the vocabulary is an
// error naming it and its position, because silently mapping it would train or sample on wrong text.
import { DataError } from '../errors.js';

export type TokenizerJSON = { kind: 'byte' } | { kind: 'char'; chars: string[] };

export interface Tokenizer {
  readonly kind: 'byte' | 'char';
  readonly vocabSize: number;
  /** Token ids of `text`. */
  encode(text: string): Int32Array;
  /** Text of `ids` (byte-level: invalid UTF-8, e.g. a sample cut mid-character, decodes to U+FFFD). */
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte';
  readonly vocabSize = 256;
  encode(text: string): Int32Array {
    return Int32Array.from(new TextEncoder().encode(text));
  }
  decode(ids: ArrayLike<number>): string {
    const bytes = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) bytes[i] = checkId(ids[i]!, i, 256, 'byte');
    return new TextDecoder('utf-8').decode(bytes);
  }
  toJSON(): TokenizerJSON {
    return { kind: 'byte' };
  }
}

function checkId(id: number, i: number, vocab: number, kind: string): number {
  if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new DataError(`${kind} tokenizer: id ${id} at position ${i} is outside the vocabulary [0, ${vocab})`);
  return id;
}

/** Code points of a string, one per element (a lone surrogate counts as one). */
function codePoints(text: string, each: (cp: number, index: number) => void): void {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    each(cp, n++);
  }
}

class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly vocabSize: number;
  private readonly bmp = new Int32Array(0x10000).fill(-1);
  private readonly astral = new Map<number, number>();
  private readonly cps: number[];

  constructor(readonly chars: readonly string[]) {
    this.vocabSize = chars.length;
    this.cps = chars.map((c, id) => {
      const cp = c.codePointAt(0);
      if (cp === undefined || String.fromCodePoint(cp) !== c) throw new DataError(`char tokenizer: vocabulary entry ${id} (${JSON.stringify(c)}) is not one character`);
      if (this.idOf(cp) >= 0) throw new DataError(`char tokenizer: ${describeChar(cp)} appears twice in the vocabulary`);
      if (cp < 0x10000) this.bmp[cp] = id;
      else this.astral.set(cp, id);
      return cp;
    });
  }

  private idOf(cp: number): number {
    return cp < 0x10000 ? this.bmp[cp]! : (this.astral.get(cp) ?? -1);
  }

  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    let count = 0;
    codePoints(text, (cp, index) => {
      const id = this.idOf(cp);
      if (id < 0) throw unknownChar(text, cp, index, this.vocabSize);
      out[count++] = id;
    });
    return out.slice(0, count);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[checkId(ids[i]!, i, this.vocabSize, 'char')];
    return s;
  }

  toJSON(): TokenizerJSON {
    return { kind: 'char', chars: [...this.chars] };
  }
}

function describeChar(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp >= 0x20 && cp !== 0x7f && !(cp >= 0xd800 && cp <= 0xdfff) ? `${JSON.stringify(String.fromCodePoint(cp))} (${hex})` : hex;
}

function unknownChar(text: string, cp: number, index: number, vocab: number): DataError {
  let line = 1;
  let col = 1;
  codePoints(text, (c, i) => {
    if (i >= index) return;
    if (c === 0x0a) {
      line++;
      col = 1;
    } else col++;
  });
  return new DataError(
    `char tokenizer: ${describeChar(cp)} at character ${index} (line ${line}, column ${col}) is not in the ${vocab}-character vocabulary built from the training text; use the byte tokenizer for open-ended text`,
  );
}

export function byteTokenizer(): Tokenizer {
  return new ByteTokenizer();
}

/** A char-level vocabulary of every code point in `text`, sorted by code point (so it is deterministic). */
export function charTokenizerFromText(text: string): Tokenizer {
  const seen = new Uint8Array(0x10000);
  const astral = new Set<number>();
  codePoints(text, (cp) => {
    if (cp < 0x10000) seen[cp] = 1;
    else astral.add(cp);
  });
  const cps: number[] = [];
  for (let cp = 0; cp < 0x10000; cp++) if (seen[cp]) cps.push(cp);
  cps.push(...[...astral].sort((a, b) => a - b));
  if (cps.length === 0) throw new DataError('char tokenizer: the text is empty, so there is no vocabulary');
  return new CharTokenizer(cps.map((cp) => String.fromCodePoint(cp)));
}

/** Restores a tokenizer from `toJSON()` output (a checkpoint's `vocabulary`). */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const j = json as { kind?: unknown; chars?: unknown };
  if (j?.kind === 'byte') return byteTokenizer();
  if (j?.kind === 'char') {
    if (!Array.isArray(j.chars) || j.chars.length === 0 || j.chars.some((c) => typeof c !== 'string')) {
      throw new DataError('vocabulary: a char tokenizer needs "chars", a non-empty list of one-character strings');
    }
    return new CharTokenizer(j.chars as string[]);
  }
  throw new DataError(`vocabulary: unknown tokenizer kind ${JSON.stringify(j?.kind)} (expected "byte" or "char")`);
}
