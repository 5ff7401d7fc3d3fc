// Training text from bytes: strict UTF-8 decoding whose errors name the source and the byte offset.
import { DataError } from '../errors.js';

/** Decodes `bytes` as UTF-8 (a leading BOM is dropped); empty or invalid input is a DataError naming `source`. */
export function decodeText(bytes: Uint8Array, source = 'text'): string {
  if (bytes.length === 0) throw new DataError(`${source}: is empty; training needs some text`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const shown = Array.from(bytes.subarray(at, at + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(`${source}: is not valid UTF-8 at byte offset ${at} (bytes ${shown}); convert it to UTF-8 first`);
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (-1 if none). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
