// Tristate numbers, as the kernel's verifier keeps them (kernel/bpf/tnum.c): `value` holds
// the bits known to be 1, `mask` the bits that are unknown; a bit set in both never occurs.
// All arithmetic is on 64-bit unsigned BigInts.

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64 = (1n << 64n) - 1n;
export const u64 = (x: bigint): bigint => x & U64;

export const tnumConst = (v: bigint): Tnum => ({ value: u64(v), mask: 0n });
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64 };

/** The tnum of every value in [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = BigInt(bitLength(chi));
  if (bits > 63n) return TNUM_UNKNOWN;
  const delta = (1n << bits) - 1n;
  return { value: min & ~delta & U64, mask: delta };
}

/** Bits needed to write x (0 for 0), x < 2^64; without formatting it as a string. */
function bitLength(x: bigint): number {
  if (x <= 0xffffffffn) return 32 - Math.clz32(Number(x));
  const hi = Number(x >> 32n);
  return 64 - Math.clz32(hi);
}

export const tnumIsConst = (t: Tnum): boolean => t.mask === 0n;

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64, mask: mu };
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64 };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

export const tnumLshift = (a: Tnum, k: bigint): Tnum => ({ value: u64(a.value << k), mask: u64(a.mask << k) });
export const tnumRshift = (a: Tnum, k: bigint): Tnum => ({ value: a.value >> k, mask: a.mask >> k });

export function tnumArshift(a: Tnum, k: bigint, bits: 32 | 64): Tnum {
  const w = BigInt(bits);
  const sv = BigInt.asIntN(bits, a.value) >> k;
  const sm = BigInt.asIntN(bits, a.mask) >> k;
  return { value: BigInt.asUintN(bits, sv) & (w === 64n ? U64 : 0xffffffffn), mask: BigInt.asUintN(bits, sm) };
}

/** Multiplication as the kernel does it: shift-and-add over the bits of `a`. */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let av = a.value;
  let am = a.mask;
  let bt = b;
  const accV = tnumConst(u64(a.value * b.value));
  let accM: Tnum = tnumConst(0n);
  while (av !== 0n || am !== 0n) {
    if (av & 1n) accM = tnumAdd(accM, { value: 0n, mask: bt.mask });
    else if (am & 1n) accM = tnumAdd(accM, { value: 0n, mask: bt.value | bt.mask });
    av >>= 1n;
    am >>= 1n;
    bt = tnumLshift(bt, 1n);
  }
  return tnumAdd(accV, accM);
}

/** Keep the low `bytes` bytes (zero-extension). */
export function tnumCast(a: Tnum, bytes: number): Tnum {
  const m = (1n << BigInt(bytes * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** Every value `b` can hold, `a` can hold too. */
export const tnumIn = (a: Tnum, b: Tnum): boolean => (b.mask & ~a.mask) === 0n && (b.value & ~a.mask) === a.value;

export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64, mask: mu };
}
