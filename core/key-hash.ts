// The hash of map keys, part of the contract: the runtime's hash maps (runtime/maps/base.ts,
// on linear memory) and the compiled module's own lookups (compiler/codegen-maps.ts and the
// inlined copies of compiler/codegen-map-lookup.ts, in wasm) must place a key in the same
// bucket, so both compute this function. The key is read as little-endian 64-bit words in
// two lanes (word w goes to lane w % 2; the last 1–7 bytes, zero-padded to a word, count
// as one more word), each word mixed in by one xor and one 64-bit multiply; the lanes are
// xored together (lane 1 rotated by 32 bits), then the high half is folded onto the low,
// a multiply, a fold by 29 bits, a multiply, and the hash is the product's high 32 bits.
// The key's length is in the lanes' seeds. Why: a lookup of katran's keys (20 and 40
// bytes) waits on the hash, and here each word costs one xor and one multiply on its
// lane's chain (murmur3's 32-bit step in four lanes, used before, took about twice as
// long). The multiplies carry a word's high bits only upwards, so the finaliser's two
// folds and multiplies are needed: with only one, sequential IPv6 addresses (which vary
// in a word's top bytes) gave chains nearly twice as long. `keyHash` below is the
// definition; the fast versions are tested against it on KEY_HASH_VECTORS.

export const KEY_HASH = {
  /** Lane seeds (xored with the key's length), as [high, low] 32-bit halves. */
  SEED0: [0x243f6a88, 0x85a308d3],
  SEED1: [0x13198a2e, 0x03707344],
  /** The per-word multiplier (odd). */
  MUL: [0x9e3779b9, 0x7f4a7c15],
  /** The final multipliers (odd; murmur3's 64-bit finaliser's). */
  FINAL_MUL: [0xff51afd7, 0xed558ccd],
  FINAL_MUL2: [0xc4ceb9fe, 0x1a85ec53],
  /** The shift between the final multiplies. */
  FINAL_SHIFT: 29,
} as const;

const MASK64 = (1n << 64n) - 1n;
const big = ([hi, lo]: readonly [number, number]): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** The key hash of `key` (all its bytes), as an unsigned 32-bit number. */
export function keyHash(key: Uint8Array): number {
  const len = key.length;
  const word = (at: number): bigint => {
    let w = 0n;
    for (let b = 0; b < 8 && at + b < len; b++) w |= BigInt(key[at + b]!) << BigInt(8 * b);
    return w;
  };
  const lanes = [big(KEY_HASH.SEED0) ^ BigInt(len), big(KEY_HASH.SEED1) ^ BigInt(len)];
  for (let w = 0; 8 * w < len; w++) lanes[w % 2] = ((lanes[w % 2]! ^ word(8 * w)) * big(KEY_HASH.MUL)) & MASK64;
  let h = lanes[0]! ^ (((lanes[1]! << 32n) | (lanes[1]! >> 32n)) & MASK64);
  h ^= h >> 32n;
  h = (h * big(KEY_HASH.FINAL_MUL)) & MASK64;
  h ^= h >> BigInt(KEY_HASH.FINAL_SHIFT);
  h = (h * big(KEY_HASH.FINAL_MUL2)) & MASK64;
  return Number(h >> 32n);
}

/** The high 32 bits of the unsigned product of two 32-bit numbers (for 64-bit products from 32-bit halves). */
export function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/**
 * Keys and their hashes, pinned: both fast versions must give these, and a change to the
 * function that moves keys between buckets shows up here first. Lengths cover no word,
 * whole words, words plus 1–7 tail bytes, both lanes, and more than one word per lane.
 * The hashes were computed by a separate Python transcription of the description above.
 */
export const KEY_HASH_VECTORS: readonly { key: readonly number[]; hash: number }[] = [
  { key: [], hash: 0x2868c480 },
  { key: [1], hash: 0x76b92de2 },
  { key: [1, 2, 3], hash: 0xc8ac989c },
  { key: [1, 2, 3, 4], hash: 0x25f96ef3 },
  { key: [222, 173, 190, 239, 1], hash: 0x2c9b0271 },
  { key: [0, 1, 2, 3, 4, 5, 6, 7], hash: 0x9d6387bf },
  { key: [0, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187, 204], hash: 0x42e04c55 },
  { key: [255, 254, 253, 252, 251, 250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240, 239, 238, 237, 236], hash: 0x6eff5f7e },
  {
    key: [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
      36, 37, 38, 39,
    ],
    hash: 0x160978c8,
  },
  { key: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], hash: 0xa4d4e55c },
  { key: [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116], hash: 0x7e6801f5 },
  { key: [9, 9, 9, 9, 9, 9, 9], hash: 0x020ecada },
  { key: new Array<number>(33).fill(0xab), hash: 0xe997529c },
];
