// ARRAY and PERCPU_ARRAY: every element exists from creation (zeroed), keys are u32
// indexes. Storage is placed at compile time for the object's own maps (planMemory in
// compiler/abi.ts), because compiled code may compute `storage + key*valueStride
// (+ cpu*cpuStride)` itself; inner arrays created at run time get the same layout on the
// heap. Lookups and updates take no lock: like the kernel's arrays, a lookup may see a
// value half-written by a concurrent update.
//
//   descriptor word 10 storage   word 11 valueStride   word 12 cpuStride
//              word 13 offset + 1 of the value's bpf_spin_lock (0: none)
//
// A value with a bpf_spin_lock is copied around its lock word, as the kernel's
// copy_map_value does: an update never frees (or takes) a lock a program holds. With
// BPF_F_LOCK the copy is made holding the value's lock.

import { align } from '../../core/abi.js';
import { type SharedHeap } from '../memory.js';
import { BaseMap, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOMEM, FROM_USER, flagsOf } from './base.js';
import { spinLockFieldOf } from '../../core/spin-lock.js';
import { D, type MapSpecLike } from './descriptor.js';

const STORAGE = D.F0;
const STRIDE = D.F1;
const CPU_STRIDE = D.F2;
const LOCK = D.F3;

export interface ArrayPlacement {
  storage?: number;
  valueStride?: number;
  cpuStride?: number;
}

/** Fills the family words; allocates storage unless the compiler placed it. Returns 0 or -errno. */
export function initArray(heap: SharedHeap, handle: number, spec: MapSpecLike, cpus: number, place: ArrayPlacement): number {
  const valueStride = align(Math.max(spec.valueSize, 1), 8);
  const cpuStride = valueStride * spec.maxEntries;
  let storage = place.storage ?? 0;
  if (storage) {
    if (place.valueStride !== valueStride || (place.cpuStride ?? cpuStride) !== cpuStride) {
      throw new Error(
        `map ${spec.name}: placement stride ${place.valueStride}/${place.cpuStride} disagrees with ${valueStride}/${cpuStride}`,
      );
    }
  } else {
    storage = heap.alloc(cpuStride * cpus, 64);
    if (!storage) return ENOMEM;
  }
  const i32 = heap.view.i32;
  const w = handle >>> 2;
  i32[w + STORAGE] = storage;
  i32[w + STRIDE] = valueStride;
  i32[w + CPU_STRIDE] = cpuStride;
  const lock = cpus === 1 ? spinLockFieldOf(spec.value) : undefined;
  i32[w + LOCK] = lock ? lock.offset + 1 : 0;
  return 0;
}

export class ArrayMap extends BaseMap {
  readonly storage: number;
  readonly cpuStride: number;

  constructor(memory: WebAssembly.Memory, handle: number) {
    super(memory, handle);
    this.storage = this.word(STORAGE);
    this.cpuStride = this.word(CPU_STRIDE);
    this.lockOffset = this.word(LOCK) - 1;
  }

  /** Offset of the value's bpf_spin_lock, or -1. */
  readonly lockOffset: number;

  protected override valueLockAt(): number {
    return this.lockOffset;
  }

  /** Address of element `index` for `cpu`, or 0 when out of range. */
  at(index: number, cpu = 0): number {
    if (index >= this.maxEntries) return 0;
    return this.storage + index * this.valueStride + (this.cpus > 1 ? cpu * this.cpuStride : 0);
  }

  lookup(keyAddr: number, cpu: number): number {
    const v = this.v;
    v.ensure(keyAddr, 4);
    const index = v.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return 0;
    const slot = this.storage + index * this.valueStride;
    if (this.cpus === 1) return slot;
    return cpu >= 0 && cpu < this.cpus ? slot + cpu * this.cpuStride : 0;
  }

  update(keyAddr: number, valueAddr: number, flags: bigint | number, cpu: number): number {
    const f = flagsOf(flags);
    // The kernel's order: unknown flags, then the index, then NOEXIST, and only then F_LOCK.
    if ((f & ~BPF_F_LOCK) >>> 0 > BPF_EXIST) return EINVAL;
    const v = this.v;
    v.ensure(keyAddr, 4);
    v.ensure(valueAddr, this.userValueSize);
    const index = v.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return E2BIG;
    if (f & BPF_NOEXIST) return EEXIST;
    if (f & BPF_F_LOCK && this.lockOffset < 0) return EINVAL;
    const slot = this.storage + index * this.valueStride;
    const u8 = v.u8;
    if (this.lockOffset >= 0) return this.copyAroundLock(slot, valueAddr, this.lockOffset, (f & BPF_F_LOCK) !== 0);
    if (this.cpus === 1) {
      u8.copyWithin(slot, valueAddr, valueAddr + this.valueSize);
    } else if (cpu === FROM_USER) {
      for (let c = 0; c < this.cpus; c++) {
        const src = valueAddr + c * this.valueStride;
        u8.copyWithin(slot + c * this.cpuStride, src, src + this.valueSize);
      }
    } else {
      if (cpu < 0 || cpu >= this.cpus) return EINVAL;
      const dst = slot + cpu * this.cpuStride;
      u8.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    }
    return 0;
  }

  delete(): number {
    return EINVAL;
  }

  getNextKey(keyAddr: number, nextKeyAddr: number): number {
    return this.indexNextKey(keyAddr, nextKeyAddr);
  }

  override count(): number {
    return this.maxEntries;
  }

  protected override userValue(ptr: number): Uint8Array {
    if (this.cpus === 1) return this.v.u8.slice(ptr, ptr + this.valueSize);
    const out = new Uint8Array(this.userValueSize);
    for (let c = 0; c < this.cpus; c++) {
      const src = ptr + c * this.cpuStride;
      out.set(this.v.u8.subarray(src, src + this.valueStride), c * this.valueStride);
    }
    return out;
  }

  protected override reason(op: string, result: number): string | undefined {
    if (result === E2BIG) return `index out of range (max_entries ${this.maxEntries})`;
    if (result === EEXIST) return 'array elements always exist: BPF_NOEXIST cannot succeed';
    if (result === EINVAL && op === 'delete') return 'array elements cannot be deleted';
    return super.reason(op, result);
  }
}
