// MurmurHash3_x64_128 specialised the way katran uses it for Maglev permutations: the two
// u64 inputs form exactly one 16-byte block (no tail), and the result is h1 + h2 (mod 2^64).

import { MASK64, add64, mul64, rotl64 } from '../u64.js';

const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = mul64(k, 0xff51afd7ed558ccdn);
  k ^= k >> 33n;
  k = mul64(k, 0xc4ceb9fe1a85ec53n);
  k ^= k >> 33n;
  return k;
}

export function murmur3Pair64(a: bigint, b: bigint, seed: number): bigint {
  let h1 = BigInt(seed >>> 0);
  let h2 = h1;
  const k1 = mul64(rotl64(mul64(a & MASK64, C1), 31), C2);
  h1 ^= k1;
  h1 = add64(rotl64(h1, 27), h2);
  h1 = add64(mul64(h1, 5n), 0x52dce729n);
  const k2 = mul64(rotl64(mul64(b & MASK64, C2), 33), C1);
  h2 ^= k2;
  h2 = add64(rotl64(h2, 31), h1);
  h2 = add64(mul64(h2, 5n), 0x38495ab5n);
  // Finalisation: the length (16) is xored into both halves, then they are cross-added.
  h1 ^= 16n;
  h2 ^= 16n;
  h1 = add64(h1, h2);
  h2 = add64(h2, h1);
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  return add64(h1, h2);
}
