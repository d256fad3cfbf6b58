// Part of codegen (the binaryen side): the batch driver exported per program as
// `<export>$batch(i32 descriptors, i32 count)`. One call from the host runs the program on
// a whole batch: for each descriptor (abi.ts BATCH_DESC) it sets up the worker's xdp_md
// and frame geometry in the context block (XDP_CTX), as runtime/xdp.ts loadInPlace does,
// runs the program (the body of its i32 entry) and writes the verdict, the packet's new bounds, the
// redirect and the metadata length back. The descriptor's index goes into the block
// first: a trap unwinds the whole call, and that index tells the host which packet
// faulted (it aborts that one and calls again from the next; runtime/machine.ts runBatch).
//
// Per packet it writes only what the module's programs can change or read. A verified
// program cannot write its context (the verifier refuses stores to xdp_md), so a field
// changes only through the helpers that change it (`BatchEffects`): without them it is
// reset once per batch, not per packet, and not copied back. The descriptor's outputs start
// zeroed (runtime/batch.ts), so what a module can never set stays zero there too.

import binaryen from './binaryen.js';
import { BATCH_DESC, BATCH_DESC_SIZE, ETH_HLEN, XDP_CTX, XDP_TAILROOM } from '../core/abi.js';
import { HELPER_ID } from '../core/helper-ids.js';

const i32 = binaryen.i32;
type Expr = binaryen.ExpressionRef;

/** XDP_ABORTED, what a packet too short to run gets. */
const XDP_ABORTED = 0;

/** What the module's programs can change in the context block besides the verdict. */
export interface BatchEffects {
  /** data / data_end (xdp_adjust_head, xdp_adjust_tail): copied back, and the frame geometry they check set per packet. */
  movesPacket: boolean;
  /** data_meta (xdp_adjust_meta): the metadata length copied back. */
  movesMeta: boolean;
  /** The redirect (bpf_redirect, bpf_redirect_map): reset per packet and copied back. */
  redirects: boolean;
  /** The tail-call count (bpf_tail_call): reset per packet. */
  tailCalls: boolean;
}

/** Every effect: for modules whose programs may write anywhere (raw programs, test-only helpers). */
export const ALL_BATCH_EFFECTS: BatchEffects = { movesPacket: true, movesMeta: true, redirects: true, tailCalls: true };

/** The effects of a module whose verified programs call `helpers` (every program's, as a tail call may enter any). */
export function batchEffects(helpers: ReadonlySet<number>): BatchEffects {
  const any = (...ids: (number | undefined)[]): boolean => ids.some((id) => id !== undefined && helpers.has(id));
  const meta = any(HELPER_ID.xdp_adjust_meta);
  return {
    // adjust_meta moves data_meta only; adjust_head moves data (and data_meta with it).
    movesPacket: any(HELPER_ID.xdp_adjust_head, HELPER_ID.xdp_adjust_tail) || meta,
    movesMeta: meta,
    redirects: any(HELPER_ID.redirect, HELPER_ID.redirect_map),
    tailCalls: any(HELPER_ID.tail_call),
  };
}

/**
 * `runProgram(ctx)` builds the program's run on the context block at `ctx` as an i32
 * expression (r0's low half): the caller inlines the entry's work (the budget reset, r10)
 * and calls the program's first function directly, saving two wasm calls per packet.
 */
export function addBatchDriver(
  m: binaryen.Module,
  name: string,
  runProgram: (ctx: Expr) => Expr,
  ctxGlobal: string,
  effects: BatchEffects = ALL_BATCH_EFFECTS,
): void {
  const [DESCS, COUNT, I, D, CTX, LEN, DATA, FRAME, FRAME_END, END, LAST] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const get = (l: number): Expr => m.local.get(l, i32);
  const set = (l: number, v: Expr): Expr => m.local.set(l, v);
  const c = (n: number): Expr => m.i32.const(n);
  const desc = (field: number): Expr => m.i32.load(field, 4, get(D));
  const setDesc = (field: number, v: Expr): Expr => m.i32.store(field, 4, get(D), v);
  const ctx = (field: number): Expr => m.i32.load(field, 4, get(CTX));
  const setCtx = (field: number, v: Expr): Expr => m.i32.store(field, 4, get(CTX), v);
  const { movesPacket, movesMeta, redirects, tailCalls } = effects;
  const when = (cond: boolean, ...exprs: Expr[]): Expr[] => (cond ? exprs : []);

  const run = m.block(null, [
    set(DATA, desc(BATCH_DESC.data)),
    set(FRAME, desc(BATCH_DESC.frame)),
    set(FRAME_END, m.i32.sub(m.i32.add(get(FRAME), desc(BATCH_DESC.frameSize)), c(XDP_TAILROOM))),
    set(END, m.i32.add(get(DATA), get(LEN))),
    // A packet longer than its frame's room is cut there (as loadInPlace does); the
    // descriptor says so even when the program cannot move the end.
    m.if(
      m.i32.gt_u(get(END), get(FRAME_END)),
      m.block(null, [set(END, get(FRAME_END)), ...when(!movesPacket, setDesc(BATCH_DESC.length, m.i32.sub(get(END), get(DATA))))]),
    ),
    setCtx(XDP_CTX.data, get(DATA)),
    setCtx(XDP_CTX.dataEnd, get(END)),
    setCtx(XDP_CTX.dataMeta, get(DATA)),
    setCtx(XDP_CTX.ingressIfindex, desc(BATCH_DESC.ifindex)),
    setCtx(XDP_CTX.rxQueueIndex, desc(BATCH_DESC.rxQueue)),
    // Only the adjust helpers read the frame's bounds.
    ...when(movesPacket, setCtx(XDP_CTX.hardStart, get(FRAME)), setCtx(XDP_CTX.frameEnd, get(FRAME_END))),
    ...when(redirects, setCtx(XDP_CTX.redirectKind, c(0))),
    ...when(tailCalls, setCtx(XDP_CTX.tailCalls, c(0))),
    setDesc(BATCH_DESC.action, runProgram(get(CTX))),
    ...when(
      movesPacket,
      set(DATA, ctx(XDP_CTX.data)),
      setDesc(BATCH_DESC.data, get(DATA)),
      setDesc(BATCH_DESC.length, m.i32.sub(ctx(XDP_CTX.dataEnd), get(DATA))),
    ),
    ...when(movesMeta, setDesc(BATCH_DESC.metaLength, m.i32.sub(get(DATA), ctx(XDP_CTX.dataMeta)))),
    ...when(
      redirects,
      setDesc(BATCH_DESC.redirectKind, ctx(XDP_CTX.redirectKind)),
      setDesc(BATCH_DESC.redirectTarget, ctx(XDP_CTX.redirectTarget)),
      setDesc(BATCH_DESC.redirectKey, ctx(XDP_CTX.redirectKey)),
    ),
  ]);
  // Too short to run: XDP_ABORTED, and no metadata (it may hold an earlier packet's).
  const tooShort = m.block(null, [setDesc(BATCH_DESC.action, c(XDP_ABORTED)), ...when(movesMeta, setDesc(BATCH_DESC.metaLength, c(0)))]);

  const body = m.block(null, [
    set(CTX, m.global.get(ctxGlobal, i32)),
    // Once per batch: what no program of the module changes (the host's single runs may
    // have left a multi-buffer packet's fragments, a devmap egress, a redirect, tail calls).
    setCtx(XDP_CTX.egressIfindex, c(0)),
    setCtx(XDP_CTX.fragLen, c(0)),
    ...when(!redirects, setCtx(XDP_CTX.redirectKind, c(0))),
    ...when(!tailCalls, setCtx(XDP_CTX.tailCalls, c(0))),
    set(I, c(0)),
    set(D, get(DESCS)),
    set(LAST, m.i32.add(get(DESCS), m.i32.mul(get(COUNT), c(BATCH_DESC_SIZE)))),
    m.block('done', [
      m.loop(
        'next',
        m.block(null, [
          m.br('done', m.i32.ge_u(get(D), get(LAST))),
          setCtx(XDP_CTX.batchIndex, get(I)),
          set(LEN, desc(BATCH_DESC.length)),
          m.if(m.i32.lt_u(get(LEN), c(ETH_HLEN)), tooShort, run),
          set(I, m.i32.add(get(I), c(1))),
          set(D, m.i32.add(get(D), c(BATCH_DESC_SIZE))),
          m.br('next'),
        ]),
      ),
    ]),
  ]);
  m.addFunction(name, binaryen.createType([i32, i32]), binaryen.none, [i32, i32, i32, i32, i32, i32, i32, i32, i32], body);
}
