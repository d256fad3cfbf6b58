// The hash of map keys, part of the contract: the runtime's hash maps (runtime/maps/base.ts,
// on linear memory) and the compiled module's own lookups (compiler/codegen-maps.ts, in
// wasm) must place a key in the same bucket, so both compute this function. It is
// murmur3's 32-bit mixing over the key's little-endian words, FNV-style steps for the
// tail bytes, and murmur3's finaliser. `keyHash` below is the definition; the two fast
// versions are tested against it on KEY_HASH_VECTORS.

export const KEY_HASH = {
  SEED: 0x9747b28c,
  C1: 0xcc9e2d51,
  C2: 0x1b873593,
  ROTATE_K: 15,
  ROTATE_H: 13,
  H_MUL: 5,
  H_ADD: 0xe6546b64,
  TAIL_MUL: 0x01000193,
  FINAL_MUL1: 0x85ebca6b,
  FINAL_MUL2: 0xc2b2ae35,
} as const;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** The key hash of `key` (all its bytes), as an unsigned 32-bit number. */
export function keyHash(key: Uint8Array): number {
  const len = key.length;
  let h = (len ^ KEY_HASH.SEED) | 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const word = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    const k = rotl(Math.imul(word, KEY_HASH.C1), KEY_HASH.ROTATE_K);
    h ^= Math.imul(k, KEY_HASH.C2);
    h = (Math.imul(rotl(h, KEY_HASH.ROTATE_H), KEY_HASH.H_MUL) + KEY_HASH.H_ADD) | 0;
  }
  for (; i < len; i++) h = Math.imul(h ^ key[i]!, KEY_HASH.TAIL_MUL);
  h = Math.imul(h ^ (h >>> 16), KEY_HASH.FINAL_MUL1);
  h = Math.imul(h ^ (h >>> 13), KEY_HASH.FINAL_MUL2);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Keys and their hashes, pinned: both fast versions must give these, and a change to the
 * function that moves keys between buckets shows up here first. Lengths cover no word,
 * whole words, and words plus 1–3 tail bytes.
 */
export const KEY_HASH_VECTORS: readonly { key: readonly number[]; hash: number }[] = [
  { key: [], hash: 0xebb6c228 },
  { key: [1], hash: 0x8ec3d3c0 },
  { key: [1, 2, 3], hash: 0xd8f35ae6 },
  { key: [1, 2, 3, 4], hash: 0xb10db5bf },
  { key: [222, 173, 190, 239, 1], hash: 0xcefbc556 },
  { key: [0, 1, 2, 3, 4, 5, 6, 7], hash: 0x559183ed },
  { key: [0, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187, 204], hash: 0x3f436365 },
  { key: [255, 254, 253, 252, 251, 250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240, 239, 238, 237, 236], hash: 0x6f6cdf12 },
];
