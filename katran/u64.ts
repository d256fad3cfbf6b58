// 64-bit unsigned arithmetic on BigInt for the configuration-time hashes (folly, Spooky,
// Murmur). These run once per real, so clarity wins over speed.

export const MASK64 = (1n << 64n) - 1n;

export const u64 = (x: bigint): bigint => x & MASK64;
export const add64 = (a: bigint, b: bigint): bigint => (a + b) & MASK64;
export const mul64 = (a: bigint, b: bigint): bigint => (a * b) & MASK64;
export const rotl64 = (x: bigint, r: number): bigint => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & MASK64;

/** Little-endian u64 at `offset`. */
export function readU64LE(bytes: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}
