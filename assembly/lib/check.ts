// Assertions for the debug module (compiled out of the release modules by noAssert): pointer alignment
// and sizes that the TypeScript side guarantees, so a binding bug fails loudly instead of reading garbage.

/** Pointers from the arena are 16-byte aligned; element pointers at least 4. */
@inline export function assertPtr(ptr: usize, what: string): void {
  assert((ptr & 3) == 0, what);
}

@inline export function assertCount(n: i32, what: string): void {
  assert(n >= 0, what);
}
