// folly::IPAddress::hash() as built on x86-64 Linux (size_t = u64, std::hash of an
// integer = identity). KatranLb feeds this value to Maglev as the real's endpoint hash,
// so every ring position depends on reproducing it bit for bit.

import { type IpAddress, isV4Mapped, unmapV4 } from '../ip.js';
import { spookyHash128Short } from './spooky-hash.js';
import { mul64 } from '../u64.js';

const AF_INET = 2n;
const AF_INET6 = 10n;
const FNV32_START = 2166136261;
const HASH128_K = 0x9ddfea08eb382d69n;

/** folly hash_128_to_64(upper, lower): the pair combiner behind hash_combine. */
export function hash128to64(upper: bigint, lower: bigint): bigint {
  let a = mul64(lower ^ upper, HASH128_K);
  a ^= a >> 47n;
  let b = mul64(upper ^ a, HASH128_K);
  b ^= b >> 47n;
  return mul64(b, HASH128_K);
}

/**
 * folly's 32-bit FNV-1 over the address bytes. The buffer is read as `signed char`, so a
 * byte >= 0x80 is xored in sign-extended (0xFFFFFFxx): that matters for e.g. 192.168.x.x.
 */
export function fnv32Signed(bytes: Uint8Array): number {
  let h = FNV32_START;
  for (const byte of bytes) {
    // h * 16777619 (the FNV prime) spelled as folly spells it, in u32.
    h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) >>> 0;
    const signExtended = byte >= 0x80 ? (byte | 0xffffff00) >>> 0 : byte;
    h = (h ^ signExtended) >>> 0;
  }
  return h;
}

export function follyHashV4(bytes: Uint8Array): bigint {
  return hash128to64(AF_INET, BigInt(fnv32Signed(bytes)));
}

export function follyHashV6(bytes: Uint8Array): bigint {
  const [h1, h2] = spookyHash128Short(bytes);
  // hash_combine(AF_INET6, h1, h2) folds right to left: H(10, H(h1, h2)).
  return hash128to64(AF_INET6, hash128to64(h1, h2));
}

/** folly::IPAddress::hash(); a v4-mapped IPv6 address hashes like its IPv4 address. */
export function follyIpHash(addr: IpAddress): bigint {
  if (addr.family === 4 || isV4Mapped(addr)) return follyHashV4(unmapV4(addr).bytes);
  return follyHashV6(addr.bytes);
}
