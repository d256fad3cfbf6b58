// Part of codegen (the binaryen side): map_lookup_elem specialised for the shape of the map
// a call site looks up — its type and key size, known at compile time from the ld_imm64 that
// loaded the map, or from the verifier for an inner map of a map-in-map. Against the
// generic map_lookup_elem$wasm (codegen-maps.ts) it drops the dispatch on the map type and
// the loops over the key: the key hash is unrolled word by word and the key comparison is
// one xor/or chain of 8-byte loads at constant offsets with a single branch. Same hash
// (core/key-hash.ts), same walk, same result as the generic function. A guard checks the
// descriptor's type and key size first and hands any other map (or one not yet published)
// to the generic function, so a wrong guess costs time, never a wrong answer.
//
// The specialised functions are the hot path of load balancers: katran looks up its VIP
// (hash, 20-byte key), its per-CPU LRU table (array of maps) and its connection LRU (LRU
// hash, 40-byte key) for every packet.

import binaryen from './binaryen.js';
import { DESC_MAGIC, DESC_WORD, FD_ARRAY_DESC, FD_ARRAY_VALUE_OFF, HASH_DESC, HASH_ENTRY } from '../core/map-layout.js';
import { KEY_HASH } from '../core/key-hash.js';
import { finalHashExpr, i64Const, mixWord64Expr, noteMissExpr } from './codegen-maps.js';
import { MAP_TYPE } from '../core/map-types.js';
import type { MapLookupShape } from './verifier/index.js';

const i32 = binaryen.i32;
type Expr = binaryen.ExpressionRef;

/** What a call site knows of the map it looks up. */
export type LookupShape = MapLookupShape;

const HASH_TYPES: readonly number[] = [MAP_TYPE.HASH, MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_HASH, MAP_TYPE.LRU_PERCPU_HASH];

/** Whether a lookup in a map of this shape has a specialised function. */
export function hasSpecialisedLookup(shape: LookupShape): boolean {
  if (shape.type === MAP_TYPE.ARRAY_OF_MAPS) return shape.keySize === 4;
  return HASH_TYPES.includes(shape.type) && shape.keySize > 0 && shape.keySize <= 512;
}

const specialisedName = (shape: LookupShape): string => `map_lookup$t${shape.type}$k${shape.keySize}`;

/** Where a lookup's body keeps its values: four i32 locals and one i64 of the function it is in. */
export interface LookupLocals {
  handle: number;
  key: number;
  /** The key hash (hash maps), the index (array of maps). */
  hash: number;
  entry: number;
  /** The key hash's i64 scratch. */
  wide: number;
}

/**
 * The name of `(handle: i32, key: i32) -> i32` for maps of `shape`, added to `m` on first
 * use (`added` remembers the names this module has). `generic` is map_lookup_elem$wasm,
 * which takes every lookup the guard refuses; `cpuGlobal` holds the worker's CPU; `maxCpus`
 * is the per-CPU value count the maps were laid out for.
 */
export function specialisedLookup(
  m: binaryen.Module,
  added: Set<string>,
  shape: LookupShape,
  generic: string,
  cpuGlobal: string,
  maxCpus: number,
): string {
  const name = specialisedName(shape);
  if (added.has(name)) return name;
  added.add(name);
  const locals: LookupLocals = { handle: 0, key: 1, hash: 2, entry: 3, wide: 4 };
  const body = lookupBody(m, shape, generic, cpuGlobal, maxCpus, locals, (value) => m.return(value), name);
  m.addFunction(name, binaryen.createType([i32, i32]), i32, [i32, i32, binaryen.i64], body);
  return name;
}

/**
 * The same lookup as specialisedLookup's function, as an expression at the call site: its
 * values in `locals` of the caller, every early result a branch out of its block (named
 * `label`, unique in the caller). No call on the hot path, so none of the caller's
 * registers are spilled around one (V8 treats every register as caller-saved, and does
 * not inline into a function as large as katran's); a lookup the guard refuses still
 * calls the generic function.
 */
export function inlineLookup(
  m: binaryen.Module,
  shape: LookupShape,
  generic: string,
  cpuGlobal: string,
  maxCpus: number,
  locals: LookupLocals,
  handle: Expr,
  key: Expr,
  label: string,
  keyStores?: KeyStores,
): Expr {
  const body = lookupBody(m, shape, generic, cpuGlobal, maxCpus, locals, (value) => m.br(label, 0, value), label, keyStores);
  return m.block(label, [m.local.set(locals.handle, handle), m.local.set(locals.key, key), body], i32);
}

/** The lookup's statements as one i32 expression; `exit(value)` leaves the lookup early with value. Labels inside start with `prefix`. */
function lookupBody(
  m: binaryen.Module,
  shape: LookupShape,
  generic: string,
  cpuGlobal: string,
  maxCpus: number,
  L: LookupLocals,
  exit: (value: Expr) => Expr,
  prefix: string,
  keyStores?: KeyStores,
): Expr {
  const get = (local: number): Expr => m.local.get(local, i32);
  const keyLoad = (off: number, size: 4 | 8): Expr => splitLoad(m, () => get(L.key), keyStores, off, size);
  const c = (n: number): Expr => m.i32.const(n | 0);
  const word = (index: number): Expr => m.i32.load(index * 4, 4, get(L.handle));
  const guard = m.if(
    m.i32.or(
      m.i32.ne(m.i32.atomic.load(DESC_WORD.MAGIC * 4, get(L.handle)), c(DESC_MAGIC)),
      m.i32.or(m.i32.ne(word(DESC_WORD.TYPE), c(shape.type)), m.i32.ne(word(DESC_WORD.KEY), c(shape.keySize))),
    ),
    exit(m.call(generic, [get(L.handle), get(L.key)], i32)),
  );
  if (shape.type === MAP_TYPE.ARRAY_OF_MAPS) {
    // A u32 index; a set slot (presence word 1) holds the inner handle (codegen-maps.ts mapInMap).
    const I = L.hash;
    const slot = (): Expr => m.i32.add(word(FD_ARRAY_DESC.STORAGE), m.i32.mul(get(I), word(FD_ARRAY_DESC.SLOT)));
    return m.block(
      null,
      [
        guard,
        m.local.set(I, m.i32.load(0, 1, get(L.key))),
        m.if(m.i32.ge_u(get(I), word(DESC_WORD.MAX)), exit(c(0))),
        m.if(m.i32.ne(m.i32.atomic.load(0, slot()), c(1)), exit(c(0))),
        m.i32.load(FD_ARRAY_VALUE_OFF, 4, slot()),
      ],
      i32,
    );
  }

  const [HASH, ENTRY] = [L.hash, L.entry];
  const found = `${prefix}$found`;
  const walk = `${prefix}$walk`;
  const len = shape.keySize;
  // A miss is remembered, so that the update inserting this key (a new flow) reuses its hash.
  const noteMiss = noteMissExpr(
    m,
    () => get(L.key),
    len,
    () => get(HASH),
  );
  const miss = noteMiss === undefined ? exit(c(0)) : m.block(null, [noteMiss, exit(c(0))]);
  const body = m.block(
    null,
    [
      guard,
      m.local.set(
        HASH,
        unrolledKeyHash(m, () => get(L.key), len, L.wide, keyLoad),
      ),
      m.local.set(
        ENTRY,
        m.i32.atomic.load(0, m.i32.add(word(HASH_DESC.BUCKETS), m.i32.shl(m.i32.and(get(HASH), word(HASH_DESC.MASK)), c(2)))),
      ),
      m.loop(
        walk,
        m.block(null, [
          m.if(m.i32.eqz(get(ENTRY)), miss),
          m.br_if(
            found,
            m.i32.and(
              m.i32.eq(m.i32.load(HASH_ENTRY.HASH, 4, get(ENTRY)), get(HASH)),
              keysEqual(
                m,
                () => get(L.key),
                () => get(ENTRY),
                len,
                keyLoad,
              ),
            ),
          ),
          m.local.set(ENTRY, m.i32.load(HASH_ENTRY.NEXT, 4, get(ENTRY))),
          m.br(walk),
        ]),
      ),
    ],
    binaryen.none,
  );
  const isLru = shape.type === MAP_TYPE.LRU_HASH || shape.type === MAP_TYPE.LRU_PERCPU_HASH;
  // The kernel's bpf_lru_node_set_ref: set only if clear, no lock.
  const touch = m.if(m.i32.eqz(m.i32.load8_u(HASH_ENTRY.LRU_REF, 1, get(ENTRY))), m.i32.store8(HASH_ENTRY.LRU_REF, 1, get(ENTRY), c(1)));
  const value = (): Expr => m.i32.add(get(ENTRY), c(HASH_ENTRY.KEY + ((len + 7) & ~7)));
  const perCpu = shape.type === MAP_TYPE.PERCPU_HASH || shape.type === MAP_TYPE.LRU_PERCPU_HASH;
  const cpu = (): Expr => m.global.get(cpuGlobal, i32);
  // As the generic lookup: one 8-aligned slot per CPU, from the descriptor's value size.
  const stride = (): Expr =>
    m.i32.and(m.i32.add(m.select(m.i32.gt_u(word(DESC_WORD.VALUE), c(1)), word(DESC_WORD.VALUE), c(1)), c(7)), c(-8));
  const result = perCpu ? m.if(m.i32.ge_u(cpu(), c(maxCpus)), c(0), m.i32.add(value(), m.i32.mul(cpu(), stride()))) : value();
  return m.block(null, [m.block(found, [body]), ...(isLru ? [touch] : []), result], i32);
}

/** For each of the key's first bytes, the store of the caller's block that wrote it last, or undefined (compiler/constant-keys.ts). */
export type KeyStores = readonly (number | undefined)[];

/** A load of `size` key bytes at `off`: i32 for 4, i64 for 8. */
type KeyLoad = (off: number, size: 4 | 8) => Expr;

/**
 * The `size` key bytes at `off`, loaded in pieces along the stores that wrote them (each
 * piece within one store, so the CPU forwards it from that store) and put together; one
 * plain load when one store (or none of the block) wrote them all. The same bytes either
 * way: the split only spares the load the wait for several stores to reach the cache.
 */
function splitLoad(m: binaryen.Module, key: () => Expr, stores: KeyStores | undefined, off: number, size: 4 | 8): Expr {
  const wide = size === 8;
  const plain = (): Expr => (wide ? m.i64.load(off, 1, key()) : m.i32.load(off, 1, key()));
  if (!stores) return plain();
  /** Runs of bytes from one store: [first byte, length], relative to off. */
  const runs: [number, number][] = [];
  for (let b = 0; b < size; b++) {
    const last = runs[runs.length - 1];
    if (last && stores[off + last[0]] === stores[off + b]) last[1]++;
    else runs.push([b, 1]);
  }
  if (runs.length === 1) return plain();
  const pieces: Expr[] = [];
  for (const [first, length] of runs) {
    for (let b = first; b < first + length;) {
      const n = ([8, 4, 2, 1] as const).find((w) => w <= first + length - b)!;
      const at = off + b;
      let piece: Expr;
      if (wide) {
        piece =
          n === 8
            ? m.i64.load(at, 1, key())
            : n === 4
              ? m.i64.load32_u(at, 1, key())
              : n === 2
                ? m.i64.load16_u(at, 1, key())
                : m.i64.load8_u(at, 1, key());
        if (b > 0) piece = m.i64.shl(piece, m.i64.const(8 * b));
      } else {
        piece = n === 4 ? m.i32.load(at, 1, key()) : n === 2 ? m.i32.load16_u(at, 1, key()) : m.i32.load8_u(at, 1, key());
        if (b > 0) piece = m.i32.shl(piece, m.i32.const(8 * b));
      }
      pieces.push(piece);
      b += n;
    }
  }
  return pieces.reduce((a, p) => (wide ? m.i64.or(a, p) : m.i32.or(a, p)));
}

/** core/key-hash.ts keyHash over `len` bytes at `key()`, unrolled (64-bit words in two lanes, the last 1–7 bytes as one more word); `wide` is an i64 scratch local of the caller. */
function unrolledKeyHash(
  m: binaryen.Module,
  key: () => Expr,
  len: number,
  wide: number,
  load: KeyLoad = (off, size) => (size === 8 ? m.i64.load(off, 1, key()) : m.i32.load(off, 1, key())),
): Expr {
  const lanes = [KEY_HASH.SEED0, KEY_HASH.SEED1].map(([high, low]) => i64Const(m, [high, low ^ len]));
  let w = 0;
  for (; 8 * w + 8 <= len; w++) lanes[w % 2] = mixWord64Expr(m, lanes[w % 2]!, load(8 * w, 8));
  const rest = len - 8 * w;
  if (rest > 0) {
    // The last bytes, zero-padded: a 4-byte piece (through the store-aware load), then single bytes.
    const pieces: Expr[] = [];
    let b = 0;
    if (rest >= 4) {
      pieces.push(m.i64.extend_u(load(8 * w, 4)));
      b = 4;
    }
    for (; b < rest; b++) pieces.push(m.i64.shl(m.i64.load8_u(8 * w + b, 1, key()), m.i64.const(BigInt(8 * b))));
    lanes[w % 2] = mixWord64Expr(
      m,
      lanes[w % 2]!,
      pieces.reduce((x, y) => m.i64.or(x, y)),
    );
  }
  return finalHashExpr(m, lanes[0]!, lanes[1]!, wide);
}

/** 1 if the `len` bytes at `key()` equal the entry's key, else 0: one or-chain of xors, no branch. */
function keysEqual(
  m: binaryen.Module,
  key: () => Expr,
  entry: () => Expr,
  len: number,
  load: KeyLoad = (off, size) => (size === 8 ? m.i64.load(off, 1, key()) : m.i32.load(off, 1, key())),
): Expr {
  const diffs: Expr[] = [];
  let i = 0;
  for (; i + 8 <= len; i += 8) diffs.push(m.i64.xor(load(i, 8), m.i64.load(HASH_ENTRY.KEY + i, 1, entry())));
  for (; i + 4 <= len; i += 4) {
    diffs.push(m.i64.extend_u(m.i32.xor(load(i, 4), m.i32.load(HASH_ENTRY.KEY + i, 1, entry()))));
  }
  for (; i < len; i++) {
    diffs.push(m.i64.extend_u(m.i32.xor(m.i32.load8_u(i, 1, key()), m.i32.load8_u(HASH_ENTRY.KEY + i, 1, entry()))));
  }
  return m.i64.eqz(diffs.reduce((a, b) => m.i64.or(a, b)));
}

/**
 * A module of the unrolled key hash for keys of `len` bytes, `hash(key: i32) -> i32` over an
 * imported one-page `env.memory`: how tests hold it against core/key-hash.ts.
 */
export function unrolledKeyHashProbeModule(len: number): Uint8Array<ArrayBuffer> {
  const m = new binaryen.Module();
  m.setMemory(1, 1, null, [], false, false, '0');
  m.addMemoryImport('0', 'env', 'memory');
  m.addFunction(
    'hash',
    binaryen.createType([i32]),
    i32,
    [binaryen.i64],
    unrolledKeyHash(m, () => m.local.get(0, i32), len, 1),
  );
  m.addFunctionExport('hash', 'hash');
  const bytes = new Uint8Array(m.emitBinary());
  m.dispose();
  return bytes;
}
