// Maglev rings V1/V2. Oracles: KATRAN.md §4 (ring starts, counts, SHA-256), rings.json
// (katran's own ring code, see test/data/katran/README.md) and the distribution facts
// katran's CHHelpersTest asserts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { follyIpHash } from '../../katran/hash/folly-hash.js';
import { parseIp } from '../../katran/ip.js';
import { type Endpoint, MaglevVersion, buildRing, countSlots, sortEndpoints } from '../../katran/hash/maglev.js';
import { loadVectors, ringSha256 } from '../support/katran-vectors.js';

const ep = (address: string, num: number, weight = 1): Endpoint => ({ num, weight, hash: follyIpHash(parseIp(address)!) });
const counts = (ring: Int32Array): Record<string, number> =>
  Object.fromEntries([...countSlots(ring)].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));

test('KATRAN.md: ring {1,2,3} starts, counts and SHA-256', () => {
  const eps = sortEndpoints([ep('10.0.0.1', 1), ep('10.0.0.2', 2), ep('10.0.0.3', 3)]);
  assert.equal(
    eps.map((e) => e.num),
    [2, 3, 1],
  ); // sorted by folly hash
  const ring = buildRing(eps);
  assert.equal([...ring.subarray(0, 16)], [2, 1, 3, 2, 1, 3, 3, 1, 1, 2, 1, 2, 2, 1, 2, 3]);
  assert.equal(counts(ring), { 1: 21845, 2: 21846, 3: 21846 });
  assert.is(ringSha256(ring), '2790e8c3fe9ecc1f97570386e3fc15608aa00dbcd19b2186bfc78b9105af3959');
  // KATRAN.md's flow example lands on slot 48717 -> real 3.
  assert.is(ring[48717], 3);
});

test('KATRAN.md: ring {4,5,6} starts and SHA-256', () => {
  const ring = buildRing(sortEndpoints([ep('fc00::1', 4), ep('fc00::2', 5), ep('fc00::3', 6)]));
  assert.equal([...ring.subarray(0, 16)], [5, 6, 5, 5, 5, 6, 6, 6, 4, 6, 5, 5, 5, 5, 6, 6]);
  assert.is(ringSha256(ring), '9a7f34b7affeac708bdf7db6d76405213432070281a91c630215cea078eae17d');
  assert.is(ring[37505], 6);
});

test('KATRAN.md: weights {10.0.0.1:2, 10.0.0.2:1}, V1 32769/32768, V2 43691/21846', () => {
  const eps = sortEndpoints([ep('10.0.0.1', 1, 2), ep('10.0.0.2', 2, 1)]);
  assert.equal(counts(buildRing(eps, 65537, MaglevVersion.V1)), { 1: 32769, 2: 32768 });
  assert.equal(counts(buildRing(eps, 65537, MaglevVersion.V2)), { 1: 43691, 2: 21846 });
});

interface RingVector {
  name: string;
  ringSize: number;
  version: MaglevVersion;
  endpoints?: Array<{ address: string; num: number; weight: number }>;
  synthetic?: { count: number; firstWeight: number };
  sha256: string;
  samples?: Record<string, number>;
  ring?: number[];
  counts?: Record<string, number>;
  countSpread?: number;
}

for (const v of loadVectors<RingVector[]>('rings.json')) {
  test(`rings.json: ${v.name}`, () => {
    const eps = v.endpoints
      ? sortEndpoints(v.endpoints.map((e) => ep(e.address, e.num, e.weight)))
      : Array.from({ length: v.synthetic!.count }, (_, i) => ({ num: i, weight: i === 0 ? v.synthetic!.firstWeight : 1, hash: BigInt(i) }));
    const ring = buildRing(eps, v.ringSize, v.version);
    assert.is(ring.length, v.ringSize);
    assert.is(ringSha256(ring), v.sha256);
    for (const [pos, real] of Object.entries(v.samples ?? {})) assert.is(ring[Number(pos)], real, `slot ${pos}`);
    if (v.ring) assert.equal([...ring], v.ring);
    if (v.counts) assert.equal(counts(ring), v.counts);
    if (v.countSpread !== undefined) {
      const c = [...countSlots(ring).values()];
      assert.is(Math.max(...c) - Math.min(...c), v.countSpread);
    }
  });
}

test('CHHelpersTest facts: equal weights spread <= 1; weights 2,1,1 spread 2 (V1) / 16385 (V2)', () => {
  const make = (n: number, w0: number): Endpoint[] =>
    Array.from({ length: n }, (_, i) => ({ num: i, weight: i === 0 ? w0 : 1, hash: BigInt(i) }));
  const spread = (ring: Int32Array, n: number): number => {
    const c = countSlots(ring);
    assert.is(c.size, n);
    assert.not.ok(ring.includes(-1));
    return Math.max(...c.values()) - Math.min(...c.values());
  };
  assert.is(spread(buildRing(make(400, 1), 65537, MaglevVersion.V1), 400), 1);
  assert.is(spread(buildRing(make(400, 1), 65537, MaglevVersion.V2), 400), 1);
  assert.is(spread(buildRing(make(3, 2), 65537, MaglevVersion.V1), 3), 2);
  assert.is(spread(buildRing(make(3, 2), 65537, MaglevVersion.V2), 3), 16385);
});

test('CHHelpersTest facts: weights summing past the ring starve the last reals (V1)', () => {
  const weight = Math.floor((65537 * 2) / 400);
  const eps = Array.from({ length: 400 }, (_, i) => ({ num: i, weight, hash: BigInt(i) }));
  const c = countSlots(buildRing(eps, 65537, MaglevVersion.V1));
  for (let i = 0; i < 400; i++) {
    const got = c.get(i) ?? 0;
    if (i < 200) assert.is(got, weight, `real ${i}`);
    else if (i === 200) assert.ok(got > 0);
    else assert.is(got, 0, `real ${i}`);
  }
});

test('empty ring stays -1; one endpoint owns every slot whatever its weight', () => {
  assert.ok(buildRing([], 13).every((v) => v === -1));
  assert.ok(buildRing([{ num: 7, weight: 5, hash: 1n }], 13, MaglevVersion.V2).every((v) => v === 7));
});

test('V1 and V2 agree when all weights are 1', () => {
  const eps = sortEndpoints([ep('10.0.0.1', 1), ep('10.0.0.2', 2), ep('fc00::1', 3), ep('fc00::2', 4)]);
  assert.equal(buildRing(eps, 65537, MaglevVersion.V1), buildRing(eps, 65537, MaglevVersion.V2));
});

test('ring sizes: 2 is the least (the skip is taken modulo size - 1), 1 and 0 are refused', () => {
  assert.is(buildRing([], 2).length, 2);
  assert.throws(
    () => buildRing([], 1),
    (e: unknown) => e instanceof RangeError,
  );
  assert.throws(
    () => buildRing([], 0),
    (e: unknown) => e instanceof RangeError,
  );
  assert.throws(
    () => buildRing([], 2.5),
    (e: unknown) => e instanceof RangeError,
  );
});

test.run();
