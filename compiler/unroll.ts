// Unrolling of small innermost loops on a function's CFG, before the Relooper structures
// it. V8 checks for stack overflow and interrupts on every wasm loop back-edge and unrolls
// only a little itself, so a loop of a few instructions per iteration (a checksum over the
// payload, one back-edge per byte) spends a good part of each iteration on the loop's own
// overhead. Here the body of such a loop is laid out up to MAX_COPIES times in a ring: copy c's
// latch jumps to copy c+1's header, the last copy's back to the first. Every copy keeps
// all of its instructions and every exit test, so each runs exactly as the original
// iteration would, whatever the trip count (an exit in any copy leaves the ring at the
// same instruction the original loop would): correct by construction, no trip-count
// analysis. Only loops the verifier proved bounded are unrolled (their back-edge carries
// no budget check, loop-budget.ts): a budget check costs more than the back-edge saved.
//
// Only natural loops qualify (header dominates the latch), with a single latch (one
// back-edge jump into the header), no other loop inside and no call (a call costs more
// than the back-edge saved, and helpers inlined as wasm loops carry labels that must stay
// unique in a function), of at most MAX_BODY instructions; the copies together stay
// within MAX_UNROLLED instructions, which bounds the growth of a function by a constant
// per loop.

import { type Insn, isCall } from '../core/isa.js';
import type { Block, FunctionCfg } from './cfg.js';

/** A block of the unrolled CFG: an original block (or a copy of one) and its successors, as node ids. */
export interface CfgNode {
  block: Block;
  jumpTo?: number;
  fallTo?: number;
}

/** Largest loop body (instructions, all its blocks) that is unrolled. */
export const MAX_BODY = 16;
/** Most instructions the copies of one loop may hold together. */
export const MAX_UNROLLED = 128;
/**
 * Most copies of a body (the original counts as one). On the checksum fixture 8 copies ran
 * ~7% faster than 4 and as fast as 16 (bench/README.md "Session 7: loops").
 */
export const MAX_COPIES = 8;

/**
 * The function's CFG with its small innermost loops unrolled. Nodes 0..blocks.length-1
 * are the original blocks (node 0 the entry); copies are appended after them.
 */
export function unrollLoops(
  fn: FunctionCfg,
  insns: readonly Insn[],
  /** Whether the loop closed by this latch block (its last instruction the back-jump) may be unrolled. */
  unrollable: (latch: Block) => boolean,
  limits = { maxBody: MAX_BODY, maxUnrolled: MAX_UNROLLED, maxCopies: MAX_COPIES },
): CfgNode[] {
  const nodes: CfgNode[] = fn.blocks.map((block) => ({ block, jumpTo: block.jumpTo, fallTo: block.fallTo }));
  const hasCall = (b: Block): boolean => insns.slice(b.first, b.end).some((i) => isCall(i.opcode));
  for (const loop of innermostLoops(fn.blocks)) {
    const size = loop.body.reduce((n, id) => n + fn.blocks[id]!.end - fn.blocks[id]!.first, 0);
    if (size > limits.maxBody || !unrollable(fn.blocks[loop.latch]!) || loop.body.some((id) => hasCall(fn.blocks[id]!))) continue;
    const copies = Math.min(limits.maxCopies, Math.floor(limits.maxUnrolled / size));
    if (copies < 2) continue;
    // copyOf[c] maps a body block to its node in copy c (copy 0: the original node).
    const copyOf: Map<number, number>[] = [new Map(loop.body.map((id) => [id, id]))];
    for (let c = 1; c < copies; c++) {
      const ids = new Map<number, number>();
      for (const id of loop.body) {
        ids.set(id, nodes.length);
        nodes.push({ block: fn.blocks[id]! });
      }
      copyOf.push(ids);
    }
    const inCopy = (c: number, target: number | undefined): number | undefined =>
      target === undefined ? undefined : (copyOf[c]!.get(target) ?? target);
    for (let c = 0; c < copies; c++) {
      for (const id of loop.body) {
        const block = fn.blocks[id]!;
        const node = nodes[copyOf[c]!.get(id)!]!;
        node.fallTo = inCopy(c, block.fallTo);
        node.jumpTo = id === loop.latch ? copyOf[(c + 1) % copies]!.get(loop.header)! : inCopy(c, block.jumpTo);
      }
    }
  }
  return nodes;
}

interface Loop {
  header: number;
  latch: number;
  /** Block ids of the loop, header included, ascending. */
  body: number[];
}

/** Natural loops with one latch (a taken back-jump) and no loop header inside but their own. */
function innermostLoops(blocks: readonly Block[]): Loop[] {
  const succs = blocks.map((b) => [b.jumpTo, b.fallTo].filter((s): s is number => s !== undefined));
  const preds = blocks.map((): number[] => []);
  succs.forEach((ss, from) => ss.forEach((to) => preds[to]!.push(from)));
  const idom = immediateDominators(succs, preds);
  const dominates = (a: number, b: number): boolean => {
    for (let x: number | undefined = b; x !== undefined; x = x === idom[x] ? undefined : idom[x]) if (x === a) return true;
    return false;
  };
  // Every edge into a block that dominates its source closes a natural loop.
  const latchesOf = new Map<number, number[]>();
  const backFalls = new Set<number>();
  succs.forEach((ss, from) => {
    if (idom[from] === undefined) return; // unreachable
    for (const to of new Set(ss)) {
      if (!dominates(to, from)) continue;
      const jumpOnly = blocks[from]!.jumpTo === to && blocks[from]!.fallTo !== to && blocks[from]!.backEdge;
      if (!jumpOnly) backFalls.add(to);
      latchesOf.set(to, [...(latchesOf.get(to) ?? []), from]);
    }
  });
  const loops: Loop[] = [];
  for (const [header, latches] of latchesOf) {
    if (latches.length !== 1 || backFalls.has(header)) continue;
    const latch = latches[0]!;
    const body = new Set([header]);
    const work = [latch];
    while (work.length > 0) {
      const b = work.pop()!;
      if (body.has(b)) continue;
      body.add(b);
      work.push(...preds[b]!.filter((p) => idom[p] !== undefined));
    }
    const others = [...latchesOf.keys()].some((h) => h !== header && body.has(h));
    if (!others) loops.push({ header, latch, body: [...body].sort((a, b) => a - b) });
  }
  return loops;
}

/** Immediate dominator of each block reachable from block 0 (block 0 is its own); undefined when unreachable. */
function immediateDominators(succs: readonly number[][], preds: readonly number[][]): (number | undefined)[] {
  // Cooper, Harvey and Kennedy's iterative algorithm over reverse postorder.
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (b: number): void => {
    const stack: [number, number][] = [[b, 0]];
    seen.add(b);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = succs[top[0]]![top[1]++];
      if (next === undefined) {
        order.push(top[0]);
        stack.pop();
      } else if (!seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    }
  };
  if (succs.length > 0) visit(0);
  const rpo = order.reverse();
  const rank = new Map(rpo.map((b, i) => [b, i]));
  const idom: (number | undefined)[] = new Array<number | undefined>(succs.length).fill(undefined);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (rank.get(a)! > rank.get(b)!) a = idom[a]!;
      while (rank.get(b)! > rank.get(a)!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const b of rpo.slice(1)) {
      let d: number | undefined;
      for (const p of preds[b]!) if (idom[p] !== undefined) d = d === undefined ? p : intersect(p, d);
      if (d !== undefined && idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  return idom;
}
