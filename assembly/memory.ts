// Arena allocator over linear memory.
//
// Kernels never create managed AssemblyScript objects: all data lives in
// blocks handed out here and addressed by raw pointers. The host keeps the
// resident closure at the bottom of the arena and releases everything above a
// mark when a computation ends, so memory is reused without a free list.
// The AS runtime (stub) is never used by kernels, so its heap does not overlap.

const ALIGN: usize = 16;
const PAGE: usize = 65536;

let top: usize = (__heap_base + ALIGN - 1) & ~(ALIGN - 1);

/** Returns a 16-byte aligned block of `bytes`, or 0 when memory cannot grow. */
export function alloc(bytes: usize): usize {
  const start = top;
  // wasm32 addresses stop at 4 GiB; refuse instead of wrapping around. The
  // check comes before the addition: start + bytes may overflow u32
  // (alloc(0xFFFFFFFF) used to return `start` for a zero-sized block).
  if (bytes > <usize>0xFFFF0000 - start) return 0;
  const end = (start + bytes + ALIGN - 1) & ~(ALIGN - 1);
  const have = (<usize>memory.size()) * PAGE;
  if (end > have) {
    const pages = <i32>((end - have + PAGE - 1) / PAGE);
    if (memory.grow(pages) < 0) return 0;
  }
  top = end;
  return start;
}

/** Current arena top; pass it to `release` to free everything allocated after. */
export function mark(): usize {
  return top;
}

export function release(to: usize): void {
  if (to <= top) top = to;
}

/** Fills `bytes` bytes at `ptr` with `value`. */
export function fill(ptr: usize, value: u8, bytes: usize): void {
  memory.fill(ptr, value, bytes);
}
