// A strict JSON reader for safetensors headers: keeps key order, rejects duplicate keys, nesting deeper
// than a few levels and any number that is not a plain non-negative integer (the format has no others).
export type HeaderValue = string | number | boolean | null | HeaderValue[] | HeaderObject;
/** A JSON object as an ordered map (key order = order in the file). */
export type HeaderObject = Map<string, HeaderValue>;

const MAX_DEPTH = 16;

/** Thrown with a message; the caller wraps it into a CheckpointError that names the file. */
export class HeaderSyntaxError extends Error {}

/** Parses `text` (the header, possibly padded with trailing spaces) into ordered maps and arrays. */
export function parseHeaderJson(text: string): HeaderValue {
  const p = new Parser(text);
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail('unexpected text after the JSON object');
  return v;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new HeaderSyntaxError(`${what} at header character ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  value(depth: number): HeaderValue {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c !== undefined && c >= '0' && c <= '9') return this.integer();
    if (c === '-') this.fail('negative number (safetensors headers hold only non-negative integers)');
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(c === undefined ? 'JSON ends early' : `unexpected ${JSON.stringify(c)}`);
  }

  object(depth: number): HeaderObject {
    const out: HeaderObject = new Map();
    this.i++; // {
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a quoted key');
      const key = this.string();
      if (out.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      this.ws();
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected "," or "}"');
      }
    }
  }

  array(depth: number): HeaderValue[] {
    const out: HeaderValue[] = [];
    this.i++; // [
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected "," or "]"');
      }
    }
  }

  string(): string {
    const start = this.i;
    let j = start + 1;
    const s = this.s;
    while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) this.fail('unterminated string');
    this.i = j + 1;
    try {
      return JSON.parse(s.slice(start, j + 1)) as string; // validates escapes and control characters
    } catch {
      this.i = start;
      return this.fail('malformed string');
    }
  }

  integer(): number {
    const start = this.i;
    while (this.i < this.s.length && this.s[this.i]! >= '0' && this.s[this.i]! <= '9') this.i++;
    const c = this.s[this.i];
    if (c === '.' || c === 'e' || c === 'E') this.fail('non-integer number (safetensors headers hold only integers)');
    const text = this.s.slice(start, this.i);
    if (text.length > 1 && text[0] === '0') this.fail(`number with a leading zero ${text}`);
    const v = Number(text);
    if (!Number.isSafeInteger(v)) this.fail(`integer ${text} is larger than 2^53`);
    return v;
  }
}
