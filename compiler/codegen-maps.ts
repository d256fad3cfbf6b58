// Part of codegen (the binaryen side): the compiled module's own map_lookup_elem for the
// hash family — HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH — over the maps runtime/maps
// keeps in linear memory (layout in abi.ts). A lookup is the hot path of load balancers
// (VIP table, connection LRU), and crossing into JS for it cost more than the rest of the
// program. Same algorithm as runtime/maps/hash.ts: the key hash of base.ts hashKey, a
// lock-free walk of the bucket chain, and for LRU maps a move to the front under the map's
// lock when the lock is free. ARRAY_OF_MAPS lookups (katran's per-CPU LRU table) return
// the inner map's handle from its slot. Every other map type goes to the runtime's import.

import binaryen from 'binaryen';
import { DESC_MAGIC, DESC_WORD, FD_ARRAY_DESC, FD_ARRAY_VALUE_OFF, HASH_DESC, HASH_ENTRY, HASH_ENTRY_DEAD } from './abi.js';
import { MAP_TYPE } from './model.js';

const i32 = binaryen.i32;

/**
 * Adds `name(handle: i32, key: i32) -> i32` (the value pointer, or 0). `fallback` is the
 * runtime's i32 map_lookup_elem import; `cpuGlobal` holds the worker's CPU; `maxCpus` is
 * the per-CPU value count the maps were laid out for.
 */
export function addHashLookup(m: binaryen.Module, name: string, fallback: string, cpuGlobal: string, maxCpus: number): void {
  const HANDLE = 0;
  const KEY = 1;
  const TYPE = 2;
  const HASH = 3;
  const ENTRY = 4;
  const I = 5;
  const LEN = 6;
  const K = 7;
  const PREV = 8;
  const NEXT = 9;
  const get = (local: number): binaryen.ExpressionRef => m.local.get(local, i32);
  const set = (local: number, value: binaryen.ExpressionRef): binaryen.ExpressionRef => m.local.set(local, value);
  const c = (n: number): binaryen.ExpressionRef => m.i32.const(n | 0);
  const word = (index: number): binaryen.ExpressionRef => m.i32.load(index * 4, 4, get(HANDLE));
  const storeWord = (index: number, value: binaryen.ExpressionRef): binaryen.ExpressionRef => m.i32.store(index * 4, 4, get(HANDLE), value);
  const field = (entry: binaryen.ExpressionRef, offset: number): binaryen.ExpressionRef => m.i32.load(offset, 4, entry);
  const setField = (entry: binaryen.ExpressionRef, offset: number, value: binaryen.ExpressionRef): binaryen.ExpressionRef =>
    m.i32.store(offset, 4, entry, value);
  const isType = (...types: number[]): binaryen.ExpressionRef =>
    types.map((t) => m.i32.eq(get(TYPE), c(t))).reduce((a, b) => m.i32.or(a, b));

  // hashKey: murmur3-style over whole little-endian words, FNV-style over the tail bytes.
  const hashWords = m.loop('hash_words', m.if(
    m.i32.le_u(m.i32.add(get(I), c(4)), get(LEN)),
    m.block(null, [
      set(K, m.i32.rotl(m.i32.mul(m.i32.load(0, 1, m.i32.add(get(KEY), get(I))), c(0xcc9e2d51)), c(15))),
      set(HASH, m.i32.xor(get(HASH), m.i32.mul(get(K), c(0x1b873593)))),
      set(HASH, m.i32.add(m.i32.mul(m.i32.rotl(get(HASH), c(13)), c(5)), c(0xe6546b64))),
      set(I, m.i32.add(get(I), c(4))),
      m.br('hash_words'),
    ]),
  ));
  const hashTail = m.loop('hash_tail', m.if(
    m.i32.lt_u(get(I), get(LEN)),
    m.block(null, [
      set(HASH, m.i32.mul(m.i32.xor(get(HASH), m.i32.load8_u(0, 1, m.i32.add(get(KEY), get(I)))), c(0x01000193))),
      set(I, m.i32.add(get(I), c(1))),
      m.br('hash_tail'),
    ]),
  ));
  const avalanche = [[16, 0x85ebca6b], [13, 0xc2b2ae35]].map(([shift, mul]) =>
    set(HASH, m.i32.mul(m.i32.xor(get(HASH), m.i32.shr_u(get(HASH), c(shift!))), c(mul!))));

  // Key comparison against the entry's key (at entry + KEY), words then bytes.
  const entryKey = (offset: binaryen.ExpressionRef): binaryen.ExpressionRef => m.i32.add(m.i32.add(get(ENTRY), c(HASH_ENTRY.KEY)), offset);
  const compare = m.block('mismatch', [
    set(I, c(0)),
    m.loop('cmp_words', m.if(
      m.i32.le_u(m.i32.add(get(I), c(4)), get(LEN)),
      m.block(null, [
        m.br('mismatch', m.i32.ne(m.i32.load(0, 1, m.i32.add(get(KEY), get(I))), m.i32.load(0, 1, entryKey(get(I))))),
        set(I, m.i32.add(get(I), c(4))),
        m.br('cmp_words'),
      ]),
    )),
    m.loop('cmp_bytes', m.if(
      m.i32.lt_u(get(I), get(LEN)),
      m.block(null, [
        m.br('mismatch', m.i32.ne(m.i32.load8_u(0, 1, m.i32.add(get(KEY), get(I))), m.i32.load8_u(0, 1, entryKey(get(I))))),
        set(I, m.i32.add(get(I), c(1))),
        m.br('cmp_bytes'),
      ]),
    )),
    m.br('found'),
  ]);

  // The chain walk: lock-free, the bucket head read atomically as the runtime publishes it.
  const bucket = m.i32.add(word(HASH_DESC.BUCKETS), m.i32.shl(m.i32.and(get(HASH), word(HASH_DESC.MASK)), c(2)));
  const walk = m.block('found', [
    set(ENTRY, m.i32.atomic.load(0, bucket)),
    m.loop('walk', m.block(null, [
      m.if(m.i32.eqz(get(ENTRY)), m.return(c(0))),
      m.if(m.i32.eq(field(get(ENTRY), HASH_ENTRY.HASH), get(HASH)), compare),
      set(ENTRY, field(get(ENTRY), HASH_ENTRY.NEXT)),
      m.br('walk'),
    ])),
  ]);

  // LRU: move to the front (unlink, push) if the lock is free and the entry is live.
  // Expressions are trees in binaryen: each use needs its own node, hence the functions.
  const lockAddr = (): binaryen.ExpressionRef => m.i32.add(get(HANDLE), c(DESC_WORD.LOCK * 4));
  const unlink = m.block(null, [
    set(PREV, field(get(ENTRY), HASH_ENTRY.PREV)),
    set(NEXT, field(get(ENTRY), HASH_ENTRY.LNEXT)),
    m.if(get(PREV), setField(get(PREV), HASH_ENTRY.LNEXT, get(NEXT)), storeWord(HASH_DESC.LRU_HEAD, get(NEXT))),
    m.if(get(NEXT), setField(get(NEXT), HASH_ENTRY.PREV, get(PREV)), storeWord(HASH_DESC.LRU_TAIL, get(PREV))),
  ]);
  const push = m.block(null, [
    set(NEXT, word(HASH_DESC.LRU_HEAD)),
    setField(get(ENTRY), HASH_ENTRY.PREV, c(0)),
    setField(get(ENTRY), HASH_ENTRY.LNEXT, get(NEXT)),
    m.if(get(NEXT), setField(get(NEXT), HASH_ENTRY.PREV, get(ENTRY)), storeWord(HASH_DESC.LRU_TAIL, get(ENTRY))),
    storeWord(HASH_DESC.LRU_HEAD, get(ENTRY)),
  ]);
  const touch = m.if(
    m.i32.and(isType(MAP_TYPE.LRU_HASH, MAP_TYPE.LRU_PERCPU_HASH), m.i32.ne(word(HASH_DESC.LRU_HEAD), get(ENTRY))),
    m.if(
      m.i32.eqz(m.i32.atomic.rmw.cmpxchg(0, lockAddr(), c(0), c(1))),
      m.block(null, [
        m.if(m.i32.ne(field(get(ENTRY), HASH_ENTRY.PREV), c(HASH_ENTRY_DEAD)), m.block(null, [unlink, push])),
        m.i32.atomic.store(0, lockAddr(), c(0)),
      ]),
    ),
  );

  // The value: after the key padded to 8; per-CPU maps keep one 8-aligned slot per CPU.
  const align8 = (v: binaryen.ExpressionRef): binaryen.ExpressionRef => m.i32.and(m.i32.add(v, c(7)), c(-8));
  const value = (): binaryen.ExpressionRef => m.i32.add(get(ENTRY), m.i32.add(c(HASH_ENTRY.KEY), align8(get(LEN))));
  const cpu = (): binaryen.ExpressionRef => m.global.get(cpuGlobal, i32);
  const stride = align8(m.select(m.i32.gt_u(word(DESC_WORD.VALUE), c(1)), word(DESC_WORD.VALUE), c(1)));
  const result = m.if(
    isType(MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_PERCPU_HASH),
    m.if(m.i32.ge_u(cpu(), c(maxCpus)), c(0), m.i32.add(value(), m.i32.mul(cpu(), stride))),
    value(),
  );

  // ARRAY_OF_MAPS: a u32 index; a set slot (presence word 1) holds the inner handle.
  const slot = (): binaryen.ExpressionRef =>
    m.i32.add(word(FD_ARRAY_DESC.STORAGE), m.i32.mul(get(I), word(FD_ARRAY_DESC.SLOT)));
  const mapInMap = m.if(
    m.i32.and(m.i32.eq(get(TYPE), c(MAP_TYPE.ARRAY_OF_MAPS)), m.i32.eq(m.i32.atomic.load(DESC_WORD.MAGIC * 4, get(HANDLE)), c(DESC_MAGIC))),
    m.block(null, [
      set(I, m.i32.load(0, 1, get(KEY))),
      m.if(m.i32.ge_u(get(I), word(DESC_WORD.MAX)), m.return(c(0))),
      m.if(m.i32.ne(m.i32.atomic.load(0, slot()), c(1)), m.return(c(0))),
      m.return(m.i32.load(FD_ARRAY_VALUE_OFF, 4, slot())),
    ]),
  );

  const body = m.block(null, [
    set(TYPE, word(DESC_WORD.TYPE)),
    mapInMap,
    m.if(
      m.i32.or(
        m.i32.ne(m.i32.atomic.load(DESC_WORD.MAGIC * 4, get(HANDLE)), c(DESC_MAGIC)),
        m.i32.eqz(isType(MAP_TYPE.HASH, MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_HASH, MAP_TYPE.LRU_PERCPU_HASH)),
      ),
      m.return(m.call(fallback, [get(HANDLE), get(KEY)], i32)),
    ),
    set(LEN, word(DESC_WORD.KEY)),
    set(HASH, m.i32.xor(get(LEN), c(0x9747b28c))),
    set(I, c(0)),
    hashWords,
    hashTail,
    avalanche[0]!,
    avalanche[1]!,
    set(HASH, m.i32.xor(get(HASH), m.i32.shr_u(get(HASH), c(16)))),
    walk,
    touch,
    result,
  ], i32);
  m.addFunction(name, binaryen.createType([i32, i32]), i32, [i32, i32, i32, i32, i32, i32, i32, i32], body);
}
