// What a register holds, in the kernel's terms (struct bpf_reg_state): a type, a fixed
// offset, a variable offset (for scalars: the value) and what the type needs besides —
// the map for map pointers, the packet range proved by comparisons, the id shared by
// copies (null checks and packet ranges refine every copy at once), the frame a stack
// pointer points into, the size of helper memory. Registers are immutable values.

import type { MapSpec } from '../../core/model.js';
import { UNKNOWN, ZERO, constScalar, isConst, scalarText, type Scalar } from './scalar.js';

export const T = {
  NOT_INIT: 0,
  SCALAR: 1,
  CTX: 2,
  PKT: 3,
  PKT_END: 4,
  PKT_META: 5,
  MAP_VALUE: 6,
  MAP_VALUE_OR_NULL: 7,
  STACK: 8,
  CONST_MAP_PTR: 9,
  MAP_PTR_OR_NULL: 10,
  MEM: 11,
  MEM_OR_NULL: 12,
  FUNC: 13,
  /** Only in stack slots: one of the two slots of an initialised dynptr (dynptr.ts). */
  DYNPTR: 14,
  /** A dynptr slice (dynptr.ts): `n` its size, `range` the id of its dynptr (bpf_dynptr_data's; 0 for the kfuncs'). */
  SLICE: 15,
  SLICE_OR_NULL: 16,
  RDONLY_SLICE: 17,
  RDONLY_SLICE_OR_NULL: 18,
} as const;
export type T = (typeof T)[keyof typeof T];

/** The kernel's names (reg_type_str), which its messages use. */
export const TYPE_NAME: Record<T, string> = {
  [T.NOT_INIT]: '?',
  [T.SCALAR]: 'scalar',
  [T.CTX]: 'ctx',
  [T.PKT]: 'pkt',
  [T.PKT_END]: 'pkt_end',
  [T.PKT_META]: 'pkt_meta',
  [T.MAP_VALUE]: 'map_value',
  [T.MAP_VALUE_OR_NULL]: 'map_value_or_null',
  [T.STACK]: 'fp',
  [T.CONST_MAP_PTR]: 'map_ptr',
  [T.MAP_PTR_OR_NULL]: 'map_ptr_or_null',
  [T.MEM]: 'ringbuf_mem',
  [T.MEM_OR_NULL]: 'ringbuf_mem_or_null',
  [T.FUNC]: 'func',
  [T.DYNPTR]: 'dynptr_ptr',
  [T.SLICE]: 'mem',
  [T.SLICE_OR_NULL]: 'mem_or_null',
  [T.RDONLY_SLICE]: 'rdonly_mem',
  [T.RDONLY_SLICE_OR_NULL]: 'rdonly_mem_or_null',
};

export interface Reg {
  readonly type: T;
  /** Fixed byte offset of a pointer. */
  readonly off: number;
  /** Scalar: the value; pointer: the variable part of its offset. */
  readonly s: Scalar;
  /** Copies share an id: or-null pointers, packet pointers with a variable offset, linked scalars. */
  readonly id: number;
  /** PKT / PKT_META: bytes known to be inside the packet from the pointer on; slices: their dynptr's id. */
  readonly range: number;
  readonly map?: MapSpec;
  /**
   * STACK: the call frame (0 = the entry function); MEM and slices: the size; FUNC: the
   * callee's function index; DYNPTR: 1 in the dynptr's lower slot, 2 in its upper one.
   */
  readonly n: number;
}

// Every register object is built with the same fields in the same order (and none frozen):
// one hidden class keeps the walk's property reads monomorphic, which matters for speed.
export const NOT_INIT: Reg = { type: T.NOT_INIT, off: 0, s: UNKNOWN, id: 0, range: 0, map: undefined, n: 0 };
export const UNKNOWN_SCALAR: Reg = { type: T.SCALAR, off: 0, s: UNKNOWN, id: 0, range: 0, map: undefined, n: 0 };
export const scalarReg = (s: Scalar): Reg =>
  s === UNKNOWN
    ? UNKNOWN_SCALAR
    : s.t.mask === 0n
      ? constReg(s.t.value)
      : { type: T.SCALAR, off: 0, s, id: 0, range: 0, map: undefined, n: 0 };
/** `r` with some fields changed, built in the one field order (an object spread may not be). */
export const regWith = (r: Reg, c: Partial<Reg>): Reg => ({
  type: c.type ?? r.type,
  off: c.off ?? r.off,
  s: c.s ?? r.s,
  id: c.id ?? r.id,
  range: c.range ?? r.range,
  map: 'map' in c ? c.map : r.map,
  n: c.n ?? r.n,
});

// Constants recur (immediates, zero, offsets): one shared register per value saves the
// allocations and lets state comparisons match them by identity.
const constRegs = new Map<bigint, Reg>();
export const constReg = (v: bigint): Reg => {
  let r = constRegs.get(v);
  if (r === undefined) {
    r = { type: T.SCALAR, off: 0, s: constScalar(v), id: 0, range: 0, map: undefined, n: 0 };
    if (constRegs.size < 4096) constRegs.set(v, r);
  }
  return r;
};
// Immediates as numbers: most instructions' constants are small integers, and a Map keyed
// by numbers is cheaper than BigInt() and a lookup keyed by bigints on every ALU or jump.
const intRegs = new Map<number, Reg>();
/** constReg of an integer immediate (int32 or uint32); the same shared register. */
export const constRegInt = (v: number): Reg => {
  let r = intRegs.get(v);
  if (r === undefined) {
    r = constReg(BigInt(v));
    if (intRegs.size < 4096) intRegs.set(v, r);
  }
  return r;
};
export const ZERO_REG: Reg = constReg(0n);
// Written out field by field: an object spread here showed in profiles of katran's walk.
export const pointer = (type: T, extra?: Partial<Reg>): Reg =>
  extra === undefined
    ? { type, off: 0, s: ZERO, id: 0, range: 0, map: undefined, n: 0 }
    : {
        type,
        off: extra.off ?? 0,
        s: extra.s ?? ZERO,
        id: extra.id ?? 0,
        range: extra.range ?? 0,
        map: extra.map,
        n: extra.n ?? 0,
      };

export const isPointer = (r: Reg): boolean => r.type !== T.SCALAR && r.type !== T.NOT_INIT;
export const isPacket = (r: Reg): boolean => r.type === T.PKT || r.type === T.PKT_META;
export const isOrNull = (r: Reg): boolean =>
  r.type === T.MAP_VALUE_OR_NULL ||
  r.type === T.MAP_PTR_OR_NULL ||
  r.type === T.MEM_OR_NULL ||
  r.type === T.SLICE_OR_NULL ||
  r.type === T.RDONLY_SLICE_OR_NULL;
const NON_NULL: Partial<Record<T, T>> = {
  [T.MAP_VALUE_OR_NULL]: T.MAP_VALUE,
  [T.MAP_PTR_OR_NULL]: T.CONST_MAP_PTR,
  [T.MEM_OR_NULL]: T.MEM,
  [T.SLICE_OR_NULL]: T.SLICE,
  [T.RDONLY_SLICE_OR_NULL]: T.RDONLY_SLICE,
};
export const nonNullType = (t: T): T => NON_NULL[t] ?? t;
/** A dynptr slice, checked for NULL or not. */
export const isSlice = (r: Reg): boolean => r.type >= T.SLICE && r.type <= T.RDONLY_SLICE_OR_NULL;
export const isKnownZero = (r: Reg): boolean => r.type === T.SCALAR && isConst(r.s) && r.s.t.value === 0n;

/** Text like the kernel's state dump, for messages: `pkt(id=0,off=14,r=14)`. */
export function regText(r: Reg): string {
  switch (r.type) {
    case T.SCALAR:
      return scalarText(r.s);
    case T.PKT:
    case T.PKT_META:
      return `${TYPE_NAME[r.type]}(id=${r.id},off=${r.off},r=${r.range})`;
    case T.STACK:
      return `fp${r.off}`;
    default:
      return `${TYPE_NAME[r.type]}(off=${r.off}${isConst(r.s) ? '' : `,var=${scalarText(r.s)}`})`;
  }
}
