// Loads, stores and helper memory arguments through each pointer type, with the kernel's
// rules and reasons (check_mem_access, check_stack_read/write, check_packet_access,
// check_map_access, xdp_is_valid_access) for a privileged (CAP_BPF + CAP_PERFMON) loader:
// pointers may be stored to memory and uninitialised stack may be read.

import { CLASS, insnClass, type Insn } from '../../core/isa.js';
import { MAP_FLAG } from '../../core/map-types.js';
import type { MapSpec } from '../../core/model.js';
import type { Env } from './env.js';
import { reject } from './problem.js';
import { NOT_INIT, T, TYPE_NAME, UNKNOWN_SCALAR, constReg, isKnownZero, isPacket, isPointer, pointer, scalarReg, type Reg } from './reg.js';
import { isConst, signExtend, uRange, type Scalar } from './scalar.js';
import { tnumAdd, tnumConst, tnumIsConst } from './tnum.js';
import { INVALID_SLOT, SLOTS, writableStack, type Slot, type State } from './state.js';
import { checkLockFieldAccess } from './spin-lock.js';
import { destroyDynptrs, firstDynptrByte } from './dynptr.js';

export const STACK_SIZE = SLOTS * 8;
/** Variable offsets must stay below this (BPF_MAX_VAR_OFF). */
const MAX_VAR_OFF = 1n << 29n;

/** struct xdp_md: offset -> what a 4-byte load there gives. */
const XDP_MD: ReadonlyMap<number, T | 'scalar'> = new Map<number, T | 'scalar'>([
  [0, T.PKT],
  [4, T.PKT_END],
  [8, T.PKT_META],
  [12, 'scalar'],
  [16, 'scalar'],
  [20, 'scalar'],
]);
const EGRESS_IFINDEX = 20;

export type Access = 'read' | 'write';

let lastSection: string | undefined;
let lastSectionDevmap = false;
/** A devmap program's section (only it may read egress_ifindex); the last answer kept. */
function isDevmapSection(section: string): boolean {
  if (section !== lastSection) {
    lastSection = section;
    lastSectionDevmap = /(^|\/)devmap$/.test(section);
  }
  return lastSectionDevmap;
}

/** Unknown scalar that fits in `size` bytes. */
const LOADED: Readonly<Record<number, Reg>> = {
  1: scalarReg(uRange(0n, 0xffn)),
  2: scalarReg(uRange(0n, 0xffffn)),
  4: scalarReg(uRange(0n, 0xffffffffn)),
};
export const loadedScalar = (size: number): Reg => LOADED[size] ?? UNKNOWN_SCALAR;

const signed = (s: Scalar): number => Number(BigInt.asIntN(64, s.t.value));

export interface MemOp {
  insn: Insn;
  regno: number;
  reg: Reg;
  /** Instruction offset. */
  off: number;
  size: number;
  access: Access;
  /** For stores: what is stored (a register, or an immediate as a constant register). */
  value?: Reg;
  /** Atomic read-modify-write (not on packets or the context). */
  atomic?: boolean;
}

/** Check one load or store; returns what a load puts in its destination. */
export function memAccess(env: Env, st: State, op: MemOp): Reg {
  const { insn, regno, reg, off, size, access } = op;
  alignment(op);
  switch (reg.type) {
    case T.STACK:
      return stackAccess(env, st, op);
    case T.CTX: {
      if (op.atomic) reject(insn, `BPF_ATOMIC stores into R${regno} ctx is not allowed`);
      if (!isConst(reg.s)) reject(insn, `variable ctx access var_off=${reg.s.t.value} disallowed`);
      const at = reg.off + off + signed(reg.s);
      const field = XDP_MD.get(at);
      const devmap = isDevmapSection(env.section);
      if (access === 'write' || size !== 4 || field === undefined || (at === EGRESS_IFINDEX && !devmap)) {
        reject(insn, `invalid bpf_context access off=${at} size=${size}`);
      }
      return field === 'scalar' ? loadedScalar(4) : pointer(field, { id: 0 });
    }
    case T.PKT:
    case T.PKT_META: {
      if (op.atomic) reject(insn, `BPF_ATOMIC stores into R${regno} ${TYPE_NAME[reg.type]} is not allowed`);
      packetRange(insn, regno, reg, off, size);
      return loadedScalar(size);
    }
    case T.MAP_VALUE: {
      const map = reg.map!;
      if (access === 'write' && readOnly(map)) {
        reject(insn, `write into map forbidden, value_size=${map.valueSize} off=${reg.off + off} size=${size}`);
      }
      regionRange(insn, regno, reg, off, size, map.valueSize, 'map value', 'value_size');
      checkLockFieldAccess(insn, reg, off, size);
      if (access === 'read' && isConst(reg.s)) return readOnlyValue(map, reg.off + off + signed(reg.s), size) ?? loadedScalar(size);
      return loadedScalar(size);
    }
    case T.MEM:
      regionRange(insn, regno, reg, off, size, reg.n, 'memory', 'mem_size');
      return loadedScalar(size);
    case T.SLICE:
    case T.RDONLY_SLICE:
      if (access === 'write' && reg.type === T.RDONLY_SLICE) reject(insn, `R${regno} cannot write into ${TYPE_NAME[reg.type]}`);
      regionRange(insn, regno, reg, off, size, reg.n, 'memory', 'mem_size');
      return loadedScalar(size);
  }
  if (reg.type === T.CONST_MAP_PTR && access === 'read') {
    // The kernel lets privileged programs read struct bpf_map (its own layout, offsets fixed
    // by CO-RE at load time); a userspace map has no such structure to give values from.
    reject(
      insn,
      `R${regno} reads struct bpf_map of map '${reg.map?.name ?? '?'}' through its pointer (off=${reg.off + off} size=${size}): the kernel's map internals are not available in userspace`,
    );
  }
  return reject(insn, `R${regno} invalid mem access '${TYPE_NAME[reg.type]}'`);
}

/** check_ptr_alignment's names for the pointer types it reports. */
const ALIGN_DESC: Partial<Record<T, string>> = { [T.STACK]: 'stack ', [T.MAP_VALUE]: 'value ', [T.CTX]: 'context ' };

/**
 * check_ptr_alignment for an instruction's own access (helpers' memory arguments are not
 * checked): x86-64 allows unaligned access, except through the stack — the spill tracking
 * needs aligned slots — and for atomics, which must be aligned everywhere.
 */
function alignment(op: MemOp): void {
  const { insn, reg, off, size } = op;
  const cls = insnClass(insn.opcode);
  if (size === 1 || (cls !== CLASS.LDX && cls !== CLASS.ST && cls !== CLASS.STX)) return;
  if (reg.type !== T.STACK && !op.atomic) return;
  if (isPacket(reg)) return; // atomics on packets are refused by type first
  // A known offset (the usual stack access): its low bits decide, without BigInt arithmetic.
  if (reg.s.t.mask === 0n && ((Number(BigInt.asUintN(8, reg.s.t.value)) + reg.off + off) & (size - 1)) === 0) return;
  const at = tnumAdd(reg.s.t, tnumConst(BigInt(reg.off + off)));
  if (((at.value | at.mask) & BigInt(size - 1)) === 0n) return;
  const varOff = tnumIsConst(reg.s.t)
    ? `${BigInt.asIntN(64, reg.s.t.value)}`
    : `(0x${reg.s.t.value.toString(16)}; 0x${reg.s.t.mask.toString(16)})`;
  reject(insn, `misaligned ${ALIGN_DESC[reg.type] ?? ''}access off ${varOff}+${reg.off}+${off} size ${size}`);
}

/** The program cannot write the map (.rodata, or BPF_F_RDONLY_PROG). */
export const readOnly = (map: MapSpec): boolean => map.section === '.rodata' || (map.flags & MAP_FLAG.RDONLY_PROG) !== 0;

/** libbpf freezes .rodata, and the kernel then reads constants out of it (bpf_map_direct_read). */
function readOnlyValue(map: MapSpec, at: number, size: number): Reg | undefined {
  if (!readOnly(map) || !map.initialData || at < 0 || at + size > map.initialData.length) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(map.initialData[at + i]!);
  return constReg(v);
}

export function packetRange(insn: Insn, regno: number, reg: Reg, off: number, size: number): void {
  if (reg.s.smin < 0n) reject(insn, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  const at = reg.off + off;
  if (at < 0 || at + size > reg.range) {
    reject(
      insn,
      `invalid access to packet, off=${at} size=${size}, R${regno}(id=${reg.id},off=${reg.off},r=${reg.range}); ` +
        `R${regno} offset is outside of the packet`,
    );
  }
}

/** Bounds of an access into a region of `limit` bytes (map values, helper memory). */
export function regionRange(
  insn: Insn,
  regno: number,
  reg: Reg,
  off: number,
  size: number,
  limit: number,
  what: string,
  sizeName: string,
): void {
  const base = reg.off + off;
  const bad = (at: bigint | number, why: string): never =>
    reject(insn, `invalid access to ${what}, ${sizeName}=${limit} off=${at} size=${size}${why}`);
  if (isConst(reg.s)) {
    const at = base + signed(reg.s);
    if (at < 0 || at + size > limit) bad(at, '');
    return;
  }
  if (reg.s.smin < 0n) reject(insn, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (BigInt(base) + reg.s.smin < 0n) bad(BigInt(base) + reg.s.smin, `; R${regno} min value is outside of the allowed memory range`);
  if (reg.s.umax >= MAX_VAR_OFF) reject(insn, `R${regno} unbounded memory access, make sure to bounds check any such access`);
  if (BigInt(base) + reg.s.umax + BigInt(size) > BigInt(limit)) {
    bad(BigInt(base) + reg.s.umax, `; R${regno} max value is outside of the allowed memory range`);
  }
}

// ----- the stack -----------------------------------------------------------------------------

/** Byte range [lo, hi) below the frame pointer an access through a stack pointer may touch. */
function stackWindow(op: MemOp, what: string): [number, number, boolean] {
  const { insn, regno, reg, off, size } = op;
  const base = reg.off + off;
  if (isConst(reg.s)) {
    const at = base + signed(reg.s);
    if (at < -STACK_SIZE || at + size > 0) reject(insn, `invalid ${what} stack R${regno} off=${at} size=${size}`);
    return [at, at + size, true];
  }
  const lo = BigInt(base) + reg.s.smin;
  const hi = BigInt(base) + reg.s.smax + BigInt(size);
  if (lo < -STACK_SIZE || hi > 0n) {
    reject(insn, `invalid variable-offset ${what} stack R${regno} var_off=(${reg.s.smin}..${reg.s.smax}) off=${base} size=${size}`);
  }
  return [Number(lo), Number(hi), false];
}

const slotOf = (at: number): number => (at + STACK_SIZE) >> 3;
const byteOf = (at: number): number => (at + STACK_SIZE) & 7;

function stackAccess(env: Env, st: State, op: MemOp): Reg {
  const frame = st.frames[op.reg.n]!;
  const [lo, hi, fixed] = stackWindow(op, op.access === 'read' ? 'read from' : 'write to');
  env.noteStack(frame.fn, -lo);
  if (op.access === 'write') {
    // A store over a dynptr's slot destroys the dynptr (destroy_if_dynptr_stack_slot).
    destroyDynptrs(st, op.reg.n, slotOf(lo), slotOf(hi - 1));
    const v = op.value;
    // A pointer spilled with fewer than 8 bytes could not be restored whole (check_stack_write_fixed_off).
    if (fixed && v !== undefined && isPointer(v) && op.size !== 8) reject(op.insn, 'invalid size of register spill');
    const spillable = v !== undefined && !op.atomic && (v.type === T.SCALAR || (v.type !== T.NOT_INIT && op.size === 8));
    if (fixed && byteOf(lo) === 0 && spillable) {
      // Scalars spill at any width (the kernel keeps them for bpf_capable loaders), pointers at 8.
      const spill = op.size === 8 || v.s.umax < 1n << BigInt(op.size * 8) ? v : truncatedScalar(v, op.size);
      // Known zeroes among the slot's other bytes stay zero, as the kernel's
      // save_register_state keeps them (a constant array key may live there); anything else
      // becomes plain data, which is all a privileged reader can tell from it anyway, and
      // fewer distinct slots keep pruning effective.
      writableStack(frame)[slotOf(lo)] = { spill, kinds: spillKinds(frame.stack[slotOf(lo)]!.kinds, op.size) };
    } else {
      const zero = fixed && op.value !== undefined && isKnownZero(op.value) && !op.atomic;
      markBytes(writableStack(frame), lo, hi, fixed ? (zero ? 'z' : 'm') : 'm');
    }
    if (fixed && op.size === 8 && byteOf(lo) === 0) env.stackWritten(op.reg.n, slotOf(lo));
    if (op.atomic) return readStack(frame.stack, lo, hi, op.size);
    return NOT_INIT;
  }
  // A dynptr's bytes are not the program's to read.
  const dynptrByte = firstDynptrByte(st, op.reg.n, lo, hi);
  if (dynptrByte !== undefined) {
    if (!fixed) reject(op.insn, `invalid variable-offset read from stack R${op.regno}`);
    reject(op.insn, `invalid read from stack off ${lo}+${dynptrByte - lo} size ${op.size}`);
  }
  // A load at a variable offset gives an unknown scalar whatever the bytes are.
  if (!fixed) return loadedScalar(op.size);
  env.stackRead(op.reg.n, slotOf(lo), slotOf(hi - 1));
  const spill = frame.stack[slotOf(lo)]!.spill;
  // Part of a spilled pointer cannot be read back (check_stack_read_fixed_off).
  if (spill && isPointer(spill) && op.size !== 8) reject(op.insn, 'invalid size of register fill');
  return readStack(frame.stack, lo, hi, op.size);
}

function readStack(stack: Slot[], lo: number, hi: number, size: number): Reg {
  const slot = stack[slotOf(lo)]!;
  const spilled = slot.spill ? spilledBytes(slot) : 0;
  if (slot.spill && byteOf(lo) === 0 && size <= spilled) {
    const s = slot.spill;
    if (size === spilled && (size === 8 || s.type === T.SCALAR)) return s;
    // A narrower load of the low bytes of a spilled scalar that fits keeps its value.
    if (s.type === T.SCALAR && s.s.umax < 1n << BigInt(size * 8)) return s;
    return loadedScalar(size);
  }
  let allZero = true;
  for (let at = lo; at < hi; at++) {
    const sl = stack[slotOf(at)]!;
    let k = sl.kinds[byteOf(at)];
    if (k === 's') k = isKnownZero(sl.spill!) ? 'z' : 'm';
    if (k !== 'z') allZero = false;
  }
  return allZero ? constReg(0n) : loadedScalar(size);
}

// The byte kinds of a slot are one of few strings: the edits below are memoised, which
// spares a regular expression or a string built byte by byte on every stack store, and
// keeps equal kinds one string (compared by identity when states are).
const spillKindsMemo = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(() => new Map<string, string>());
/** A `size`-byte spill over `kinds`: its bytes first, the rest 'z' if they were, else 'm'. */
function spillKinds(kinds: string, size: number): string {
  const memo = spillKindsMemo[size]!;
  let k = memo.get(kinds);
  if (k === undefined) {
    k = 's'.repeat(size) + kinds.slice(size).replace(/[^z]/g, 'm');
    memo.set(kinds, k);
  }
  return k;
}

const spilledBytesMemo = new Map<string, number>();
/** The spill's width: its bytes come first in the slot. */
const spilledBytes = (slot: Slot): number => {
  let n = spilledBytesMemo.get(slot.kinds);
  if (n === undefined) {
    n = slot.kinds.search(/[^s]/);
    if (n < 0) n = 8;
    spilledBytesMemo.set(slot.kinds, n);
  }
  return n;
};

/** By (spilled, first byte, one past the last byte, kind): kinds before -> kinds after markBytes. */
const markMemo = Array.from({ length: 2 * 8 * 9 * 2 }, () => new Map<string, string>());
function markedKinds(kinds: string, spilled: boolean, from: number, to: number, kind: 'm' | 'z'): string {
  const memo = markMemo[(((spilled ? 8 : 0) + from) * 9 + to) * 2 + (kind === 'z' ? 1 : 0)]!;
  let next = memo.get(kinds);
  if (next === undefined) {
    const base = spilled ? kinds.replace(/[^i]/g, 'm') : kinds;
    next = '';
    for (let b = 0; b < 8; b++) next += b >= from && b < to ? kind : base[b];
    memo.set(kinds, next);
  }
  return next;
}

/** What the low `size` bytes of a scalar hold. */
function truncatedScalar(v: Reg, size: number): Reg {
  if (isConst(v.s)) return constReg(v.s.t.value & ((1n << BigInt(size * 8)) - 1n));
  return loadedScalar(size);
}

/**
 * Mark bytes [lo, hi) with `kind` ('m' or 'z'), breaking up spills they overlap: as the
 * kernel scrubs a spill's slot, every byte of it written before becomes plain data.
 */
export function markBytes(stack: Slot[], lo: number, hi: number, kind: 'm' | 'z'): void {
  for (let s = slotOf(lo); s <= slotOf(hi - 1); s++) {
    const slot = stack[s]!;
    const first = s * 8 - STACK_SIZE;
    const from = Math.max(lo - first, 0);
    const to = Math.min(hi - first, 8);
    const next = markedKinds(slot.kinds, slot.spill !== undefined, from, to, kind);
    stack[s] = next === INVALID_SLOT.kinds ? INVALID_SLOT : { spill: undefined, kinds: next };
  }
}

/** A helper reads (or, `write`, fills) `size` bytes at a stack pointer. */
export function stackHelperAccess(env: Env, st: State, insn: Insn, regno: number, reg: Reg, size: number, write: boolean): void {
  const frame = st.frames[reg.n]!;
  const base = reg.off;
  const lo = BigInt(base) + (isConst(reg.s) ? BigInt.asIntN(64, reg.s.t.value) : reg.s.smin);
  const hi = BigInt(base) + (isConst(reg.s) ? BigInt.asIntN(64, reg.s.t.value) : reg.s.smax) + BigInt(size);
  if (lo < -STACK_SIZE || hi > 0n || (size === 0 && lo >= 0n)) {
    reject(insn, `invalid indirect access to stack R${regno} off=${lo} size=${size}`);
  }
  env.noteStack(frame.fn, Number(-lo));
  if (size === 0) return;
  const dynptrByte = firstDynptrByte(st, reg.n, Number(lo), Number(hi));
  if (dynptrByte !== undefined) {
    if (write) reject(insn, `potential write to dynptr at off=${dynptrByte} disallowed`);
    reject(insn, `invalid read from stack R${regno} off ${lo}+${dynptrByte - Number(lo)} size ${size}`);
  }
  if (write) {
    markBytes(writableStack(frame), Number(lo), Number(hi), 'm');
    if (isConst(reg.s)) for (let at = Number(lo); at + 8 <= Number(hi); at++) if (byteOf(at) === 0) env.stackWritten(reg.n, slotOf(at));
  } else {
    env.stackRead(reg.n, slotOf(Number(lo)), slotOf(Number(hi) - 1));
  }
}

export { signExtend };
