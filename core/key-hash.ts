// The hash of map keys, part of the contract: the runtime's hash maps (runtime/maps/base.ts,
// on linear memory) and the compiled module's own lookups (compiler/codegen-maps.ts, in
// wasm) must place a key in the same bucket, so both compute this function. It is
// murmur3's 32-bit mixing over the key's little-endian words in four lanes (word w goes to
// lane w % 4, each lane with its own seed), the lanes added together rotated by 0, 8, 16
// and 24 bits, FNV-style steps for the tail bytes, and murmur3's finaliser. Four lanes
// rather than one chain: murmur3's step is a serial chain of about five cycles per word,
// and a lookup of katran's 40-byte flow key spent most of its time there; the lanes run
// side by side. `keyHash` below is the definition; the fast versions are tested against
// it on KEY_HASH_VECTORS.

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
  LANES: 4,
  /** Lane j starts from SEED + j * LANE_SEED_STEP (mod 2^32), xor the key's length. */
  LANE_SEED_STEP: 0x9e3779b9,
  /** Lane j is rotated left by j * LANE_ROTATE bits before the lanes are added. */
  LANE_ROTATE: 8,
} as const;

const rotl = (x: number, r: number): number => (r === 0 ? x | 0 : (x << r) | (x >>> (32 - r)));

/** Lane `lane`'s starting value for a key of `len` bytes. */
export const laneSeed = (lane: number, len: number): number => ((KEY_HASH.SEED + Math.imul(lane, KEY_HASH.LANE_SEED_STEP)) ^ len) | 0;

/** One murmur3 step: lane value `h` after the little-endian word `word`. */
export function mixWord(h: number, word: number): number {
  const k = rotl(Math.imul(word, KEY_HASH.C1), KEY_HASH.ROTATE_K);
  h ^= Math.imul(k, KEY_HASH.C2);
  return (Math.imul(rotl(h, KEY_HASH.ROTATE_H), KEY_HASH.H_MUL) + KEY_HASH.H_ADD) | 0;
}

/** The four lanes into one value. */
export const combineLanes = (h0: number, h1: number, h2: number, h3: number): number =>
  (h0 + rotl(h1, KEY_HASH.LANE_ROTATE) + rotl(h2, 2 * KEY_HASH.LANE_ROTATE) + rotl(h3, 3 * KEY_HASH.LANE_ROTATE)) | 0;

/** The key hash of `key` (all its bytes), as an unsigned 32-bit number. */
export function keyHash(key: Uint8Array): number {
  const len = key.length;
  const lanes = [0, 1, 2, 3].map((j) => laneSeed(j, len));
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const word = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    const lane = (i >> 2) % KEY_HASH.LANES;
    lanes[lane] = mixWord(lanes[lane]!, word);
  }
  let h = combineLanes(lanes[0]!, lanes[1]!, lanes[2]!, lanes[3]!);
  for (; i < len; i++) h = Math.imul(h ^ key[i]!, KEY_HASH.TAIL_MUL);
  h = Math.imul(h ^ (h >>> 16), KEY_HASH.FINAL_MUL1);
  h = Math.imul(h ^ (h >>> 13), KEY_HASH.FINAL_MUL2);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Keys and their hashes, pinned: both fast versions must give these, and a change to the
 * function that moves keys between buckets shows up here first. Lengths cover no word,
 * whole words, words plus 1–3 tail bytes, every lane, and more than one word per lane.
 * The hashes were computed by a separate Python transcription of the definition above.
 */
export const KEY_HASH_VECTORS: readonly { key: readonly number[]; hash: number }[] = [
  { key: [], hash: 0xea3b89d1 },
  { key: [1], hash: 0x3a5a135b },
  { key: [1, 2, 3], hash: 0x8481515e },
  { key: [1, 2, 3, 4], hash: 0xc8b2b09f },
  { key: [222, 173, 190, 239, 1], hash: 0x4b63641c },
  { key: [0, 1, 2, 3, 4, 5, 6, 7], hash: 0xbe9d844c },
  { key: [0, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187, 204], hash: 0x6ebef34f },
  { key: [255, 254, 253, 252, 251, 250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240, 239, 238, 237, 236], hash: 0x2e88d0f6 },
  {
    key: [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
      36, 37, 38, 39,
    ],
    hash: 0xcfb8b9a6,
  },
  { key: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], hash: 0x4aaf4d72 },
];
