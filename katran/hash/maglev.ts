// Maglev consistent-hashing rings as katran builds them. Each endpoint (a real) gets a
// permutation of ring slots from its 64-bit hash; endpoints then take turns claiming their
// next free slot until the ring is full. The ring holds real indexes (what ch_rings stores).

import { murmur3Pair64 } from './murmur.js';

export const DEFAULT_RING_SIZE = 65537;

export enum MaglevVersion {
  /** katran's default (HashFunction::Maglev): weights only bias the first pass. */
  V1 = 1,
  /** HashFunction::MaglevV2 (the example gRPC server): slots proportional to weight. */
  V2 = 2,
}

export interface Endpoint {
  /** Real index written into the ring. */
  num: number;
  /** u32 weight; KatranLb never passes weight-0 endpoints. */
  weight: number;
  /** folly::IPAddress::hash() of the real, a u64. */
  hash: bigint;
}

// Seeds and second words katran picked for the two permutation hashes.
const OFFSET_WORD = 42n;
const OFFSET_SEED = 0;
const SKIP_WORD = 2718281828n;
const SKIP_SEED = 2307;

export function maglevPermutation(hash: bigint, ringSize = DEFAULT_RING_SIZE): { offset: number; skip: number } {
  const size = BigInt(ringSize);
  const offset = Number(murmur3Pair64(hash, OFFSET_WORD, OFFSET_SEED) % size);
  const skip = Number(murmur3Pair64(hash, SKIP_WORD, SKIP_SEED) % (size - 1n)) + 1;
  return { offset, skip };
}

/** Sorts endpoints by hash ascending, the order KatranLb hands them to the ring builder. */
export function sortEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  return [...endpoints].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

/**
 * Builds the ring from endpoints in the order given (callers sort them by hash, see
 * sortEndpoints). Empty input leaves every slot -1; one endpoint owns the whole ring.
 */
export function buildRing(
  endpoints: readonly Endpoint[],
  ringSize = DEFAULT_RING_SIZE,
  version: MaglevVersion = MaglevVersion.V1,
): Int32Array {
  if (!Number.isInteger(ringSize) || ringSize < 2 || ringSize > 0xffffffff) {
    throw new RangeError(`ring size ${ringSize} must be an integer >= 2`);
  }
  const ring = new Int32Array(ringSize).fill(-1);
  if (endpoints.length === 0) return ring;
  if (endpoints.length === 1) return ring.fill(endpoints[0]!.num);

  const n = endpoints.length;
  const offset = new Uint32Array(n);
  const skip = new Uint32Array(n);
  endpoints.forEach((e, i) => {
    const p = maglevPermutation(e.hash, ringSize);
    offset[i] = p.offset;
    skip[i] = p.skip;
  });
  const next = new Uint32Array(n);
  let placed = 0;

  // Claims endpoint i's next free slot; true when the ring is full. katran computes
  // offset + next * skip in u32, so the product wraps at 2^32 before the modulo.
  const claim = (i: number): boolean => {
    let cur = ((Math.imul(next[i]!, skip[i]!) + offset[i]!) >>> 0) % ringSize;
    while (ring[cur]! >= 0) {
      next[i]!++;
      cur = ((Math.imul(next[i]!, skip[i]!) + offset[i]!) >>> 0) % ringSize;
    }
    ring[cur] = endpoints[i]!.num;
    next[i]!++;
    return ++placed === ringSize;
  };

  if (version === MaglevVersion.V1) {
    // First pass: endpoint i claims weight_i slots in a row; every later pass one each.
    let firstPass = true;
    for (;;) {
      for (let i = 0; i < n; i++) {
        const turns = firstPass ? endpoints[i]!.weight >>> 0 : 1;
        for (let t = 0; t < turns; t++) if (claim(i)) return ring;
      }
      firstPass = false;
    }
  }

  // V2: each pass adds w_i to a per-endpoint credit; whoever reaches the largest weight
  // spends it on one slot. A zero max weight would never place anything.
  const maxWeight = Math.max(...endpoints.map((e) => e.weight >>> 0));
  if (maxWeight === 0) throw new RangeError('MaglevV2 needs at least one endpoint with weight > 0');
  const credit = new Float64Array(n);
  for (;;) {
    for (let i = 0; i < n; i++) {
      credit[i] = (credit[i]! + (endpoints[i]!.weight >>> 0)) % 2 ** 32; // u32 in katran
      if (credit[i]! >= maxWeight) {
        credit[i] = credit[i]! - maxWeight;
        if (claim(i)) return ring;
      }
    }
  }
}

/** How many slots each real index holds (ignores -1). */
export function countSlots(ring: Int32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of ring) if (r >= 0) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}
