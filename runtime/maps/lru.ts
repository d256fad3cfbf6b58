// The LRU of LRU_HASH and LRU_PERCPU_HASH maps: the kernel's algorithm (kernel/bpf/
// bpf_lru_list.c), so that under pressure the same entries survive as in the kernel. It
// is an approximation of LRU, not a strict one:
// - entries are on an active or an inactive list, with a reference bit that lookups set
//   (and nothing else: a lookup moves nothing);
// - the common LRU (the default) has one global list set plus, per CPU, a local free list
//   and a local pending list: an insert takes a node from its CPU's local free list and
//   puts it on the pending list; when the local free list is empty, the pending nodes are
//   flushed into the global lists (referenced ones to active, others to inactive), the
//   lists rotate, and up to `target_free` nodes move from the global free list to the local
//   one — shrinking the inactive list (evicting unreferenced entries from its tail, then,
//   if none, one entry ignoring the bit) when there are not enough; if still none, nodes
//   are stolen from the CPUs' local free, then pending, lists in turn;
// - BPF_F_NO_COMMON_LRU keeps one list set per CPU: each insert rotates that CPU's lists
//   and takes its free list's first node, shrinking by PERCPU_FREE_TARGET when empty; a
//   node stays with the CPU it was created for.
// Facts taken from the kernel: the list moves, LOCAL_FREE_TARGET 128 and target_free =
// clamp(entries / possible CPUs / 2, 1, 128), PERCPU_FREE_TARGET 4, nr_scans equal to
// the target, the rotation and shrink scans, steal order, the preallocated nodes all on the
// global free list (common) or split evenly per CPU (per-CPU LRU). "Possible CPUs" here is
// the number of workers the maps were laid out for (--max-cpus).
//
// Everything is in linear memory (core/map-layout.ts LRU_*), operated on under the map's
// lock, except the reference bit, which lookups set without it (as the kernel does). Nodes
// are the map's hash entries. The preallocated free nodes nobody has used yet are carved
// from the map's pool lazily: they sit, indistinguishable, at the tail of their free list,
// counted by LRU_LIST.UNCARVED, so a big map costs no memory until it fills.
//
// The compiled module runs the same algorithm in wasm (compiler/codegen-lru.ts) over the
// same memory: a change here is a change there.

import { HASH_ENTRY, LRU_LIST, LRU_LIST_TYPE as T, LRU_LOCAL, LRU_SENTINEL, LRU_STATE } from '../../core/map-layout.js';
import type { MemView } from '../memory.js';

const LOCAL_FREE_TARGET = 128;
const PERCPU_FREE_TARGET = 4;
const { PREV, LNEXT: NEXT, LRU_REF: REF, LRU_TYPE: TYPE, LRU_CPU: CPU, HASH } = HASH_ENTRY;

/** Bytes of the state block for `cpus` CPUs. */
export function lruStateBytes(perCpuLru: boolean, cpus: number): number {
  return LRU_STATE.LISTS + (perCpuLru ? cpus * LRU_LIST.BYTES : LRU_LIST.BYTES + cpus * LRU_LOCAL.BYTES);
}

/** Nodes the kernel preallocates: max_entries, rounded up to a multiple of the CPUs for a per-CPU LRU. */
export function lruNodes(perCpuLru: boolean, maxEntries: number, cpus: number): number {
  return perCpuLru ? Math.ceil(maxEntries / cpus) * cpus : maxEntries;
}

function initHead(i32: Int32Array, head: number): void {
  const s = head - LRU_SENTINEL;
  i32[head >>> 2] = s; // prev
  i32[(head + 4) >>> 2] = s; // next
}

function initList(i32: Int32Array, l: number, uncarved: number): void {
  for (const h of [LRU_LIST.ACTIVE, LRU_LIST.INACTIVE, LRU_LIST.FREE]) initHead(i32, l + h);
  i32[(l + LRU_LIST.COUNT_ACTIVE) >>> 2] = 0;
  i32[(l + LRU_LIST.COUNT_INACTIVE) >>> 2] = 0;
  i32[(l + LRU_LIST.NEXT_ROTATION) >>> 2] = l + LRU_LIST.INACTIVE - LRU_SENTINEL;
  i32[(l + LRU_LIST.UNCARVED) >>> 2] = uncarved;
}

/** Lays out the state block at `state`: every node free, as at the kernel's map creation. */
export function initLru(i32: Int32Array, state: number, perCpuLru: boolean, cpus: number, nodes: number): void {
  const w = state >>> 2;
  i32[w + LRU_STATE.CPUS / 4] = cpus;
  i32[w + LRU_STATE.PERCPU / 4] = perCpuLru ? 1 : 0;
  i32[w + LRU_STATE.NR_SCANS / 4] = perCpuLru ? PERCPU_FREE_TARGET : LOCAL_FREE_TARGET;
  i32[w + LRU_STATE.TARGET_FREE / 4] = Math.min(Math.max(Math.floor(Math.floor(nodes / cpus) / 2), 1), LOCAL_FREE_TARGET);
  const lists = state + LRU_STATE.LISTS;
  if (perCpuLru) {
    for (let c = 0; c < cpus; c++) initList(i32, lists + c * LRU_LIST.BYTES, nodes / cpus);
    return;
  }
  initList(i32, lists, nodes);
  for (let c = 0; c < cpus; c++) {
    const loc = lists + LRU_LIST.BYTES + c * LRU_LOCAL.BYTES;
    initHead(i32, loc + LRU_LOCAL.FREE);
    initHead(i32, loc + LRU_LOCAL.PENDING);
    i32[(loc + LRU_LOCAL.NEXT_STEAL) >>> 2] = c;
  }
}

/** What the LRU needs of its hash map. */
export interface LruHost {
  /** A fresh node from the pool (0 if memory is exhausted). */
  carve(): number;
  /** Takes the entry out of the hash table (kernel: del_from_htab); false if it is not there. */
  unhash(node: number): boolean;
}

/** One thread's view of one map's LRU state. Callers hold the map's lock. */
export class Lru {
  readonly cpus: number;
  readonly perCpuLru: boolean;
  private readonly nrScans: number;
  private readonly targetFree: number;
  private readonly lists: number;

  constructor(
    private readonly v: MemView,
    readonly state: number,
    private readonly host: LruHost,
  ) {
    const i32 = v.i32;
    this.cpus = i32[(state + LRU_STATE.CPUS) >>> 2]!;
    this.perCpuLru = i32[(state + LRU_STATE.PERCPU) >>> 2] !== 0;
    this.nrScans = i32[(state + LRU_STATE.NR_SCANS) >>> 2]!;
    this.targetFree = i32[(state + LRU_STATE.TARGET_FREE) >>> 2]!;
    this.lists = state + LRU_STATE.LISTS;
  }

  // ---- memory access (views may be replaced when memory grows: always through v) ----
  private get(addr: number): number {
    return this.v.i32[addr >>> 2]! >>> 0;
  }
  private put(addr: number, value: number): void {
    this.v.i32[addr >>> 2] = value | 0;
  }
  private next(n: number): number {
    return this.get(n + NEXT);
  }
  private prev(n: number): number {
    return this.get(n + PREV);
  }
  private type(n: number): number {
    return this.v.u8[n + TYPE]!;
  }
  private setType(n: number, t: number): void {
    this.v.u8[n + TYPE] = t;
  }
  private ref(n: number): boolean {
    return this.v.u8[n + REF] !== 0;
  }
  private clearRef(n: number): void {
    this.v.u8[n + REF] = 0;
  }
  private nodeCpu(n: number): number {
    return this.v.u8[n + CPU]! | (this.v.u8[n + CPU + 1]! << 8);
  }
  private setCpu(n: number, cpu: number): void {
    this.v.u8[n + CPU] = cpu & 0xff;
    this.v.u8[n + CPU + 1] = cpu >>> 8;
  }

  /** The sentinel of the list head at `head`. */
  private s(head: number): number {
    return head - LRU_SENTINEL;
  }
  private listDel(n: number): void {
    const p = this.prev(n);
    const x = this.next(n);
    this.put(p + NEXT, x);
    this.put(x + PREV, p);
  }
  private listAdd(n: number, sentinel: number): void {
    const first = this.next(sentinel);
    this.put(n + NEXT, first);
    this.put(n + PREV, sentinel);
    this.put(first + PREV, n);
    this.put(sentinel + NEXT, n);
  }
  private listMove(n: number, sentinel: number): void {
    this.listDel(n);
    this.listAdd(n, sentinel);
  }

  // ---- one list set (kernel struct bpf_lru_list) at address l ----
  private listOf(l: number, t: number): number {
    return this.s(l + (t === T.ACTIVE ? LRU_LIST.ACTIVE : t === T.INACTIVE ? LRU_LIST.INACTIVE : LRU_LIST.FREE));
  }
  private countAdd(l: number, t: number, d: number): void {
    if (t === T.ACTIVE) this.put(l + LRU_LIST.COUNT_ACTIVE, this.get(l + LRU_LIST.COUNT_ACTIVE) + d);
    else if (t === T.INACTIVE) this.put(l + LRU_LIST.COUNT_INACTIVE, this.get(l + LRU_LIST.COUNT_INACTIVE) + d);
  }
  private rotation(l: number): number {
    return this.get(l + LRU_LIST.NEXT_ROTATION);
  }
  private setRotation(l: number, n: number): void {
    this.put(l + LRU_LIST.NEXT_ROTATION, n);
  }

  private moveToFree(l: number, n: number, freeSentinel: number, freeType: number): void {
    if (n === this.rotation(l)) this.setRotation(l, this.prev(n));
    this.countAdd(l, this.type(n), -1);
    this.setType(n, freeType);
    this.listMove(n, freeSentinel);
  }

  private moveIn(l: number, n: number, t: number): void {
    this.countAdd(l, t, 1);
    this.setType(n, t);
    this.clearRef(n);
    this.listMove(n, this.listOf(l, t));
  }

  private move(l: number, n: number, t: number): void {
    const from = this.type(n);
    if (from !== t) {
      this.countAdd(l, from, -1);
      this.countAdd(l, t, 1);
      this.setType(n, t);
    }
    this.clearRef(n);
    if (n === this.rotation(l)) this.setRotation(l, this.prev(n));
    this.listMove(n, this.listOf(l, t));
  }

  private rotateActive(l: number): void {
    const active = this.listOf(l, T.ACTIVE);
    const first = this.next(active);
    let i = 0;
    for (let n = this.prev(active); n !== active;) {
      const before = this.prev(n);
      this.move(l, n, this.ref(n) ? T.ACTIVE : T.INACTIVE);
      if (++i === this.nrScans || n === first) break;
      n = before;
    }
  }

  private rotateInactive(l: number): void {
    const inactive = this.listOf(l, T.INACTIVE);
    if (this.next(inactive) === inactive) return;
    let last = this.next(this.rotation(l));
    if (last === inactive) last = this.next(last);
    let cur = this.rotation(l);
    let next = inactive;
    let i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) {
        cur = this.prev(cur);
        continue;
      }
      next = this.prev(cur);
      if (this.ref(cur)) this.move(l, cur, T.ACTIVE);
      if (cur === last) break;
      cur = next;
      i++;
    }
    this.setRotation(l, next);
  }

  private rotate(l: number): void {
    if (this.get(l + LRU_LIST.COUNT_INACTIVE) < this.get(l + LRU_LIST.COUNT_ACTIVE)) this.rotateActive(l);
    this.rotateInactive(l);
  }

  private shrinkInactive(l: number, target: number, freeSentinel: number, freeType: number): number {
    const inactive = this.listOf(l, T.INACTIVE);
    let shrunk = 0;
    let i = 0;
    for (let n = this.prev(inactive); n !== inactive;) {
      const before = this.prev(n);
      if (this.ref(n)) {
        this.move(l, n, T.ACTIVE);
      } else if (this.host.unhash(n)) {
        this.moveToFree(l, n, freeSentinel, freeType);
        if (++shrunk === target) break;
      }
      if (++i === this.nrScans) break;
      n = before;
    }
    return shrunk;
  }

  private shrink(l: number, target: number, freeSentinel: number, freeType: number): number {
    const shrunk = this.shrinkInactive(l, target, freeSentinel, freeType);
    if (shrunk) return shrunk;
    const inactive = this.listOf(l, T.INACTIVE);
    const force = this.next(inactive) !== inactive ? inactive : this.listOf(l, T.ACTIVE);
    for (let n = this.prev(force); n !== force;) {
      const before = this.prev(n);
      if (this.host.unhash(n)) {
        this.moveToFree(l, n, freeSentinel, freeType);
        return 1;
      }
      n = before;
    }
    return 0;
  }

  /** A never-used node of list set l's free list (they sit at its tail), now explicit there; 0 if none. */
  private carveFree(l: number, cpu: number): number {
    const left = this.get(l + LRU_LIST.UNCARVED);
    if (!left) return 0;
    const n = this.host.carve();
    if (!n) return 0;
    this.put(l + LRU_LIST.UNCARVED, left - 1);
    this.clearRef(n);
    this.setType(n, T.FREE);
    this.setCpu(n, cpu);
    const free = this.listOf(l, T.FREE);
    this.listAdd(n, this.prev(free)); // at the tail: after every explicit free node
    return n;
  }

  private freeEmpty(l: number): boolean {
    const free = this.listOf(l, T.FREE);
    return this.next(free) === free && this.get(l + LRU_LIST.UNCARVED) === 0;
  }

  // ---- the common LRU: global list set plus per-CPU local lists ----
  private global(): number {
    return this.lists;
  }
  private local(cpu: number): number {
    return this.lists + LRU_LIST.BYTES + cpu * LRU_LOCAL.BYTES;
  }
  private localFree(loc: number): number {
    return this.s(loc + LRU_LOCAL.FREE);
  }
  private localPending(loc: number): number {
    return this.s(loc + LRU_LOCAL.PENDING);
  }

  private flushLocal(l: number, loc: number): void {
    const pending = this.localPending(loc);
    for (let n = this.prev(pending); n !== pending;) {
      const before = this.prev(n);
      this.moveIn(l, n, this.ref(n) ? T.ACTIVE : T.INACTIVE);
      n = before;
    }
  }

  private popFreeToLocal(loc: number, cpu: number): void {
    const l = this.global();
    this.flushLocal(l, loc);
    this.rotate(l);
    const free = this.listOf(l, T.FREE);
    const localFree = this.localFree(loc);
    let taken = 0;
    while (taken < this.targetFree) {
      let n = this.next(free);
      if (n === free) n = this.carveFree(l, cpu);
      if (!n) break;
      this.moveToFree(l, n, localFree, T.LOCAL_FREE);
      taken++;
    }
    if (taken < this.targetFree) this.shrink(l, this.targetFree - taken, localFree, T.LOCAL_FREE);
  }

  private addPending(loc: number, cpu: number, n: number, hash: number): void {
    this.put(n + HASH, hash);
    this.setCpu(n, cpu);
    this.setType(n, T.LOCAL_PENDING);
    this.clearRef(n);
    this.listAdd(n, this.localPending(loc));
  }

  private popLocalFree(loc: number): number {
    const free = this.localFree(loc);
    const n = this.next(free);
    if (n === free) return 0;
    this.listDel(n);
    return n;
  }

  private popLocalPending(loc: number): number {
    const pending = this.localPending(loc);
    for (const force of [false, true]) {
      for (let n = this.prev(pending); n !== pending; n = this.prev(n)) {
        if ((force || !this.ref(n)) && this.host.unhash(n)) {
          this.listDel(n);
          return n;
        }
      }
    }
    return 0;
  }

  private commonPopFree(cpu: number, hash: number): number {
    const loc = this.local(cpu);
    let n = this.popLocalFree(loc);
    if (!n) {
      this.popFreeToLocal(loc, cpu);
      n = this.popLocalFree(loc);
    }
    if (n) {
      this.addPending(loc, cpu, n, hash);
      return n;
    }
    // Nothing free anywhere: steal from the CPUs' local lists in turn.
    const first = this.get(loc + LRU_LOCAL.NEXT_STEAL);
    let steal = first;
    do {
      const from = this.local(steal);
      n = this.popLocalFree(from) || this.popLocalPending(from);
      steal = (steal + 1) % this.cpus;
    } while (!n && steal !== first);
    this.put(loc + LRU_LOCAL.NEXT_STEAL, steal);
    if (n) this.addPending(loc, cpu, n, hash);
    return n;
  }

  // ---- the per-CPU LRU (BPF_F_NO_COMMON_LRU) ----
  private percpuList(cpu: number): number {
    return this.lists + cpu * LRU_LIST.BYTES;
  }

  private percpuPopFree(cpu: number, hash: number): number {
    const l = this.percpuList(cpu);
    this.rotate(l);
    const free = this.listOf(l, T.FREE);
    if (this.freeEmpty(l)) this.shrink(l, PERCPU_FREE_TARGET, free, T.FREE);
    let n = this.next(free);
    if (n === free) n = this.carveFree(l, cpu);
    if (!n) return 0;
    this.put(n + HASH, hash);
    this.clearRef(n);
    this.move(l, n, T.INACTIVE);
    return n;
  }

  /** A node for a new entry of `hash` on `cpu` (kernel: bpf_lru_pop_free); 0 if none. May evict. */
  popFree(cpu: number, hash: number): number {
    return this.perCpuLru ? this.percpuPopFree(cpu, hash) : this.commonPopFree(cpu, hash);
  }

  /** Gives back the node of an entry that left the table (kernel: bpf_lru_push_free). */
  pushFree(n: number): void {
    if (this.perCpuLru) {
      this.move(this.percpuList(this.nodeCpu(n)), n, T.FREE);
      return;
    }
    if (this.type(n) === T.LOCAL_PENDING) {
      this.setType(n, T.LOCAL_FREE);
      this.clearRef(n);
      this.listMove(n, this.localFree(this.local(this.nodeCpu(n))));
      return;
    }
    this.move(this.global(), n, T.FREE);
  }

  /** The nodes on every list, for tests and introspection: list name -> nodes, head first. */
  snapshot(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    const walk = (sentinel: number): number[] => {
      const nodes: number[] = [];
      for (let n = this.next(sentinel); n !== sentinel; n = this.next(n)) nodes.push(n);
      return nodes;
    };
    const set = (prefix: string, l: number): void => {
      out[`${prefix}active`] = walk(this.listOf(l, T.ACTIVE));
      out[`${prefix}inactive`] = walk(this.listOf(l, T.INACTIVE));
    };
    if (this.perCpuLru) {
      for (let c = 0; c < this.cpus; c++) set(`cpu${c}.`, this.percpuList(c));
    } else {
      set('', this.global());
      for (let c = 0; c < this.cpus; c++) out[`cpu${c}.pending`] = walk(this.localPending(this.local(c)));
    }
    return out;
  }
}
