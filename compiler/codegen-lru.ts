// Part of codegen (the binaryen side): the kernel's LRU of LRU_HASH and LRU_PERCPU_HASH
// maps (kernel/bpf/bpf_lru_list.c) as the compiled module's own functions, so that an
// insert never leaves wasm, not even when the CPU's local free list runs dry and has to be
// refilled (flush the pending list, rotate, take target_free nodes, shrink, steal) — with
// many CPUs and small maps that happens every few inserts. This is runtime/maps/lru.ts
// step for step (its small list moves inlined; the flush and the shrink's evictions as
// bulk moves that leave the same lists), over the same state block and node fields
// (core/map-layout.ts LRU_*, HASH_ENTRY), under the map's lock the caller holds: the
// interpreter and the control plane run lru.ts, the module runs this, and both must leave
// the same lists behind (test/kernel/lru-pressure holds both against the kernel,
// test/maps/lru-wasm against each other from 32 CPUs). A change to one is a change to both.
//
// One thing stays the runtime's: a new chunk of nodes from the shared heap. lru.ts carves
// never-used nodes lazily from the map's pool (pool.ts); carving within the current chunk
// is done here, and `lru_pop_stays$wasm` says beforehand whether a pop could need more
// than the chunk holds — if so the caller hands the whole update to the runtime before it
// has changed anything. That happens once per chunk while a map first fills.

import binaryen from './binaryen.js';
import {
  HASH_DESC,
  HASH_ENTRY,
  DESC_WORD,
  LRU_LIST,
  LRU_LIST_TYPE as T,
  LRU_LOCAL,
  LRU_SENTINEL,
  LRU_STATE,
  POOL_WORD,
} from '../core/map-layout.js';

const i32 = binaryen.i32;
type Expr = binaryen.ExpressionRef;

/** The functions callers use (map_update_elem$wasm in codegen-maps.ts). */
export const LRU_FN = {
  /** (handle, state, cpu, hash) -> node or 0: lru.ts popFree. */
  popFree: 'lru_pop_free$wasm',
  /** (state, node): lru.ts pushFree. */
  pushFree: 'lru_push_free$wasm',
  /** (handle, entry) -> 1 if it was in the table: hash.ts unhash. */
  unhash: 'lru_unhash$wasm',
  /** (handle, state, cpu) -> 1 if popFree on `cpu` cannot need a new pool chunk. */
  popStays: 'lru_pop_stays$wasm',
} as const;

const F = {
  ...LRU_FN,
  unhashUncounted: 'lru_unhash_uncounted$wasm',
  rotateActive: 'lru_rotate_active$wasm',
  rotateInactive: 'lru_rotate_inactive$wasm',
  rotate: 'lru_rotate$wasm',
  shrinkInactive: 'lru_shrink_inactive$wasm',
  shrink: 'lru_shrink$wasm',
  carveFree: 'lru_carve_free$wasm',
  flushLocal: 'lru_flush_local$wasm',
  popFreeToLocal: 'lru_pop_free_to_local$wasm',
  addPending: 'lru_add_pending$wasm',
  popLocalFree: 'lru_pop_local_free$wasm',
  popLocalPending: 'lru_pop_local_pending$wasm',
  commonPopFree: 'lru_common_pop_free$wasm',
  percpuPopFree: 'lru_percpu_pop_free$wasm',
} as const;

/** lru.ts PERCPU_FREE_TARGET (the kernel's). */
const PERCPU_FREE_TARGET = 4;
const { PREV, LNEXT, LRU_REF, LRU_TYPE, LRU_CPU, HASH, NEXT: CHAIN } = HASH_ENTRY;

interface Vars {
  /** The local's value. */
  g(name: string): Expr;
  /** Sets the local. */
  s(name: string, value: Expr): Expr;
}

const added = new WeakSet<object>();

/** Adds the LRU functions to the module, once. */
export function ensureLru(m: binaryen.Module): void {
  if (added.has(m)) return;
  added.add(m);

  const c = (n: number): Expr => m.i32.const(n | 0);
  // binaryen's expression references are numbers too: constants get their own helpers.
  const add = (a: Expr, b: Expr): Expr => m.i32.add(a, b);
  const addc = (a: Expr, n: number): Expr => m.i32.add(a, c(n));
  const eq = (a: Expr, b: Expr): Expr => m.i32.eq(a, b);
  const ne = (a: Expr, b: Expr): Expr => m.i32.ne(a, b);
  const ld = (addr: Expr, offset: number): Expr => m.i32.load(offset, 4, addr);
  const st = (addr: Expr, offset: number, value: Expr): Expr => m.i32.store(offset, 4, addr, value);
  const next = (n: Expr): Expr => ld(n, LNEXT);
  const prev = (n: Expr): Expr => ld(n, PREV);
  const type = (n: Expr): Expr => m.i32.load8_u(LRU_TYPE, 1, n);
  const setType = (n: Expr, t: Expr): Expr => m.i32.store8(LRU_TYPE, 1, n, t);
  const ref = (n: Expr): Expr => m.i32.load8_u(LRU_REF, 1, n);
  const clearRef = (n: Expr): Expr => m.i32.store8(LRU_REF, 1, n, c(0));
  const nodeCpu = (n: Expr): Expr => m.i32.load16_u(LRU_CPU, 1, n);
  const setCpu = (n: Expr, cpu: Expr): Expr => m.i32.store16(LRU_CPU, 1, n, cpu);
  /** ACTIVE if the reference bit is set, else INACTIVE (T.ACTIVE 0, T.INACTIVE 1). */
  const byRef = (n: Expr): Expr => m.i32.eqz(ref(n));
  /** lru.ts listOf: the sentinel of list set l's list for type t (ACTIVE, INACTIVE or FREE), t a constant... */
  const listOf = (l: Expr, t: number): Expr => addc(l, [LRU_LIST.ACTIVE, LRU_LIST.INACTIVE, LRU_LIST.FREE][t]! - LRU_SENTINEL);
  /** ...or computed (the heads are 8 bytes apart in that order). */
  const listOfType = (l: Expr, t: Expr): Expr => add(l, m.i32.sub(m.i32.shl(t, c(3)), c(LRU_SENTINEL)));
  const rotation = (l: Expr): Expr => ld(l, LRU_LIST.NEXT_ROTATION);
  const setRotation = (l: Expr, n: Expr): Expr => st(l, LRU_LIST.NEXT_ROTATION, n);
  const global = (state: Expr): Expr => addc(state, LRU_STATE.LISTS);
  const local = (state: Expr, cpu: Expr): Expr => add(state, addc(m.i32.mul(cpu, c(LRU_LOCAL.BYTES)), LRU_STATE.LISTS + LRU_LIST.BYTES));
  const percpuList = (state: Expr, cpu: Expr): Expr => add(state, addc(m.i32.mul(cpu, c(LRU_LIST.BYTES)), LRU_STATE.LISTS));
  const call = (f: string, args: Expr[]): Expr => m.call(f, args, binaryen.none);
  const callI = (f: string, args: Expr[]): Expr => m.call(f, args, i32);
  /** `while (cond) body`; m.br(`${label}_end`) breaks. */
  const loop = (label: string, cond: Expr, body: Expr[]): Expr =>
    m.block(`${label}_end`, [m.loop(label, m.if(cond, m.block(null, [...body, m.br(label)])))]);
  const brk = (label: string, cond?: Expr): Expr => m.br(`${label}_end`, cond);

  const fn = (name: string, params: string[], vars: string[], result: binaryen.Type, body: (v: Vars) => Expr[]): void => {
    const all = [...params, ...vars];
    const at = (k: string): number => {
      const i = all.indexOf(k);
      if (i < 0) throw new Error(`${name}: no local ${k}`);
      return i;
    };
    const v: Vars = { g: (k) => m.local.get(at(k), i32), s: (k, e) => m.local.set(at(k), e) };
    m.addFunction(
      name,
      binaryen.createType(params.map(() => i32)),
      result,
      vars.map(() => i32),
      m.block(null, body(v), result),
    );
  };

  // ---- lists and counts (lru.ts listDel, listAdd, listMove, countAdd), inlined: they are
  // most of a refill's work. Operands are thunks (binaryen expressions are trees: one node,
  // one parent) that must read the same before and after the operation's own stores:
  // locals, or arithmetic on them.
  type Operand = () => Expr;
  const listDel = (n: Operand): Expr => m.block(null, [st(prev(n()), LNEXT, next(n())), st(next(n()), PREV, prev(n()))]);
  const listAdd = (n: Operand, sentinel: Operand): Expr =>
    m.block(null, [st(n(), LNEXT, next(sentinel())), st(n(), PREV, sentinel()), st(next(n()), PREV, n()), st(sentinel(), LNEXT, n())]);
  const listMove = (n: Operand, sentinel: Operand): Expr => m.block(null, [listDel(n), listAdd(n, sentinel)]);
  const countAdd = (l: Operand, t: Operand, d: number): Expr =>
    m.if(
      eq(t(), c(T.ACTIVE)),
      st(l(), LRU_LIST.COUNT_ACTIVE, addc(ld(l(), LRU_LIST.COUNT_ACTIVE), d)),
      m.if(eq(t(), c(T.INACTIVE)), st(l(), LRU_LIST.COUNT_INACTIVE, addc(ld(l(), LRU_LIST.COUNT_INACTIVE), d))),
    );

  // ---- one list set (lru.ts moveToFree, move), inlined too; same rule for operands ----
  const moveToFree = (l: Operand, n: Operand, freeSentinel: Operand, freeType: Operand): Expr =>
    m.block(null, [
      m.if(eq(n(), rotation(l())), setRotation(l(), prev(n()))),
      countAdd(l, () => type(n()), -1),
      setType(n(), freeType()),
      listMove(n, freeSentinel),
    ]);
  const move = (l: Operand, n: Operand, t: Operand): Expr =>
    m.block(null, [
      // The counts read the node's old type before setType changes it.
      m.if(ne(type(n()), t()), m.block(null, [countAdd(l, () => type(n()), -1), countAdd(l, t, 1), setType(n(), t())])),
      clearRef(n()),
      m.if(eq(n(), rotation(l())), setRotation(l(), prev(n()))),
      listMove(n, () => listOfType(l(), t())),
    ]);
  const gl =
    (g: Vars['g'], name: string): Operand =>
    () =>
      g(name);
  const k =
    (value: number): Operand =>
    () =>
      c(value);

  // ---- rotation (lru.ts rotateActive, rotateInactive, rotate); ns: the state's nr_scans ----
  fn(F.rotateActive, ['l', 'ns'], ['active', 'first', 'i', 'n', 'before', 't'], binaryen.none, ({ g, s }) => [
    s('active', listOf(g('l'), T.ACTIVE)),
    s('first', next(g('active'))),
    s('i', c(0)),
    s('n', prev(g('active'))),
    loop('scan', ne(g('n'), g('active')), [
      s('before', prev(g('n'))),
      s('t', byRef(g('n'))),
      move(gl(g, 'l'), gl(g, 'n'), gl(g, 't')),
      s('i', addc(g('i'), 1)),
      brk('scan', m.i32.or(eq(g('i'), g('ns')), eq(g('n'), g('first')))),
      s('n', g('before')),
    ]),
  ]);
  fn(F.rotateInactive, ['l', 'ns'], ['inactive', 'last', 'cur', 'nx', 'i'], binaryen.none, ({ g, s }) => [
    s('inactive', listOf(g('l'), T.INACTIVE)),
    m.if(eq(next(g('inactive')), g('inactive')), m.return()),
    s('last', next(rotation(g('l')))),
    m.if(eq(g('last'), g('inactive')), s('last', next(g('last')))),
    s('cur', rotation(g('l'))),
    s('nx', g('inactive')),
    s('i', c(0)),
    loop('scan', m.i32.lt_s(g('i'), g('ns')), [
      m.if(eq(g('cur'), g('inactive')), m.block(null, [s('cur', prev(g('cur'))), m.br('scan')])),
      s('nx', prev(g('cur'))),
      m.if(ref(g('cur')), move(gl(g, 'l'), gl(g, 'cur'), k(T.ACTIVE))),
      brk('scan', eq(g('cur'), g('last'))),
      s('cur', g('nx')),
      s('i', addc(g('i'), 1)),
    ]),
    setRotation(g('l'), g('nx')),
  ]);
  fn(F.rotate, ['l', 'ns'], [], binaryen.none, ({ g }) => [
    m.if(m.i32.lt_u(ld(g('l'), LRU_LIST.COUNT_INACTIVE), ld(g('l'), LRU_LIST.COUNT_ACTIVE)), call(F.rotateActive, [g('l'), g('ns')])),
    call(F.rotateInactive, [g('l'), g('ns')]),
  ]);

  // ---- eviction (hash.ts unhash; lru.ts shrinkInactive, shrink) ----
  // unhash without the count's decrement, for callers that take many entries out and
  // subtract them from the count at once (an atomic read-modify-write costs more than the
  // rest of an eviction); the lock holder's count is right again before it lets go.
  fn(F.unhashUncounted, ['h', 'e'], ['hash', 'slot', 'cur'], i32, ({ g, s }) => [
    s('hash', ld(g('e'), HASH)),
    s('slot', add(ld(g('h'), HASH_DESC.BUCKETS * 4), m.i32.shl(m.i32.and(g('hash'), ld(g('h'), HASH_DESC.MASK * 4)), c(2)))),
    s('cur', ld(g('slot'), 0)),
    loop('chain', m.i32.and(ne(g('cur'), c(0)), ne(g('cur'), g('e'))), [s('slot', addc(g('cur'), CHAIN)), s('cur', ld(g('slot'), 0))]),
    m.if(m.i32.eqz(g('cur')), m.return(c(0))),
    m.i32.atomic.store(0, g('slot'), ld(g('e'), CHAIN)),
    st(g('e'), HASH, m.i32.xor(g('hash'), c(-1))),
    c(1),
  ]);
  const uncount = (h: Expr, n: Expr): Expr => m.drop(m.i32.atomic.rmw.sub(DESC_WORD.COUNT * 4, h, n));
  fn(F.unhash, ['h', 'e'], [], i32, ({ g }) => [
    m.if(m.i32.eqz(callI(F.unhashUncounted, [g('h'), g('e')])), m.return(c(0))),
    uncount(g('h'), c(1)),
    c(1),
  ]);
  const freeArgs = ['freeSentinel', 'freeType'];
  // lru.ts shrinkInactive. Evicted nodes are contiguous runs of the inactive list (scanned
  // from its tail) that move, in order, to the head of the free list: each run is moved
  // as one splice when something else is about to happen to the lists (a referenced node
  // moving to active, an entry that stays) or at the end; until then a node keeps its
  // links, so prev(n) reads as it would after the single moves. Every node of the inactive
  // list is INACTIVE: its count, and the map's, drop by the nodes evicted, once.
  const spliceRun = (g: Vars['g'], s: Vars['s']): Expr =>
    m.if(
      g('runLast'),
      m.block(null, [
        s('p', prev(g('runFirst'))),
        s('x', next(g('runLast'))),
        st(g('p'), LNEXT, g('x')),
        st(g('x'), PREV, g('p')),
        s('x', next(g('freeSentinel'))),
        st(g('runFirst'), PREV, g('freeSentinel')),
        st(g('freeSentinel'), LNEXT, g('runFirst')),
        st(g('runLast'), LNEXT, g('x')),
        st(g('x'), PREV, g('runLast')),
        s('runLast', c(0)),
      ]),
    );
  fn(
    F.shrinkInactive,
    ['h', 'l', 'ns', 'target', ...freeArgs],
    ['inactive', 'shrunk', 'i', 'n', 'before', 'runFirst', 'runLast', 'p', 'x'],
    i32,
    ({ g, s }) => [
      s('inactive', listOf(g('l'), T.INACTIVE)),
      s('n', prev(g('inactive'))),
      loop('scan', ne(g('n'), g('inactive')), [
        s('before', prev(g('n'))),
        m.if(
          ref(g('n')),
          m.block(null, [spliceRun(g, s), move(gl(g, 'l'), gl(g, 'n'), k(T.ACTIVE))]),
          m.if(
            callI(F.unhashUncounted, [g('h'), g('n')]),
            m.block(null, [
              // moveToFree, but for the list move.
              m.if(eq(g('n'), rotation(g('l'))), setRotation(g('l'), g('before'))),
              setType(g('n'), g('freeType')),
              m.if(m.i32.eqz(g('runLast')), s('runLast', g('n'))),
              s('runFirst', g('n')),
              s('shrunk', addc(g('shrunk'), 1)),
              brk('scan', eq(g('shrunk'), g('target'))),
            ]),
            spliceRun(g, s),
          ),
        ),
        s('i', addc(g('i'), 1)),
        brk('scan', eq(g('i'), g('ns'))),
        s('n', g('before')),
      ]),
      spliceRun(g, s),
      st(g('l'), LRU_LIST.COUNT_INACTIVE, m.i32.sub(ld(g('l'), LRU_LIST.COUNT_INACTIVE), g('shrunk'))),
      m.if(g('shrunk'), uncount(g('h'), g('shrunk'))),
      g('shrunk'),
    ],
  );
  fn(F.shrink, ['h', 'l', 'ns', 'target', ...freeArgs], ['shrunk', 'inactive', 'force', 'n', 'before'], i32, ({ g, s }) => [
    s('shrunk', callI(F.shrinkInactive, [g('h'), g('l'), g('ns'), g('target'), g('freeSentinel'), g('freeType')])),
    m.if(g('shrunk'), m.return(g('shrunk'))),
    s('inactive', listOf(g('l'), T.INACTIVE)),
    s('force', m.select(ne(next(g('inactive')), g('inactive')), g('inactive'), listOf(g('l'), T.ACTIVE))),
    s('n', prev(g('force'))),
    loop('scan', ne(g('n'), g('force')), [
      s('before', prev(g('n'))),
      m.if(
        callI(F.unhash, [g('h'), g('n')]),
        m.block(null, [moveToFree(gl(g, 'l'), gl(g, 'n'), gl(g, 'freeSentinel'), gl(g, 'freeType')), m.return(c(1))]),
      ),
      s('n', g('before')),
    ]),
    c(0),
  ]);

  // ---- never-used nodes (lru.ts carveFree over pool.ts poolAlloc, within the current chunk) ----
  const POOL = { FREE: POOL_WORD.FREE * 4, NEXT: POOL_WORD.NEXT * 4, END: POOL_WORD.END * 4, SIZE: POOL_WORD.SIZE * 4 };
  fn(F.carveFree, ['h', 'l', 'cpu'], ['left', 'pool', 'n', 'tail'], i32, ({ g, s }) => [
    s('left', ld(g('l'), LRU_LIST.UNCARVED)),
    m.if(m.i32.eqz(g('left')), m.return(c(0))),
    s('pool', ld(g('h'), HASH_DESC.POOL * 4)),
    s('n', ld(g('pool'), POOL.FREE)),
    m.if(
      g('n'),
      st(g('pool'), POOL.FREE, next(g('n'))),
      m.block(null, [
        s('n', ld(g('pool'), POOL.NEXT)),
        // popStays ruled this out before anything changed.
        m.if(m.i32.or(m.i32.eqz(g('n')), m.i32.ge_u(g('n'), ld(g('pool'), POOL.END))), m.unreachable()),
        st(g('pool'), POOL.NEXT, add(g('n'), ld(g('pool'), POOL.SIZE))),
      ]),
    ),
    st(g('l'), LRU_LIST.UNCARVED, addc(g('left'), -1)),
    clearRef(g('n')),
    setType(g('n'), c(T.FREE)),
    setCpu(g('n'), g('cpu')),
    s('tail', prev(listOf(g('l'), T.FREE))),
    listAdd(
      () => g('n'),
      () => g('tail'),
    ),
    g('n'),
  ]);
  fn(F.popStays, ['h', 'state', 'cpu'], ['pool', 'room', 'l', 'need'], i32, ({ g, s }) => [
    s('pool', ld(g('h'), HASH_DESC.POOL * 4)),
    s('room', m.i32.ne(ld(g('pool'), POOL.FREE), c(0))),
    m.if(
      ld(g('pool'), POOL.NEXT),
      s('room', add(g('room'), m.i32.div_u(m.i32.sub(ld(g('pool'), POOL.END), ld(g('pool'), POOL.NEXT)), ld(g('pool'), POOL.SIZE)))),
    ),
    m.if(
      ld(g('state'), LRU_STATE.PERCPU),
      // percpuPopFree carves one node when its free list has no explicit node left.
      m.block(null, [
        s('l', percpuList(g('state'), g('cpu'))),
        m.if(m.i32.and(eq(next(listOf(g('l'), T.FREE)), listOf(g('l'), T.FREE)), ne(ld(g('l'), LRU_LIST.UNCARVED), c(0))), s('need', c(1))),
      ]),
      // commonPopFree carves only when it refills an empty local free list: up to
      // target_free nodes, and no more than the global list has left uncarved.
      m.block(null, [
        s('l', local(g('state'), g('cpu'))),
        m.if(
          eq(next(addc(g('l'), LRU_LOCAL.FREE - LRU_SENTINEL)), addc(g('l'), LRU_LOCAL.FREE - LRU_SENTINEL)),
          m.block(null, [
            s('need', ld(global(g('state')), LRU_LIST.UNCARVED)),
            m.if(m.i32.gt_u(g('need'), ld(g('state'), LRU_STATE.TARGET_FREE)), s('need', ld(g('state'), LRU_STATE.TARGET_FREE))),
          ]),
        ),
      ]),
    ),
    m.i32.ge_u(g('room'), g('need')),
  ]);

  // ---- the common LRU (lru.ts flushLocal, popFreeToLocal, addPending, popLocalFree, popLocalPending, commonPopFree) ----
  const localFree = (loc: Expr): Expr => addc(loc, LRU_LOCAL.FREE - LRU_SENTINEL);
  const localPending = (loc: Expr): Expr => addc(loc, LRU_LOCAL.PENDING - LRU_SENTINEL);
  // lru.ts flushLocal: each pending node, from the tail, to the head of active (referenced)
  // or inactive. Same lists in the end as those single moves: the nodes are prepended to
  // each list's first node as they come, and the heads, the emptied pending list and the
  // counts are written once.
  fn(F.flushLocal, ['l', 'loc'], ['pending', 'n', 'before', 'firstA', 'firstI', 'nA', 'nI'], binaryen.none, ({ g, s }) => {
    const prepend = (first: string, count: string, t: number): Expr =>
      m.block(null, [
        setType(g('n'), c(t)),
        st(g('n'), LNEXT, g(first)),
        st(g(first), PREV, g('n')),
        s(first, g('n')),
        s(count, addc(g(count), 1)),
      ]);
    const close = (first: string, count: string, t: number, countAt: number): Expr =>
      m.if(
        g(count),
        m.block(null, [
          st(g(first), PREV, listOf(g('l'), t)),
          st(listOf(g('l'), t), LNEXT, g(first)),
          st(g('l'), countAt, add(ld(g('l'), countAt), g(count))),
        ]),
      );
    return [
      s('pending', localPending(g('loc'))),
      s('firstA', next(listOf(g('l'), T.ACTIVE))),
      s('firstI', next(listOf(g('l'), T.INACTIVE))),
      s('n', prev(g('pending'))),
      loop('scan', ne(g('n'), g('pending')), [
        s('before', prev(g('n'))),
        m.if(ref(g('n')), prepend('firstA', 'nA', T.ACTIVE), prepend('firstI', 'nI', T.INACTIVE)),
        clearRef(g('n')),
        s('n', g('before')),
      ]),
      close('firstA', 'nA', T.ACTIVE, LRU_LIST.COUNT_ACTIVE),
      close('firstI', 'nI', T.INACTIVE, LRU_LIST.COUNT_INACTIVE),
      st(g('pending'), PREV, g('pending')),
      st(g('pending'), LNEXT, g('pending')),
    ];
  });
  fn(F.popFreeToLocal, ['h', 'state', 'loc', 'cpu'], ['l', 'ns', 'free', 'target', 'taken', 'n'], binaryen.none, ({ g, s }) => [
    s('l', global(g('state'))),
    s('ns', ld(g('state'), LRU_STATE.NR_SCANS)),
    call(F.flushLocal, [g('l'), g('loc')]),
    call(F.rotate, [g('l'), g('ns')]),
    s('free', listOf(g('l'), T.FREE)),
    s('target', ld(g('state'), LRU_STATE.TARGET_FREE)),
    loop('take', m.i32.lt_s(g('taken'), g('target')), [
      s('n', next(g('free'))),
      m.if(eq(g('n'), g('free')), s('n', callI(F.carveFree, [g('h'), g('l'), g('cpu')]))),
      brk('take', m.i32.eqz(g('n'))),
      moveToFree(gl(g, 'l'), gl(g, 'n'), () => localFree(g('loc')), k(T.LOCAL_FREE)),
      s('taken', addc(g('taken'), 1)),
    ]),
    m.if(
      m.i32.lt_s(g('taken'), g('target')),
      m.drop(callI(F.shrink, [g('h'), g('l'), g('ns'), m.i32.sub(g('target'), g('taken')), localFree(g('loc')), c(T.LOCAL_FREE)])),
    ),
  ]);
  fn(F.addPending, ['loc', 'cpu', 'n', 'hash'], [], binaryen.none, ({ g }) => [
    st(g('n'), HASH, g('hash')),
    setCpu(g('n'), g('cpu')),
    setType(g('n'), c(T.LOCAL_PENDING)),
    clearRef(g('n')),
    listAdd(
      () => g('n'),
      () => localPending(g('loc')),
    ),
  ]);
  fn(F.popLocalFree, ['loc'], ['free', 'n'], i32, ({ g, s }) => [
    s('free', localFree(g('loc'))),
    s('n', next(g('free'))),
    m.if(eq(g('n'), g('free')), m.return(c(0))),
    listDel(() => g('n')),
    g('n'),
  ]);
  fn(F.popLocalPending, ['h', 'loc'], ['pending', 'force', 'n'], i32, ({ g, s }) => [
    s('pending', localPending(g('loc'))),
    loop('pass', m.i32.lt_u(g('force'), c(2)), [
      s('n', prev(g('pending'))),
      loop('scan', ne(g('n'), g('pending')), [
        m.if(
          m.i32.or(g('force'), m.i32.eqz(ref(g('n')))),
          m.if(callI(F.unhash, [g('h'), g('n')]), m.block(null, [listDel(() => g('n')), m.return(g('n'))])),
        ),
        s('n', prev(g('n'))),
      ]),
      s('force', addc(g('force'), 1)),
    ]),
    c(0),
  ]);
  fn(F.commonPopFree, ['h', 'state', 'cpu', 'hash'], ['loc', 'n', 'first', 'steal', 'from'], i32, ({ g, s }) => [
    s('loc', local(g('state'), g('cpu'))),
    s('n', callI(F.popLocalFree, [g('loc')])),
    m.if(
      m.i32.eqz(g('n')),
      m.block(null, [call(F.popFreeToLocal, [g('h'), g('state'), g('loc'), g('cpu')]), s('n', callI(F.popLocalFree, [g('loc')]))]),
    ),
    m.if(g('n'), m.block(null, [call(F.addPending, [g('loc'), g('cpu'), g('n'), g('hash')]), m.return(g('n'))])),
    // Nothing free anywhere: steal from the CPUs' local lists in turn.
    s('first', ld(g('loc'), LRU_LOCAL.NEXT_STEAL)),
    s('steal', g('first')),
    m.loop(
      'steal',
      m.block(null, [
        s('from', local(g('state'), g('steal'))),
        s('n', callI(F.popLocalFree, [g('from')])),
        m.if(m.i32.eqz(g('n')), s('n', callI(F.popLocalPending, [g('h'), g('from')]))),
        s('steal', m.i32.rem_u(addc(g('steal'), 1), ld(g('state'), LRU_STATE.CPUS))),
        m.br('steal', m.i32.and(m.i32.eqz(g('n')), ne(g('steal'), g('first')))),
      ]),
    ),
    st(g('loc'), LRU_LOCAL.NEXT_STEAL, g('steal')),
    m.if(g('n'), call(F.addPending, [g('loc'), g('cpu'), g('n'), g('hash')])),
    g('n'),
  ]);

  // ---- the per-CPU LRU, BPF_F_NO_COMMON_LRU (lru.ts percpuPopFree) ----
  fn(F.percpuPopFree, ['h', 'state', 'cpu', 'hash'], ['l', 'ns', 'free', 'n'], i32, ({ g, s }) => [
    s('l', percpuList(g('state'), g('cpu'))),
    s('ns', ld(g('state'), LRU_STATE.NR_SCANS)),
    call(F.rotate, [g('l'), g('ns')]),
    s('free', listOf(g('l'), T.FREE)),
    m.if(
      m.i32.and(eq(next(g('free')), g('free')), m.i32.eqz(ld(g('l'), LRU_LIST.UNCARVED))),
      m.drop(callI(F.shrink, [g('h'), g('l'), g('ns'), c(PERCPU_FREE_TARGET), g('free'), c(T.FREE)])),
    ),
    s('n', next(g('free'))),
    m.if(eq(g('n'), g('free')), s('n', callI(F.carveFree, [g('h'), g('l'), g('cpu')]))),
    m.if(m.i32.eqz(g('n')), m.return(c(0))),
    st(g('n'), HASH, g('hash')),
    clearRef(g('n')),
    move(gl(g, 'l'), gl(g, 'n'), k(T.INACTIVE)),
    g('n'),
  ]);

  // ---- entry points (lru.ts popFree, pushFree) ----
  fn(F.popFree, ['h', 'state', 'cpu', 'hash'], [], i32, ({ g }) => [
    m.if(
      ld(g('state'), LRU_STATE.PERCPU),
      callI(F.percpuPopFree, [g('h'), g('state'), g('cpu'), g('hash')]),
      callI(F.commonPopFree, [g('h'), g('state'), g('cpu'), g('hash')]),
    ),
  ]);
  fn(F.pushFree, ['state', 'n'], [], binaryen.none, ({ g }) => [
    m.if(
      ld(g('state'), LRU_STATE.PERCPU),
      m.block(null, [move(() => percpuList(g('state'), nodeCpu(g('n'))), gl(g, 'n'), k(T.FREE)), m.return()]),
    ),
    m.if(
      eq(type(g('n')), c(T.LOCAL_PENDING)),
      m.block(null, [
        setType(g('n'), c(T.LOCAL_FREE)),
        clearRef(g('n')),
        listMove(
          () => g('n'),
          () => localFree(local(g('state'), nodeCpu(g('n')))),
        ),
        m.return(),
      ]),
    ),
    move(() => global(g('state')), gl(g, 'n'), k(T.FREE)),
  ]);
}
