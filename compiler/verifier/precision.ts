// Precision tracking (the kernel's mark_chain_precision / backtrack_insn, as facts, not
// code). A scalar kept in a pruning checkpoint is "imprecise" until some path from there
// uses its value in a way that matters: as a pointer offset, a helper's size, a branch
// the walk decided, a callback's return value, a constant map key. Imprecise scalars
// match any scalar when states are compared (state.ts covers), which is what lets
// pruning work on real programs: most scalars (checksums, hashes, counters) never decide
// anything the verifier checks.
// When a use needs register r precise, the walk goes backwards over the instructions of
// the current path (its history, one segment per checkpoint) finding which registers and
// stack slots r's value came from, and marks them precise in every checkpoint on the way,
// stopping where a checkpoint already had them precise or nothing is left to track.

import { ATOMIC, CALL_KIND, CLASS, JMP, MODE, aluOp, insnClass, isRegSource, jmpOp, memMode, type Insn } from '../../core/isa.js';
import { MAX_CALL_DEPTH } from '../../core/abi.js';
import { T } from './reg.js';
import { SLOTS, type State } from './state.js';
import { addSlot, clearFrame, forEachSlot, hasSlot, isEmptySet, removeSlot, slotSet, type SlotSet } from './slot-set.js';

/**
 * What paths from a checkpoint needed of its state: precise registers (bit per register,
 * per frame) and spilled-scalar slots, and the stack slots they read before writing (the
 * kernel's REG_LIVE_READ; slots never read need not match at all).
 */
export class Precision {
  readonly regs: number[];
  readonly slots: SlotSet;
  readonly read: SlotSet;
  constructor(frames: number) {
    this.regs = new Array<number>(frames).fill(0);
    this.slots = slotSet(frames);
    this.read = slotSet(frames);
  }
  reg(frame: number, r: number): boolean {
    return ((this.regs[frame]! >> r) & 1) === 1;
  }
}

/** A walked instruction: position and frame depth (entry), plus what it did to the stack (info). */
export const histEntry = (pos: number, depth: number): number => pos * 16 + depth;

/**
 * A path's history since its checkpoint: pairs (histEntry, info) in walk order, in chunks.
 * At a fork both paths go on from the same frozen chunk, so forks copy nothing (a loop
 * forking 8192 times would otherwise copy ever longer histories).
 */
export interface Hist {
  readonly prev: Hist | undefined;
  readonly entries: number[];
}
export const newHist = (prev?: Hist): Hist => ({ prev, entries: [] });
/** info for exits: the frame returned from was a bpf_loop callback. */
export const EXIT_FROM_CALLBACK = 1;
/**
 * info for loads and stores at a fixed stack offset: the frame the pointer points into, the
 * slots touched, whether what the store left came from its source register (a spill, or
 * known-zero bytes: the kernel marks the register precise for STACK_ZERO) and whether it
 * replaced a whole slot.
 */
export const stackInfo = (frame: number, lo: number, hi: number, fromReg: boolean, full: boolean): number =>
  frame * (1 << 20) + lo * (1 << 12) + hi * 16 + (fromReg ? 2 : 0) + (full ? 1 : 0);
const NO_INFO = -1;
export { NO_INFO };

/** Registers and slots still to trace (the kernel's backtrack_state), per absolute frame. */
class Trace {
  readonly regs = new Uint16Array(MAX_CALL_DEPTH + 1);
  readonly slots = slotSet(MAX_CALL_DEPTH + 1);
  empty(): boolean {
    const regs = this.regs;
    for (let f = 0; f < regs.length; f++) if (regs[f] !== 0) return false;
    return isEmptySet(this.slots);
  }
  reset(): void {
    this.regs.fill(0);
    this.slots.fill(0);
  }
  setSlots(frame: number, lo: number, hi: number): void {
    for (let s = lo; s <= hi; s++) addSlot(this.slots, frame, s);
  }
  anySlot(frame: number, lo: number, hi: number): boolean {
    for (let s = lo; s <= hi; s++) if (hasSlot(this.slots, frame, s)) return true;
    return false;
  }
  clearFrame(frame: number): void {
    this.regs[frame] = 0;
    clearFrame(this.slots, frame);
  }
}
/** One trace for every walk: they do not nest. */
const trace = new Trace();

/** A segment of walked instructions ending where `state`'s checkpoint was taken. */
export interface Segment {
  /** Pairs (entry, info) in walk order. */
  readonly hist: Hist;
  readonly parent: CheckpointLike | undefined;
}
export interface CheckpointLike extends Segment {
  readonly state: State;
  readonly precision: Precision;
}

const bit = (r: number): number => 1 << r;
const ARGS = 0b111110;

/**
 * Mark, going backwards from the end of `seg` (at frame depth `depth`), the sources of
 * the registers `regs` (a bit mask per frame) and `slots` ([frame, slot]) precise in every
 * checkpoint up the chain. `skip`: pairs at the end of seg.hist not to walk (the
 * instruction being checked, whose operands are the ones named).
 */
export function markPrecise(
  insns: readonly Insn[],
  seg: Segment,
  depth: number,
  regs: readonly (number | undefined)[],
  slots: readonly (readonly [number, number])[],
  skip: number,
): void {
  const t = trace;
  t.reset();
  regs.forEach((mask, f) => {
    t.regs[f] = mask ?? 0;
  });
  for (const [f, s] of slots) addSlot(t.slots, f, s);
  if (t.empty()) return;
  let hist: Hist | undefined = seg.hist;
  let parent = seg.parent;
  let ctx = depth;
  let skipping = skip;
  for (;;) {
    for (; hist; hist = hist.prev) {
      const e = hist.entries;
      for (let i = e.length - 2; i >= 0; i -= 2) {
        if (skipping > 0) {
          skipping--;
          continue;
        }
        const entry = e[i]!;
        ctx = backtrack(insns, t, entry >> 4, entry & 15, e[i + 1]!, ctx);
      }
    }
    if (!parent) return;
    if (!markCheckpoint(t, parent)) return;
    ctx = parent.state.frames.length - 1;
    hist = parent.hist;
    parent = parent.parent;
  }
}

/** Record the traced registers and slots as precise in `c`; false when nothing is left to trace. */
function markCheckpoint(t: Trace, c: CheckpointLike): boolean {
  const frames = c.state.frames;
  const marks = c.precision;
  let ids: number[] | undefined;
  for (let f = frames.length; f <= MAX_CALL_DEPTH; f++) t.clearFrame(f);
  for (let f = 0; f < frames.length; f++) {
    let bits = t.regs[f]!;
    for (let r = 0; bits >> r; r++) {
      if (!((bits >> r) & 1)) continue;
      const reg = frames[f]!.regs[r]!;
      if (reg.type !== T.SCALAR || marks.reg(f, r)) bits &= ~bit(r);
      else {
        marks.regs[f]! |= bit(r);
        if (reg.id !== 0) (ids ??= []).push(reg.id);
      }
    }
    t.regs[f] = bits;
  }
  forEachSlot(t.slots, frames.length, (f, s) => {
    const spill = frames[f]!.stack[s]!.spill;
    if (!spill || spill.type !== T.SCALAR || hasSlot(marks.slots, f, s)) removeSlot(t.slots, f, s);
    else {
      addSlot(marks.slots, f, s);
      if (spill.id !== 0) (ids ??= []).push(spill.id);
    }
  });
  // Scalars linked by id refine each other at comparisons: precise together (the kernel's
  // mark_precise_scalar_ids), so that ids are checked for all of them when states are compared.
  if (ids) {
    for (let f = 0; f < frames.length; f++) {
      const fr = frames[f]!;
      for (let r = 0; r <= 10; r++) {
        const reg = fr.regs[r]!;
        if (reg.type === T.SCALAR && reg.id !== 0 && ids.includes(reg.id) && !marks.reg(f, r)) {
          marks.regs[f]! |= bit(r);
          t.regs[f]! |= bit(r);
        }
      }
      for (let s = 0; s < SLOTS; s++) {
        const spill = fr.stack[s]!.spill;
        if (spill && spill.type === T.SCALAR && spill.id !== 0 && ids.includes(spill.id) && !hasSlot(marks.slots, f, s)) {
          addSlot(marks.slots, f, s);
          addSlot(t.slots, f, s);
        }
      }
    }
  }
  return !t.empty();
}

/**
 * Undo one instruction (at `pos`, frame depth `d`) on the trace: after it, the traced values
 * were in the trace's registers and slots; before it, in the ones returned here. `ctx` is the
 * frame depth of the instruction that followed; returns the depth before this one.
 */
function backtrack(insns: readonly Insn[], t: Trace, pos: number, d: number, info: number, ctx: number): number {
  const insn = insns[pos]!;
  const op = insn.opcode;
  if (d === ctx + 1) {
    // An exit from a callee, followed by the caller's instruction after the call.
    const r0 = t.regs[ctx]! & 1;
    t.regs[ctx]! &= ~(1 | ARGS);
    if (r0 && info !== EXIT_FROM_CALLBACK) t.regs[d]! |= 1;
    return d;
  }
  if (d === ctx - 1) {
    // A call, followed by the callee's first instruction: its arguments came from r1-r5.
    const calleeRegs = t.regs[ctx]!;
    t.clearFrame(ctx);
    if (insn.src === CALL_KIND.LOCAL && !isRegSource(op)) t.regs[d]! |= calleeRegs & ARGS;
    else t.regs[d]! &= ~(1 | ARGS);
    return d;
  }
  let R = t.regs[d]!;
  switch (insnClass(op)) {
    case CLASS.ALU:
    case CLASS.ALU64: {
      const a = aluOp(op);
      if (a === 0xb0) {
        if (((R >> insn.dst) & 1) === 1) {
          R &= ~bit(insn.dst);
          if (isRegSource(op)) R |= bit(insn.src);
        }
      } else if (a !== 0x80 && a !== 0xd0 && isRegSource(op) && ((R >> insn.dst) & 1) === 1) {
        R |= bit(insn.src);
      }
      break;
    }
    case CLASS.LD:
      R &= ~bit(insn.dst);
      break;
    case CLASS.LDX:
      if (((R >> insn.dst) & 1) === 1) {
        R &= ~bit(insn.dst);
        if (info !== NO_INFO) t.setSlots(infoFrame(info), infoLo(info), infoHi(info));
      }
      break;
    case CLASS.ST:
    case CLASS.STX:
      if (memMode(op) === MODE.ATOMIC) {
        if (insn.imm === ATOMIC.CMPXCHG) R &= ~1;
        else if (insn.imm & ATOMIC.FETCH) R &= ~bit(insn.src);
        break;
      }
      if (info !== NO_INFO) {
        const f = infoFrame(info);
        const lo = infoLo(info);
        if (t.anySlot(f, lo, infoHi(info))) {
          if ((info & 1) !== 0) removeSlot(t.slots, f, lo);
          if ((info & 2) !== 0) R |= bit(insn.src);
        }
      }
      break;
    default: {
      const j = jmpOp(op);
      if (j === JMP.CALL) R &= ~(1 | ARGS);
      else if (j !== JMP.JA && j !== JMP.EXIT && isRegSource(op) && (((R >> insn.dst) & 1) === 1 || ((R >> insn.src) & 1) === 1)) {
        R |= bit(insn.dst) | bit(insn.src);
      }
    }
  }
  t.regs[d] = R;
  return d;
}

// The fields of a stackInfo (below 2^24: frames <= 8, slots < 64), by shifts, allocating nothing.
const infoFrame = (info: number): number => info >> 20;
const infoLo = (info: number): number => (info >> 12) & 255;
const infoHi = (info: number): number => (info >> 4) & 255;
