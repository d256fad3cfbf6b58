// Store-to-load forwarding within a basic block, planned for codegen: a load whose every
// byte was written by earlier stores of the same block, through the same base register,
// takes its value from those stores' values instead of from memory. The CPU forwards a
// store to a later load itself, but not when the load spans two or more stores: then the
// load waits until the stores have reached the cache (a dozen cycles or more). Programs
// do this when they build a header field by field and read it back in wider units — katran
// writes the outer IPv4 header byte by byte and sums it as 16-bit words for the checksum,
// and that load was the hottest instruction of its wasm. V8 does not forward through wasm
// memory, so codegen does it here. The stores still happen; only the load goes.
//
// Conservative on aliasing: the stores must be through the same register, unchanged since;
// a store through any other register, an atomic operation or a call forgets everything
// known. Stack accesses through r10 are neither tracked nor forwarded (stack slots have
// their own treatment, verifier/stack-locals.ts).

import { CLASS, MODE, insnClass, isCall, isCondJmp, isJa, isLdImm64, memMode, sizeBytes, type Insn } from '../core/isa.js';

/** Bytes [inLoad, inLoad + len) of a load come from bytes [inStore, inStore + len) of the value a store wrote. */
export interface ForwardPiece {
  /** The saved value of that store (an index into the block's temporaries). */
  temp: number;
  inStore: number;
  inLoad: number;
  len: number;
}

export interface BlockForwarding {
  /** Stores whose value a later load uses: pc -> temporary that keeps the value. */
  saves: Map<number, number>;
  /** Forwarded loads: pc -> where each of its bytes comes from. */
  loads: Map<number, ForwardPiece[]>;
  /** Temporaries the block needs (i64 each). */
  temps: number;
}

interface TrackedStore {
  pc: number;
  base: number;
  off: number;
  size: number;
}

const STACK_POINTER = 10;

/** The forwarding plan of instructions `insns[first..end)` (one block; it stops at the first jump). */
export function planBlockForwarding(insns: readonly Insn[], first: number, end: number): BlockForwarding {
  const plan: BlockForwarding = { saves: new Map(), loads: new Map(), temps: 0 };
  let tracked: TrackedStore[] = [];
  const forgetBase = (reg: number): void => {
    tracked = tracked.filter((s) => s.base !== reg);
  };
  const tempOf = (pc: number): number => {
    let t = plan.saves.get(pc);
    if (t === undefined) plan.saves.set(pc, (t = plan.temps++));
    return t;
  };
  for (let p = first; p < end; p++) {
    const insn = insns[p]!;
    const op = insn.opcode;
    if (isJa(op) || isCondJmp(op)) break;
    const cls = insnClass(op);
    if (cls === CLASS.LDX) {
      if (memMode(op) === MODE.MEM && insn.src !== STACK_POINTER) {
        const pieces = cover(tracked, insn.src, insn.off, sizeBytes(op));
        if (pieces && new Set(pieces.map((x) => x.store.pc)).size >= 2) {
          plan.loads.set(
            insn.pc,
            pieces.map((x) => ({ temp: tempOf(x.store.pc), inStore: x.inStore, inLoad: x.inLoad, len: x.len })),
          );
        }
      }
      forgetBase(insn.dst);
      continue;
    }
    if (cls === CLASS.ST || cls === CLASS.STX) {
      if (cls === CLASS.STX && memMode(op) === MODE.ATOMIC) {
        tracked = [];
        continue;
      }
      tracked = tracked.filter((s) => s.base === insn.dst);
      if (insn.dst !== STACK_POINTER) tracked.push({ pc: insn.pc, base: insn.dst, off: insn.off, size: sizeBytes(op) });
      continue;
    }
    if (cls === CLASS.JMP && isCall(op)) {
      tracked = [];
      continue;
    }
    if (cls === CLASS.ALU || cls === CLASS.ALU64 || isLdImm64(op)) forgetBase(insn.dst);
    else tracked = []; // anything else: forget, rather than reason about it
  }
  return plan;
}

/** Where each byte of [off, off + size) through `base` was last stored, as runs per store; undefined if any byte was not. */
function cover(
  tracked: readonly TrackedStore[],
  base: number,
  off: number,
  size: number,
): { store: TrackedStore; inStore: number; inLoad: number; len: number }[] | undefined {
  const runs: { store: TrackedStore; inStore: number; inLoad: number; len: number }[] = [];
  for (let b = 0; b < size; b++) {
    const addr = off + b;
    let from: TrackedStore | undefined;
    for (let i = tracked.length - 1; i >= 0 && !from; i--) {
      const s = tracked[i]!;
      if (s.base === base && addr >= s.off && addr < s.off + s.size) from = s;
    }
    if (!from) return undefined;
    const last = runs[runs.length - 1];
    if (last && last.store === from && last.inLoad + last.len === b) last.len++;
    else runs.push({ store: from, inStore: addr - from.off, inLoad: b, len: 1 });
  }
  return runs;
}
