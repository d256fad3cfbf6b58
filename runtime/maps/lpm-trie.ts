// LPM_TRIE with the kernel's semantics (kernel/bpf/lpm_trie.c): keys are a u32 prefix
// length followed by `keySize - 4` data bytes, compared most significant bit first. The
// trie is a binary tree of nodes, some of them intermediate (IM: no value, exactly two
// children) where two prefixes diverge. Lookup returns the value of the longest stored
// prefix matching the key; update and delete act on the exact prefix; get_next_key walks
// in post-order (more specific prefixes before the ones containing them). Lookups from the
// control plane are longest-prefix matches too, as with the kernel's syscall.
//
// Node: +0 child[0]  +4 child[1]  +8 prefixlen  +12 flags (1 = IM)  +16 free-list link
//       +24 data (padded to 8)  then the value (padded to 8)
//   descriptor word 10 root   word 11 pool (pool.ts)   word 12 node size
//
// Updates and deletes hold the map's lock; lookups walk lock-free. A node is linked in by
// one atomic store once complete. Races accepted: a lookup concurrent with a delete may
// follow a node that is being recycled and miss, and an update that replaces the value of
// an existing prefix writes it in place (a racing lookup may read it half-written).

import { align } from '../../core/abi.js';
import { type SharedHeap, spinLock, unlock } from '../memory.js';
import { BaseMap, BPF_EXIST, BPF_NOEXIST, EBUSY, EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, flagsOf } from './base.js';
import { D, type MapSpecLike } from './descriptor.js';
import { poolAlloc, poolFree, poolInit } from './pool.js';
import { POOL_BYTES } from '../../core/map-layout.js';

const ROOT = D.F0;
const POOL = D.F1;

const N_CHILD0 = 0;
const N_PREFIX = 8;
const N_FLAGS = 12;
const N_LINK = 16;
const N_DATA = 24;
const IM = 1;

export function initLpmTrie(heap: SharedHeap, handle: number, spec: MapSpecLike): number {
  const dataSize = spec.keySize - 4;
  const nodeSize = N_DATA + align(dataSize, 8) + align(spec.valueSize, 8);
  const pool = heap.alloc(POOL_BYTES, 8);
  if (!pool) return ENOMEM;
  const i32 = heap.view.i32;
  // Up to max_entries prefixes plus one intermediate node per divergence.
  poolInit(i32, pool, nodeSize, spec.maxEntries * 2);
  const w = handle >>> 2;
  i32[w + ROOT] = 0;
  i32[w + POOL] = pool;
  i32[w + D.F2] = nodeSize;
  return 0;
}

export class LpmTrieMap extends BaseMap {
  readonly dataSize: number;
  readonly maxPrefix: number;
  private readonly rootSlot: number;
  private readonly pool: number;
  private readonly valueOff: number;
  /** Path from the root for get_next_key (one node per bit of prefix, at most). */
  private readonly stack: Uint32Array;

  constructor(memory: WebAssembly.Memory, handle: number) {
    super(memory, handle);
    this.dataSize = this.keySize - 4;
    this.maxPrefix = this.dataSize * 8;
    this.rootSlot = handle + ROOT * 4;
    this.pool = this.word(POOL);
    this.valueOff = N_DATA + align(this.dataSize, 8);
    this.stack = new Uint32Array(this.maxPrefix + 2);
  }

  private child(node: number, bit: number): number {
    return this.v.i32[(node + N_CHILD0 + bit * 4) >>> 2]! >>> 0;
  }

  private prefixOf(node: number): number {
    return this.v.i32[(node + N_PREFIX) >>> 2]! >>> 0;
  }

  private isIm(node: number): boolean {
    return (this.v.i32[(node + N_FLAGS) >>> 2]! & IM) !== 0;
  }

  /** Bit `index` of the data at `data`, most significant bit of byte 0 first. */
  private bit(data: number, index: number): number {
    return (this.v.u8[data + (index >>> 3)]! >>> (7 - (index & 7))) & 1;
  }

  /** Leading bits on which node and key agree, up to the shorter of the two prefixes. */
  private match(node: number, keyAddr: number): number {
    const u8 = this.v.u8;
    const limit = Math.min(this.prefixOf(node), this.v.dv.getUint32(keyAddr, true));
    const a = node + N_DATA;
    const b = keyAddr + 4;
    let bits = 0;
    for (let i = 0; bits < limit; i++) {
      const diff = u8[a + i]! ^ u8[b + i]!;
      if (diff) {
        bits += Math.clz32(diff) - 24;
        break;
      }
      bits += 8;
    }
    return Math.min(bits, limit);
  }

  lookup(keyAddr: number, _cpu = 0): number {
    const v = this.v;
    v.ensure(keyAddr, this.keySize);
    let found = 0;
    let node = Atomics.load(v.i32, this.rootSlot >>> 2) >>> 0;
    while (node) {
      const matched = this.match(node, keyAddr);
      if (matched === this.maxPrefix) {
        found = node;
        break;
      }
      const prefix = this.prefixOf(node);
      if (matched < prefix) break;
      if (!this.isIm(node)) found = node;
      node = this.child(node, this.bit(keyAddr + 4, prefix));
    }
    return found ? found + this.valueOff : 0;
  }

  update(keyAddr: number, valueAddr: number, flags: bigint | number): number {
    const f = flagsOf(flags);
    if (f > BPF_EXIST) return EINVAL;
    const v = this.v;
    v.ensure(keyAddr, this.keySize);
    v.ensure(valueAddr, this.valueSize);
    if (v.dv.getUint32(keyAddr, true) > this.maxPrefix) return EINVAL;
    if (!spinLock(v.i32, this.w + D.LOCK)) return EBUSY;
    try {
      return this.updateLocked(keyAddr, valueAddr, f);
    } finally {
      unlock(this.v.i32, this.w + D.LOCK);
    }
  }

  /** Counts a new prefix in, as the kernel's trie_check_add_elem. */
  private admit(f: number): number {
    if (f === BPF_EXIST) return ENOENT;
    const i32 = this.v.i32;
    if (Atomics.load(i32, this.w + D.COUNT) >= this.maxEntries) return ENOSPC;
    Atomics.add(i32, this.w + D.COUNT, 1);
    return 0;
  }

  private fillNode(node: number, keyAddr: number, valueAddr: number): void {
    const { u8, i32 } = this.v;
    i32[(node + N_CHILD0) >>> 2] = 0;
    i32[(node + N_CHILD0 + 4) >>> 2] = 0;
    i32[(node + N_PREFIX) >>> 2] = this.v.dv.getUint32(keyAddr, true);
    i32[(node + N_FLAGS) >>> 2] = 0;
    u8.copyWithin(node + N_DATA, keyAddr + 4, keyAddr + 4 + this.dataSize);
    u8.copyWithin(node + this.valueOff, valueAddr, valueAddr + this.valueSize);
  }

  private updateLocked(keyAddr: number, valueAddr: number, f: number): number {
    const keyPrefix = this.v.dv.getUint32(keyAddr, true);
    let slot = this.rootSlot;
    let node = this.v.i32[slot >>> 2]! >>> 0;
    let matched = 0;
    while (node) {
      matched = this.match(node, keyAddr);
      const prefix = this.prefixOf(node);
      if (prefix !== matched || prefix === keyPrefix) break;
      slot = node + N_CHILD0 + this.bit(keyAddr + 4, prefix) * 4;
      node = this.v.i32[slot >>> 2]! >>> 0;
    }
    if (node && this.prefixOf(node) === matched) {
      // The exact prefix has a node: give it the new value (and the key's data bits).
      if (!this.isIm(node)) {
        if (f === BPF_NOEXIST) return EEXIST;
      } else {
        const r = this.admit(f);
        if (r) return r;
      }
      const { u8, i32 } = this.v;
      u8.copyWithin(node + N_DATA, keyAddr + 4, keyAddr + 4 + this.dataSize);
      u8.copyWithin(node + this.valueOff, valueAddr, valueAddr + this.valueSize);
      Atomics.store(i32, (node + N_FLAGS) >>> 2, 0);
      return 0;
    }
    const r = this.admit(f);
    if (r) return r;
    const fresh = poolAlloc(this.heap, this.pool, N_LINK);
    if (!fresh) {
      Atomics.sub(this.v.i32, this.w + D.COUNT, 1);
      return ENOMEM;
    }
    this.fillNode(fresh, keyAddr, valueAddr);
    const i32 = this.v.i32;
    if (!node) {
      Atomics.store(i32, slot >>> 2, fresh);
      return 0;
    }
    if (matched === keyPrefix) {
      // The new prefix contains the node's: it becomes the node's parent.
      i32[(fresh + N_CHILD0 + this.bit(node + N_DATA, matched) * 4) >>> 2] = node;
      Atomics.store(i32, slot >>> 2, fresh);
      return 0;
    }
    // The prefixes diverge after `matched` bits: an intermediate node joins them.
    const im = poolAlloc(this.heap, this.pool, N_LINK);
    if (!im) {
      poolFree(this.v.i32, this.pool, fresh, N_LINK);
      Atomics.sub(this.v.i32, this.w + D.COUNT, 1);
      return ENOMEM;
    }
    const { u8 } = this.v;
    const j32 = this.v.i32;
    j32[(im + N_PREFIX) >>> 2] = matched;
    j32[(im + N_FLAGS) >>> 2] = IM;
    u8.copyWithin(im + N_DATA, node + N_DATA, node + N_DATA + this.dataSize);
    const newOnRight = this.bit(keyAddr + 4, matched);
    j32[(im + N_CHILD0) >>> 2] = newOnRight ? node : fresh;
    j32[(im + N_CHILD0 + 4) >>> 2] = newOnRight ? fresh : node;
    Atomics.store(j32, slot >>> 2, im);
    return 0;
  }

  delete(keyAddr: number): number {
    const v = this.v;
    v.ensure(keyAddr, this.keySize);
    const keyPrefix = v.dv.getUint32(keyAddr, true);
    if (keyPrefix > this.maxPrefix) return EINVAL;
    if (!spinLock(v.i32, this.w + D.LOCK)) return EBUSY;
    try {
      const i32 = this.v.i32;
      let trim = this.rootSlot;
      let trim2 = trim;
      let parent = 0;
      let node = i32[trim >>> 2]! >>> 0;
      let matched = 0;
      while (node) {
        matched = this.match(node, keyAddr);
        const prefix = this.prefixOf(node);
        if (prefix !== matched || prefix === keyPrefix) break;
        parent = node;
        trim2 = trim;
        trim = node + N_CHILD0 + this.bit(keyAddr + 4, prefix) * 4;
        node = i32[trim >>> 2]! >>> 0;
      }
      if (!node || this.prefixOf(node) !== keyPrefix || matched !== keyPrefix || this.isIm(node)) return ENOENT;
      Atomics.sub(i32, this.w + D.COUNT, 1);
      const c0 = this.child(node, 0);
      const c1 = this.child(node, 1);
      if (c0 && c1) {
        // Still needed to join its two subtrees: it becomes intermediate.
        Atomics.store(i32, (node + N_FLAGS) >>> 2, IM);
        return 0;
      }
      if (parent && this.isIm(parent) && !c0 && !c1) {
        // A leaf under an intermediate node: the sibling takes the parent's place.
        const sibling = this.child(parent, 0) === node ? this.child(parent, 1) : this.child(parent, 0);
        Atomics.store(i32, trim2 >>> 2, sibling);
        poolFree(i32, this.pool, parent, N_LINK);
        poolFree(i32, this.pool, node, N_LINK);
        return 0;
      }
      Atomics.store(i32, trim >>> 2, c0 || c1);
      poolFree(i32, this.pool, node, N_LINK);
      return 0;
    } finally {
      unlock(this.v.i32, this.w + D.LOCK);
    }
  }

  /** Post-order successor of the exact key; the first node in post-order for a missing key. */
  getNextKey(keyAddr: number, nextKeyAddr: number): number {
    const v = this.v;
    v.fresh();
    const root = Atomics.load(v.i32, this.rootSlot >>> 2) >>> 0;
    if (!root) return ENOENT;
    let next = 0;
    let searchRoot = root;
    if (keyAddr && v.dv.getUint32(keyAddr, true) <= this.maxPrefix) {
      const keyPrefix = v.dv.getUint32(keyAddr, true);
      const stack = this.stack;
      let sp = -1;
      let node = root;
      let matched = 0;
      while (node) {
        stack[++sp] = node;
        matched = this.match(node, keyAddr);
        const prefix = this.prefixOf(node);
        if (prefix !== matched || prefix === keyPrefix) break;
        node = this.child(node, this.bit(keyAddr + 4, prefix));
      }
      if (node && this.prefixOf(node) === matched && !this.isIm(node)) {
        searchRoot = 0;
        node = stack[sp]!;
        while (sp > 0) {
          const parent = stack[sp - 1]!;
          if (this.child(parent, 0) === node && this.child(parent, 1)) {
            searchRoot = this.child(parent, 1);
            break;
          }
          if (!this.isIm(parent)) {
            next = parent;
            break;
          }
          node = parent;
          sp--;
        }
        if (!searchRoot && !next) return ENOENT;
      }
    }
    if (!next) {
      // Leftmost non-intermediate node of the subtree: the first in post-order.
      for (let node = searchRoot; node;) {
        if (!this.isIm(node)) next = node;
        const left = this.child(node, 0);
        node = left || (this.isIm(node) ? 0 : this.child(node, 1));
      }
    }
    v.dv.setUint32(nextKeyAddr, this.prefixOf(next), true);
    v.u8.copyWithin(nextKeyAddr + 4, next + N_DATA, next + N_DATA + this.dataSize);
    return 0;
  }

  protected override reason(op: string, result: number): string | undefined {
    if (result === EINVAL) return `prefix length above ${this.maxPrefix} or bad flags`;
    return super.reason(op, result);
  }
}
