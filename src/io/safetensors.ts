// The safetensors format (bytes in, bytes out; no file system): an 8-byte little-endian header length,
// a JSON header padded with spaces to 8 bytes, then the tensors' bytes back to back. The decoder checks
// every claim of the header against the file before it allocates anything. Spec: huggingface/safetensors.
import { CheckpointError } from '../errors.js';
import { HeaderSyntaxError, parseHeaderJson, type HeaderObject, type HeaderValue } from './safetensors_header.js';

/** Element types recur writes; F16 and BF16 are also read (widened to F32). */
export type SafetensorsDType = 'F32' | 'I32';

export interface SafetensorsTensor {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

export interface DecodedTensor extends SafetensorsTensor {
  /** The dtype in the file: F32, I32, or F16/BF16 widened to F32 in `data`. */
  storedDtype: 'F32' | 'I32' | 'F16' | 'BF16';
}

export interface DecodedSafetensors {
  /** In header order. */
  tensors: DecodedTensor[];
  metadata: Record<string, string>;
}

export interface DecodeOptions {
  /** Named in every error message. */
  file?: string;
  /** Always copy the tensors out (default: views into `bytes` when aligned, copies otherwise). */
  copy?: boolean;
}

/** The reference implementation refuses headers over 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
/** Bytes per element of every dtype the format defines (so a valid but unsupported dtype gets its own error). */
const ITEM_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
const READABLE = new Set(['F32', 'I32', 'F16', 'BF16']);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes tensors (data in the given order) and optional string metadata as one safetensors file. */
export function encodeSafetensors(tensors: readonly SafetensorsTensor[], metadata?: Record<string, string>): Uint8Array {
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(`encodeSafetensors: metadata ${JSON.stringify(k)} is a ${typeof v}; safetensors metadata values must be strings`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const names = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    checkTensorForWrite(t, names);
    const begin = offset;
    offset += t.data.byteLength;
    const info = `{"dtype":${JSON.stringify(t.dtype)},"shape":${JSON.stringify(t.shape)},"data_offsets":[${begin},${offset}]}`;
    parts.push(`${JSON.stringify(t.name)}:${info}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerBytes + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes, true);
  view.setUint32(4, Math.floor(headerBytes / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes);
  let at = 8 + headerBytes;
  for (const t of tensors) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) {
      if (t.dtype === 'F32') view.setFloat32(at + 4 * i, t.data[i]!, true);
      else view.setInt32(at + 4 * i, t.data[i]!, true);
    }
    at += t.data.byteLength;
  }
  return out;
}

function checkTensorForWrite(t: SafetensorsTensor, names: Set<string>): void {
  const where = `encodeSafetensors: tensor ${JSON.stringify(t.name)}`;
  if (typeof t.name !== 'string' || t.name === '' || t.name === METADATA_KEY) throw new CheckpointError(`${where}: a tensor name must be a non-empty string other than ${METADATA_KEY}`);
  if (names.has(t.name)) throw new CheckpointError(`${where} appears twice; names must be unique`);
  names.add(t.name);
  if (t.dtype !== 'F32' && t.dtype !== 'I32') throw new CheckpointError(`${where}: dtype ${String(t.dtype)} cannot be written (F32 or I32)`);
  const want = t.dtype === 'F32' ? Float32Array : Int32Array;
  if (!(t.data instanceof want)) throw new CheckpointError(`${where}: dtype ${t.dtype} needs a ${want.name}, got ${(t.data as object)?.constructor?.name}`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new CheckpointError(`${where}: shape ${JSON.stringify(t.shape)} must be non-negative integers`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new CheckpointError(`${where}: shape [${t.shape.join(', ')}] has ${n} elements but data has ${t.data.length}`);
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Reads a safetensors file; every inconsistency is a CheckpointError naming the file and the problem. */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSafetensors {
  const fail = (what: string): never => {
    throw new CheckpointError(`${opts.file ?? 'safetensors data'}: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('expected the file as a Uint8Array');
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > bytes.length - 8) {
    const claimed = (BigInt(hi) << 32n) | BigInt(lo);
    fail(`header length ${claimed} bytes exceeds the file size of ${bytes.length} bytes (truncated or corrupt file)`);
  }
  if (lo > MAX_HEADER_BYTES) fail(`header length ${lo} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  if (lo < 2) fail(`header length ${lo} bytes is too small for a JSON object`);
  if (bytes[8] !== 0x7b) fail(`header does not start with "{" (byte 8 is 0x${bytes[8]!.toString(16).padStart(2, '0')})`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + lo));
  } catch {
    fail('header is not valid UTF-8');
  }
  let root: HeaderValue = null;
  try {
    root = parseHeaderJson(text);
  } catch (e) {
    if (e instanceof HeaderSyntaxError) fail(`header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!(root instanceof Map)) return fail('header is not a JSON object');
  const dataStart = 8 + lo;
  const dataLen = bytes.length - dataStart;
  const metadata = readMetadata(root.get(METADATA_KEY), fail);
  const entries: Entry[] = [];
  for (const [name, info] of root) if (name !== METADATA_KEY) entries.push(readEntry(name, info, dataLen, fail));
  checkCoverage(entries, dataLen, fail);
  const tensors = entries.map((e) => extract(bytes, dataStart, e, opts.copy === true));
  return { tensors, metadata };
}

type Fail = (what: string) => never;

function readMetadata(v: HeaderValue | undefined, fail: Fail): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined) return out;
  if (!(v instanceof Map)) return fail(`${METADATA_KEY} is not an object of strings`);
  for (const [k, s] of v) {
    if (typeof s !== 'string') fail(`${METADATA_KEY}.${k} is not a string`);
    out[k] = s as string;
  }
  return out;
}

function readEntry(name: string, info: HeaderValue, dataLen: number, fail: Fail): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!(info instanceof Map)) return fail(`${where}: entry is not an object`);
  for (const key of info.keys()) {
    if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') fail(`${where}: unknown field ${JSON.stringify(key)}`);
  }
  const dtype = info.get('dtype');
  if (typeof dtype !== 'string') return fail(`${where}: dtype is missing or not a string`);
  const item = ITEM_BYTES[dtype];
  if (item === undefined) fail(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!READABLE.has(dtype)) fail(`${where}: dtype ${dtype} is valid safetensors but recur reads only F32, I32, F16 and BF16`);
  const shape = info.get('shape');
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number')) return fail(`${where}: shape is missing or not a list of non-negative integers`);
  const offsets = info.get('data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((d) => typeof d !== 'number')) {
    return fail(`${where}: data_offsets is missing or not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the data section of ${dataLen} bytes (truncated file?)`);
  // Element count with an early stop, so a huge shape never overflows into a plausible number.
  let count = shape.includes(0) ? 0 : 1;
  for (const d of count === 0 ? [] : (shape as number[])) {
    count *= d;
    if (count * item! > dataLen) fail(`${where}: shape [${shape.join(', ')}] ${dtype} needs more bytes than the data section holds (${dataLen})`);
  }
  if (count * item! !== end - begin) {
    fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape [${shape.join(', ')}] ${dtype} needs ${count * item!}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** The tensors must tile the data section exactly: no gap, no overlap, no trailing bytes. */
function checkCoverage(entries: Entry[], dataLen: number, fail: Fail): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${at})`);
    if (e.begin > at) fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${at}`);
    at = e.end;
  }
  if (at !== dataLen) fail(`${dataLen - at} trailing bytes after the last tensor (the data section is ${dataLen} bytes, tensors cover ${at})`);
}

function extract(bytes: Uint8Array, dataStart: number, e: Entry, copy: boolean): DecodedTensor {
  const at = bytes.byteOffset + dataStart + e.begin;
  const n = (e.end - e.begin) / ITEM_BYTES[e.dtype]!;
  const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
  const base = { name: e.name, shape: e.shape };
  if (e.dtype === 'F32' || e.dtype === 'I32') {
    const Ctor = e.dtype === 'F32' ? Float32Array : Int32Array;
    let data: Float32Array | Int32Array;
    if (LITTLE_ENDIAN && !copy && at % 4 === 0) data = new Ctor(bytes.buffer as ArrayBuffer, at, n);
    else if (LITTLE_ENDIAN) {
      data = new Ctor(n);
      new Uint8Array(data.buffer).set(raw);
    } else {
      data = new Ctor(n);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) data[i] = e.dtype === 'F32' ? dv.getFloat32(4 * i, true) : dv.getInt32(4 * i, true);
    }
    return { ...base, dtype: e.dtype, storedDtype: e.dtype, data };
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const data = new Float32Array(n);
  if (e.dtype === 'BF16') {
    const bits = new Uint32Array(data.buffer);
    for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) data[i] = halfToFloat(dv.getUint16(2 * i, true));
  }
  return { ...base, dtype: 'F32', storedDtype: e.dtype as 'F16' | 'BF16', data };
}

/** IEEE 754 binary16 to a number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
