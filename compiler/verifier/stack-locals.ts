// Which stack slots codegen may keep in a wasm local instead of linear memory: an 8-byte
// slot of a function's own frame that is only ever read and written whole, through
// constant offsets from that frame's pointer, by the function itself (clang's register
// spills and fills). Any other touch of the slot keeps it in memory: a narrower or
// misaligned access, a variable offset, an atomic, a callee or bpf_loop callback reading
// it through a pointer to the caller's frame, or a pointer into the frame handed to a
// helper (which may read from there up to the frame's top). Collected on every path the
// walk takes; pruned paths agree, since a state covers another only with stack pointers
// of the same frame and the same constant offset.

import type { Insn } from '../../core/isa.js';
import { T, type Reg } from './reg.js';
import { isConst, type Scalar } from './scalar.js';
import { SLOTS, type State } from './state.js';

const FRAME_BYTES = SLOTS * 8;
const signed = (s: Scalar): number => Number(BigInt.asIntN(64, s.t.value));

export class StackLocals {
  /** Slot -> the own-frame slot it always accessed whole; null once one visit did something else. */
  private readonly byPc = new Map<number, number | null>();
  /** Per function (flow order), a bit per slot kept in memory. */
  private readonly inMemory: Set<number>[] = [];

  /** A load or store at `insn` through stack pointer `base` (frame base.n), `size` bytes. */
  access(st: State, insn: Insn, base: Reg, size: number, atomic: boolean): void {
    const fn = st.frames[base.n]!.fn;
    const own = base.n === st.frames.length - 1;
    if (isConst(base.s)) {
      const at = base.off + insn.off + signed(base.s);
      const slot = (at + FRAME_BYTES) >> 3;
      if (own && !atomic && size === 8 && (at & 7) === 0) {
        const known = this.byPc.get(insn.pc);
        if (known === undefined || known === slot) {
          this.byPc.set(insn.pc, slot);
          return;
        }
      }
      this.keep(fn, slot, (at + size - 1 + FRAME_BYTES) >> 3);
    } else {
      const lo = base.off + insn.off + Number(base.s.smin);
      const hi = base.off + insn.off + Number(base.s.smax) + size - 1;
      this.keep(fn, (lo + FRAME_BYTES) >> 3, (hi + FRAME_BYTES) >> 3);
    }
    this.spoil(st, insn.pc);
  }

  /** A helper (or callx) call: frames its stack-pointer arguments point into stay in memory from there up. */
  call(st: State): void {
    const regs = st.cur.regs;
    for (let r = 1; r <= 5; r++) {
      const reg = regs[r]!;
      if (reg.type !== T.STACK) continue;
      const lo = reg.off + (isConst(reg.s) ? signed(reg.s) : Number(reg.s.smin));
      this.keep(st.frames[reg.n]!.fn, Math.max(0, (lo + FRAME_BYTES) >> 3), SLOTS - 1);
    }
  }

  /** Slots accessed as locals, by the slot of the access, for the functions given by `fnOfPc`. */
  result(fnOfPc: (pc: number) => number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [pc, slot] of this.byPc) {
      if (slot !== null && !this.inMemory[fnOfPc(pc)]?.has(slot)) out.set(pc, slot);
    }
    return out;
  }

  /** The access at `pc` is not a whole own-frame slot after all: what it touched before stays in memory. */
  private spoil(st: State, pc: number): void {
    const known = this.byPc.get(pc);
    if (known !== undefined && known !== null) this.keep(st.cur.fn, known, known);
    this.byPc.set(pc, null);
  }

  private keep(fn: number, lo: number, hi: number): void {
    const set = (this.inMemory[fn] ??= new Set());
    for (let s = Math.max(0, lo); s <= Math.min(SLOTS - 1, hi); s++) set.add(s);
  }
}
