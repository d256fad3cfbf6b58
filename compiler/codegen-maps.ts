// Part of codegen (the binaryen side): the compiled module's own map_lookup_elem and
// map_update_elem for the hash family, over the maps runtime/maps keeps in linear memory
// (layout in abi.ts). Lookups and LRU inserts are the hot path of load balancers (VIP
// table, connection LRU), and crossing into JS for them cost more than the rest of the
// program. Same algorithms as runtime/maps/hash.ts and pool.ts, on the same memory:
// - the key hash of base.ts hashKey, and a lock-free walk of the bucket chain; an update
//   of the key a lookup just missed (a new flow) reuses that lookup's hash (addMissMemo);
// - LRU lookups set the entry's reference bit (runtime/maps/lru.ts, the kernel's LRU), a
//   plain byte store without the lock, as the kernel's bpf_lru_node_set_ref;
// - HASH updates run under the map's spin lock: an existing key's value goes into the CPU's
//   spare entry, which replaces the old one (it becomes the spare: hash.ts replace, the
//   kernel's extra_elems), a new key into a node from the pool's free list or its current
//   chunk; publication is an atomic store of the bucket head;
// - LRU_HASH and LRU_PERCPU_HASH updates (common or BPF_F_NO_COMMON_LRU LRU) follow
//   hash.ts's lruUpdate / lruPercpuUpdate, with the LRU itself — popping a node, refilling
//   an empty local free list (flush, rotation, shrink, steal), giving nodes back — in
//   codegen-lru.ts; only a pop that could need a new chunk of nodes from the heap is the
//   runtime's, through the import, decided before anything changed;
// - the lock word holds the worker's CPU + 1 (abi.ts lockOwnerOfCpu), so that after a trap
//   here (wasm has no `finally`) the runtime frees what this worker held; spinning gives up
//   with -EBUSY after LOCK_SPIN_LIMIT attempts; key and value pointers are checked against
//   the memory before the lock is taken, as the runtime's helpers check them, so a bad
//   pointer faults the packet with the map untouched (FAULT.BAD_POINTER);
// - ARRAY_OF_MAPS lookups (katran's per-CPU LRU table) return the inner map's handle.
// Anything else — other map types, PERCPU_HASH updates, a HASH whose value holds a
// bpf_spin_lock (hash.ts copies around the lock word), a pool that needs a new chunk from
// the heap — goes to the runtime's import, which takes the same lock.

import binaryen from './binaryen.js';
import {
  DESC_MAGIC,
  DESC_WORD,
  FD_ARRAY_DESC,
  FD_ARRAY_VALUE_OFF,
  HASH_DESC,
  HASH_ENTRY,
  HASH_ENTRY_DEAD,
  LOCK_SPIN_LIMIT,
  LRU_LIST,
  LRU_LIST_TYPE,
  LRU_LOCAL,
  LRU_SENTINEL,
  LRU_STATE,
  POOL_WORD,
} from '../core/map-layout.js';
import { FAULT, FAULT_IMPORT, WASM_PAGE } from '../core/abi.js';
import { ERRNO, UPDATE_FLAG } from '../core/errno.js';
import { MAP_TYPE } from '../core/map-types.js';
import { KEY_HASH } from '../core/key-hash.js';
import { ensureLru, LRU_FN } from './codegen-lru.js';

const i32 = binaryen.i32;
const i64 = binaryen.i64;
const HASH_FN = 'map_hash$wasm';
const FIND_FN = 'map_find$wasm';
const MISS_NOTE_FN = 'map_note_miss$wasm';
const UPDATE_HASH_FN = 'map_update_hash$wasm';
/** The last lookup that missed (this instance's, so this worker's): key length, hash, key words. */
const MISS = { LEN: 'map_miss_len$wasm', HASH: 'map_miss_hash$wasm', WORD: 'map_miss_word$wasm' };
/** Keys up to this long, in whole 8-byte words, are remembered (katran's flow key is 40). */
const MISS_KEY_MAX = 64;
/** Pool header fields as byte offsets (core/map-layout.ts POOL_WORD). */
const POOL = { FREE: POOL_WORD.FREE * 4, NEXT: POOL_WORD.NEXT * 4, END: POOL_WORD.END * 4, SIZE: POOL_WORD.SIZE * 4 } as const;
const { NOEXIST: BPF_NOEXIST, EXIST: BPF_EXIST } = UPDATE_FLAG;
const EINVAL = -ERRNO.EINVAL;
const EEXIST = -ERRNO.EEXIST;
const ENOENT = -ERRNO.ENOENT;
const E2BIG = -ERRNO.E2BIG;
const ENOMEM = -ERRNO.ENOMEM;
const EBUSY = -ERRNO.EBUSY;

type Expr = binaryen.ExpressionRef;

/** Local-variable helpers for one function; expressions are trees, so each use builds a new node. */
function locals(m: binaryen.Module) {
  return {
    get: (local: number): Expr => m.local.get(local, i32),
    set: (local: number, value: Expr): Expr => m.local.set(local, value),
    c: (n: number): Expr => m.i32.const(n | 0),
  };
}

/** map_hash$wasm(key, len) -> hash: core/key-hash.ts keyHash, two words (one per lane) at a time, then the rest. */
function addHash(m: binaryen.Module): void {
  const { get, set, c } = locals(m);
  const [KEY, LEN, I, J, A, B, T] = [0, 1, 2, 3, 4, 5, 6];
  const get64 = (local: number): Expr => m.local.get(local, i64);
  const word = (at: number): Expr => m.i64.load(at, 1, m.i32.add(get(KEY), get(I)));
  const mix = (lane: number, w: Expr): Expr => set(lane, mixWord64Expr(m, get64(lane), w));
  /** T := the key's last 1–7 bytes from I on, little-endian, zero-padded to a word. */
  const tail = m.block(null, [
    set(T, m.i64.const(0n)),
    set(J, get(I)),
    m.loop(
      'hash_tail',
      m.if(
        m.i32.lt_u(get(J), get(LEN)),
        m.block(null, [
          set(
            T,
            m.i64.or(
              get64(T),
              m.i64.shl(m.i64.load8_u(0, 1, m.i32.add(get(KEY), get(J))), m.i64.extend_u(m.i32.shl(m.i32.sub(get(J), get(I)), c(3)))),
            ),
          ),
          set(J, m.i32.add(get(J), c(1))),
          m.br('hash_tail'),
        ]),
      ),
    ),
  ]);
  const hasTail = (): Expr => m.i32.lt_u(get(I), get(LEN));
  const body = m.block(
    null,
    [
      set(A, m.i64.xor(i64Const(m, KEY_HASH.SEED0), m.i64.extend_u(get(LEN)))),
      set(B, m.i64.xor(i64Const(m, KEY_HASH.SEED1), m.i64.extend_u(get(LEN)))),
      set(I, c(0)),
      m.loop(
        'hash_words',
        m.if(
          m.i32.le_u(m.i32.add(get(I), c(16)), get(LEN)),
          m.block(null, [mix(A, word(0)), mix(B, word(8)), set(I, m.i32.add(get(I), c(16))), m.br('hash_words')]),
        ),
      ),
      // At most 15 bytes left: maybe one more whole word (lane 0), then the rest for the lane
      // of word number LEN / 8.
      m.if(m.i32.le_u(m.i32.add(get(I), c(8)), get(LEN)), m.block(null, [mix(A, word(0)), set(I, m.i32.add(get(I), c(8)))])),
      m.if(hasTail(), m.block(null, [tail, m.if(m.i32.and(m.i32.shr_u(get(LEN), c(3)), c(1)), mix(B, get64(T)), mix(A, get64(T)))])),
      finalHashExpr(m, get64(A), get64(B), T),
    ],
    i32,
  );
  m.addFunction(HASH_FN, binaryen.createType([i32, i32]), i32, [i32, i32, i64, i64, i64], body);
}

/** A [high, low] pair of 32-bit halves as an i64 constant. */
export const i64Const = (m: binaryen.Module, [high, low]: readonly [number, number]): Expr =>
  m.i64.const(BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)));

/** One word into a lane (core/key-hash.ts keyHash): (lane ^ word) * MUL. */
export function mixWord64Expr(m: binaryen.Module, lane: Expr, word: Expr): Expr {
  return m.i64.mul(m.i64.xor(lane, word), i64Const(m, KEY_HASH.MUL));
}

/** The two lanes into the 32-bit hash (core/key-hash.ts keyHash), through the i64 local `scratch`. */
export function finalHashExpr(m: binaryen.Module, lane0: Expr, lane1: Expr, scratch: number): Expr {
  const fold = (x: Expr, shift: number): Expr =>
    m.i64.xor(m.local.tee(scratch, x, i64), m.i64.shr_u(m.local.get(scratch, i64), m.i64.const(BigInt(shift))));
  const h = m.i64.xor(lane0, m.i64.rotl(lane1, m.i64.const(32n)));
  const once = m.i64.mul(fold(h, 32), i64Const(m, KEY_HASH.FINAL_MUL));
  const twice = m.i64.mul(fold(once, KEY_HASH.FINAL_SHIFT), i64Const(m, KEY_HASH.FINAL_MUL2));
  return m.i32.wrap(m.i64.shr_u(twice, m.i64.const(32n)));
}

/** map_find$wasm(handle, key, len, hash) -> entry or 0: the lock-free chain walk. */
function addFind(m: binaryen.Module): void {
  const { get, set, c } = locals(m);
  const [HANDLE, KEY, LEN, HASH, ENTRY, I] = [0, 1, 2, 3, 4, 5];
  const word = (index: number): Expr => m.i32.load(index * 4, 4, get(HANDLE));
  const entryKey = (): Expr => m.i32.add(m.i32.add(get(ENTRY), c(HASH_ENTRY.KEY)), get(I));
  const keyAt = (): Expr => m.i32.add(get(KEY), get(I));
  const compare = m.block('mismatch', [
    set(I, c(0)),
    m.loop(
      'cmp_words',
      m.if(
        m.i32.le_u(m.i32.add(get(I), c(4)), get(LEN)),
        m.block(null, [
          m.br('mismatch', m.i32.ne(m.i32.load(0, 1, keyAt()), m.i32.load(0, 1, entryKey()))),
          set(I, m.i32.add(get(I), c(4))),
          m.br('cmp_words'),
        ]),
      ),
    ),
    m.loop(
      'cmp_bytes',
      m.if(
        m.i32.lt_u(get(I), get(LEN)),
        m.block(null, [
          m.br('mismatch', m.i32.ne(m.i32.load8_u(0, 1, keyAt()), m.i32.load8_u(0, 1, entryKey()))),
          set(I, m.i32.add(get(I), c(1))),
          m.br('cmp_bytes'),
        ]),
      ),
    ),
    m.return(get(ENTRY)),
  ]);
  const bucket = m.i32.add(word(HASH_DESC.BUCKETS), m.i32.shl(m.i32.and(get(HASH), word(HASH_DESC.MASK)), c(2)));
  const body = m.block(
    null,
    [
      set(ENTRY, m.i32.atomic.load(0, bucket)),
      m.loop(
        'walk',
        m.block(null, [
          m.if(m.i32.eqz(get(ENTRY)), m.return(c(0))),
          m.if(m.i32.eq(m.i32.load(HASH_ENTRY.HASH, 4, get(ENTRY)), get(HASH)), compare),
          set(ENTRY, m.i32.load(HASH_ENTRY.NEXT, 4, get(ENTRY))),
          m.br('walk'),
        ]),
      ),
      c(0),
    ],
    i32,
  );
  m.addFunction(FIND_FN, binaryen.createType([i32, i32, i32, i32]), i32, [i32, i32], body);
}

/** Expressions over a map descriptor (local `handle`) and an entry (local `entry`). */
function mapOps(m: binaryen.Module, handle: number, cpuGlobal: string) {
  const { get, c } = locals(m);
  /** This worker's token in the lock word (abi.ts lockOwnerOfCpu). */
  const owner = (): Expr => m.i32.add(m.global.get(cpuGlobal, i32), c(1));
  const word = (index: number): Expr => m.i32.load(index * 4, 4, get(handle));
  const storeWord = (index: number, value: Expr): Expr => m.i32.store(index * 4, 4, get(handle), value);
  const field = (e: Expr, offset: number): Expr => m.i32.load(offset, 4, e);
  const setField = (e: Expr, offset: number, value: Expr): Expr => m.i32.store(offset, 4, e, value);
  const lockAddr = (): Expr => m.i32.add(get(handle), c(DESC_WORD.LOCK * 4));
  return {
    word,
    storeWord,
    field,
    setField,
    lockAddr,
    owner,
    /** Takes the lock if it is free: 1 if taken. */
    tryLock: (): Expr => m.i32.eqz(m.i32.atomic.rmw.cmpxchg(0, lockAddr(), c(0), owner())),
    /** Whether [addr, addr + len) reaches beyond the memory (64-bit sums: no wrap-around). */
    outsideMemory: (addr: Expr, len: Expr): Expr =>
      m.i64.gt_u(
        m.i64.add(m.i64.extend_u(addr), m.i64.extend_u(len)),
        m.i64.mul(m.i64.extend_u(m.memory.size('0')), m.i64.const(WASM_PAGE)),
      ),
    isType: (typeLocal: number, ...types: number[]): Expr =>
      types.map((t) => m.i32.eq(get(typeLocal), c(t))).reduce((a, b) => m.i32.or(a, b)),
    published: (): Expr => m.i32.eq(m.i32.atomic.load(DESC_WORD.MAGIC * 4, get(handle)), c(DESC_MAGIC)),
    align8: (v: Expr): Expr => m.i32.and(m.i32.add(v, c(7)), c(-8)),
  };
}

/**
 * Adds `name(handle: i32, key: i32) -> i32` (the value pointer, or 0). `fallback` is the
 * runtime's i32 map_lookup_elem import; `cpuGlobal` holds the worker's CPU; `maxCpus` is
 * the per-CPU value count the maps were laid out for.
 */
export function addHashLookup(m: binaryen.Module, name: string, fallback: string, cpuGlobal: string, maxCpus: number): void {
  ensureShared(m);
  const { get, set, c } = locals(m);
  const [HANDLE, KEY, TYPE, ENTRY, LEN, I] = [0, 1, 2, 3, 4, 5];
  const ops = mapOps(m, HANDLE, cpuGlobal);
  const { word, isType } = ops;

  // ARRAY_OF_MAPS: a u32 index; a set slot (presence word 1) holds the inner handle.
  const slot = (): Expr => m.i32.add(word(FD_ARRAY_DESC.STORAGE), m.i32.mul(get(I), word(FD_ARRAY_DESC.SLOT)));
  const mapInMap = m.block(null, [
    set(I, m.i32.load(0, 1, get(KEY))),
    m.if(m.i32.ge_u(get(I), word(DESC_WORD.MAX)), m.return(c(0))),
    m.if(m.i32.ne(m.i32.atomic.load(0, slot()), c(1)), m.return(c(0))),
    m.return(m.i32.load(FD_ARRAY_VALUE_OFF, 4, slot())),
  ]);

  // LRU: set the reference bit (the kernel's bpf_lru_node_set_ref: only if clear, no lock).
  const touch = m.if(
    m.i32.and(isType(TYPE, MAP_TYPE.LRU_HASH, MAP_TYPE.LRU_PERCPU_HASH), m.i32.eqz(m.i32.load8_u(HASH_ENTRY.LRU_REF, 1, get(ENTRY)))),
    m.i32.store8(HASH_ENTRY.LRU_REF, 1, get(ENTRY), c(1)),
  );

  // The value: after the key padded to 8; per-CPU maps keep one 8-aligned slot per CPU.
  const value = (): Expr => m.i32.add(get(ENTRY), m.i32.add(c(HASH_ENTRY.KEY), ops.align8(get(LEN))));
  const cpu = (): Expr => m.global.get(cpuGlobal, i32);
  const stride = ops.align8(m.select(m.i32.gt_u(word(DESC_WORD.VALUE), c(1)), word(DESC_WORD.VALUE), c(1)));

  const body = m.block(
    null,
    [
      m.if(m.i32.eqz(ops.published()), m.return(m.call(fallback, [get(HANDLE), get(KEY)], i32))),
      set(TYPE, word(DESC_WORD.TYPE)),
      m.if(m.i32.eq(get(TYPE), c(MAP_TYPE.ARRAY_OF_MAPS)), mapInMap),
      m.if(
        m.i32.eqz(isType(TYPE, MAP_TYPE.HASH, MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_HASH, MAP_TYPE.LRU_PERCPU_HASH)),
        m.return(m.call(fallback, [get(HANDLE), get(KEY)], i32)),
      ),
      set(LEN, word(DESC_WORD.KEY)),
      set(I, m.call(HASH_FN, [get(KEY), get(LEN)], i32)),
      set(ENTRY, m.call(FIND_FN, [get(HANDLE), get(KEY), get(LEN), get(I)], i32)),
      m.if(m.i32.eqz(get(ENTRY)), m.block(null, [m.call(MISS_NOTE_FN, [get(KEY), get(LEN), get(I)], binaryen.none), m.return(c(0))])),
      touch,
      m.if(
        isType(TYPE, MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_PERCPU_HASH),
        m.if(m.i32.ge_u(cpu(), c(maxCpus)), c(0), m.i32.add(value(), m.i32.mul(cpu(), stride))),
        value(),
      ),
    ],
    i32,
  );
  m.addFunction(name, binaryen.createType([i32, i32]), i32, [i32, i32, i32, i32], body);
}

/**
 * Adds `name(handle, key, value, flags) -> i32` (0 or -errno) for HASH, LRU_HASH and
 * LRU_PERCPU_HASH maps; everything else, and a pool that has to grow, through `fallback`
 * (the i32 import). `cpuGlobal` holds the worker's CPU, whose token the lock word takes;
 * `maxCpus` is the per-CPU value count the maps were laid out for.
 */
export function addHashUpdate(m: binaryen.Module, name: string, fallback: string, cpuGlobal: string, maxCpus: number): void {
  ensureShared(m);
  ensureLru(m);
  const { get, set, c } = locals(m);
  const [HANDLE, KEY, VALUE, FLAGS, TYPE, LEN, HASH, ENTRY, OLD, SLOT, POOL_AT, SPIN, STATE, LCPU, RESULT, LOC, P, X] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
  ];
  const ops = mapOps(m, HANDLE, cpuGlobal);
  const { word, field, setField, isType } = ops;
  const fallbackCall = (): Expr => m.call(fallback, [get(HANDLE), get(KEY), get(VALUE), get(FLAGS)], i32);
  const unlockAnd = (result: Expr): Expr => m.block(null, [m.i32.atomic.store(0, ops.lockAddr(), c(0)), m.return(result)]);
  const cpu = (): Expr => m.global.get(cpuGlobal, i32);
  const valueAt = (e: number): Expr => m.i32.add(get(e), m.i32.add(c(HASH_ENTRY.KEY), ops.align8(get(LEN))));
  const count = (): Expr => m.i32.add(get(HANDLE), c(DESC_WORD.COUNT * 4));
  // LRU_PERCPU_HASH keeps one value per CPU, 8-aligned, when there is more than one CPU
  // (with one, the runtime treats it as LRU_HASH: hash.ts updateLocked).
  const perCpuValues = maxCpus > 1;
  const isPerCpuLru = (): Expr => (perCpuValues ? m.i32.eq(get(TYPE), c(MAP_TYPE.LRU_PERCPU_HASH)) : c(0));
  const stride = (): Expr => ops.align8(m.select(m.i32.gt_u(word(DESC_WORD.VALUE), c(1)), word(DESC_WORD.VALUE), c(1)));

  // A node from the pool (pool.ts poolAlloc) without growing it; else the whole update is the runtime's.
  const poolAllocBlock = (): Expr =>
    m.block(null, [
      set(POOL_AT, word(HASH_DESC.POOL)),
      set(ENTRY, m.i32.load(POOL.FREE, 4, get(POOL_AT))),
      m.if(
        get(ENTRY),
        m.i32.store(POOL.FREE, 4, get(POOL_AT), field(get(ENTRY), HASH_ENTRY.LNEXT)),
        m.block(null, [
          set(ENTRY, m.i32.load(POOL.NEXT, 4, get(POOL_AT))),
          m.if(m.i32.or(m.i32.eqz(get(ENTRY)), m.i32.ge_u(get(ENTRY), m.i32.load(POOL.END, 4, get(POOL_AT)))), unlockAnd(fallbackCall())),
          m.i32.store(POOL.NEXT, 4, get(POOL_AT), m.i32.add(get(ENTRY), m.i32.load(POOL.SIZE, 4, get(POOL_AT)))),
        ]),
      ),
    ]);

  // Links a complete `entry` in at the head of its bucket chain (hash.ts chainPublish).
  const chainPublish = (): Expr =>
    m.block(null, [
      set(SLOT, m.i32.add(word(HASH_DESC.BUCKETS), m.i32.shl(m.i32.and(get(HASH), word(HASH_DESC.MASK)), c(2)))),
      setField(get(ENTRY), HASH_ENTRY.NEXT, m.i32.load(0, 4, get(SLOT))),
      m.i32.atomic.store(0, get(SLOT), get(ENTRY)),
      m.drop(m.i32.atomic.rmw.add(0, count(), c(1))),
    ]);
  const copyKey = (): Expr => m.memory.copy(m.i32.add(get(ENTRY), c(HASH_ENTRY.KEY)), get(KEY), get(LEN));
  const setHash = (): Expr => setField(get(ENTRY), HASH_ENTRY.HASH, get(HASH));

  /** The entry at ENTRY gets the key, its hash and the value, and goes at the head of its bucket (a new key and a replaced one alike). */
  const fillAndPublish = (): Expr[] => [
    setField(get(ENTRY), HASH_ENTRY.PREV, c(0)),
    setField(get(ENTRY), HASH_ENTRY.LNEXT, c(0)),
    copyKey(),
    setHash(),
    m.memory.copy(valueAt(ENTRY), get(VALUE), word(DESC_WORD.VALUE)),
    chainPublish(),
  ];
  const poolAlloc = poolAllocBlock();
  const poolAllocForReplace = poolAllocBlock();
  const insert = m.block(null, [
    m.if(m.i32.eq(get(FLAGS), c(BPF_EXIST)), unlockAnd(c(ENOENT))),
    m.if(m.i32.ge_u(m.i32.atomic.load(0, count()), word(DESC_WORD.MAX)), unlockAnd(c(E2BIG))),
    poolAlloc,
    ...fillAndPublish(),
  ]);

  // An existing key (hash.ts replace, the kernel's htab_map_update_elem): the value goes into
  // this CPU's spare entry (filled at map creation, as the kernel's extra_elems, so the pool
  // is only a fallback), published at the head of the bucket; the old entry leaves the
  // chain and becomes the spare.
  const replace = m.block(null, [
    set(OLD, get(ENTRY)),
    set(X, m.i32.add(word(HASH_DESC.SPARES), m.i32.shl(cpu(), c(2)))),
    set(ENTRY, m.i32.load(0, 4, get(X))),
    m.if(m.i32.eqz(get(ENTRY)), poolAllocForReplace),
    ...fillAndPublish(),
    // SLOT walks from the bucket head (chainPublish left it there) to the link naming OLD.
    m.loop(
      'unlink',
      m.if(
        m.i32.ne(m.i32.load(0, 4, get(SLOT)), get(OLD)),
        m.block(null, [set(SLOT, m.i32.add(m.i32.load(0, 4, get(SLOT)), c(HASH_ENTRY.NEXT))), m.br('unlink')]),
      ),
    ),
    m.i32.atomic.store(0, get(SLOT), field(get(OLD), HASH_ENTRY.NEXT)),
    setField(get(OLD), HASH_ENTRY.PREV, c(HASH_ENTRY_DEAD)),
    setField(get(OLD), HASH_ENTRY.HASH, m.i32.xor(get(HASH), c(-1))),
    m.drop(m.i32.atomic.rmw.sub(0, count(), c(1))),
    m.i32.store(0, 4, get(X), get(OLD)),
  ]);

  const hashUpdate = m.block(null, [
    set(ENTRY, m.call(FIND_FN, [get(HANDLE), get(KEY), get(LEN), get(HASH)], i32)),
    m.if(get(ENTRY), m.block(null, [m.if(m.i32.eq(get(FLAGS), c(BPF_NOEXIST)), unlockAnd(c(EEXIST))), replace]), insert),
  ]);

  // LRU maps, in hash.ts's order (the kernel's): a node first (which may evict, even the
  // key being updated), then the lookup. The LRU itself is codegen-lru.ts.
  // ENTRY = lru.ts popFree(lcpu, hash), or the whole update goes to the runtime (unlocked)
  // when the pop could need a new chunk of nodes from the heap. The common case inline: the
  // common LRU with a node on the CPU's local free list, which goes to the head of its
  // pending list (popLocalFree + addPending); the rest is codegen-lru.ts.
  const head = (list: number): Expr => m.i32.add(get(LOC), c(list));
  const sentinel = (list: number): Expr => m.i32.add(get(LOC), c(list - LRU_SENTINEL));
  const popFree = (label: string): Expr =>
    m.block(label, [
      m.if(
        m.i32.eqz(m.i32.load(LRU_STATE.PERCPU, 4, get(STATE))),
        m.block(null, [
          set(LOC, m.i32.add(get(STATE), m.i32.add(c(LRU_STATE.LISTS + LRU_LIST.BYTES), m.i32.mul(get(LCPU), c(LRU_LOCAL.BYTES))))),
          set(ENTRY, m.i32.load(4, 4, head(LRU_LOCAL.FREE))),
          m.if(
            m.i32.ne(get(ENTRY), sentinel(LRU_LOCAL.FREE)),
            m.block(null, [
              // list_del(entry)
              set(P, field(get(ENTRY), HASH_ENTRY.PREV)),
              set(X, field(get(ENTRY), HASH_ENTRY.LNEXT)),
              setField(get(P), HASH_ENTRY.LNEXT, get(X)),
              setField(get(X), HASH_ENTRY.PREV, get(P)),
              // list_add(entry, pending)
              set(X, m.i32.load(4, 4, head(LRU_LOCAL.PENDING))),
              setField(get(ENTRY), HASH_ENTRY.LNEXT, get(X)),
              setField(get(ENTRY), HASH_ENTRY.PREV, sentinel(LRU_LOCAL.PENDING)),
              setField(get(X), HASH_ENTRY.PREV, get(ENTRY)),
              m.i32.store(4, 4, head(LRU_LOCAL.PENDING), get(ENTRY)),
              setField(get(ENTRY), HASH_ENTRY.HASH, get(HASH)),
              m.i32.store16(HASH_ENTRY.LRU_CPU, 2, get(ENTRY), get(LCPU)),
              m.i32.store8(HASH_ENTRY.LRU_TYPE, 1, get(ENTRY), c(LRU_LIST_TYPE.LOCAL_PENDING)),
              m.i32.store8(HASH_ENTRY.LRU_REF, 1, get(ENTRY), c(0)),
              m.br(label),
            ]),
          ),
        ]),
      ),
      m.if(m.i32.eqz(m.call(LRU_FN.popStays, [get(HANDLE), get(STATE), get(LCPU)], i32)), unlockAnd(fallbackCall())),
      set(ENTRY, m.call(LRU_FN.popFree, [get(HANDLE), get(STATE), get(LCPU), get(HASH)], i32)),
    ]);
  const pushFree = (e: number): Expr => m.call(LRU_FN.pushFree, [get(STATE), get(e)], binaryen.none);
  const findOld = (): Expr => set(OLD, m.call(FIND_FN, [get(HANDLE), get(KEY), get(LEN), get(HASH)], i32));
  /** hash.ts: EEXIST for NOEXIST on a present key, ENOENT for EXIST on an absent one, else 0. */
  const refusal = (): Expr =>
    m.if(
      get(OLD),
      m.select(m.i32.eq(get(FLAGS), c(BPF_NOEXIST)), c(EEXIST), c(0)),
      m.select(m.i32.eq(get(FLAGS), c(BPF_EXIST)), c(ENOENT), c(0)),
    );

  // LRU_HASH (hash.ts lruUpdate): always a new node; an old entry leaves for it.
  const lruUpdate = m.block(null, [
    popFree('popped'),
    m.if(m.i32.eqz(get(ENTRY)), unlockAnd(c(ENOMEM))),
    copyKey(),
    m.memory.copy(valueAt(ENTRY), get(VALUE), word(DESC_WORD.VALUE)),
    findOld(),
    set(RESULT, refusal()),
    m.if(get(RESULT), m.block(null, [pushFree(ENTRY), unlockAnd(get(RESULT))])),
    setHash(),
    chainPublish(),
    m.if(
      get(OLD),
      m.block(null, [
        m.i32.store8(HASH_ENTRY.LRU_REF, 1, get(ENTRY), c(1)),
        m.drop(m.call(LRU_FN.unhash, [get(HANDLE), get(OLD)], i32)),
        pushFree(OLD),
      ]),
    ),
  ]);

  // LRU_PERCPU_HASH (hash.ts lruPercpuUpdate): in place when present; BPF_EXIST takes no node.
  const cpuValue = (e: number): Expr => m.i32.add(valueAt(e), m.i32.mul(cpu(), stride()));
  const lruPercpuUpdate = m.block(null, [
    m.if(m.i32.ne(get(FLAGS), c(BPF_EXIST)), m.block(null, [popFree('popped_percpu'), m.if(m.i32.eqz(get(ENTRY)), unlockAnd(c(ENOMEM)))])),
    findOld(),
    set(RESULT, refusal()),
    m.if(
      m.i32.eqz(get(RESULT)),
      m.if(
        get(OLD),
        m.block(null, [
          m.i32.store8(HASH_ENTRY.LRU_REF, 1, get(OLD), c(1)),
          m.memory.copy(cpuValue(OLD), get(VALUE), word(DESC_WORD.VALUE)),
        ]),
        m.block(null, [
          copyKey(),
          setHash(),
          m.memory.fill(valueAt(ENTRY), c(0), m.i32.mul(c(maxCpus), stride())),
          m.memory.copy(cpuValue(ENTRY), get(VALUE), word(DESC_WORD.VALUE)),
          chainPublish(),
          set(ENTRY, c(0)),
        ]),
      ),
    ),
    m.if(get(ENTRY), pushFree(ENTRY)),
    unlockAnd(get(RESULT)),
  ]);

  const lru = m.block(null, [
    set(STATE, word(HASH_DESC.LRU)),
    // hash.ts lruCpu: the LRU's CPU for this one.
    set(LCPU, m.select(m.i32.lt_u(cpu(), m.i32.load(LRU_STATE.CPUS, 4, get(STATE))), cpu(), c(0))),
    m.if(isPerCpuLru(), lruPercpuUpdate, lruUpdate),
  ]);

  const body = m.block(
    null,
    [
      m.if(m.i32.eqz(ops.published()), m.return(fallbackCall())),
      set(TYPE, word(DESC_WORD.TYPE)),
      // A value with a bpf_spin_lock is the runtime's: it copies around the lock word.
      m.if(
        m.i32.or(m.i32.eqz(isType(TYPE, MAP_TYPE.HASH, MAP_TYPE.LRU_HASH, MAP_TYPE.LRU_PERCPU_HASH)), word(HASH_DESC.SPIN_LOCK)),
        m.return(fallbackCall()),
      ),
      set(LEN, word(DESC_WORD.KEY)),
      // The runtime's helpers check both pointers before anything else (the value for one
      // CPU's value); so does this.
      m.if(
        m.i32.or(ops.outsideMemory(get(KEY), get(LEN)), ops.outsideMemory(get(VALUE), word(DESC_WORD.VALUE))),
        m.block(null, [m.call(FAULT_IMPORT, [c(FAULT.BAD_POINTER), c(-1)], binaryen.none), m.unreachable()]),
      ),
      m.if(m.i32.gt_u(get(FLAGS), c(BPF_EXIST)), m.return(c(EINVAL))),
      m.if(m.i32.and(isPerCpuLru(), m.i32.ge_u(cpu(), c(maxCpus))), m.return(c(EINVAL))),
      set(HASH, m.call(UPDATE_HASH_FN, [get(KEY), get(LEN)], i32)),
      set(SPIN, c(LOCK_SPIN_LIMIT)),
      m.loop(
        'lock',
        m.if(
          m.i32.eqz(ops.tryLock()),
          m.block(null, [set(SPIN, m.i32.sub(get(SPIN), c(1))), m.if(m.i32.eqz(get(SPIN)), m.return(c(EBUSY))), m.br('lock')]),
        ),
      ),
      m.if(m.i32.eq(get(TYPE), c(MAP_TYPE.HASH)), hashUpdate, lru),
      m.i32.atomic.store(0, ops.lockAddr(), c(0)),
      c(0),
    ],
    i32,
  );
  m.addFunction(name, binaryen.createType([i32, i32, i32, i32]), i32, new Array(14).fill(i32), body);
}

/**
 * A module of the key hash alone, `hash(key: i32, len: i32) -> i32` over an imported
 * one-page `env.memory`: how tests hold the wasm hash against core/key-hash.ts.
 */
export function keyHashProbeModule(): Uint8Array<ArrayBuffer> {
  const m = new binaryen.Module();
  m.setMemory(1, 1, null, [], false, false, '0');
  m.addMemoryImport('0', 'env', 'memory');
  addHash(m);
  m.addFunctionExport(HASH_FN, 'hash');
  const bytes = new Uint8Array(m.emitBinary());
  m.dispose();
  return bytes;
}

const shared = new WeakSet<object>();
/** The hash and find functions, once per module. */
function ensureShared(m: binaryen.Module): void {
  if (shared.has(m)) return;
  shared.add(m);
  addHash(m);
  addFind(m);
  addMissMemo(m);
}

/**
 * A program that looks a key up and, missing it, inserts it (a load balancer's connection
 * table, all new flows) hashes the same key twice. map_note_miss$wasm(key, len, hash)
 * remembers the lookup's miss — the key's bytes, not its address, which the program
 * may reuse for another key; map_update_hash$wasm(handle, key, len) gives that hash back
 * when the update's key has the same bytes for the same map, and hashes it otherwise.
 * Keys of whole 8-byte words up to MISS_KEY_MAX bytes (others are never remembered).
 */
/**
 * The call that remembers a miss of a `len`-byte key at `key()` whose hash is `hash()`
 * (specialised lookups, codegen-map-lookup.ts, note their misses as the generic one does),
 * or undefined for a key size that is never remembered. The key hash does not depend on the
 * map, so a remembered hash is right for any map the same bytes are looked up in.
 */
export function noteMissExpr(m: binaryen.Module, key: () => Expr, len: number, hash: () => Expr): Expr | undefined {
  if (len > MISS_KEY_MAX || len % 8 !== 0) return undefined;
  return m.call(MISS_NOTE_FN, [key(), m.i32.const(len), hash()], binaryen.none);
}

function addMissMemo(m: binaryen.Module): void {
  const { get, c } = locals(m);
  const [KEY, LEN, HASH] = [0, 1, 2];
  const words = MISS_KEY_MAX / 8;
  const word = (i: number): string => `${MISS.WORD}${i}`;
  m.addGlobal(MISS.LEN, i32, true, c(0));
  m.addGlobal(MISS.HASH, i32, true, c(0));
  for (let i = 0; i < words; i++) m.addGlobal(word(i), binaryen.i64, true, m.i64.const(0n));
  /** Word i of the key is within it. */
  const has = (i: number): Expr => m.i32.gt_u(get(LEN), c(i * 8));
  const keyWord = (i: number): Expr => m.i64.load(i * 8, 1, get(KEY));
  const unremembered = m.i32.or(m.i32.gt_u(get(LEN), c(MISS_KEY_MAX)), m.i32.and(get(LEN), c(7)));
  m.addFunction(
    MISS_NOTE_FN,
    binaryen.createType([i32, i32, i32]),
    binaryen.none,
    [],
    m.block(null, [
      m.if(unremembered, m.return()),
      m.global.set(MISS.LEN, get(LEN)),
      m.global.set(MISS.HASH, get(HASH)),
      ...Array.from({ length: words }, (_, i) => m.if(has(i), m.global.set(word(i), keyWord(i)))),
    ]),
  );
  const hashIt = (): Expr => m.return(m.call(HASH_FN, [get(KEY), get(LEN)], i32));
  m.addFunction(
    UPDATE_HASH_FN,
    binaryen.createType([i32, i32]),
    i32,
    [],
    m.block(
      null,
      [
        m.if(m.i32.ne(get(LEN), m.global.get(MISS.LEN, i32)), hashIt()),
        ...Array.from({ length: words }, (_, i) =>
          m.if(m.i32.and(has(i), m.i64.ne(keyWord(i), m.global.get(word(i), binaryen.i64))), hashIt()),
        ),
        m.global.get(MISS.HASH, i32),
      ],
      i32,
    ),
  );
}
