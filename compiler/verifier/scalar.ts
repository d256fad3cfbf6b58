// What the verifier knows about a 64-bit number: unsigned and signed bounds plus a tnum,
// kept consistent with each other as the kernel's reg_bounds_sync does. Used for scalar
// registers and for the variable part of pointer offsets. 32-bit operations are modelled
// by zero-extending their operands and truncating the result (coarser than the kernel's
// separate 32-bit bounds, never wrong).

import {
  TNUM_UNKNOWN,
  U64,
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumCast,
  tnumConst,
  tnumIn,
  tnumIntersect,
  tnumLshift,
  tnumMul,
  tnumOr,
  tnumRange,
  tnumRshift,
  tnumSub,
  tnumXor,
  u64,
  type Tnum,
} from './tnum.js';
import { ALU } from '../../core/isa.js';

export interface Scalar {
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly t: Tnum;
}

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const U32 = 0xffffffffn;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);

// Not frozen: a frozen object has a hidden class of its own (see reg.ts).
export const UNKNOWN: Scalar = { umin: 0n, umax: U64, smin: S64_MIN, smax: S64_MAX, t: TNUM_UNKNOWN };
export const constScalar = (v: bigint): Scalar => {
  const u = u64(v);
  return { umin: u, umax: u, smin: s64(u), smax: s64(u), t: tnumConst(u) };
};
export const ZERO = constScalar(0n);
export const isConst = (s: Scalar): boolean => s.t.mask === 0n;
export const constValue = (s: Scalar): bigint => s.t.value;
/** Unsigned range [0, max]. */
export const uRange = (min: bigint, max: bigint): Scalar => syncOf(min, max, S64_MIN, S64_MAX, TNUM_UNKNOWN);

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Tighten bounds and tnum against each other; undefined when they contradict (no value). */
export function trySync(s: Scalar): Scalar | undefined {
  let { umin, umax, smin, smax, t } = s;
  if (t === TNUM_UNKNOWN && umin === 0n && umax === U64 && smin === S64_MIN && smax === S64_MAX) return UNKNOWN;
  if (t.mask === 0n) {
    // A known value: the bounds either allow it or contradict it (the common case, cheaply).
    const v = t.value;
    if (v > U64 || v < umin || v > umax) return undefined;
    const sv = s64(v);
    if (sv < smin || sv > smax) return undefined;
    // A new object even when s is already exact: s may be a spread (another hidden class).
    return { umin: v, umax: v, smin: sv, smax: sv, t };
  }
  // tnum -> bounds
  umin = max(umin, t.value);
  umax = min(umax, t.value | t.mask);
  const tsMin = s64(t.value | (t.mask & (1n << 63n)));
  const tsMax = s64((t.value | t.mask) & ~(1n << 63n) & U64) | (t.value & (1n << 63n) ? S64_MIN : 0n);
  smin = max(smin, tsMin);
  smax = min(smax, tsMax);
  // signed <-> unsigned when the signed range does not cross the sign boundary
  if (smin >= 0n || smax < 0n) {
    umin = max(umin, u64(smin));
    umax = min(umax, u64(smax));
  }
  if (s64(umin) <= s64(umax)) {
    // the unsigned range does not cross the sign boundary
    smin = max(smin, s64(umin));
    smax = min(smax, s64(umax));
  }
  if (umin > umax || smin > smax) return undefined;
  t = tnumIntersect(t, tnumRange(umin, umax));
  if ((t.value & ~U64) !== 0n || (t.value | t.mask) < umin || t.value > umax) return undefined;
  if (smin >= 0n || smax < 0n) {
    umin = max(umin, u64(smin));
    umax = min(umax, u64(smax));
    if (umin > umax) return undefined;
  }
  return { umin, umax, smin, smax, t };
}

export const sync = (s: Scalar): Scalar => trySync(s) ?? UNKNOWN;
/**
 * sync of the scalar with these fields, built as a literal in the one field order: an
 * object spread of UNKNOWN would give trySync arguments of other hidden classes.
 */
function syncOf(umin: bigint, umax: bigint, smin: bigint, smax: bigint, t: Tnum): Scalar {
  return sync({ umin, umax, smin, smax, t });
}

const fromTnum = (t: Tnum): Scalar => syncOf(0n, U64, S64_MIN, S64_MAX, t);

function add(a: Scalar, b: Scalar): Scalar {
  const t = tnumAdd(a.t, b.t);
  const uOk = a.umax + b.umax <= U64;
  const sLo = a.smin + b.smin;
  const sHi = a.smax + b.smax;
  const sOk = sLo >= S64_MIN && sHi <= S64_MAX;
  return sync({
    umin: uOk ? a.umin + b.umin : 0n,
    umax: uOk ? a.umax + b.umax : U64,
    smin: sOk ? sLo : S64_MIN,
    smax: sOk ? sHi : S64_MAX,
    t,
  });
}

function sub(a: Scalar, b: Scalar): Scalar {
  const t = tnumSub(a.t, b.t);
  const uOk = a.umin >= b.umax;
  const sLo = a.smin - b.smax;
  const sHi = a.smax - b.smin;
  const sOk = sLo >= S64_MIN && sHi <= S64_MAX;
  return sync({
    umin: uOk ? a.umin - b.umax : 0n,
    umax: uOk ? a.umax - b.umin : U64,
    smin: sOk ? sLo : S64_MIN,
    smax: sOk ? sHi : S64_MAX,
    t,
  });
}

function mul(a: Scalar, b: Scalar): Scalar {
  const t = tnumMul(a.t, b.t);
  if (a.umax * b.umax <= U64) return syncOf(a.umin * b.umin, a.umax * b.umax, S64_MIN, S64_MAX, t);
  return fromTnum(t);
}

function and(a: Scalar, b: Scalar): Scalar {
  const t = tnumAnd(a.t, b.t);
  return syncOf(t.value, min(a.umax, b.umax), S64_MIN, S64_MAX, t);
}

function or(a: Scalar, b: Scalar): Scalar {
  const t = tnumOr(a.t, b.t);
  return syncOf(max(a.umin, b.umin), t.value | t.mask, S64_MIN, S64_MAX, t);
}

function shiftAmount(b: Scalar, width: 32n | 64n): bigint | undefined {
  return isConst(b) && b.t.value < width ? b.t.value : undefined;
}

/** Exact result of an operation on two known 64-bit values (32-bit ones arrive zero-extended). */
function fold(op: number, x: bigint, y: bigint, is64: boolean): bigint | undefined {
  const w = is64 ? 64 : 32;
  const sx = BigInt.asIntN(w, x);
  switch (op) {
    case ALU.ADD:
      return BigInt.asUintN(w, x + y);
    case ALU.SUB:
      return BigInt.asUintN(w, x - y);
    case ALU.MUL:
      return BigInt.asUintN(w, x * y);
    case ALU.AND:
      return x & y;
    case ALU.OR:
      return x | y;
    case ALU.XOR:
      return x ^ y;
    case ALU.MOV:
      return y;
    case ALU.ARSH:
      return BigInt.asUintN(w, sx >> (y & BigInt(w - 1)));
    case ALU.LSH:
      return BigInt.asUintN(w, x << (y & BigInt(w - 1)));
    case ALU.RSH:
      return x >> (y & BigInt(w - 1));
  }
  return undefined;
}

export const truncate32 = (s: Scalar): Scalar =>
  s.umax <= U32 ? s : isConst(s) ? constScalar(s.t.value & U32) : syncOf(0n, U32, S64_MIN, S64_MAX, tnumCast(s.t, 4));

/** Sign-extend the low `bits` bits. */
export function signExtend(s: Scalar, bits: 8 | 16 | 32): Scalar {
  if (isConst(s)) return constScalar(u64(BigInt.asIntN(bits, s.t.value)));
  const half = 1n << BigInt(bits - 1);
  if (s.umax < half) return s;
  return syncOf(0n, U64, -half, half - 1n, TNUM_UNKNOWN);
}

/** dst = dst `op` src on scalars (64-bit, or 32-bit with zero-extension). */
export function aluScalar(op: number, dst: Scalar, src: Scalar, is64: boolean): Scalar {
  const a = is64 ? dst : truncate32(dst);
  const b = is64 ? src : truncate32(src);
  const width = is64 ? 64n : 32n;
  let r: Scalar;
  if (isConst(a) && isConst(b) && op !== ALU.DIV && op !== ALU.MOD) {
    const folded = fold(op, a.t.value, b.t.value, is64);
    if (folded !== undefined) return constScalar(folded);
  }
  switch (op) {
    case ALU.ADD:
      r = add(a, b);
      break;
    case ALU.SUB:
      r = sub(a, b);
      break;
    case ALU.MUL:
      r = mul(a, b);
      break;
    case ALU.AND:
      r = and(a, b);
      break;
    case ALU.OR:
      r = or(a, b);
      break;
    case ALU.XOR:
      r = isConst(a) && isConst(b) ? constScalar(a.t.value ^ b.t.value) : fromTnum(tnumXor(a.t, b.t));
      break;
    case ALU.MOV:
      r = b;
      break;
    case ALU.LSH: {
      const k = shiftAmount(b, width);
      if (k === undefined) {
        r = UNKNOWN;
        break;
      }
      r = a.umax << k <= U64 ? syncOf(a.umin << k, a.umax << k, S64_MIN, S64_MAX, tnumLshift(a.t, k)) : fromTnum(tnumLshift(a.t, k));
      break;
    }
    case ALU.RSH: {
      const k = shiftAmount(b, width);
      if (k === undefined) {
        r = uRange(0n, is64 ? U64 : U32);
        break;
      }
      r = syncOf(a.umin >> k, a.umax >> k, S64_MIN, S64_MAX, tnumRshift(a.t, k));
      break;
    }
    case ALU.ARSH: {
      const k = shiftAmount(b, width);
      if (k === undefined || !is64) {
        r = k === undefined ? UNKNOWN : fromTnum(tnumArshift(a.t, k, 32));
        break;
      }
      r = syncOf(0n, U64, a.smin >> k, a.smax >> k, tnumArshift(a.t, k, 64));
      break;
    }
    case ALU.DIV:
    case ALU.MOD:
      // The kernel's verifier (6.18 here) does not follow a division or a modulo, not even of
      // two constants: the result is unknown (then zero-extended for ALU32). Knowing more
      // would accept programs the kernel refuses (test/fixtures/hostile/div_result_unknown.c).
      r = UNKNOWN;
      break;
    default:
      r = UNKNOWN;
  }
  return is64 ? r : truncate32(r);
}

export const negScalar = (s: Scalar, is64: boolean): Scalar => aluScalar(ALU.SUB, ZERO, is64 ? s : truncate32(s), is64);

/** Range containment: every value `b` may hold, `a` may hold. */
export const scalarIn = (a: Scalar, b: Scalar): boolean =>
  a === b || a === UNKNOWN || (a.umin <= b.umin && a.umax >= b.umax && a.smin <= b.smin && a.smax >= b.smax && tnumIn(a.t, b.t));

export const scalarEqual = (a: Scalar, b: Scalar): boolean =>
  a === b ||
  (a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax && a.t.value === b.t.value && a.t.mask === b.t.mask);

export function scalarText(s: Scalar): string {
  if (isConst(s)) return `${s64(s.t.value)}`;
  const parts: string[] = [];
  if (s.umin !== 0n) parts.push(`umin=${s.umin}`);
  if (s.umax !== U64) parts.push(`umax=${s.umax}`);
  if (s.smin !== S64_MIN && s.smin !== s64(s.umin)) parts.push(`smin=${s.smin}`);
  if (s.smax !== S64_MAX && s.smax !== s64(s.umax)) parts.push(`smax=${s.smax}`);
  return parts.length === 0 ? 'scalar()' : `scalar(${parts.join(',')})`;
}

export { S64_MIN, S64_MAX, U32 };
