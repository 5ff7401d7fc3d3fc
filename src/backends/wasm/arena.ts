// A 16-byte-aligned allocator over one WebAssembly.Memory, owned by TypeScript. Kernels only ever see the byte
// offsets it hands out. Grows memory when full. Free blocks are coalesced with their neighbours at once (tables by
// start and by end) and indexed by exact size and by size class (8 classes per power of two, as TLSF), so alloc and
// free cost O(1) whatever the number of blocks (a training step over T = 4096 time steps keeps ~10^5 alive).
// Pointer-keyed tables never delete a key (PtrMap): V8's Map keeps a deleted entry in its hash chain until the
// next rehash, so deleting and re-adding the same pointer (a freed block reused) makes lookups O(live blocks).
import { RecurError } from '../../errors.js';

const ALIGN = 16;
const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit
/** Size classes over u = bytes / 16: u < 8 one class each; above, 8 classes per power of two (up to 4 GiB). */
const SUB = 8;
const CLASSES = SUB + (28 - 3 + 1) * SUB;
/** How many blocks of the request's own class are checked before the top grows instead. */
const OWN_CLASS_PROBES = 8;

export class Arena {
  /** Free blocks: start -> size, end -> start; every free block is coalesced with its free neighbours. */
  private readonly freeAt = new PtrMap();
  private readonly freeEnd = new PtrMap();
  /** Free block starts by exact size, and by size class. */
  private readonly bySize = new Map<number, Bin>();
  private readonly byClass: Bin[] = Array.from({ length: CLASSES }, () => new Bin());
  /** Bit c set iff byClass[c] is not empty. */
  private readonly nonEmpty = new Uint32Array(Math.ceil(CLASSES / 32));
  private readonly used = new PtrMap();
  private top: number;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = align(base);
  }

  get liveCount(): number {
    return this.used.size;
  }
  get bytesInUse(): number {
    let s = 0;
    this.used.forEach((v) => (s += v));
    return s;
  }
  /** Number of free blocks below the top (for tests). */
  get freeBlocks(): number {
    return this.freeAt.size;
  }

  alloc(bytes: number): number {
    const size = align(Math.max(bytes, ALIGN));
    const ptr = this.takeFree(size) ?? this.takeTop(size);
    this.used.set(ptr, size);
    return ptr;
  }

  free(ptr: number): void {
    let size = this.used.get(ptr);
    if (size === undefined) throw new RecurError(`wasm arena: free of unknown pointer ${ptr}`);
    this.used.delete(ptr);
    // Coalesce with a free block ending here and one starting right after.
    const prev = this.freeEnd.get(ptr);
    if (prev !== undefined) {
      size += ptr - prev;
      this.unlink(prev);
      ptr = prev;
    }
    const nextSize = this.freeAt.get(ptr + size);
    if (nextSize !== undefined) {
      this.unlink(ptr + size);
      size += nextSize;
    }
    if (ptr + size === this.top) this.top = ptr; // fold back into the top
    else this.link(ptr, size);
  }

  /** A free block of at least `size` bytes (its front is taken, the rest stays free), or null. */
  private takeFree(size: number): number | null {
    let ptr: number | undefined = this.bySize.get(size)?.last();
    if (ptr === undefined) {
      // Every block of a class at or above the first whose lower bound is >= size fits: take the first found.
      const own = classOf(size);
      const k = this.nextClass(lowerBound(own) >= size ? own : own + 1);
      if (k >= 0) ptr = this.byClass[k]!.last();
      // Else a few blocks of the request's own class may still fit.
      if (ptr === undefined) {
        let probes = 0;
        for (const p of this.byClass[own]!.items) {
          if (this.freeAt.get(p)! >= size) {
            ptr = p;
            break;
          }
          if (++probes === OWN_CLASS_PROBES) break;
        }
      }
      if (ptr === undefined) return null;
    }
    const have = this.freeAt.get(ptr)!;
    this.unlink(ptr);
    if (have > size) this.link(ptr + size, have - size);
    return ptr;
  }

  private takeTop(size: number): number {
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    return ptr;
  }

  private link(ptr: number, size: number): void {
    this.freeAt.set(ptr, size);
    this.freeEnd.set(ptr + size, ptr);
    let s = this.bySize.get(size);
    if (!s) this.bySize.set(size, (s = new Bin()));
    s.add(ptr);
    const c = classOf(size);
    this.byClass[c]!.add(ptr);
    this.nonEmpty[c >>> 5]! |= 1 << (c & 31);
  }

  private unlink(ptr: number): void {
    const size = this.freeAt.get(ptr)!;
    this.freeAt.delete(ptr);
    this.freeEnd.delete(ptr + size);
    this.bySize.get(size)!.delete(ptr); // empty bins stay (sizes recur); compacted when they pile up
    if (this.bySize.size > 4096 && this.bySize.size > 4 * this.freeAt.size) {
      for (const [k, b] of this.bySize) if (b.items.length === 0) this.bySize.delete(k);
    }
    const c = classOf(size);
    const bin = this.byClass[c]!;
    bin.delete(ptr);
    if (bin.items.length === 0) this.nonEmpty[c >>> 5]! &= ~(1 << (c & 31));
  }

  /** The first non-empty class >= c, or -1. */
  private nextClass(c: number): number {
    for (let w = c >>> 5; w < this.nonEmpty.length; w++) {
      let bits = this.nonEmpty[w]!;
      if (w === c >>> 5) bits &= ~0 << (c & 31);
      if (bits !== 0) return w * 32 + (31 - Math.clz32(bits & -bits));
    }
    return -1;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const havePages = have / PAGE;
    const need = Math.ceil((end - have) / PAGE);
    if (havePages + need > MAX_PAGES) throw new RecurError(`wasm arena: out of memory (need ${end} bytes, the wasm32 limit is 4 GiB)`);
    // Grow by at least a quarter of what we have, so repeated small growths stay cheap.
    const pages = Math.min(Math.max(need, havePages >> 2), MAX_PAGES - havePages);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new RecurError(`wasm arena: could not grow memory to ${end} bytes (${(e as Error).message})`);
    }
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** The size class of a block of `size` bytes (u = size / 16 units). */
function classOf(size: number): number {
  const u = Math.floor(size / ALIGN);
  if (u < SUB) return u;
  const e = 31 - Math.clz32(u); // u in [2^e, 2^(e+1)), e >= 3
  return Math.min(CLASSES - 1, SUB + (e - 3) * SUB + ((u >>> (e - 3)) & (SUB - 1)));
}

/** The smallest block size (bytes) of a class. */
function lowerBound(c: number): number {
  if (c < SUB) return c * ALIGN;
  const e = 3 + Math.floor((c - SUB) / SUB);
  return ((SUB + ((c - SUB) % SUB)) * 2 ** (e - 3)) * ALIGN;
}

/** A set of block starts with O(1) add, delete and last (delete swaps the last entry into the hole). */
class Bin {
  readonly items: number[] = [];
  private readonly index = new PtrMap();

  add(ptr: number): void {
    this.index.set(ptr, this.items.length);
    this.items.push(ptr);
  }

  delete(ptr: number): void {
    const i = this.index.get(ptr)!;
    const moved = this.items.pop()!;
    this.index.delete(ptr);
    if (moved !== ptr) {
      this.items[i] = moved;
      this.index.set(moved, i);
    }
  }

  last(): number | undefined {
    const n = this.items.length;
    return n > 0 ? this.items[n - 1] : undefined;
  }
}

/** A number -> non-negative number map that marks deleted keys instead of deleting them, and is rebuilt without them
 *  once they outnumber the live ones (see the header). */
class PtrMap {
  private map = new Map<number, number>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  get(k: number): number | undefined {
    const v = this.map.get(k);
    return v === undefined || v < 0 ? undefined : v;
  }

  set(k: number, v: number): void {
    const old = this.map.get(k);
    if (old === undefined || old < 0) this.live++;
    this.map.set(k, v);
  }

  delete(k: number): void {
    const old = this.map.get(k);
    if (old === undefined || old < 0) return;
    this.live--;
    this.map.set(k, -1);
    if (this.map.size > 1024 && this.map.size > 4 * this.live) {
      const m = new Map<number, number>();
      for (const [key, v] of this.map) if (v >= 0) m.set(key, v);
      this.map = m;
    }
  }

  forEach(f: (v: number, k: number) => void): void {
    for (const [k, v] of this.map) if (v >= 0) f(v, k);
  }
}
