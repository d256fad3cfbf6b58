// XDP dynptrs, with the kernel's rules (process_dynptr_func, mark_stack_slots_dynptr,
// destroy_if_dynptr_stack_slot, check_kfunc_args): a `struct bpf_dynptr` is 16 bytes at
// a constant, 8-aligned offset of some frame's stack, and the verifier tracks its two
// slots as one dynptr (kinds 'd', the spill a T.DYNPTR register holding the dynptr's id,
// n = 1 in the lower slot, 2 in the upper). bpf_dynptr_from_xdp makes one (over whatever
// was there, an older dynptr included: an XDP dynptr holds no reference); every other
// use needs one made. A store over either slot destroys it; its bytes cannot be read. A
// slice (bpf_dynptr_slice: read-only, _rdwr: writable) is memory of the constant size
// asked for, or NULL; it is invalidated, like a packet pointer, by every helper that
// changes packet data, but not when its dynptr is destroyed: it points into the packet or
// the buffer, not the dynptr, and the kernel's destroy_if_dynptr_stack_slot passes over
// slices typed as packet slices. What bpf_dynptr_data returns is tied to its dynptr
// (`range` holds the dynptr's id) and dies with it, as in the kernel.

import type { Insn } from '../../core/isa.js';
import type { KfuncInfo } from '../../core/kfuncs.js';
import type { Env } from './env.js';
import { helperMem } from './helpers.js';
import { Problem, reject } from './problem.js';
import { T, TYPE_NAME, UNKNOWN_SCALAR, isKnownZero, isSlice, pointer, type Reg } from './reg.js';
import { isConst } from './scalar.js';
import { INVALID_SLOT, SLOTS, writableStack, type State } from './state.js';

const STACK_BYTES = SLOTS * 8;
/** The kinds of a dynptr's slot (the kernel's STACK_DYNPTR bytes). */
export const DYNPTR_KINDS = 'dddddddd';
const D = DYNPTR_KINDS.charCodeAt(0);

const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));

/** The frame slot of the dynptr's lower half that `reg` (a stack pointer) points at (dynptr_get_spi). */
function dynptrSlot(insn: Insn, reg: Reg): number {
  if (!isConst(reg.s)) reject(insn, 'dynptr has to be at a constant offset');
  const off = reg.off + signed(reg.s.t.value);
  // Two slots from `off` up, inside the frame (the kernel's spi >= 1).
  if (off % 8 !== 0 || off > -16) reject(insn, `cannot pass in dynptr at an offset=${off}`);
  return (off + STACK_BYTES) >> 3;
}

/**
 * Stores over slots lo..hi of frame `frame` destroy any dynptr they touch: both its slots
 * become never-written stack, what bpf_dynptr_data gave from it unknown scalars.
 */
export function destroyDynptrs(st: State, frame: number, lo: number, hi: number): void {
  const f = st.frames[frame]!;
  for (let s = Math.max(0, lo); s <= Math.min(SLOTS - 1, hi); s++) {
    const spill = f.stack[s]!.spill;
    if (spill?.type !== T.DYNPTR) continue;
    const base = spill.n === 1 ? s : s - 1;
    const stack = writableStack(f);
    stack[base] = INVALID_SLOT;
    stack[base + 1] = INVALID_SLOT;
    st.mapRegs((r) => (isSlice(r) && r.range !== 0 && r.range === spill.id ? UNKNOWN_SCALAR : r));
  }
}

/**
 * The lowest byte in [lo, hi) (offsets below frame `frame`'s pointer) that belongs to a
 * dynptr, if any. A dynptr's slots are 'd' whole, so one byte per slot tells.
 */
export function firstDynptrByte(st: State, frame: number, lo: number, hi: number): number | undefined {
  const stack = st.frames[frame]!.stack;
  const from = Math.max(lo, -STACK_BYTES);
  const to = Math.min(hi, 0);
  for (let s = (from + STACK_BYTES) >> 3; s <= (to - 1 + STACK_BYTES) >> 3 && from < to; s++) {
    if (stack[s]!.kinds.charCodeAt(0) === D) return Math.max(from, s * 8 - STACK_BYTES);
  }
  return undefined;
}

/** Argument `regno` receives a new dynptr (a kfunc's `__uninit` argument). */
function makeDynptr(env: Env, st: State, insn: Insn, regno: number, reg: Reg): void {
  if (reg.type !== T.STACK) reject(insn, `arg#${regno - 1} expected pointer to stack or const struct bpf_dynptr`);
  if (!isConst(reg.s)) reject(insn, 'dynptr has to be at a constant offset');
  const off = reg.off + signed(reg.s.t.value);
  if (off % 8 !== 0 || off > -16) reject(insn, `cannot pass in dynptr at an offset=${off}; Dynptr has to be an uninitialized dynptr`);
  // The kernel writes the 16 bytes as two 8-byte stores first: the frame must hold them.
  if (off < -STACK_BYTES) reject(insn, `invalid write to stack R${regno} off=${off} size=8`);
  const slot = dynptrSlot(insn, reg);
  const frame = st.frames[reg.n]!;
  env.noteStack(frame.fn, -off);
  destroyDynptrs(st, reg.n, slot, slot + 1);
  const id = env.newId();
  const stack = writableStack(frame);
  stack[slot] = { spill: pointer(T.DYNPTR, { id, n: 1 }), kinds: DYNPTR_KINDS };
  stack[slot + 1] = { spill: pointer(T.DYNPTR, { id, n: 2 }), kinds: DYNPTR_KINDS };
  env.stackWritten(reg.n, slot);
  env.stackWritten(reg.n, slot + 1);
}

/**
 * Argument `regno` must point at an initialised dynptr; returns its lower slot's register
 * (whose id the dynptr's slices carry). `kfunc`: the kernel words a wrong type differently.
 */
export function dynptrArg(env: Env, st: State, insn: Insn, regno: number, reg: Reg, kfunc: boolean): Reg {
  if (reg.type !== T.STACK) {
    reject(
      insn,
      kfunc
        ? `arg#${regno - 1} expected pointer to stack or const struct bpf_dynptr`
        : `R${regno} type=${TYPE_NAME[reg.type]} expected=fp, dynptr_ptr`,
    );
  }
  const slot = dynptrSlot(insn, reg);
  const uninitialised = (): never => reject(insn, `Expected an initialized dynptr as arg #${regno - 1}`);
  if (slot < 0) uninitialised();
  const stack = st.frames[reg.n]!.stack;
  env.stackRead(reg.n, slot, slot + 1);
  const lower = stack[slot]!.spill;
  const upper = stack[slot + 1]!.spill;
  if (lower?.type !== T.DYNPTR || lower.n !== 1 || upper?.type !== T.DYNPTR || upper.n !== 2 || upper.id !== lower.id)
    return uninitialised();
  return lower;
}

/** A kfunc's scalar argument. */
function scalarArg(insn: Insn, regno: number, reg: Reg): void {
  if (reg.type !== T.SCALAR) reject(insn, `R${regno} is not a scalar`);
}

/** Check a dynptr kfunc's arguments (check_kfunc_args) and return what r0 holds after it. */
export function checkDynptrKfunc(env: Env, st: State, insn: Insn, kfunc: KfuncInfo): Reg {
  const regs = st.cur.regs;
  const args: Reg[] = [];
  for (let r = 1; r <= kfunc.args; r++) {
    const v = regs[r]!;
    if (v.type === T.NOT_INIT) reject(insn, `R${r} !read_ok`);
    args[r] = v;
  }
  switch (kfunc.name) {
    case 'bpf_dynptr_from_xdp': {
      const ctx = args[1]!;
      if (ctx.type !== T.CTX) reject(insn, `arg#0 expected pointer to ctx, but got ${TYPE_NAME[ctx.type]}`);
      if (ctx.off !== 0) reject(insn, `dereference of modified ctx ptr R1 off=${ctx.off} disallowed`);
      scalarArg(insn, 2, args[2]!);
      makeDynptr(env, st, insn, 3, args[3]!);
      return UNKNOWN_SCALAR;
    }
    case 'bpf_dynptr_slice':
    case 'bpf_dynptr_slice_rdwr': {
      dynptrArg(env, st, insn, 1, args[1]!, true);
      scalarArg(insn, 2, args[2]!);
      const size = sliceBuffer(env, st, insn, args[3]!, args[4]!);
      const type = kfunc.name === 'bpf_dynptr_slice' ? T.RDONLY_SLICE_OR_NULL : T.SLICE_OR_NULL;
      return pointer(type, { n: size, id: env.newId(), range: 0 });
    }
    case 'bpf_dynptr_adjust':
      dynptrArg(env, st, insn, 1, args[1]!, true);
      scalarArg(insn, 2, args[2]!);
      scalarArg(insn, 3, args[3]!);
      return UNKNOWN_SCALAR;
    case 'bpf_dynptr_is_null':
    case 'bpf_dynptr_is_rdonly':
    case 'bpf_dynptr_size':
      dynptrArg(env, st, insn, 1, args[1]!, true);
      return UNKNOWN_SCALAR;
    case 'bpf_dynptr_clone':
      // A dynptr of its own (destroying one leaves the other), over the same packet.
      dynptrArg(env, st, insn, 1, args[1]!, true);
      makeDynptr(env, st, insn, 2, args[2]!);
      return UNKNOWN_SCALAR;
  }
  return reject(insn, `kfunc ${kfunc.name} has no dynptr rules`);
}

/**
 * A slice's `buffer__opt` (r3, may be NULL) and `buffer__szk` (r4, a constant): a buffer
 * must be memory of that size, which the kfunc reads and writes (the kernel checks both
 * accesses). Returns the size.
 */
function sliceBuffer(env: Env, st: State, insn: Insn, buffer: Reg, size: Reg): number {
  if (size.type !== T.SCALAR) reject(insn, `R4 is not a scalar`);
  if (!isKnownZero(buffer)) {
    const pair = (why: () => void): void => {
      try {
        why();
      } catch (e) {
        if (!(e instanceof Problem)) throw e;
        throw new Problem(e.insn, `${e.reason}; arg#2 arg#3 memory, len pair leads to invalid memory access`);
      }
    };
    pair(() => {
      if (size.s.smin < 0n) reject(insn, `R4 min value is negative, either use unsigned or 'var &= const'`);
      if (size.s.umax >= 1n << 29n) reject(insn, `R4 unbounded memory access, use 'var &= const' or 'if (var < const)'`);
      const n = Number(size.s.umax);
      helperMem(env, st, insn, 3, buffer, n, false);
      helperMem(env, st, insn, 3, buffer, n, true);
    });
  }
  if (!isConst(size.s)) reject(insn, 'R4 must be a known constant');
  env.precise([4]);
  return Number(size.s.t.value);
}
