// RINGBUF: a multi-producer, single-consumer ring of variable-length records, as in the
// kernel (kernel/bpf/ringbuf.c). Programs reserve a record, fill it in place and submit
// or discard it (or output a copy in one go); a consumer in any thread drains submitted
// records, in order, to a JS callback. Each record has an 8-byte header: u32 length with
// bit 31 BUSY (reserved, not yet submitted) and bit 30 DISCARD, then a u32 (unused here).
// Records are 8-byte aligned. The kernel maps the data area twice so a record may wrap
// around its end; here the data area is allocated twice as long instead, so a record that
// starts near the end simply runs on into the second half and stays contiguous.
//
//   descriptor word 10 data   word 11 mask (size - 1)   word 12 consumer position
//              word 13 producer position   (positions are free-running u32 byte counters)
//
// Reservations hold the map's lock; submit/discard and the consumer use atomics only.

import { type SharedHeap, spinLock, unlock } from '../memory.js';
import { BaseMap, EINVAL, ENOMEM, EOPNOTSUPP } from './base.js';
import { D, type MapSpecLike } from './descriptor.js';

const DATA = D.F0;
const MASK = D.F1;
const CONS = D.F2;
const PROD = D.F3;

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;
/** BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP: accepted and ignored (the consumer polls). */
const WAKEUP_FLAGS = 3;
export const RINGBUF_QUERY = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;

export function initRingbuf(heap: SharedHeap, handle: number, spec: MapSpecLike): number {
  const data = heap.alloc(spec.maxEntries * 2, 4096);
  if (!data) return ENOMEM;
  const i32 = heap.view.i32;
  const w = handle >>> 2;
  i32[w + DATA] = data;
  i32[w + MASK] = spec.maxEntries - 1;
  i32[w + CONS] = 0;
  i32[w + PROD] = 0;
  return 0;
}

export class RingbufMap extends BaseMap {
  readonly data: number;
  readonly size: number;

  constructor(memory: WebAssembly.Memory, handle: number) {
    super(memory, handle);
    this.data = this.word(DATA);
    this.size = this.maxEntries;
  }

  /** Address of `size` writable bytes, or 0 if the ring has no room (bpf_ringbuf_reserve). */
  reserve(size: number, flags: number): number {
    if (flags !== 0 || size > this.size) return 0;
    const len = (size + HDR + 7) & ~7;
    if (len > this.size) return 0;
    const v = this.v;
    v.fresh();
    const i32 = v.i32;
    if (!spinLock(i32, this.w + D.LOCK)) return 0;
    try {
      const cons = Atomics.load(i32, this.w + CONS) >>> 0;
      const prod = i32[this.w + PROD]! >>> 0;
      // The kernel lets the producer run at most size - 1 bytes ahead of the consumer
      // (`new_prod_pos - cons_pos > rb->mask` fails), so with 8-byte records a ring is full
      // 8 bytes short of its size: 63 records of 64 bytes fit in 4096, not 64.
      if ((prod + len - cons) >>> 0 > this.size - 1) return 0;
      const hdr = this.data + (prod & (this.size - 1));
      i32[hdr >>> 2] = size | BUSY | 0;
      i32[(hdr + 4) >>> 2] = 0;
      Atomics.store(i32, this.w + PROD, (prod + len) | 0);
      return hdr + HDR;
    } finally {
      unlock(i32, this.w + D.LOCK);
    }
  }

  private commit(sample: number, discard: boolean): void {
    const v = this.v;
    v.fresh();
    const at = (sample - HDR) >>> 2;
    const len = (v.i32[at]! & ~(BUSY | DISCARD)) | (discard ? DISCARD : 0);
    Atomics.store(v.i32, at, len);
  }

  /** bpf_ringbuf_submit. */
  submit(sample: number, _flags = 0): void {
    this.commit(sample, false);
  }

  /** bpf_ringbuf_discard: the consumer skips the record. */
  discard(sample: number, _flags = 0): void {
    this.commit(sample, true);
  }

  /** bpf_ringbuf_output: copies `size` bytes at dataAddr as one record; 0 or -errno. */
  output(dataAddr: number, size: number, flags: number): number {
    if ((flags & ~WAKEUP_FLAGS) !== 0) return EINVAL;
    const sample = this.reserve(size, 0);
    if (!sample) return -11; // -EAGAIN, as the kernel
    this.v.ensure(dataAddr, size);
    this.v.u8.copyWithin(sample, dataAddr, dataAddr + size);
    this.submit(sample);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): bigint {
    const i32 = this.v.i32;
    const cons = Atomics.load(i32, this.w + CONS) >>> 0;
    const prod = Atomics.load(i32, this.w + PROD) >>> 0;
    switch (flags) {
      case RINGBUF_QUERY.AVAIL_DATA:
        return BigInt((prod - cons) >>> 0);
      case RINGBUF_QUERY.RING_SIZE:
        return BigInt(this.size);
      case RINGBUF_QUERY.CONS_POS:
        return BigInt(cons);
      case RINGBUF_QUERY.PROD_POS:
        return BigInt(prod);
      default:
        return 0n;
    }
  }

  /**
   * Hands every submitted record, in order, to `onRecord` (a copy of its bytes), stopping
   * at the first one still being written. Returns how many were delivered. One consumer
   * at a time.
   */
  drain(onRecord: (record: Uint8Array) => void, limit = Infinity): number {
    const v = this.v;
    v.fresh();
    let cons = Atomics.load(v.i32, this.w + CONS) >>> 0;
    let delivered = 0;
    while (delivered < limit) {
      const prod = Atomics.load(v.i32, this.w + PROD) >>> 0;
      if (cons === prod) break;
      const hdr = this.data + (cons & (this.size - 1));
      const word = Atomics.load(v.i32, hdr >>> 2) >>> 0;
      if (word & BUSY) break;
      const len = word & ~(BUSY | DISCARD);
      if (!(word & DISCARD)) {
        onRecord(v.u8.slice(hdr + HDR, hdr + HDR + len));
        delivered++;
      }
      cons = (cons + ((len + HDR + 7) & ~7)) >>> 0;
      Atomics.store(v.i32, this.w + CONS, cons | 0);
    }
    return delivered;
  }

  lookup(): number {
    return 0;
  }

  update(): number {
    return EOPNOTSUPP;
  }

  delete(): number {
    return EOPNOTSUPP;
  }

  getNextKey(): number {
    return EOPNOTSUPP;
  }

  override count(): number {
    return 0;
  }
}
