// The hash family: HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH, HASH_OF_MAPS and
// DEVMAP_HASH, all in linear memory. A power-of-two table of bucket heads (u32 entry
// addresses, 0 = empty) chains entries laid out as (core/map-layout.ts HASH_ENTRY)
//
//   +0 chain next   +4 hash   +8 list prev (-1 once freed)   +12 list next / free-list link
//   +16 LRU ref, type, cpu (LRU maps)   +24 key (padded to 8)
//   then the value, padded to 8, once per CPU for per-CPU maps
//
//   descriptor word 10 buckets   word 11 bucket mask   word 12 entry size
//              word 13 pool (pool.ts)   word 14 LRU state (lru.ts)
//
// Updates and deletes hold the map's spin lock. Lookups take no lock, as the kernel's RCU
// lookups do; an entry is published by an atomic store of its address into the chain
// after it is complete. Races accepted (as with the kernel's preallocated hash maps, which
// also reuse freed elements at once): a lookup racing with the deletion and reuse of the
// entry it is standing on may miss, or may return the reused entry's value; a lookup
// racing with an in-place value update may read a half-written value.
//
// LRU maps follow the kernel's LRU (lru.ts) and its hashtab.c update order: an update
// takes a node first (which may evict, even the key being updated), then looks the key up;
// LRU_HASH replaces an existing entry by the new node (marked referenced), LRU_PERCPU_HASH
// updates it in place (and BPF_EXIST takes no node). A program's lookup sets the entry's
// reference bit; the control plane's does not. Control-plane updates run as CPU 0.
//
// A HASH value with a bpf_spin_lock (only HASH may have one, as in the kernel) is copied
// around its lock word, as the kernel's copy_map_value does: an update of an existing key
// never frees or takes a lock a program holds (the kernel swaps in a new element whose lock
// is free; here the entry is updated in place, its lock word left alone), and a new entry's
// lock is free. BPF_F_LOCK updates an existing key's value holding that lock
// (copy_map_value_locked) and inserts a missing key as a plain update does.

import { HASH_DESC, HASH_ENTRY, HASH_ENTRY_DEAD } from '../../core/map-layout.js';
import { initLru, Lru, lruNodes, lruStateBytes } from './lru.js';
import { align } from '../../core/abi.js';
import { MAP_FLAG, MAP_TYPE, isLru, type MapShape } from '../../core/map-types.js';
import { innerMapMismatch, readInnerTemplate } from './inner-template.js';
import { type SharedHeap, spinLock, unlock } from '../memory.js';
import {
  BaseMap,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_NOEXIST,
  E2BIG,
  EBUSY,
  EEXIST,
  EINVAL,
  ENOENT,
  ENOMEM,
  FROM_USER,
  flagsOf,
  hashKey,
  keysEqual,
} from './base.js';
import { D, isPublished, type MapSpecLike } from './descriptor.js';
import { poolAlloc, poolFree, poolInit } from './pool.js';
import { POOL_BYTES } from '../../core/map-layout.js';
import { checkProgramWord, missingDevice } from './redirect-value.js';
import { spinLockFieldOf } from '../../core/spin-lock.js';

// The layout is part of the ABI (compiler/abi.ts): compiled modules look entries up too.
const { BUCKETS, MASK, ENTRY_SIZE, POOL, LRU: LRU_STATE_WORD } = HASH_DESC;
const { NEXT: E_NEXT, HASH: E_HASH, PREV: E_PREV, LNEXT: E_LNEXT, KEY: E_KEY, LRU_REF: E_REF } = HASH_ENTRY;
const DEAD = HASH_ENTRY_DEAD;

function entrySize(spec: MapSpecLike, cpus: number): number {
  return E_KEY + align(spec.keySize, 8) + cpus * align(Math.max(spec.valueSize, 1), 8);
}

/** Whether an LRU map keeps one LRU per CPU (BPF_F_NO_COMMON_LRU) rather than a common one. */
const perCpuLru = (spec: MapShape): boolean => (spec.flags & MAP_FLAG.NO_COMMON_LRU) !== 0;

/** `cpus`: values per entry; `lruCpus`: the CPUs an LRU map's lists are kept for. */
export function initHash(heap: SharedHeap, handle: number, spec: MapSpecLike, cpus: number, lruCpus = heap.maxCpus): number {
  let buckets = 1;
  while (buckets < spec.maxEntries) buckets *= 2;
  const lru = isLru(spec.type);
  const lruBytes = lru ? lruStateBytes(perCpuLru(spec), lruCpus) : 0;
  const lock = spec.type === MAP_TYPE.HASH ? spinLockFieldOf(spec.value) : undefined;
  // HASH: a spare entry per CPU and one for the control plane (HashMap.replace).
  const spares = spec.type === MAP_TYPE.HASH ? heap.maxCpus + 1 : 0;
  const block = heap.alloc(POOL_BYTES + 8 + buckets * 4 + lruBytes + spares * 4, 64);
  if (!block) return ENOMEM;
  const i32 = heap.view.i32;
  const size = entrySize(spec, cpus);
  const nodes = lru ? lruNodes(perCpuLru(spec), spec.maxEntries, lruCpus) : spec.maxEntries + spares;
  poolInit(i32, block, size, nodes);
  const w = handle >>> 2;
  i32[w + BUCKETS] = block + POOL_BYTES + 8;
  i32[w + MASK] = buckets - 1;
  i32[w + ENTRY_SIZE] = size;
  i32[w + POOL] = block;
  if (spares) {
    // Every spare is taken now, as the kernel's alloc_extra_elems does at map creation: a
    // replace then never needs the pool (a full map still replaces, and a program that
    // traps while it corrupts the pool's free list leaves later replaces unharmed).
    const at = block + POOL_BYTES + 8 + buckets * 4;
    for (let i = 0; i < spares; i++) {
      const node = poolAlloc(heap, block, E_LNEXT);
      if (!node) return ENOMEM;
      heap.view.i32[(at >>> 2) + i] = node; // the heap may have grown: a fresh view
    }
    heap.view.i32[w + HASH_DESC.SPARES] = at;
  }
  if (lru) {
    const state = block + POOL_BYTES + 8 + buckets * 4;
    initLru(i32, state, perCpuLru(spec), lruCpus, nodes);
    i32[w + LRU_STATE_WORD] = state;
  }
  i32[w + HASH_DESC.SPIN_LOCK] = lock ? lock.offset + 1 : 0;
  return 0;
}

export class HashMap extends BaseMap {
  readonly buckets: number;
  readonly mask: number;
  readonly pool: number;
  readonly lru: boolean;
  /** LRU maps: their kernel-style LRU (lru.ts). */
  private readonly kernelLru?: Lru;
  private readonly valueOff: number;
  private readonly userOnly: boolean;
  private readonly ofMaps: boolean;
  /** HASH_OF_MAPS: what a map must be to go into a slot. */
  private readonly innerTemplate?: MapShape;
  /** Offset of the value's bpf_spin_lock, or -1. */
  readonly lockOffset: number;
  /** HASH: the spare entries' words (HASH_DESC.SPARES), one per CPU then the control plane's; else 0. */
  private readonly spares: number;

  constructor(memory: WebAssembly.Memory, handle: number) {
    super(memory, handle);
    this.buckets = this.word(BUCKETS);
    this.mask = this.word(MASK);
    this.pool = this.word(POOL);
    this.lru = isLru(this.spec.type);
    this.valueOff = E_KEY + align(this.keySize, 8);
    this.ofMaps = this.spec.type === MAP_TYPE.HASH_OF_MAPS;
    this.userOnly = this.ofMaps || this.spec.type === MAP_TYPE.DEVMAP_HASH;
    this.lockOffset = this.word(HASH_DESC.SPIN_LOCK) - 1;
    this.spares = this.spec.type === MAP_TYPE.HASH ? this.word(HASH_DESC.SPARES) : 0;
    const template = this.ofMaps ? this.word(HASH_DESC.INNER_TEMPLATE) : 0;
    if (template) this.innerTemplate = readInnerTemplate(this.v.i32, template);
    if (this.lru) {
      this.kernelLru = new Lru(this.v, this.word(LRU_STATE_WORD), {
        carve: () => poolAlloc(this.heap, this.pool, E_LNEXT),
        unhash: (e) => this.unhash(e),
      });
    }
  }

  /** The entry holding the key at keyAddr, or 0. Lock-free. */
  private find(keyAddr: number, hash: number): number {
    const v = this.v;
    const i32 = v.i32;
    let e = Atomics.load(i32, (this.buckets >>> 2) + (hash & this.mask)) >>> 0;
    while (e) {
      if (i32[(e + E_HASH) >>> 2] === (hash | 0) && keysEqual(v, keyAddr, e + E_KEY, this.keySize)) return e;
      e = i32[(e + E_NEXT) >>> 2]! >>> 0;
    }
    return 0;
  }

  lookup(keyAddr: number, cpu: number): number {
    const v = this.v;
    v.ensure(keyAddr, this.keySize);
    const e = this.find(keyAddr, hashKey(v, keyAddr, this.keySize));
    if (!e) return 0;
    // The kernel's bpf_lru_node_set_ref: a plain store, no lock; rotation reads it later.
    if (this.lru && v.u8[e + E_REF] === 0) v.u8[e + E_REF] = 1;
    if (this.ofMaps) return v.u32[(e + this.valueOff) >>> 2]!;
    if (this.cpus === 1) return e + this.valueOff;
    return cpu >= 0 && cpu < this.cpus ? e + this.valueOff + cpu * this.valueStride : 0;
  }

  protected override userLookup(keyAddr: number): number {
    const v = this.v;
    v.fresh();
    const e = this.find(keyAddr, hashKey(v, keyAddr, this.keySize));
    return e ? e + this.valueOff : 0;
  }

  /** The u32 value stored under the u32 key `key` (devmap_hash redirects), or -1. */
  target(key: number): number {
    const ptr = this.targetValue(key);
    return ptr ? this.v.u32[ptr >>> 2]! : -1;
  }

  /** The second u32 of the value under u32 key `key` (a devmap_hash entry's program id), or 0. */
  programId(key: number): number {
    const ptr = this.valueSize >= 8 ? this.targetValue(key) : 0;
    return ptr ? this.v.u32[(ptr + 4) >>> 2]! : 0;
  }

  private targetValue(key: number): number {
    const s = this.scratch();
    this.v.dv.setUint32(s.key, key >>> 0, true);
    return this.userLookup(s.key);
  }

  /** Removes `e` from its bucket chain (lock held); false if it is not in it. */
  private chainUnlink(e: number): boolean {
    const i32 = this.v.i32;
    const hash = i32[(e + E_HASH) >>> 2]! >>> 0;
    let slot = (this.buckets >>> 2) + (hash & this.mask);
    let cur = i32[slot]! >>> 0;
    while (cur && cur !== e) {
      slot = (cur + E_NEXT) >>> 2;
      cur = i32[slot]! >>> 0;
    }
    if (!cur) return false;
    Atomics.store(i32, slot, i32[(e + E_NEXT) >>> 2]!);
    return true;
  }

  /** LRU eviction (kernel: htab_lru_map_delete_node): the entry leaves the table; its node stays with the LRU. */
  private unhash(e: number): boolean {
    if (!this.chainUnlink(e)) return false;
    const i32 = this.v.i32;
    i32[(e + E_HASH) >>> 2] = ~i32[(e + E_HASH) >>> 2]!;
    Atomics.sub(i32, this.w + D.COUNT, 1);
    return true;
  }

  /** Links a complete entry into its bucket chain (lock held): an atomic store publishes it. */
  private chainPublish(e: number, hash: number): void {
    const i32 = this.v.i32;
    const bucket = (this.buckets >>> 2) + (hash & this.mask);
    i32[(e + E_NEXT) >>> 2] = i32[bucket]!;
    Atomics.store(i32, bucket, e);
    Atomics.add(i32, this.w + D.COUNT, 1);
  }

  protected override valueLockAt(): number {
    return this.lockOffset;
  }

  update(keyAddr: number, valueAddr: number, flags: bigint | number, cpu: number): number {
    const all = flagsOf(flags);
    // The kernel's order: unknown flags, then BPF_F_LOCK on a value without a lock.
    if ((all & ~BPF_F_LOCK) >>> 0 > BPF_EXIST) return EINVAL;
    if (all & BPF_F_LOCK && this.lockOffset < 0) return EINVAL;
    const f = all & ~BPF_F_LOCK;
    if (this.userOnly && cpu !== FROM_USER) return EINVAL;
    const v = this.v;
    v.ensure(keyAddr, this.keySize);
    v.ensure(valueAddr, this.userValueSize);
    if (this.ofMaps) {
      const inner = v.dv.getUint32(valueAddr, true);
      if (!isPublished(v.i32, inner)) return EINVAL;
      this.refusal = this.innerTemplate ? innerMapMismatch(v.i32, this.innerTemplate, inner) : undefined;
      if (this.refusal) return EINVAL;
    }
    if (this.cpus > 1 && cpu !== FROM_USER && (cpu < 0 || cpu >= this.cpus)) return EINVAL;
    if (this.spec.type === MAP_TYPE.DEVMAP_HASH) {
      // __dev_map_hash_update_elem: a device is required; a program must be a devmap one.
      const ifindex = v.dv.getUint32(valueAddr, true);
      if (ifindex === 0) return EINVAL;
      this.refusal = missingDevice(ifindex);
      if (this.refusal) return EINVAL;
      if (this.valueSize >= 8 && checkProgramWord(this.memory, v.dv, valueAddr, MAP_TYPE.DEVMAP_HASH)) {
        this.refusal = "the value's program must be one in an xdp/devmap section";
        return EINVAL;
      }
    }
    const hash = hashKey(v, keyAddr, this.keySize);
    if (!spinLock(v.i32, this.w + D.LOCK)) return EBUSY;
    try {
      return this.updateLocked(keyAddr, valueAddr, f, cpu, hash, (all & BPF_F_LOCK) !== 0);
    } finally {
      unlock(this.v.i32, this.w + D.LOCK);
    }
  }

  private updateLocked(keyAddr: number, valueAddr: number, f: number, cpu: number, hash: number, valueLocked: boolean): number {
    if (this.kernelLru)
      return this.cpus === 1 ? this.lruUpdate(keyAddr, valueAddr, f, cpu, hash) : this.lruPercpuUpdate(keyAddr, valueAddr, f, cpu, hash);
    let e = this.find(keyAddr, hash);
    if (e) {
      if (f === BPF_NOEXIST) return EEXIST;
      if (valueLocked) return this.copyAroundLock(e + this.valueOff, valueAddr, this.lockOffset, true);
      if (this.spares) return this.replace(e, keyAddr, valueAddr, cpu, hash);
      this.writeValue(e, valueAddr, cpu, false);
      return 0;
    }
    if (f === BPF_EXIST) return ENOENT;
    if (Atomics.load(this.v.i32, this.w + D.COUNT) >= this.maxEntries) return E2BIG;
    e = poolAlloc(this.heap, this.pool, E_LNEXT);
    if (!e) return ENOMEM;
    const v = this.v;
    v.u8.copyWithin(e + E_KEY, keyAddr, keyAddr + this.keySize);
    v.i32[(e + E_HASH) >>> 2] = hash;
    this.writeValue(e, valueAddr, cpu, true);
    // A new entry's lock is free, whatever the value passed in holds there.
    if (this.lockOffset >= 0) v.i32[(e + this.valueOff + this.lockOffset) >>> 2] = 0;
    v.i32[(e + E_PREV) >>> 2] = 0;
    v.i32[(e + E_LNEXT) >>> 2] = 0;
    this.chainPublish(e, hash);
    return 0;
  }

  /**
   * An existing key of a HASH, updated without BPF_F_LOCK, as the kernel's
   * htab_map_update_elem does it: the value goes into another entry, which takes the old
   * one's place at the head of the bucket, and the old entry becomes the updating CPU's
   * spare (the kernel's extra_elems), which that CPU's next such update fills. So a program
   * still holding the old value's pointer reads the old value (and its lock is another
   * lock) until then; a new key never takes a spare. A value's lock word is left as that
   * entry last had it, as copy_map_value leaves it (free: locks are released before a
   * program ends). Compiled updates do the same (codegen-maps.ts). Every spare is filled at
   * creation (initHash), so the pool and in-place fallbacks below are for a slot that
   * somehow lost its entry, never the normal path.
   */
  private replace(old: number, keyAddr: number, valueAddr: number, cpu: number, hash: number): number {
    const spare = (this.spares + 4 * (cpu >= 0 && cpu < this.heap.maxCpus ? cpu : this.heap.maxCpus)) >>> 2;
    let e = this.v.i32[spare]! >>> 0;
    if (!e) {
      e = poolAlloc(this.heap, this.pool, E_LNEXT);
      if (e && this.lockOffset >= 0) this.v.i32[(e + this.valueOff + this.lockOffset) >>> 2] = 0;
    }
    if (!e) {
      if (this.lockOffset >= 0) return this.copyAroundLock(old + this.valueOff, valueAddr, this.lockOffset, false);
      this.writeValue(old, valueAddr, cpu, false);
      return 0;
    }
    const i32 = this.v.i32;
    this.v.u8.copyWithin(e + E_KEY, keyAddr, keyAddr + this.keySize);
    i32[(e + E_HASH) >>> 2] = hash;
    i32[(e + E_PREV) >>> 2] = 0;
    i32[(e + E_LNEXT) >>> 2] = 0;
    if (this.lockOffset >= 0) this.copyAroundLock(e + this.valueOff, valueAddr, this.lockOffset, false);
    else this.writeValue(e, valueAddr, cpu, true);
    this.chainPublish(e, hash);
    this.chainUnlink(old);
    // Readers standing on the old entry walk on (its next link stays) but no longer match it.
    i32[(old + E_PREV) >>> 2] = DEAD;
    i32[(old + E_HASH) >>> 2] = ~hash;
    Atomics.sub(i32, this.w + D.COUNT, 1);
    i32[spare] = old;
    return 0;
  }

  /** The LRU's CPU for an update from `cpu` (the control plane runs as CPU 0). */
  private lruCpu(cpu: number): number {
    return cpu >= 0 && cpu < this.kernelLru!.cpus ? cpu : 0;
  }

  /** LRU_HASH (kernel: htab_lru_map_update_elem): a new node always, the old entry freed. */
  private lruUpdate(keyAddr: number, valueAddr: number, f: number, cpu: number, hash: number): number {
    const lru = this.kernelLru!;
    const e = lru.popFree(this.lruCpu(cpu), hash);
    if (!e) return ENOMEM;
    const v = this.v;
    v.u8.copyWithin(e + E_KEY, keyAddr, keyAddr + this.keySize);
    this.writeValue(e, valueAddr, cpu, true);
    const old = this.find(keyAddr, hash);
    const refused = old ? (f === BPF_NOEXIST ? EEXIST : 0) : f === BPF_EXIST ? ENOENT : 0;
    if (refused) {
      lru.pushFree(e);
      return refused;
    }
    v.i32[(e + E_HASH) >>> 2] = hash;
    this.chainPublish(e, hash);
    if (old) {
      v.u8[e + E_REF] = 1;
      this.unhash(old);
      lru.pushFree(old);
    }
    return 0;
  }

  /** LRU_PERCPU_HASH (kernel: __htab_lru_percpu_map_update_elem): in place when present. */
  private lruPercpuUpdate(keyAddr: number, valueAddr: number, f: number, cpu: number, hash: number): number {
    const lru = this.kernelLru!;
    let e = 0;
    if (f !== BPF_EXIST) {
      e = lru.popFree(this.lruCpu(cpu), hash);
      if (!e) return ENOMEM;
    }
    const old = this.find(keyAddr, hash);
    const refused = old ? (f === BPF_NOEXIST ? EEXIST : 0) : f === BPF_EXIST ? ENOENT : 0;
    if (!refused && old) {
      this.v.u8[old + E_REF] = 1;
      this.writeValue(old, valueAddr, cpu, false);
    } else if (!refused) {
      const v = this.v;
      v.u8.copyWithin(e + E_KEY, keyAddr, keyAddr + this.keySize);
      v.i32[(e + E_HASH) >>> 2] = hash;
      this.writeValue(e, valueAddr, cpu, true);
      this.chainPublish(e, hash);
      e = 0;
    }
    if (e) lru.pushFree(e);
    return refused;
  }

  /** Copies the value in: every CPU's from the control plane, else one CPU's (others zeroed when new). */
  private writeValue(e: number, valueAddr: number, cpu: number, fresh: boolean): void {
    const u8 = this.v.u8;
    const dst = e + this.valueOff;
    if (this.cpus === 1) {
      u8.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    } else if (cpu === FROM_USER) {
      u8.copyWithin(dst, valueAddr, valueAddr + this.cpus * this.valueStride);
    } else {
      if (fresh) u8.fill(0, dst, dst + this.cpus * this.valueStride);
      const at = dst + cpu * this.valueStride;
      u8.copyWithin(at, valueAddr, valueAddr + this.valueSize);
    }
  }

  delete(keyAddr: number, fromUser = false): number {
    if (this.userOnly && !fromUser) return EINVAL;
    const v = this.v;
    v.ensure(keyAddr, this.keySize);
    const hash = hashKey(v, keyAddr, this.keySize);
    if (!spinLock(v.i32, this.w + D.LOCK)) return EBUSY;
    try {
      const e = this.find(keyAddr, hash);
      if (!e) return ENOENT;
      if (this.kernelLru) {
        this.unhash(e);
        this.kernelLru.pushFree(e);
        return 0;
      }
      const i32 = this.v.i32;
      this.chainUnlink(e);
      i32[(e + E_PREV) >>> 2] = DEAD;
      i32[(e + E_HASH) >>> 2] = ~hash;
      poolFree(i32, this.pool, e, E_LNEXT);
      Atomics.sub(i32, this.w + D.COUNT, 1);
      return 0;
    } finally {
      unlock(this.v.i32, this.w + D.LOCK);
    }
  }

  /**
   * Bucket order, then chain order. A key that is not in the map restarts at the first
   * entry, as in the kernel.
   */
  getNextKey(keyAddr: number, nextKeyAddr: number): number {
    const v = this.v;
    v.fresh();
    const i32 = v.i32;
    let bucket = 0;
    let e = 0;
    if (keyAddr) {
      const hash = hashKey(v, keyAddr, this.keySize);
      const cur = this.find(keyAddr, hash);
      if (cur) {
        e = i32[(cur + E_NEXT) >>> 2]! >>> 0;
        bucket = (hash & this.mask) + 1;
      }
    }
    const b0 = this.buckets >>> 2;
    while (!e && bucket <= this.mask) e = Atomics.load(i32, b0 + bucket++) >>> 0;
    if (!e) return ENOENT;
    v.u8.copyWithin(nextKeyAddr, e + E_KEY, e + E_KEY + this.keySize);
    return 0;
  }

  /**
   * LRU maps: the keys on each list (kernel list names: active, inactive, per-CPU pending;
   * per CPU for BPF_F_NO_COMMON_LRU), head first, for tests and introspection.
   */
  lruListKeys(): Record<string, Uint8Array[]> {
    const v = this.v;
    v.fresh();
    const out: Record<string, Uint8Array[]> = {};
    for (const [name, nodes] of Object.entries(this.kernelLru?.snapshot() ?? {})) {
      out[name] = nodes.map((e) => v.u8.slice(e + E_KEY, e + E_KEY + this.keySize));
    }
    return out;
  }

  protected override reason(op: string, result: number): string | undefined {
    if (result === EINVAL && op === 'update' && this.ofMaps) return 'the value must be the handle of a map';
    return super.reason(op, result);
  }
}
