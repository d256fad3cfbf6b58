// The shared linear memory as the runtime sees it: cached typed-array views, a spin lock
// on a word of the memory, and a heap every thread can allocate from.
//
// Worker threads each have their own JS objects over the same SharedArrayBuffer, so
// nothing here keeps state in JS that another thread would need: the heap's cursor, its
// lock, the next free map descriptor and a growth generation live in a 64-byte header at
// `layout.heapBase`. Heap memory is never freed; maps recycle their own slots through free
// lists. All growth of the memory must go through `SharedHeap.alloc` (or `grow`), which
// bumps the generation word, so that every thread notices with a plain read of one word
// and refreshes its views; reading `memory.buffer` on every operation costs ~30 ns.

import { threadId } from 'node:worker_threads';
import { LOCK_SPIN_LIMIT } from '../core/map-layout.js';
import { type MemoryLayout, WASM_PAGE } from '../core/abi.js';

const HEAP_MAGIC = 0x50414548; // 'HEAP'
/** Word indexes (from the header address / 4) of the heap header. */
const H = { MAGIC: 0, LOCK: 1, GEN: 2, CURSOR: 3, DESC_NEXT: 4, DESC_BASE: 5, DESC_SIZE: 6, DESC_COUNT: 7, MAX_CPUS: 8 };
export const HEAP_HEADER_SIZE = 64;

/**
 * The token JS code of this thread writes into the locks it takes: negative, so it never
 * equals a compiled module's owner (its worker's CPU + 1, abi.ts lockOwnerOfCpu). JS
 * releases its locks in `finally`; the token says who held a lock if a thread died.
 */
export const JS_LOCK_OWNER = -(threadId + 1);

/**
 * Takes the spin lock in `i32[index]` (0 = free, else the owner's token). Gives up after
 * LOCK_SPIN_LIMIT attempts and returns false, so that a lock left behind by a dead owner
 * turns into -EBUSY instead of a hung thread.
 */
export function spinLock(i32: Int32Array, index: number, owner = JS_LOCK_OWNER): boolean {
  for (let i = 0; i < LOCK_SPIN_LIMIT; i++) {
    // Holders keep the lock for a few hundred instructions; spinning beats sleeping.
    if (Atomics.compareExchange(i32, index, 0, owner) === 0) return true;
  }
  return false;
}

export function tryLock(i32: Int32Array, index: number, owner = JS_LOCK_OWNER): boolean {
  return Atomics.compareExchange(i32, index, 0, owner) === 0;
}

/** Frees the lock only if `owner` holds it (releasing what a trapped run left behind). */
export function releaseIfOwned(i32: Int32Array, index: number, owner: number): boolean {
  return Atomics.compareExchange(i32, index, owner, 0) === owner;
}

export function unlock(i32: Int32Array, index: number): void {
  Atomics.store(i32, index, 0);
}

/**
 * This thread's views of one shared memory. `fresh()` is the cheap check every map
 * operation starts with; `ensure()` also covers growth by code that bypassed the heap.
 */
export class MemView {
  u8!: Uint8Array;
  dv!: DataView;
  i32!: Int32Array;
  u32!: Uint32Array;
  private gen = -1;
  private readonly genIndex: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly heapHeader: number,
  ) {
    this.genIndex = (heapHeader >>> 2) + H.GEN;
    this.refresh();
  }

  refresh(): void {
    const buffer = this.memory.buffer;
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
    this.i32 = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.gen = Atomics.load(this.i32, this.genIndex);
  }

  /** Refreshes the views if the memory grew since they were made. */
  fresh(): void {
    if (this.i32[this.genIndex] !== this.gen) this.refresh();
  }

  /** Like fresh(), and also refreshes if [addr, addr+size) lies beyond the current views. */
  ensure(addr: number, size: number): void {
    if (this.i32[this.genIndex] !== this.gen || addr + size > this.u8.length) this.refresh();
  }
}

const heaps = new WeakMap<WebAssembly.Memory, SharedHeap>();

/** The bump allocator over the shared memory; its state lives in the memory's heap header. */
export class SharedHeap {
  readonly view: MemView;
  private readonly w: number;
  private scratchAddr = 0;
  private scratchSize = 0;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly header: number,
  ) {
    this.view = new MemView(memory, header);
    this.w = header >>> 2;
    if (this.view.i32[this.w + H.MAGIC] !== HEAP_MAGIC) {
      throw new Error(`no heap header at ${header}: the memory was not initialised with SharedHeap.init`);
    }
  }

  /**
   * Writes the heap header at `layout.heapBase` (main thread, once per memory).
   * `staticDescriptors` descriptors are reserved for the object's own maps.
   */
  static init(memory: WebAssembly.Memory, layout: MemoryLayout, staticDescriptors: number): SharedHeap {
    const i32 = new Int32Array(memory.buffer);
    const w = layout.heapBase >>> 2;
    if (layout.heapBase % WASM_PAGE !== 0 || layout.heapBase + HEAP_HEADER_SIZE > memory.buffer.byteLength) {
      throw new Error(`heap base ${layout.heapBase} is not page-aligned inside the memory`);
    }
    if (Atomics.load(i32, w + H.MAGIC) !== HEAP_MAGIC) {
      i32[w + H.LOCK] = 0;
      i32[w + H.GEN] = 0;
      i32[w + H.CURSOR] = layout.heapBase + HEAP_HEADER_SIZE;
      i32[w + H.DESC_NEXT] = staticDescriptors;
      i32[w + H.DESC_BASE] = layout.descBase;
      i32[w + H.DESC_SIZE] = layout.descSize;
      i32[w + H.DESC_COUNT] = layout.descCount;
      i32[w + H.MAX_CPUS] = layout.maxCpus;
      Atomics.store(i32, w + H.MAGIC, HEAP_MAGIC);
    }
    return SharedHeap.open(memory, layout.heapBase);
  }

  /** This thread's heap object for a memory whose header is at `header`. */
  static open(memory: WebAssembly.Memory, header: number): SharedHeap {
    let heap = heaps.get(memory);
    if (!heap) {
      heap = new SharedHeap(memory, header);
      heaps.set(memory, heap);
    }
    return heap;
  }

  get maxCpus(): number {
    return this.view.i32[this.w + H.MAX_CPUS]!;
  }

  get descBase(): number {
    return this.view.i32[this.w + H.DESC_BASE]!;
  }

  get descSize(): number {
    return this.view.i32[this.w + H.DESC_SIZE]!;
  }

  get descCount(): number {
    return this.view.i32[this.w + H.DESC_COUNT]!;
  }

  /** Descriptors handed out so far (static maps first, then inner maps). */
  get descUsed(): number {
    return Math.min(Atomics.load(this.view.i32, this.w + H.DESC_NEXT), this.descCount);
  }

  /** Bytes handed out so far end here (for tests and statistics). */
  get cursor(): number {
    return this.view.u32[this.w + H.CURSOR]!;
  }

  /** Zeroed memory of `size` bytes aligned to `alignTo` (a power of two), or 0 if the memory cannot grow. */
  alloc(size: number, alignTo = 8): number {
    const { i32 } = this.view;
    if (!spinLock(i32, this.w + H.LOCK)) return 0;
    try {
      const start = (((i32[this.w + H.CURSOR]! >>> 0) + alignTo - 1) & ~(alignTo - 1)) >>> 0;
      const end = start + size;
      if (end > 2 ** 32) return 0;
      if (!this.growTo(end)) return 0;
      this.view.i32[this.w + H.CURSOR] = end | 0;
      return start;
    } finally {
      unlock(this.view.i32, this.w + H.LOCK);
    }
  }

  /** A free map descriptor's address, or 0 when the table is full. */
  allocDescriptor(): number {
    const { i32 } = this.view;
    const index = Atomics.add(i32, this.w + H.DESC_NEXT, 1);
    if (index >= this.descCount) {
      Atomics.sub(i32, this.w + H.DESC_NEXT, 1);
      return 0;
    }
    return this.descBase + index * this.descSize;
  }

  /**
   * A per-thread scratch area of at least `size` bytes (for copying control-plane keys
   * and values into linear memory). Reused by every call in this thread.
   */
  scratch(size: number): number {
    if (size > this.scratchSize) {
      const want = Math.max(size, 4096);
      const addr = this.alloc(want, 64);
      if (!addr) return 0;
      this.scratchAddr = addr;
      this.scratchSize = want;
    }
    return this.scratchAddr;
  }

  /** Grows the memory so that addresses below `end` exist; bumps the generation. Call with the lock held. */
  private growTo(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
      } catch {
        return false;
      }
      const i32 = new Int32Array(this.memory.buffer);
      Atomics.add(i32, this.w + H.GEN, 1);
    }
    this.view.fresh();
    return true;
  }
}
