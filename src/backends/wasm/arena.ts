// A 16-byte-aligned first-fit allocator over one WebAssembly.Memory, owned by TypeScript.
// Kernels only ever see the byte offsets it hands out. Grows memory when full.
import { RecurError } from '../../errors.js';

const ALIGN = 16;
const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit

interface Block {
  ptr: number;
  size: number;
}

export class Arena {
  /** Free blocks sorted by address, coalesced with neighbours. */
  private freeList: Block[] = [];
  private used = new Map<number, number>();
  private top: number;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = align(base);
  }

  get liveCount(): number {
    return this.used.size;
  }
  get bytesInUse(): number {
    let s = 0;
    for (const v of this.used.values()) s += v;
    return s;
  }

  alloc(bytes: number): number {
    const size = align(Math.max(bytes, ALIGN));
    for (let i = 0; i < this.freeList.length; i++) {
      const blk = this.freeList[i]!;
      if (blk.size < size) continue;
      const ptr = blk.ptr;
      if (blk.size === size) this.freeList.splice(i, 1);
      else {
        blk.ptr += size;
        blk.size -= size;
      }
      this.used.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    this.used.set(ptr, size);
    return ptr;
  }

  free(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new RecurError(`wasm arena: free of unknown pointer ${ptr}`);
    this.used.delete(ptr);
    if (ptr + size === this.top) {
      this.top = ptr;
      // Fold a free block that now touches the top back into it.
      const last = this.freeList.at(-1);
      if (last && last.ptr + last.size === this.top) {
        this.top = last.ptr;
        this.freeList.pop();
      }
      return;
    }
    let lo = 0;
    let hi = this.freeList.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.freeList[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.freeList.splice(lo, 0, { ptr, size });
    this.coalesce(lo);
  }

  private coalesce(i: number): void {
    const cur = this.freeList[i]!;
    const next = this.freeList[i + 1];
    if (next && cur.ptr + cur.size === next.ptr) {
      cur.size += next.size;
      this.freeList.splice(i + 1, 1);
    }
    const prev = this.freeList[i - 1];
    if (prev && prev.ptr + prev.size === cur.ptr) {
      prev.size += cur.size;
      this.freeList.splice(i, 1);
    }
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
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}
