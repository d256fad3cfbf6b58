// What every map family shares: the descriptor words, this thread's views, and the
// control-plane API over byte arrays, which copies keys and values into a per-thread
// scratch area of linear memory and calls the same address-based operations the helpers
// call. Families implement lookup/update/delete/getNextKey on addresses.

import { align } from '../../core/abi.js';
import { isPerCpu } from '../../core/map-types.js';
import { MapError } from '../errors.js';
import { ERRNO, UPDATE_FLAG, type ErrnoName } from '../../core/errno.js';
import { KEY_HASH, mulHigh32 } from '../../core/key-hash.js';
import { type MemView, SharedHeap, spinLock, unlock } from '../memory.js';
import { D, type MapSpecLike, readSpec } from './descriptor.js';
import { SPIN_LOCK_SIZE } from '../../core/spin-lock.js';

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST: the update flags (core/errno.ts). */
export const { ANY: BPF_ANY, NOEXIST: BPF_NOEXIST, EXIST: BPF_EXIST } = UPDATE_FLAG;
/** Update or lookup under the value's bpf_spin_lock (-EINVAL for a value without one). */
export const BPF_F_LOCK = 4;

/**
 * The `cpu` argument of update() meaning "from the control plane": per-CPU maps then take
 * every CPU's value (each padded to 8 bytes), and maps programs may not update (prog
 * arrays, map-in-maps, devmaps) accept the write.
 */
export const FROM_USER = -1;

export const ENOENT = -ERRNO.ENOENT;
export const EEXIST = -ERRNO.EEXIST;
export const E2BIG = -ERRNO.E2BIG;
export const EINVAL = -ERRNO.EINVAL;
export const ENOMEM = -ERRNO.ENOMEM;
export const ENOSPC = -ERRNO.ENOSPC;
export const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;
/** A map lock that stays held past the spin limit (memory.ts spinLock). */
export const EBUSY = -ERRNO.EBUSY;

/** The operations helpers call, on addresses inside linear memory; results are 0 or -errno. */
export interface BpfMap {
  readonly handle: number;
  readonly spec: Readonly<MapSpecLike>;
  /** Copies of each value: maxCpus for per-CPU maps, else 1. */
  readonly cpus: number;
  /** Address of the value (for map-in-maps: the inner map's handle), or 0 if absent. */
  lookup(keyAddr: number, cpu: number): number;
  update(keyAddr: number, valueAddr: number, flags: bigint | number, cpu: number): number;
  delete(keyAddr: number, fromUser?: boolean): number;
  /** keyAddr 0 = first key. Writes the next key at nextKeyAddr; -ENOENT after the last. */
  getNextKey(keyAddr: number, nextKeyAddr: number): number;
  /** Live entries (hash maps and tries); max_entries for arrays. */
  count(): number;

  /** `flags`: BPF_F_LOCK copies the value holding its bpf_spin_lock. */
  lookupBytes(key: Uint8Array, flags?: bigint | number): Uint8Array | undefined;
  updateBytes(key: Uint8Array, value: Uint8Array, flags?: bigint | number): void;
  deleteBytes(key: Uint8Array): void;
  getNextKeyBytes(key: Uint8Array | undefined): Uint8Array | undefined;
  keys(): Iterable<Uint8Array>;
  entries(): Iterable<[Uint8Array, Uint8Array]>;
}

/** Flags argument as a number (flags above 2^32 are invalid anyway). */
export function flagsOf(flags: bigint | number): number {
  if (typeof flags === 'bigint') return flags > 0xffffffffn || flags < 0n ? 0xffffffff : Number(flags);
  return flags >>> 0;
}

export abstract class BaseMap implements BpfMap {
  readonly spec: Readonly<MapSpecLike>;
  readonly cpus: number;
  readonly heap: SharedHeap;
  readonly v: MemView;
  /** Index of the descriptor's word 0 in the Int32Array view. */
  readonly w: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Value size rounded up to 8: the distance between per-CPU copies as userspace sees them. */
  readonly valueStride: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly handle: number,
  ) {
    const hdr = new Int32Array(memory.buffer)[(handle >>> 2) + D.HEAP]! >>> 0;
    this.heap = SharedHeap.open(memory, hdr);
    this.v = this.heap.view;
    this.v.fresh();
    this.w = handle >>> 2;
    this.spec = Object.freeze(readSpec(this.v.i32, this.v.u8, handle));
    this.keySize = this.spec.keySize;
    this.valueSize = this.spec.valueSize;
    this.maxEntries = this.spec.maxEntries;
    this.valueStride = align(Math.max(this.valueSize, 1), 8);
    this.cpus = isPerCpu(this.spec.type) ? this.heap.maxCpus : 1;
  }

  /**
   * `.rodata` is frozen once the program is compiled, as libbpf freezes it once it is loaded:
   * the verifier took its bytes for constants and codegen folded loads from it, so a write
   * would change nothing the program sees. Updates and deletes are EPERM, as the kernel
   * answers them on a frozen map.
   */
  private refuseIfFrozen(op: 'update' | 'delete'): void {
    if (/^\.rodata(\.|$)/.test(this.name))
      this.fail(op, 'EPERM', 'map is frozen (.rodata is read-only after compile, as libbpf freezes it at load)');
  }

  get name(): string {
    return this.spec.name;
  }

  /** Word `f` of the descriptor (plain read: family words are written before publication). */
  /**
   * get_next_key of index-keyed maps (arrays, fd arrays): every index in order; a missing
   * or out-of-range key restarts at 0, as in the kernel.
   */
  protected indexNextKey(keyAddr: number, nextKeyAddr: number): number {
    const v = this.v;
    v.fresh();
    const index = keyAddr ? v.dv.getUint32(keyAddr, true) : this.maxEntries;
    if (index >= this.maxEntries) {
      v.dv.setUint32(nextKeyAddr, 0, true);
      return 0;
    }
    if (index === this.maxEntries - 1) return ENOENT;
    v.dv.setUint32(nextKeyAddr, index + 1, true);
    return 0;
  }

  protected word(f: number): number {
    return this.v.i32[this.w + f]! >>> 0;
  }

  protected setWord(f: number, value: number): void {
    this.v.i32[this.w + f] = value | 0;
  }

  abstract lookup(keyAddr: number, cpu: number): number;
  abstract update(keyAddr: number, valueAddr: number, flags: bigint | number, cpu: number): number;
  abstract delete(keyAddr: number, fromUser?: boolean): number;
  abstract getNextKey(keyAddr: number, nextKeyAddr: number): number;

  count(): number {
    return Atomics.load(this.v.i32, this.w + D.COUNT);
  }

  /**
   * Runs `fn` holding the map's spin lock, which every update and delete of this map also
   * takes: a read-modify-write of a value (through a pointer from lookup) done in here is
   * atomic with respect to other threads doing the same. `fn` must not update this map.
   */
  locked<T>(fn: () => T): T {
    if (!spinLock(this.v.i32, this.w + D.LOCK)) this.fail('lock', 'EBUSY', "the map's lock stays held (its owner may have died)");
    try {
      return fn();
    } finally {
      unlock(this.v.i32, this.w + D.LOCK);
    }
  }

  // ---- control plane -------------------------------------------------------------------

  /** Size of the value buffer userspace passes and gets: the kernel's layout. */
  get userValueSize(): number {
    return this.cpus > 1 ? this.cpus * this.valueStride : this.valueSize;
  }

  protected fail(op: string, errno: ErrnoName, reason?: string): never {
    throw new MapError(this.name, op, errno, reason);
  }

  /** Clear words for the usual results; families add their own. */
  protected reason(op: string, result: number): string | undefined {
    switch (result) {
      case EEXIST:
        return 'the key exists and flags is BPF_NOEXIST';
      case ENOENT:
        return op === 'update' ? 'the key is absent and flags is BPF_EXIST' : 'no such key';
      case E2BIG:
        return `the map is full (max_entries ${this.maxEntries})`;
      case ENOSPC:
        return `the map is full (max_entries ${this.maxEntries})`;
      case ENOMEM:
        return 'out of memory for the map';
      case EBUSY:
        return "the map's lock stays held (its owner may have died)";
      default:
        return undefined;
    }
  }

  /**
   * Why the last control-plane update was refused, when the errno alone does not say
   * (set just before returning the errno; used and cleared by check()).
   */
  protected refusal?: string;

  protected check(op: string, result: number): void {
    const refusal = this.refusal;
    this.refusal = undefined;
    if (result < 0) throw MapError.fromResult(this.name, op, result, refusal ?? this.reason(op, result));
  }

  protected checkKey(op: string, key: Uint8Array): void {
    if (key.length !== this.keySize) this.fail(op, 'EINVAL', `key is ${key.length} bytes, the map's keys are ${this.keySize}`);
  }

  /** Scratch memory for a key, a value and a second key, in that order. */
  protected scratch(): { key: number; value: number; next: number } {
    const ks = align(Math.max(this.keySize, 1), 8);
    const vs = align(Math.max(this.userValueSize, 8), 8);
    const base = this.heap.scratch(ks * 2 + vs);
    if (!base) this.fail('scratch', 'ENOMEM');
    this.v.fresh();
    return { key: base, value: base + ks, next: base + ks + vs };
  }

  protected putKey(op: string, key: Uint8Array): number {
    this.checkKey(op, key);
    const s = this.scratch();
    this.v.u8.set(key, s.key);
    return s.key;
  }

  /** The bytes userspace sees for the value at `ptr` (lookup's result for CPU 0). */
  protected userValue(ptr: number): Uint8Array {
    return this.v.u8.slice(ptr, ptr + this.userValueSize);
  }

  /** Lookup as the control plane does it: no side effects such as LRU refresh. */
  protected userLookup(keyAddr: number): number {
    return this.lookup(keyAddr, 0);
  }

  /**
   * Offset of the value's bpf_spin_lock, or -1 (maps whose values may hold one override
   * this). Userspace never sees a lock word: lookups give it as 0, as the kernel's do.
   */
  protected valueLockAt(): number {
    return -1;
  }

  /** Copies a value into `dst` without touching its lock word at `lockAt`; with `locked`, holding that lock. */
  protected copyAroundLock(dst: number, valueAddr: number, lockAt: number, locked: boolean): number {
    const { u8, i32 } = this.v;
    const lock = dst + lockAt;
    if (locked && !spinLock(i32, lock >>> 2)) return EBUSY;
    u8.copyWithin(dst, valueAddr, valueAddr + lockAt);
    u8.copyWithin(lock + SPIN_LOCK_SIZE, valueAddr + lockAt + SPIN_LOCK_SIZE, valueAddr + this.valueSize);
    if (locked) unlock(i32, lock >>> 2);
    return 0;
  }

  lookupBytes(key: Uint8Array, flags: bigint | number = 0): Uint8Array | undefined {
    const f = flagsOf(flags);
    const lockAt = this.valueLockAt();
    // The kernel's order: unknown flags, BPF_F_LOCK without a lock, then the key.
    if (f & ~BPF_F_LOCK) this.fail('lookup', 'EINVAL', 'the only lookup flag is BPF_F_LOCK');
    if (f & BPF_F_LOCK && lockAt < 0) this.fail('lookup', 'EINVAL', 'BPF_F_LOCK needs a value with a bpf_spin_lock');
    const k = this.putKey('lookup', key);
    const ptr = this.userLookup(k);
    if (ptr < 0) this.check('lookup', ptr);
    if (!ptr) return undefined;
    if (lockAt < 0) return this.userValue(ptr);
    const lock = (ptr + lockAt) >>> 2;
    const locked = (f & BPF_F_LOCK) !== 0;
    if (locked && !spinLock(this.v.i32, lock)) this.check('lookup', EBUSY);
    const out = this.userValue(ptr);
    if (locked) unlock(this.v.i32, lock);
    out.fill(0, lockAt, lockAt + SPIN_LOCK_SIZE);
    return out;
  }

  updateBytes(key: Uint8Array, value: Uint8Array, flags: bigint | number = BPF_ANY): void {
    this.refuseIfFrozen('update');
    // The bpf(2) update command refuses BPF_F_LOCK for a value without a lock before the map does.
    if (flagsOf(flags) & BPF_F_LOCK && this.valueLockAt() < 0)
      this.fail('update', 'EINVAL', 'BPF_F_LOCK needs a value with a bpf_spin_lock');
    this.checkKey('update', key);
    const s = this.scratch();
    const { u8 } = this.v;
    u8.set(key, s.key);
    if (value.length === this.userValueSize) {
      u8.set(value, s.value);
    } else if (this.cpus > 1 && value.length === this.valueSize) {
      // One value for every CPU, as a convenience over the kernel's full buffer.
      for (let c = 0; c < this.cpus; c++) {
        u8.fill(0, s.value + c * this.valueStride, s.value + (c + 1) * this.valueStride);
        u8.set(value, s.value + c * this.valueStride);
      }
    } else {
      const want = this.cpus > 1 ? `${this.valueSize} or ${this.userValueSize} (all CPUs)` : `${this.valueSize}`;
      this.fail('update', 'EINVAL', `value is ${value.length} bytes, the map wants ${want}`);
    }
    this.check('update', this.update(s.key, s.value, flags, FROM_USER));
  }

  deleteBytes(key: Uint8Array): void {
    this.refuseIfFrozen('delete');
    const k = this.putKey('delete', key);
    this.check('delete', this.delete(k, true));
  }

  getNextKeyBytes(key: Uint8Array | undefined): Uint8Array | undefined {
    const s = this.scratch();
    let k = 0;
    if (key) {
      this.checkKey('get_next_key', key);
      this.v.u8.set(key, s.key);
      k = s.key;
    }
    const r = this.getNextKey(k, s.next);
    if (r === ENOENT) return undefined;
    this.check('get_next_key', r);
    return this.v.u8.slice(s.next, s.next + this.keySize);
  }

  *keys(): Iterable<Uint8Array> {
    for (let k = this.getNextKeyBytes(undefined); k; k = this.getNextKeyBytes(k)) yield k;
  }

  *entries(): Iterable<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const value = this.lookupBytes(k);
      if (value) yield [k, value];
    }
  }
}

// ---- key hashing and comparison, shared by hash maps ------------------------------------

/**
 * core/key-hash.ts's keyHash of `len` bytes at `addr`, reading whole words when the key
 * is aligned. Compiled modules compute the same function in wasm (compiler/codegen-maps.ts).
 */
export function hashKey(v: MemView, addr: number, len: number): number {
  const [MUL_HI, MUL_LO] = KEY_HASH.MUL;
  // Each lane as two 32-bit halves; a 64-bit product mod 2^64 from 32-bit pieces.
  let h0 = KEY_HASH.SEED0[0] | 0;
  let l0 = (KEY_HASH.SEED0[1] ^ len) | 0;
  let h1 = KEY_HASH.SEED1[0] | 0;
  let l1 = (KEY_HASH.SEED1[1] ^ len) | 0;
  const aligned = (addr & 3) === 0;
  const i32 = v.i32;
  const u8 = v.u8;
  /** The little-endian 32-bit word at byte `at` of the key, zero past its end. */
  const word = (at: number): number => {
    if (aligned && at + 4 <= len) return i32[(addr + at) >>> 2]!;
    let w = 0;
    for (let b = 0; b < 4 && at + b < len; b++) w |= u8[addr + at + b]! << (8 * b);
    return w;
  };
  for (let at = 0, lane = 0; at < len; at += 8, lane ^= 1) {
    const lo = word(at);
    const hi = at + 4 < len ? word(at + 4) : 0;
    if (lane === 0) {
      const xl = l0 ^ lo;
      const xh = h0 ^ hi;
      h0 = (mulHigh32(xl, MUL_LO) + Math.imul(xh, MUL_LO) + Math.imul(xl, MUL_HI)) | 0;
      l0 = Math.imul(xl, MUL_LO);
    } else {
      const xl = l1 ^ lo;
      const xh = h1 ^ hi;
      h1 = (mulHigh32(xl, MUL_LO) + Math.imul(xh, MUL_LO) + Math.imul(xl, MUL_HI)) | 0;
      l1 = Math.imul(xl, MUL_LO);
    }
  }
  // Lane 1 rotated by 32 bits: its halves swapped; then the high half folded onto the low.
  const hi = h0 ^ l1;
  const lo = l0 ^ h1 ^ hi;
  const [FIN_HI, FIN_LO] = KEY_HASH.FINAL_MUL;
  const ph = (mulHigh32(lo, FIN_LO) + Math.imul(hi, FIN_LO) + Math.imul(lo, FIN_HI)) | 0;
  const pl = Math.imul(lo, FIN_LO);
  // The fold by FINAL_SHIFT (< 32) bits, then the second multiply's high half.
  const S = KEY_HASH.FINAL_SHIFT;
  const fh = ph ^ (ph >>> S);
  const fl = pl ^ ((pl >>> S) | (ph << (32 - S)));
  const [FIN2_HI, FIN2_LO] = KEY_HASH.FINAL_MUL2;
  return (mulHigh32(fl, FIN2_LO) + Math.imul(fh, FIN2_LO) + Math.imul(fl, FIN2_HI)) >>> 0;
}

/** Whether `len` bytes at `a` equal those at `b` (`b` is 8-aligned map storage). */
export function keysEqual(v: MemView, a: number, b: number, len: number): boolean {
  let i = 0;
  if ((a & 3) === 0) {
    const i32 = v.i32;
    const words = len >>> 2;
    const wa = a >>> 2;
    const wb = b >>> 2;
    for (; i < words; i++) if (i32[wa + i] !== i32[wb + i]) return false;
    i = words << 2;
  }
  const u8 = v.u8;
  for (; i < len; i++) if (u8[a + i] !== u8[b + i]) return false;
  return true;
}
