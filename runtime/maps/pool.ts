// Fixed-size nodes for one map (hash entries, trie nodes), carved lazily from the shared
// heap in chunks and recycled through a free list. The pool's state is six words of
// linear memory, so every thread sees the same pool; callers hold the map's lock.
//
//   word 0 free list head   word 1 next uncarved node   word 2 end of the current chunk
//   word 3 nodes carved     word 4 capacity (nodes)     word 5 node size
// A free node links to the next free node through its word at `link` bytes (chosen by the
// map so that lock-free readers still standing on a freed node keep a sane chain pointer).

import type { SharedHeap } from '../memory.js';
import { POOL_WORD } from '../../core/map-layout.js';

const { FREE, NEXT, END, CARVED, CAPACITY, SIZE } = POOL_WORD;

export function poolInit(i32: Int32Array, addr: number, nodeSize: number, capacity: number): void {
  const w = addr >>> 2;
  i32.fill(0, w, w + 6);
  i32[w + CAPACITY] = capacity;
  i32[w + SIZE] = nodeSize;
}

/** A zeroed-or-recycled node, or 0 when the pool is exhausted or memory cannot grow. */
export function poolAlloc(heap: SharedHeap, addr: number, link: number): number {
  const w = addr >>> 2;
  let i32 = heap.view.i32;
  const free = i32[w + FREE]! >>> 0;
  if (free) {
    i32[w + FREE] = i32[(free + link) >>> 2]!;
    return free;
  }
  let next = i32[w + NEXT]! >>> 0;
  const size = i32[w + SIZE]!;
  if (next === 0 || next >= i32[w + END]! >>> 0) {
    const carved = i32[w + CARVED]!;
    const capacity = i32[w + CAPACITY]!;
    const n = Math.min(capacity - carved, Math.max(64, Math.ceil(capacity / 16)));
    if (n <= 0) return 0;
    next = heap.alloc(n * size, 8);
    if (!next) return 0;
    i32 = heap.view.i32;
    i32[w + END] = next + n * size;
    i32[w + CARVED] = carved + n;
  }
  i32[w + NEXT] = next + size;
  return next;
}

export function poolFree(i32: Int32Array, addr: number, node: number, link: number): void {
  const w = addr >>> 2;
  i32[(node + link) >>> 2] = i32[w + FREE]!;
  i32[w + FREE] = node;
}
