// The verifier's state on one path (struct bpf_verifier_state): a stack of call frames,
// each with eleven registers and a 512-byte stack kept as 64 slots of 8 bytes. A slot
// holds a spilled register (an aligned 8-byte store of a pointer or scalar) or per-byte
// kinds: 'i' never written, 'm' some data, 'z' known zero. Also: when one state is
// "as safe as" another (pruning), and when two are the same (an infinite loop).

import { STACK_FRAME } from '../../core/abi.js';
import { NOT_INIT, T, isPointer, pointer, type Reg } from './reg.js';
import { scalarEqual, scalarIn } from './scalar.js';

export const SLOTS = STACK_FRAME / 8;

export interface Slot {
  readonly spill?: Reg;
  /** Eight kinds, one per byte from the slot's lowest address: 'i', 'm', 'z' or 's' (spilled). */
  readonly kinds: string;
}
export const INVALID_SLOT: Slot = Object.freeze({ kinds: 'iiiiiiii' });

export interface Frame {
  regs: Reg[];
  stack: Slot[];
  /** Position of the call instruction to return after (-1 for the entry frame). */
  readonly callsite: number;
  /** Index of the function this frame runs. */
  readonly fn: number;
  /** Frames entered as a bpf_loop callback must return 0 or 1. */
  readonly callback: boolean;
}

export class State {
  constructor(readonly frames: Frame[]) {}

  static entry(fn: number, ctxArg: Reg): State {
    const regs = new Array<Reg>(11).fill(NOT_INIT);
    regs[1] = ctxArg;
    regs[10] = pointer(T.STACK, { n: 0 });
    return new State([{ regs, stack: new Array<Slot>(SLOTS).fill(INVALID_SLOT), callsite: -1, fn, callback: false }]);
  }

  get cur(): Frame {
    return this.frames[this.frames.length - 1]!;
  }

  clone(): State {
    return new State(this.frames.map((f) => ({ ...f, regs: [...f.regs], stack: [...f.stack] })));
  }

  /** Replace every register and spill satisfying `match` (all frames). */
  mapRegs(fn: (r: Reg) => Reg): void {
    for (const f of this.frames) {
      for (let i = 0; i < f.regs.length; i++) f.regs[i] = fn(f.regs[i]!);
      for (let i = 0; i < f.stack.length; i++) {
        const s = f.stack[i]!;
        if (s.spill) {
          const r = fn(s.spill);
          if (r !== s.spill) f.stack[i] = { spill: r, kinds: s.kinds };
        }
      }
    }
  }
}

/** Maps ids of the old state to ids of the new one, consistently (the kernel's check_ids). */
class IdMap {
  private readonly map = new Map<number, number>();
  private readonly back = new Map<number, number>();
  ok(oldId: number, curId: number): boolean {
    if (oldId === 0 && curId === 0) return true;
    const m = this.map.get(oldId);
    const b = this.back.get(curId);
    if (m === undefined && b === undefined) {
      this.map.set(oldId, curId);
      this.back.set(curId, oldId);
      return true;
    }
    return m === curId && b === oldId;
  }
}

/** Is `old` (already verified) at least as permissive as `cur`? `exact`: must be the same. */
function regSafe(old: Reg, cur: Reg, ids: IdMap, exact: boolean): boolean {
  if (old === cur) return true;
  if (old.type === T.NOT_INIT) return !exact || cur.type === T.NOT_INIT;
  if (old.type !== cur.type) return false;
  if (old.type === T.SCALAR) {
    if (exact) return scalarEqual(old.s, cur.s);
    return scalarIn(old.s, cur.s);
  }
  if (old.off !== cur.off || old.map !== cur.map || old.n !== cur.n) return false;
  if (exact ? !scalarEqual(old.s, cur.s) : !scalarIn(old.s, cur.s)) return false;
  if (old.type === T.PKT || old.type === T.PKT_META) {
    if (exact ? old.range !== cur.range : old.range > cur.range) return false;
  }
  if (isPointer(old) && old.type !== T.STACK && old.type !== T.CTX && old.type !== T.CONST_MAP_PTR && old.type !== T.FUNC) {
    return ids.ok(old.id, cur.id);
  }
  return true;
}

function slotSafe(old: Slot, cur: Slot, ids: IdMap, exact: boolean): boolean {
  if (old === cur) return true;
  if (old.spill || cur.spill) {
    if (old.spill && cur.spill) return old.kinds === cur.kinds && regSafe(old.spill, cur.spill, ids, exact);
    if (exact) return false;
    // A spilled scalar old state is matched by misc bytes only when it knew nothing.
    if (old.spill) return false;
    // Old misc bytes accept a spilled scalar (its bytes are data); old zero needs a spilled 0.
    for (let b = 0; b < 8; b++) {
      const k = old.kinds[b];
      if (k === 'i' || (k === 'm' && cur.kinds[b] !== 's')) continue;
      if (k === 'z' && cur.kinds[b] === 'z') continue;
      if (k === 'z') {
        const s = cur.spill!;
        if (!(s.type === T.SCALAR && s.s.umax === 0n)) return false;
      } else if (cur.spill!.type !== T.SCALAR) return false;
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

/**
 * `old` covers `cur`: every path from `cur` behaves as one already checked from `old`.
 * `live[r]` says which registers of the innermost frame are read later; outer frames'
 * r0-r5 are overwritten or clobbered when their callee returns.
 */
export function covers(old: State, cur: State, live: Uint8Array, exact: boolean): boolean {
  if (old.frames.length !== cur.frames.length) return false;
  const ids = new IdMap();
  const last = old.frames.length - 1;
  for (let i = 0; i <= last; i++) {
    const of = old.frames[i]!;
    const cf = cur.frames[i]!;
    if (of.callsite !== cf.callsite || of.fn !== cf.fn) return false;
    for (let r = 0; r <= 10; r++) {
      if (i === last ? !live[r] : r <= 5) continue;
      if (!regSafe(of.regs[r]!, cf.regs[r]!, ids, exact)) return false;
    }
    for (let s = 0; s < SLOTS; s++) if (!slotSafe(of.stack[s]!, cf.stack[s]!, ids, exact)) return false;
  }
  return true;
}
