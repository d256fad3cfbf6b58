// The verifier's state on one path (struct bpf_verifier_state): a stack of call frames,
// each with eleven registers and a 512-byte stack kept as 64 slots of 8 bytes. A slot
// holds a spilled register (an aligned 8-byte store of a pointer, or a scalar stored at
// an offset aligned to its width, its other bytes keeping their kinds) and per-byte
// kinds: 'i' never written, 'm' some data, 'z' known zero. Also: when one state is
// "as safe as" another (pruning), and when two are the same (an infinite loop).

import { STACK_FRAME } from '../../core/abi.js';
import { NOT_INIT, T, isPointer, isSlice, pointer, type Reg } from './reg.js';
import { scalarEqual, scalarIn } from './scalar.js';
import { hasSlot, type SlotSet } from './slot-set.js';

export const SLOTS = STACK_FRAME / 8;

export interface Slot {
  readonly spill?: Reg;
  /** Eight kinds, one per byte from the slot's lowest address: 'i', 'm', 'z' or 's' (spilled). */
  readonly kinds: string;
}
export const INVALID_SLOT: Slot = { spill: undefined, kinds: 'iiiiiiii' };

export interface Frame {
  regs: Reg[];
  /** Read freely; write only through writableStack (it may be shared with clones). */
  stack: Slot[];
  /** The stack array is shared with another state's frame: copy it before writing. */
  stackShared: boolean;
  /** Position of the call instruction to return after (-1 for the entry frame). */
  readonly callsite: number;
  /** Index of the function this frame runs. */
  readonly fn: number;
  /** Frames entered as a bpf_loop callback must return 0 or 1. */
  readonly callback: boolean;
}

/** Every frame built here, with its fields in one order: one hidden class for all of them. */
export const makeFrame = (regs: Reg[], stack: Slot[], stackShared: boolean, callsite: number, fn: number, callback: boolean): Frame => ({
  regs,
  stack,
  stackShared,
  callsite,
  fn,
  callback,
});

/** A reference the program holds and must release before it exits (ring buffer space). */
export interface Ref {
  /** The id every copy of the reserved pointer carries. */
  readonly id: number;
  /** Slot of the reserving call (the kernel's alloc_insn). */
  readonly insn: number;
  /** A held bpf_spin_lock (spin-lock.ts): the map whose value holds it; `id` is the value's. */
  readonly lock?: string;
}

export class State {
  /** `refs`: references acquired and not yet released (the kernel's acquired_refs). */
  /**
   * `unroll`: bpf_loop callback iterations entered on the path so far (the kernel's
   * callback_unroll_depth): states of different iterations are never an infinite loop.
   */
  constructor(
    readonly frames: Frame[],
    public refs: readonly Ref[] = [],
    public unroll = 0,
  ) {}

  static entry(fn: number, ctxArg: Reg): State {
    const regs = new Array<Reg>(11).fill(NOT_INIT);
    regs[1] = ctxArg;
    regs[10] = pointer(T.STACK, { n: 0 });
    return new State([makeFrame(regs, new Array<Slot>(SLOTS).fill(INVALID_SLOT), false, -1, fn, false)]);
  }

  get cur(): Frame {
    return this.frames[this.frames.length - 1]!;
  }

  /** Registers copied; stacks shared copy-on-write (most paths never write most frames). */
  clone(): State {
    // Built by push, not map: map makes a holey array, and frame arrays of two kinds make
    // every read of st.frames polymorphic.
    const frames: Frame[] = [];
    for (const f of this.frames) {
      f.stackShared = true;
      frames.push(makeFrame(f.regs.slice(), f.stack, true, f.callsite, f.fn, f.callback));
    }
    return new State(frames, this.refs, this.unroll);
  }

  /** Replace every register and spill satisfying `match` (all frames). */
  mapRegs(fn: (r: Reg) => Reg): void {
    for (const f of this.frames) {
      for (let i = 0; i < f.regs.length; i++) f.regs[i] = fn(f.regs[i]!);
      for (let i = 0; i < f.stack.length; i++) {
        const s = f.stack[i]!;
        if (s.spill) {
          const r = fn(s.spill);
          if (r !== s.spill) writableStack(f)[i] = { spill: r, kinds: s.kinds };
        }
      }
    }
  }
}

/** The frame's stack, copied first if another state shares it. */
export function writableStack(f: Frame): Slot[] {
  if (f.stackShared) {
    f.stack = f.stack.slice();
    f.stackShared = false;
  }
  return f.stack;
}

/** Maps ids of the old state to ids of the new one, consistently (the kernel's check_ids). */
class IdMap {
  // Pairs (old id, current id) so far, the first `n` of two arrays; a comparison sees few
  // ids, so a linear search is cheaper than maps to clear for every one of the walk's
  // comparisons (and a count is cheaper to reset than the arrays' lengths).
  private readonly olds: number[] = [];
  private readonly curs: number[] = [];
  private n = 0;
  private temp = 0;
  /** Forget every pairing (one IdMap serves every comparison: covers does not nest). */
  reset(): void {
    this.n = 0;
    this.temp = 0;
  }
  ok(oldId: number, curId: number): boolean {
    if (oldId === 0 && curId === 0) return true;
    const { olds, curs, n } = this;
    let m = -1;
    let b = -1;
    for (let i = 0; i < n; i++) {
      if (m < 0 && olds[i] === oldId) m = i;
      if (b < 0 && curs[i] === curId) b = i;
    }
    if (m < 0 && b < 0) {
      olds[n] = oldId;
      curs[n] = curId;
      this.n = n + 1;
      return true;
    }
    return m >= 0 && m === b;
  }
  /** Scalars: id 0 means "linked to nothing", so it stands for an id of its own. */
  scalarOk(oldId: number, curId: number): boolean {
    return this.ok(oldId === 0 ? -++this.temp : oldId, curId === 0 ? -++this.temp : curId);
  }
}

/**
 * Is `old` (already verified) at least as permissive as `cur`? `exact`: must be the same.
 * `precise`: whether old's value, if a scalar, mattered to some check on a path from it
 * (precision.ts); an imprecise scalar matches any scalar.
 */
function regSafe(old: Reg, cur: Reg, ids: IdMap, exact: boolean, precise: boolean): boolean {
  if (old === cur) return true;
  if (old.type === T.NOT_INIT) return !exact || cur.type === T.NOT_INIT;
  if (old.type !== cur.type) return false;
  if (old.type === T.SCALAR) {
    if (exact) return scalarEqual(old.s, cur.s);
    if (!precise) return true;
    return scalarIn(old.s, cur.s) && ((old.id === 0 && cur.id === 0) || ids.scalarOk(old.id, cur.id));
  }
  if (old.off !== cur.off || old.map !== cur.map || old.n !== cur.n) return false;
  if (exact ? !scalarEqual(old.s, cur.s) : !scalarIn(old.s, cur.s)) return false;
  if (old.type === T.PKT || old.type === T.PKT_META) {
    if (exact ? old.range !== cur.range : old.range > cur.range) return false;
  }
  // A slice goes with its dynptr (destroying the one destroys the other): the same one.
  if (isSlice(old) && !ids.ok(old.range, cur.range)) return false;
  if (isPointer(old) && old.type !== T.STACK && old.type !== T.CTX && old.type !== T.CONST_MAP_PTR && old.type !== T.FUNC) {
    return ids.ok(old.id, cur.id);
  }
  return true;
}

function slotSafe(old: Slot, cur: Slot, ids: IdMap, exact: boolean, precise: boolean): boolean {
  if (old === cur) return true;
  if (old.spill || cur.spill) {
    if (old.spill && !exact && !precise && old.spill.type === T.SCALAR) {
      // Whatever cur holds there reads back as some scalar, and old's value did not matter.
      return !cur.spill || cur.spill.type === T.SCALAR;
    }
    if (old.spill && cur.spill) return old.kinds === cur.kinds && regSafe(old.spill, cur.spill, ids, exact, precise);
    if (exact) return false;
    // A spilled scalar old state is matched by misc bytes only when it knew nothing.
    if (old.spill) return false;
    // Old misc bytes accept a spilled scalar (its bytes are data); old zero needs a spilled 0.
    const s = cur.spill!;
    for (let b = 0; b < 8; b++) {
      const k = old.kinds[b];
      const c = cur.kinds[b];
      if (k === 'i') continue;
      // A dynptr's bytes cannot be read: data old could read is not one (the kernel's stacksafe).
      if (c === 'd') return false;
      if (c === 's') {
        if (s.type !== T.SCALAR || (k === 'z' && s.s.umax !== 0n)) return false;
        continue;
      }
      if (k !== 'm' && k !== c) return false;
    }
    return true;
  }
  if (exact) return old.kinds === cur.kinds;
  for (let b = 0; b < 8; b++) {
    const o = old.kinds[b];
    const c = cur.kinds[b];
    // Privileged programs may read uninitialised stack: 'i' is as good as 'm'.
    if (o === 'i' || o === c || o === 'm') continue;
    return false;
  }
  return true;
}

/** Which scalars of a checkpoint are precise, which slots read (precision.ts Precision). */
export interface PreciseMarks {
  /** Per frame, a bit per precise register. */
  readonly regs: readonly number[];
  /** Slots whose spilled scalar is precise (slot-set.ts). */
  readonly slots: SlotSet;
  /** Slots some path from the checkpoint reads before overwriting them. */
  readonly read: SlotSet;
}

const sharedIds = new IdMap();

/**
 * Registers of outer frame i that matter: r6-r10 survive a local call; a bpf_loop callback
 * returns to its call, which runs again with the caller's r1-r5 as they were.
 */
export const outerCompared = (st: State, i: number): number => (st.frames[i + 1]!.callback ? 0x7fe : 0x7c0);

/**
 * `old` covers `cur`: every path from `cur` behaves as one already checked from `old`.
 * `live[r]` says which registers of the innermost frame are read later; outer frames'
 * r0-r5 are overwritten or clobbered when their callee returns.
 */
export function covers(old: State, cur: State, live: number, mode: 'safe' | 'within' | 'exact', precise: PreciseMarks): boolean {
  const exact = mode === 'exact';
  // 'within' (the kernel's RANGE_WITHIN, against a state whose paths are still being
  // walked: its precision and read marks are not final): every scalar counts as precise
  // and every slot as read.
  const within = mode === 'within';
  if (old.frames.length !== cur.frames.length || old.refs.length !== cur.refs.length) return false;
  const ids = sharedIds;
  ids.reset();
  for (let k = 0; k < old.refs.length; k++) {
    if (old.refs[k]!.lock !== cur.refs[k]!.lock || !ids.ok(old.refs[k]!.id, cur.refs[k]!.id)) return false;
  }
  const last = old.frames.length - 1;
  // Registers first, innermost frame first: where states usually differ.
  for (let i = last; i >= 0; i--) {
    const of = old.frames[i]!;
    const cf = cur.frames[i]!;
    if (of.callsite !== cf.callsite || of.fn !== cf.fn) return false;
    const compared = i === last ? live : outerCompared(cur, i);
    const preciseRegs = precise.regs[i]!;
    for (let bits = compared; bits !== 0; bits &= bits - 1) {
      const r = 31 - Math.clz32(bits & -bits);
      const o = of.regs[r]!;
      const c = cf.regs[r]!;
      if (o === c) continue;
      if (!regSafe(o, c, ids, exact, within || ((preciseRegs >> r) & 1) === 1)) return false;
    }
  }
  const { read, slots } = precise;
  for (let i = last; i >= 0; i--) {
    const os = old.frames[i]!.stack;
    const cs = cur.frames[i]!.stack;
    if (os === cs) continue;
    // Only slots some path from old read need to match (all of them for the loop check).
    for (let w = 0; w < 2; w++) {
      for (let bits = exact || within ? -1 : read[i * 2 + w]!; bits !== 0; bits &= bits - 1) {
        const s = w * 32 + 31 - Math.clz32(bits & -bits);
        const o = os[s]!;
        const c = cs[s]!;
        if (o === c) continue;
        if (!slotSafe(o, c, ids, exact, within || hasSlot(slots, i, s))) return false;
      }
    }
  }
  return true;
}
