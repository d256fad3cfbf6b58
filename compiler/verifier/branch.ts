// Conditional jumps on scalars: whether the outcome is already decided by what is known
// (the kernel then walks only that branch), and what each branch teaches about both
// operands (the kernel's is_branch_taken and reg_set_min_max).

import { JMP } from '../../core/isa.js';
import { U64, tnumAnd, tnumIntersect, u64 } from './tnum.js';
import { U32, isConst, signExtend, sync, trySync, truncate32, type Scalar } from './scalar.js';

const NEGATE: Record<number, number> = {
  [JMP.JEQ]: JMP.JNE,
  [JMP.JNE]: JMP.JEQ,
  [JMP.JGT]: JMP.JLE,
  [JMP.JLE]: JMP.JGT,
  [JMP.JGE]: JMP.JLT,
  [JMP.JLT]: JMP.JGE,
  [JMP.JSGT]: JMP.JSLE,
  [JMP.JSLE]: JMP.JSGT,
  [JMP.JSGE]: JMP.JSLT,
  [JMP.JSLT]: JMP.JSGE,
};
/** a OP b  ==  b SWAP[OP] a */
const SWAP: Record<number, number> = {
  [JMP.JGT]: JMP.JLT,
  [JMP.JLT]: JMP.JGT,
  [JMP.JGE]: JMP.JLE,
  [JMP.JLE]: JMP.JGE,
  [JMP.JSGT]: JMP.JSLT,
  [JMP.JSLT]: JMP.JSGT,
  [JMP.JSGE]: JMP.JSLE,
  [JMP.JSLE]: JMP.JSGE,
};
const UNSIGNED_OF: Record<number, number> = {
  [JMP.JSGT]: JMP.JGT,
  [JMP.JSGE]: JMP.JGE,
  [JMP.JSLT]: JMP.JLT,
  [JMP.JSLE]: JMP.JLE,
};
const isSigned = (op: number): boolean => op in UNSIGNED_OF;

/** true: always taken; false: never; undefined: either. */
function decide64(op: number, a: Scalar, b: Scalar): boolean | undefined {
  switch (op) {
    case JMP.JEQ:
      if (isConst(a) && isConst(b)) return a.t.value === b.t.value;
      if (a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin) return false;
      if (((a.t.value ^ b.t.value) & ~(a.t.mask | b.t.mask) & U64) !== 0n) return false;
      return undefined;
    case JMP.JNE: {
      const eq = decide64(JMP.JEQ, a, b);
      return eq === undefined ? undefined : !eq;
    }
    case JMP.JSET:
      if ((a.t.value & b.t.value) !== 0n) return true;
      if (((a.t.value | a.t.mask) & (b.t.value | b.t.mask)) === 0n) return false;
      return undefined;
    case JMP.JGT:
      return a.umin > b.umax ? true : a.umax <= b.umin ? false : undefined;
    case JMP.JGE:
      return a.umin >= b.umax ? true : a.umax < b.umin ? false : undefined;
    case JMP.JLT:
      return a.umax < b.umin ? true : a.umin >= b.umax ? false : undefined;
    case JMP.JLE:
      return a.umax <= b.umin ? true : a.umin > b.umax ? false : undefined;
    case JMP.JSGT:
      return a.smin > b.smax ? true : a.smax <= b.smin ? false : undefined;
    case JMP.JSGE:
      return a.smin >= b.smax ? true : a.smax < b.smin ? false : undefined;
    case JMP.JSLT:
      return a.smax < b.smin ? true : a.smin >= b.smax ? false : undefined;
    case JMP.JSLE:
      return a.smax <= b.smin ? true : a.smin > b.smax ? false : undefined;
  }
  return undefined;
}

const fits32 = (s: Scalar): boolean => s.umax <= U32;
const fitsPositive31 = (s: Scalar): boolean => s.umax < 1n << 31n;

export function decideBranch(op: number, a: Scalar, b: Scalar, is32: boolean): boolean | undefined {
  if (!is32) return decide64(op, a, b);
  if (fits32(a) && fits32(b)) {
    if (!isSigned(op)) return decide64(op, a, b);
    if (fitsPositive31(a) && fitsPositive31(b)) return decide64(UNSIGNED_OF[op]!, a, b);
  }
  const a32 = truncate32(a);
  const b32 = truncate32(b);
  if (isSigned(op)) return decide64(op, signExtend(a32, 32), signExtend(b32, 32));
  return decide64(op, a32, b32);
}

/** Both operands refined by `a OP b` holding (64-bit); undefined when it cannot hold. */
// Module functions and literal scalars in the one field order, not closures and spreads
// built on every comparison the walk refines.
const both = (x: Scalar | undefined, y: Scalar | undefined): [Scalar, Scalar] | undefined => (x && y ? [x, y] : undefined);
const max = (x: bigint, y: bigint): bigint => (x > y ? x : y);
const min = (x: bigint, y: bigint): bigint => (x < y ? x : y);
const withU = (x: Scalar, umin: bigint, umax: bigint): Scalar | undefined => trySync({ umin, umax, smin: x.smin, smax: x.smax, t: x.t });
const withS = (x: Scalar, smin: bigint, smax: bigint): Scalar | undefined => trySync({ umin: x.umin, umax: x.umax, smin, smax, t: x.t });

/** x without the value of c when c is a constant (the JNE side). */
function trim(x: Scalar, c: Scalar): Scalar | undefined {
  if (!isConst(c)) return x;
  const v = c.t.value;
  const sv = BigInt.asIntN(64, v);
  let { umin, umax, smin, smax } = x;
  if (umin === v) umin++;
  if (umax === v) umax--;
  if (smin === sv) smin++;
  if (smax === sv) smax--;
  return trySync({ umin, umax, smin, smax, t: x.t });
}

function refine64(op: number, a: Scalar, b: Scalar): [Scalar, Scalar] | undefined {
  switch (op) {
    case JMP.JEQ: {
      const s = trySync({
        umin: max(a.umin, b.umin),
        umax: min(a.umax, b.umax),
        smin: max(a.smin, b.smin),
        smax: min(a.smax, b.smax),
        t: tnumIntersect(a.t, b.t),
      });
      return both(s, s);
    }
    case JMP.JNE: {
      if (isConst(a) && isConst(b) && a.t.value === b.t.value) return undefined;
      return both(trim(a, b), trim(b, a));
    }
    case JMP.JSET:
      return [a, b];
    case JMP.JGT:
      if (a.umax === 0n || b.umin === U64) return undefined;
      return both(withU(a, max(a.umin, b.umin + 1n), a.umax), withU(b, b.umin, min(b.umax, a.umax - 1n)));
    case JMP.JGE:
      return both(withU(a, max(a.umin, b.umin), a.umax), withU(b, b.umin, min(b.umax, a.umax)));
    case JMP.JSGT:
      if (a.smax === -(1n << 63n) || b.smin === (1n << 63n) - 1n) return undefined;
      return both(withS(a, max(a.smin, b.smin + 1n), a.smax), withS(b, b.smin, min(b.smax, a.smax - 1n)));
    case JMP.JSGE:
      return both(withS(a, max(a.smin, b.smin), a.smax), withS(b, b.smin, min(b.smax, a.smax)));
    case JMP.JLT:
    case JMP.JLE:
    case JMP.JSLT:
    case JMP.JSLE: {
      const r = refine64(SWAP[op]!, b, a);
      return r && [r[1], r[0]];
    }
  }
  return [a, b];
}

/** JSET not taken: the bits of a known `b` are clear in `a`. */
function jsetClear(a: Scalar, b: Scalar): [Scalar, Scalar] | undefined {
  if (!isConst(b)) return [a, b];
  if ((a.t.value & b.t.value) !== 0n) return undefined;
  const s = trySync({ umin: a.umin, umax: a.umax, smin: a.smin, smax: a.smax, t: tnumAnd(a.t, { value: u64(~b.t.value), mask: 0n }) });
  return s ? [s, b] : undefined;
}

/**
 * The operands as refined on the branch where `a OP b` is `taken`; undefined when that
 * branch is impossible. Operands already refined stay exact; 32-bit comparisons refine only
 * when both operands fit in 32 bits (where 32- and 64-bit comparisons agree).
 */
export function refineBranch(op: number, a: Scalar, b: Scalar, is32: boolean, taken: boolean): [Scalar, Scalar] | undefined {
  let effective = op;
  if (is32) {
    if (!(fits32(a) && fits32(b))) return [a, b];
    if (isSigned(op)) {
      if (!(fitsPositive31(a) && fitsPositive31(b))) return [a, b];
      effective = UNSIGNED_OF[op]!;
    }
  }
  if (effective === JMP.JSET) return taken ? [a, b] : jsetClear(a, b);
  const r = refine64(taken ? effective : NEGATE[effective]!, a, b);
  return r && [sync(r[0]), sync(r[1])];
}
