// Part of codegen (the binaryen side): the batch driver exported per program as
// `<export>$batch(i32 descriptors, i32 count)`. One call from the host runs the program on
// a whole batch: for each descriptor (abi.ts BATCH_DESC) it sets up the worker's xdp_md
// and frame geometry in the context block (XDP_CTX), as runtime/xdp.ts loadInPlace does,
// runs the program (the body of its i32 entry) and writes the verdict, the packet's new bounds, the
// redirect and the metadata length back. The descriptor's index goes into the block
// first: a trap unwinds the whole call, and that index tells the host which packet
// faulted (it aborts that one and calls again from the next; runtime/machine.ts runBatch).

import binaryen from './binaryen.js';
import { BATCH_DESC, BATCH_DESC_SIZE, ETH_HLEN, XDP_CTX, XDP_TAILROOM } from '../core/abi.js';

const i32 = binaryen.i32;
type Expr = binaryen.ExpressionRef;

/** XDP_ABORTED, what a packet too short to run gets. */
const XDP_ABORTED = 0;

/**
 * `runProgram(ctx)` builds the program's run on the context block at `ctx` as an i32
 * expression (r0's low half): the caller inlines the entry's work (the budget reset, r10)
 * and calls the program's first function directly, saving two wasm calls per packet.
 */
export function addBatchDriver(m: binaryen.Module, name: string, runProgram: (ctx: Expr) => Expr, ctxGlobal: string): void {
  const [DESCS, COUNT, I, D, CTX, LEN, DATA, FRAME_END, END] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const get = (l: number): Expr => m.local.get(l, i32);
  const set = (l: number, v: Expr): Expr => m.local.set(l, v);
  const c = (n: number): Expr => m.i32.const(n);
  const desc = (field: number): Expr => m.i32.load(field, 4, get(D));
  const setDesc = (field: number, v: Expr): Expr => m.i32.store(field, 4, get(D), v);
  const ctx = (field: number): Expr => m.i32.load(field, 4, get(CTX));
  const setCtx = (field: number, v: Expr): Expr => m.i32.store(field, 4, get(CTX), v);

  const run = m.block(null, [
    set(DATA, desc(BATCH_DESC.data)),
    set(FRAME_END, m.i32.sub(m.i32.add(desc(BATCH_DESC.frame), desc(BATCH_DESC.frameSize)), c(XDP_TAILROOM))),
    set(END, m.i32.add(get(DATA), get(LEN))),
    m.if(m.i32.gt_u(get(END), get(FRAME_END)), set(END, get(FRAME_END))),
    setCtx(XDP_CTX.data, get(DATA)),
    setCtx(XDP_CTX.dataEnd, get(END)),
    setCtx(XDP_CTX.dataMeta, get(DATA)),
    setCtx(XDP_CTX.ingressIfindex, desc(BATCH_DESC.ifindex)),
    setCtx(XDP_CTX.rxQueueIndex, desc(BATCH_DESC.rxQueue)),
    setCtx(XDP_CTX.egressIfindex, c(0)),
    setCtx(XDP_CTX.hardStart, desc(BATCH_DESC.frame)),
    setCtx(XDP_CTX.frameEnd, get(FRAME_END)),
    setCtx(XDP_CTX.fragLen, c(0)),
    setCtx(XDP_CTX.redirectKind, c(0)),
    setCtx(XDP_CTX.tailCalls, c(0)),
    setDesc(BATCH_DESC.action, runProgram(get(CTX))),
    set(DATA, ctx(XDP_CTX.data)),
    setDesc(BATCH_DESC.data, get(DATA)),
    setDesc(BATCH_DESC.length, m.i32.sub(ctx(XDP_CTX.dataEnd), get(DATA))),
    setDesc(BATCH_DESC.redirectKind, ctx(XDP_CTX.redirectKind)),
    setDesc(BATCH_DESC.redirectTarget, ctx(XDP_CTX.redirectTarget)),
    setDesc(BATCH_DESC.redirectKey, ctx(XDP_CTX.redirectKey)),
    setDesc(BATCH_DESC.metaLength, m.i32.sub(get(DATA), ctx(XDP_CTX.dataMeta))),
  ]);

  const body = m.block(null, [
    set(CTX, m.global.get(ctxGlobal, i32)),
    set(I, c(0)),
    m.block('done', [
      m.loop(
        'next',
        m.block(null, [
          m.br('done', m.i32.ge_u(get(I), get(COUNT))),
          set(D, m.i32.add(get(DESCS), m.i32.mul(get(I), c(BATCH_DESC_SIZE)))),
          setCtx(XDP_CTX.batchIndex, get(I)),
          set(LEN, desc(BATCH_DESC.length)),
          m.if(m.i32.lt_u(get(LEN), c(ETH_HLEN)), setDesc(BATCH_DESC.action, c(XDP_ABORTED)), run),
          set(I, m.i32.add(get(I), c(1))),
          m.br('next'),
        ]),
      ),
    ]),
  ]);
  m.addFunction(name, binaryen.createType([i32, i32]), binaryen.none, [i32, i32, i32, i32, i32, i32, i32], body);
}
