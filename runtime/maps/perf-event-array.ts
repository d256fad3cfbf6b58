// PERF_EVENT_ARRAY: per-CPU buffers of records that bpf_perf_event_output writes and a
// reader drains, as the kernel's BPF_PERF_OUTPUT perf events with libbpf's perf_buffer on
// top (kernel/events/ring_buffer.c, kernel/trace/bpf_trace.c). In the kernel, slot i holds
// a perf event that userspace opened on CPU i; here slot i is a buffer owned by the worker
// running as CPU i, opened when the map is created for every CPU the module runs on
// (a reader may reopen it with another size, or close it, as a reader of the kernel's would).
//
// Each buffer is a ring of 8-byte aligned records with free-running head (producer) and
// tail (consumer) positions, the kernel's perf ring: a sample is a perf_event_header
// {u32 type = PERF_RECORD_SAMPLE, u16 misc, u16 size}, a u32 raw size and the raw bytes
// padded so that size and bytes end on 8 bytes. A record that does not fit fails with
// -ENOSPC and counts as lost; the next record that fits is preceded by a PERF_RECORD_LOST
// {header, u64 id, u64 lost} with the count. At most size - 1 bytes are ever in use
// (CIRC_SPACE). The data area is allocated twice as long, so records never wrap.
//
//   descriptor word 10  slot table: per slot 4 words {data, size, head, tail} + 4 {lost, open, 0, 0}

import type { SharedHeap } from '../memory.js';
import { BaseMap, E2BIG, ENOENT, ENOMEM, ENOSPC, EOPNOTSUPP } from './base.js';
import { D, type MapSpecLike } from './descriptor.js';

const SLOTS = D.F0;
const SLOT_WORDS = 8;
const S = { DATA: 0, SIZE: 1, HEAD: 2, TAIL: 3, LOST: 4, OPEN: 5 } as const;
/** Bytes per buffer when the map is created (libbpf users commonly ask for 8 pages). */
export const PERF_BUFFER_DEFAULT = 8 * 4096;
const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
const LOST_SIZE = 24;

export type PerfRecord = { cpu: number; data: Uint8Array } | { cpu: number; lost: number };

export function initPerfEventArray(heap: SharedHeap, handle: number, spec: MapSpecLike): number {
  const slots = Math.min(spec.maxEntries, heap.maxCpus);
  const table = heap.alloc(Math.max(slots, 1) * SLOT_WORDS * 4, 8);
  if (!table) return ENOMEM;
  heap.view.i32.fill(0, table >>> 2, (table >>> 2) + slots * SLOT_WORDS);
  heap.view.i32[(handle >>> 2) + SLOTS] = table;
  for (let i = 0; i < slots; i++) if (openSlot(heap, table, i, PERF_BUFFER_DEFAULT) < 0) return ENOMEM;
  return 0;
}

function openSlot(heap: SharedHeap, table: number, index: number, size: number): number {
  const data = heap.alloc(size * 2, 4096);
  if (!data) return ENOMEM;
  const i32 = heap.view.i32;
  const w = (table >>> 2) + index * SLOT_WORDS;
  Atomics.store(i32, w + S.OPEN, 0);
  i32[w + S.DATA] = data;
  i32[w + S.SIZE] = size;
  i32[w + S.HEAD] = 0;
  i32[w + S.TAIL] = 0;
  i32[w + S.LOST] = 0;
  Atomics.store(i32, w + S.OPEN, 1);
  return 0;
}

export class PerfEventArrayMap extends BaseMap {
  private readonly table: number;
  /** Slots that can hold a buffer: one per CPU the module runs on, at most max_entries. */
  readonly slots: number;

  constructor(memory: WebAssembly.Memory, handle: number) {
    super(memory, handle);
    this.table = this.word(SLOTS);
    this.slots = Math.min(this.maxEntries, this.heap.maxCpus);
  }

  private slotWord(index: number, field: number): number {
    return (this.table >>> 2) + index * SLOT_WORDS + field;
  }

  /** A new, empty buffer of `size` bytes (a power of two, at least a page) for slot `index`. */
  open(index: number, size: number): void {
    if (!(index >= 0 && index < this.slots)) this.fail('open', 'E2BIG', `slot ${index} is beyond the ${this.slots} CPUs' slots`);
    if (size < 4096 || size & (size - 1))
      this.fail('open', 'EINVAL', `a perf buffer is a power of two of at least 4096 bytes, not ${size}`);
    if (openSlot(this.heap, this.table, index, size) < 0) this.fail('open', 'ENOMEM', 'out of linear memory for the buffer');
  }

  /** Empties slot `index`: outputs to it fail with -ENOENT, as to a slot with no perf event. */
  close(index: number): void {
    if (index >= 0 && index < this.slots) Atomics.store(this.v.i32, this.slotWord(index, S.OPEN), 0);
  }

  /**
   * bpf_perf_event_output's write (the helper checked the flags): `index` is the slot
   * (BPF_F_CURRENT_CPU already replaced by `cpu`), the raw bytes are `parts` in order.
   */
  output(index: number, cpu: number, parts: Uint8Array[]): number {
    if (index >= this.maxEntries) return E2BIG;
    const v = this.v;
    v.fresh();
    const i32 = v.i32;
    if (index >= this.slots || Atomics.load(i32, this.slotWord(index, S.OPEN)) === 0) return ENOENT;
    if (index !== cpu) return EOPNOTSUPP; // the slot's event is on another CPU
    const size = i32[this.slotWord(index, S.SIZE)]! >>> 0;
    const head = i32[this.slotWord(index, S.HEAD)]! >>> 0;
    const tail = Atomics.load(i32, this.slotWord(index, S.TAIL)) >>> 0;
    const lost = i32[this.slotWord(index, S.LOST)]! >>> 0;
    const raw = parts.reduce((n, p) => n + p.length, 0);
    const rawSize = ((raw + 4 + 7) & ~7) - 4;
    const sample = 8 + 4 + rawSize;
    const need = sample + (lost ? LOST_SIZE : 0);
    const space = (tail - head - 1) & (size - 1);
    if (need > space) {
      i32[this.slotWord(index, S.LOST)] = (lost + 1) | 0;
      return ENOSPC;
    }
    const data = i32[this.slotWord(index, S.DATA)]! >>> 0;
    let at = data + (head & (size - 1));
    const dv = v.dv;
    if (lost) {
      dv.setUint32(at, PERF_RECORD_LOST, true);
      dv.setUint16(at + 4, 0, true);
      dv.setUint16(at + 6, LOST_SIZE, true);
      dv.setBigUint64(at + 8, BigInt(index), true); // the event id: one event per slot
      dv.setBigUint64(at + 16, BigInt(lost), true);
      at += LOST_SIZE;
      i32[this.slotWord(index, S.LOST)] = 0;
    }
    dv.setUint32(at, PERF_RECORD_SAMPLE, true);
    dv.setUint16(at + 4, 0, true);
    dv.setUint16(at + 6, sample, true);
    dv.setUint32(at + 8, rawSize, true);
    let p = at + 12;
    for (const part of parts) {
      v.u8.set(part, p);
      p += part.length;
    }
    v.u8.fill(0, p, at + sample);
    Atomics.store(i32, this.slotWord(index, S.HEAD), (head + need) | 0);
    return 0;
  }

  /**
   * Every record written since the last drain, slot by slot (as libbpf's
   * perf_buffer__consume): samples with their raw bytes (padded, as the kernel delivers
   * them) and lost counts. The producers get the room back. One reader at a time.
   */
  drain(onRecord: (record: PerfRecord) => void): number {
    const v = this.v;
    v.fresh();
    const i32 = v.i32;
    let delivered = 0;
    for (let index = 0; index < this.slots; index++) {
      if (Atomics.load(i32, this.slotWord(index, S.OPEN)) === 0) continue;
      const size = i32[this.slotWord(index, S.SIZE)]! >>> 0;
      const data = i32[this.slotWord(index, S.DATA)]! >>> 0;
      const head = Atomics.load(i32, this.slotWord(index, S.HEAD)) >>> 0;
      let tail = Atomics.load(i32, this.slotWord(index, S.TAIL)) >>> 0;
      while (tail !== head) {
        const at = data + (tail & (size - 1));
        const type = v.dv.getUint32(at, true);
        const length = v.dv.getUint16(at + 6, true);
        if (type === PERF_RECORD_SAMPLE) onRecord({ cpu: index, data: v.u8.slice(at + 12, at + 12 + v.dv.getUint32(at + 8, true)) });
        else if (type === PERF_RECORD_LOST) onRecord({ cpu: index, lost: Number(v.dv.getBigUint64(at + 16, true)) });
        delivered++;
        tail = (tail + length) >>> 0;
      }
      Atomics.store(i32, this.slotWord(index, S.TAIL), tail | 0);
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

  getNextKey(keyAddr: number, nextKeyAddr: number): number {
    return this.indexNextKey(keyAddr, nextKeyAddr);
  }

  override count(): number {
    return 0;
  }
}
