// Part of codegen (the binaryen side): helpers the module runs itself instead of crossing
// into JS on every packet — xdp_adjust_head / _meta / _tail, get_prandom_u32, ktime_get_ns
// and csum_diff. Each follows the runtime's JS version (runtime/xdp.ts, helpers.ts) rule for
// rule over the same state, the worker's XDP context block (abi.ts XDP_CTX), so that the
// interpreter (which keeps the JS versions) and the module give the same answers. Cases the
// JS keeps for itself go to the import: adjust_tail on a multi-buffer packet (the fragments
// live in JS), csum_diff with a size above 0xffff or a range beyond the memory (the JS
// faults it with the message the interpreter gives), ktime_get_ns with a precise clock.

import binaryen from './binaryen.js';
import { ETH_HLEN, INIT_PRECISE_CLOCK, XDP_CTX, XDP_FRAME_STRUCT, XDP_META_MAX } from '../core/abi.js';
import { ERRNO } from '../core/errno.js';

const i32 = binaryen.i32;
const i64 = binaryen.i64;
type Expr = binaryen.ExpressionRef;

const EINVAL = -ERRNO.EINVAL;
const EACCES = -ERRNO.EACCES;
/** csum_diff sizes up to this are summed in wasm; larger ones go to JS. */
const CSUM_WASM_MAX = 0xffff;

export const WASM_HELPER = {
  adjustHead: 'xdp_adjust_head$wasm',
  adjustMeta: 'xdp_adjust_meta$wasm',
  adjustTail: 'xdp_adjust_tail$wasm',
  prandom: 'get_prandom_u32$wasm',
  ktime: 'ktime_get_ns$wasm',
  csumDiff: 'csum_diff$wasm',
} as const;
const CSUM_PARTIAL = 'csum_partial$wasm';
const CSUM_FOLD32 = 'csum_fold32$wasm';

/** Reads and writes of the context block's u32 fields, the block's address in a local. */
function ctxFields(m: binaryen.Module, ctxLocal: number) {
  const ctx = (): Expr => m.local.get(ctxLocal, i32);
  return {
    load: (field: number): Expr => m.i32.load(field, 4, ctx()),
    load64u: (field: number): Expr => m.i64.extend_u(m.i32.load(field, 4, ctx())),
    store: (field: number, value: Expr): Expr => m.i32.store(field, 4, ctx(), value),
  };
}

/** xdp_adjust_head(ctx, delta): runtime/xdp.ts adjustHead, in i64 so nothing wraps as JS numbers do not. */
export function addAdjustHead(m: binaryen.Module, ctxGlobal: string): void {
  const locals: AdjustHeadLocals = { delta: 1, ctx: 2, data: 3, meta: 4, metaLen: 5, next: 6, d: 7 };
  const body = adjustHeadBody(m, ctxGlobal, locals, (value) => m.return(value));
  m.addFunction(WASM_HELPER.adjustHead, binaryen.createType([i32, i32]), i32, [i32, i64, i64, i64, i64, i64], body);
}

/** Where xdp_adjust_head keeps its values: delta and ctx i32, the others i64. */
export interface AdjustHeadLocals {
  delta: number;
  ctx: number;
  data: number;
  meta: number;
  metaLen: number;
  next: number;
  d: number;
}

/**
 * xdp_adjust_head as an expression at its call, in the caller's `locals` (the block is
 * named `label`): as the function, without the call, so the caller's registers are not
 * spilled around it (katran encapsulates every packet).
 */
export function inlineAdjustHead(m: binaryen.Module, ctxGlobal: string, locals: AdjustHeadLocals, delta: Expr, label: string): Expr {
  const body = adjustHeadBody(m, ctxGlobal, locals, (value) => m.br(label, 0, value));
  return m.block(label, [m.local.set(locals.delta, delta), body], i32);
}

/** The helper's work on the context block; `exit(value)` leaves early with value. */
function adjustHeadBody(m: binaryen.Module, ctxGlobal: string, L: AdjustHeadLocals, exit: (value: Expr) => Expr): Expr {
  const f = ctxFields(m, L.ctx);
  const g = (l: number): Expr => m.local.get(l, i64);
  return m.block(
    null,
    [
      m.local.set(L.ctx, m.global.get(ctxGlobal, i32)),
      m.local.set(L.data, f.load64u(XDP_CTX.data)),
      m.local.set(L.meta, f.load64u(XDP_CTX.dataMeta)),
      m.local.set(L.metaLen, m.i64.sub(g(L.data), g(L.meta))),
      m.local.set(L.d, m.i64.extend_s(m.local.get(L.delta, i32))),
      m.local.set(L.next, m.i64.add(g(L.data), g(L.d))),
      m.if(
        m.i32.or(
          m.i64.lt_s(g(L.next), m.i64.add(m.i64.add(f.load64u(XDP_CTX.hardStart), m.i64.const(XDP_FRAME_STRUCT)), g(L.metaLen))),
          m.i64.gt_s(g(L.next), m.i64.sub(f.load64u(XDP_CTX.dataEnd), m.i64.const(ETH_HLEN))),
        ),
        exit(m.i32.const(EINVAL)),
      ),
      // The metadata moves with data.
      m.if(
        m.i64.gt_s(g(L.metaLen), m.i64.const(0)),
        m.memory.copy(m.i32.wrap(m.i64.add(g(L.meta), g(L.d))), m.i32.wrap(g(L.meta)), m.i32.wrap(g(L.metaLen))),
      ),
      f.store(XDP_CTX.data, m.i32.wrap(g(L.next))),
      f.store(XDP_CTX.dataMeta, m.i32.wrap(m.i64.add(g(L.meta), g(L.d)))),
      m.i32.const(0),
    ],
    i32,
  );
}

/** xdp_adjust_meta(ctx, delta): -EINVAL outside [frame + xdp_frame, data], then -EACCES for a bad length. */
export function addAdjustMeta(m: binaryen.Module, ctxGlobal: string): void {
  const [DELTA, CTX, DATA, META] = [1, 2, 3, 4];
  const f = ctxFields(m, CTX);
  const g = (l: number): Expr => m.local.get(l, i64);
  const len = (): Expr => m.i64.sub(g(DATA), g(META));
  const body = m.block(
    null,
    [
      m.local.set(CTX, m.global.get(ctxGlobal, i32)),
      m.local.set(DATA, f.load64u(XDP_CTX.data)),
      m.local.set(META, m.i64.add(f.load64u(XDP_CTX.dataMeta), m.i64.extend_s(m.local.get(DELTA, i32)))),
      m.if(
        m.i32.or(m.i64.lt_s(g(META), m.i64.add(f.load64u(XDP_CTX.hardStart), m.i64.const(XDP_FRAME_STRUCT))), m.i64.gt_s(g(META), g(DATA))),
        m.return(m.i32.const(EINVAL)),
      ),
      m.if(
        m.i32.or(m.i64.gt_s(len(), m.i64.const(XDP_META_MAX)), m.i64.ne(m.i64.and(len(), m.i64.const(3)), m.i64.const(0))),
        m.return(m.i32.const(EACCES)),
      ),
      f.store(XDP_CTX.dataMeta, m.i32.wrap(g(META))),
      m.i32.const(0),
    ],
    i32,
  );
  m.addFunction(WASM_HELPER.adjustMeta, binaryen.createType([i32, i32]), i32, [i32, i64, i64], body);
}

/** xdp_adjust_tail(ctx, delta): linear packets here, multi-buffer ones through `fallback` (the i32 import). */
export function addAdjustTail(m: binaryen.Module, ctxGlobal: string, fallback: string): void {
  const [CTXARG, DELTA, CTX, END, NEXT, D] = [0, 1, 2, 3, 4, 5];
  const f = ctxFields(m, CTX);
  const g = (l: number): Expr => m.local.get(l, i64);
  const body = m.block(
    null,
    [
      m.local.set(CTX, m.global.get(ctxGlobal, i32)),
      m.if(
        m.i32.ne(f.load(XDP_CTX.fragLen), m.i32.const(0)),
        m.return(m.call(fallback, [m.local.get(CTXARG, i32), m.local.get(DELTA, i32)], i32)),
      ),
      m.local.set(END, f.load64u(XDP_CTX.dataEnd)),
      m.local.set(D, m.i64.extend_s(m.local.get(DELTA, i32))),
      m.local.set(NEXT, m.i64.add(g(END), g(D))),
      m.if(
        m.i32.or(
          m.i64.gt_s(g(NEXT), f.load64u(XDP_CTX.frameEnd)),
          m.i64.lt_s(g(NEXT), m.i64.add(f.load64u(XDP_CTX.data), m.i64.const(ETH_HLEN))),
        ),
        m.return(m.i32.const(EINVAL)),
      ),
      // Grown bytes are zero.
      m.if(m.i64.gt_s(g(D), m.i64.const(0)), m.memory.fill(m.i32.wrap(g(END)), m.i32.const(0), m.i32.wrap(g(D)))),
      f.store(XDP_CTX.dataEnd, m.i32.wrap(g(NEXT))),
      m.i32.const(0),
    ],
    i32,
  );
  m.addFunction(WASM_HELPER.adjustTail, binaryen.createType([i32, i32]), i32, [i32, i64, i64, i64], body);
}

/** get_prandom_u32: xorshift32 (13, 17, 5) over the block's state, as XdpContext.nextRandom. */
export function addPrandom(m: binaryen.Module, ctxGlobal: string): void {
  const [CTX, X] = [0, 1];
  const f = ctxFields(m, CTX);
  const x = (): Expr => m.local.get(X, i32);
  const body = m.block(
    null,
    [
      m.local.set(CTX, m.global.get(ctxGlobal, i32)),
      m.local.set(X, f.load(XDP_CTX.prandom)),
      m.local.set(X, m.i32.xor(x(), m.i32.shl(x(), m.i32.const(13)))),
      m.local.set(X, m.i32.xor(x(), m.i32.shr_u(x(), m.i32.const(17)))),
      m.local.set(X, m.i32.xor(x(), m.i32.shl(x(), m.i32.const(5)))),
      f.store(XDP_CTX.prandom, x()),
      m.i64.extend_u(x()),
    ],
    i64,
  );
  m.addFunction(WASM_HELPER.prandom, binaryen.none, i64, [i32, i32], body);
}

/**
 * ktime_get_ns: the value the host wrote into the block for this batch (or single run);
 * with the precise-clock flag, the JS import on every call, given the registers as they
 * are (the conformance suite's helper 5 returns its argument).
 */
export function addKtime(m: binaryen.Module, ctxGlobal: string, flagsGlobal: string, preciseImport: string): void {
  const body = m.if(
    m.i32.and(m.global.get(flagsGlobal, i32), m.i32.const(INIT_PRECISE_CLOCK)),
    m.call(
      preciseImport,
      [0, 1, 2, 3, 4].map((r) => m.local.get(r, i64)),
      i64,
    ),
    m.i64.load(XDP_CTX.clockNs, 8, m.global.get(ctxGlobal, i32)),
  );
  m.addFunction(WASM_HELPER.ktime, binaryen.createType([i64, i64, i64, i64, i64]), i64, [], body);
}

/**
 * csum_diff(from, fromSize, to, toSize, seed) with the five i64 registers, as helpers.ts
 * csumDiff: only `to` adds to the seed, only `from` is subtracted by complementing around
 * it, the result folded to 16 bits. Sizes above CSUM_WASM_MAX (negative ones included)
 * and ranges past the memory's end go to `fallback`, the JS helper, which faults them.
 */
export function addCsumDiff(m: binaryen.Module, fallback: string): void {
  addCsumHelpers(m);
  const [FROM, FROMSIZE, TO, TOSIZE, SEED, RET, MEMBYTES] = [0, 1, 2, 3, 4, 5, 6];
  const g = (l: number): Expr => m.local.get(l, i64);
  const c = (n: number): Expr => m.i64.const(n);
  const mask32 = (x: Expr): Expr => m.i64.and(x, c(0xffffffff));
  const partial = (at: number, size: number, init: Expr): Expr => m.call(CSUM_PARTIAL, [m.i32.wrap(g(at)), m.i32.wrap(g(size)), init], i64);
  const outside = (at: number, size: number): Expr => m.i64.gt_u(m.i64.add(mask32(g(at)), g(size)), g(MEMBYTES));
  const body = m.block(
    null,
    [
      m.local.set(MEMBYTES, m.i64.shl(m.i64.extend_u(m.memory.size()), c(16))),
      m.if(
        m.i32.or(
          m.i32.or(m.i64.gt_u(g(FROMSIZE), c(CSUM_WASM_MAX)), m.i64.gt_u(g(TOSIZE), c(CSUM_WASM_MAX))),
          m.i32.or(outside(FROM, FROMSIZE), outside(TO, TOSIZE)),
        ),
        m.return(m.call(fallback, [g(FROM), g(FROMSIZE), g(TO), g(TOSIZE), g(SEED)], i64)),
      ),
      m.local.set(RET, mask32(g(SEED))),
      m.if(
        m.i32.and(m.i64.ne(g(FROMSIZE), c(0)), m.i64.ne(g(TOSIZE), c(0))),
        m.local.set(
          RET,
          m.call(CSUM_FOLD32, [m.i64.add(partial(TO, TOSIZE, g(RET)), mask32(m.i64.xor(partial(FROM, FROMSIZE, c(0)), c(-1))))], i64),
        ),
        m.if(
          m.i64.ne(g(TOSIZE), c(0)),
          m.local.set(RET, partial(TO, TOSIZE, g(RET))),
          m.if(
            m.i64.ne(g(FROMSIZE), c(0)),
            m.local.set(RET, mask32(m.i64.xor(partial(FROM, FROMSIZE, mask32(m.i64.xor(g(RET), c(-1)))), c(-1)))),
          ),
        ),
      ),
      // Fold to 16 bits twice (not complemented).
      m.local.set(RET, m.i64.add(m.i64.and(g(RET), c(0xffff)), m.i64.shr_u(g(RET), c(16)))),
      m.i64.add(m.i64.and(g(RET), c(0xffff)), m.i64.shr_u(g(RET), c(16))),
    ],
    i64,
  );
  m.addFunction(WASM_HELPER.csumDiff, binaryen.createType([i64, i64, i64, i64, i64]), i64, [i64, i64], body);
}

/** csum_partial$wasm(at, size, init): u32 words, then a u16 and a byte, folded to 32 bits; csum_fold32$wasm. */
function addCsumHelpers(m: binaryen.Module): void {
  {
    const [SUM] = [0];
    const s = (): Expr => m.local.get(SUM, i64);
    const body = m.block(
      null,
      [
        m.loop(
          'fold',
          m.if(
            m.i64.gt_u(s(), m.i64.const(0xffffffff)),
            m.block(null, [
              m.local.set(SUM, m.i64.add(m.i64.and(s(), m.i64.const(0xffffffff)), m.i64.shr_u(s(), m.i64.const(32)))),
              m.br('fold'),
            ]),
          ),
        ),
        s(),
      ],
      i64,
    );
    m.addFunction(CSUM_FOLD32, binaryen.createType([i64]), i64, [], body);
  }
  const [AT, SIZE, SUM, I, WORDS] = [0, 1, 2, 3, 4];
  const g32 = (l: number): Expr => m.local.get(l, i32);
  const s = (): Expr => m.local.get(SUM, i64);
  const add = (x: Expr): Expr => m.local.set(SUM, m.i64.add(s(), x));
  const body = m.block(
    null,
    [
      m.local.set(WORDS, m.i32.and(g32(SIZE), m.i32.const(~3))),
      m.local.set(I, m.i32.const(0)),
      m.loop(
        'words',
        m.if(
          m.i32.lt_u(g32(I), g32(WORDS)),
          m.block(null, [
            add(m.i64.load32_u(0, 1, m.i32.add(g32(AT), g32(I)))),
            m.local.set(I, m.i32.add(g32(I), m.i32.const(4))),
            m.br('words'),
          ]),
        ),
      ),
      m.if(m.i32.and(g32(SIZE), m.i32.const(2)), add(m.i64.load16_u(0, 1, m.i32.add(g32(AT), g32(WORDS))))),
      m.if(m.i32.and(g32(SIZE), m.i32.const(1)), add(m.i64.load8_u(0, 1, m.i32.add(g32(AT), m.i32.and(g32(SIZE), m.i32.const(~1)))))),
      m.call(CSUM_FOLD32, [s()], i64),
    ],
    i64,
  );
  m.addFunction(CSUM_PARTIAL, binaryen.createType([i32, i32, i64]), i64, [i32, i32], body);
}
