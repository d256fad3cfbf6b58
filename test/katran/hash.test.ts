// folly::IPAddress::hash, Maglev permutations, the kernel jhash and IP text handling.
// Oracles: KATRAN.md §4's worked example (typed in below) and test/data/katran vectors,
// which katran's own C++ and reference SpookyV2 produced (see that folder's README).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { follyIpHash, fnv32Signed, hash128to64 } from '../../katran/hash/folly-hash.js';
import { type IpAddress, formatIp, parseIp } from '../../katran/ip.js';
import { jhash, jhash2Words } from '../../katran/hash/jhash.js';
import { maglevPermutation } from '../../katran/hash/maglev.js';
import { murmur3Pair64 } from '../../katran/hash/murmur.js';
import { flowHash, flowRingSlot } from '../../katran/hash/flow-hash.js';
import { loadVectors } from '../support/katran-vectors.js';

const ip = (s: string): IpAddress => {
  const a = parseIp(s);
  if (!a) throw new Error(`bad test address ${s}`);
  return a;
};

test('KATRAN.md worked example: folly hashes, offsets and skips', () => {
  const table: Array<[string, bigint, number, number]> = [
    ['10.0.0.1', 0xd671359dbaa15954n, 4577, 18292],
    ['10.0.0.2', 0x2cd426d008b90279n, 42248, 16076],
    ['10.0.0.3', 0x6eb4a2989236785dn, 65365, 24158],
    ['fc00::1', 0x64e74a25b986d744n, 7827, 60497],
    ['fc00::2', 0x87d247835b02295bn, 12132, 1761],
    ['fc00::3', 0x0b2e5ea98827f017n, 61702, 64040],
  ];
  for (const [addr, hash, offset, skip] of table) {
    assert.is(follyIpHash(ip(addr)), hash, addr);
    assert.equal(maglevPermutation(hash), { offset, skip }, addr);
  }
  assert.is(fnv32Signed(ip('10.0.0.1').bytes), 0xd692f426);
});

test('folly hash and permutation vectors (katran C++ / reference Spooky oracles)', () => {
  const vectors =
    loadVectors<Array<{ address: string; hash: string; offset: number; skip: number; offset13: number; skip13: number }>>(
      'folly-hash.json',
    );
  assert.ok(vectors.length >= 15);
  for (const v of vectors) {
    const hash = follyIpHash(ip(v.address));
    assert.is(`0x${hash.toString(16).padStart(16, '0')}`, v.hash, v.address);
    assert.equal(maglevPermutation(hash), { offset: v.offset, skip: v.skip }, `${v.address} ring 65537`);
    assert.equal(maglevPermutation(hash, 13), { offset: v.offset13, skip: v.skip13 }, `${v.address} ring 13`);
  }
});

test('folly v4 hash sign-extends bytes >= 0x80', () => {
  // An unsigned-byte FNV over c0 a8 01 01 would differ; the signed one xors 0xFFFFFFC0, 0xFFFFFFA8.
  let unsigned = 2166136261;
  for (const b of [0xc0, 0xa8, 1, 1]) unsigned = ((Math.imul(unsigned, 16777619) >>> 0) ^ b) >>> 0;
  assert.is.not(fnv32Signed(ip('192.168.1.1').bytes), unsigned);
  let signed = 2166136261;
  for (const b of [0xffffffc0, 0xffffffa8, 1, 1]) signed = ((Math.imul(signed, 16777619) >>> 0) ^ b) >>> 0;
  assert.is(fnv32Signed(ip('192.168.1.1').bytes), signed);
});

test('v4-mapped IPv6 hashes like its IPv4 address', () => {
  assert.is(follyIpHash(ip('::ffff:10.0.0.1')), follyIpHash(ip('10.0.0.1')));
  assert.is.not(follyIpHash(ip('::10.0.0.1')), follyIpHash(ip('10.0.0.1')));
});

test('hash_128_to_64 and murmur pair against hand-computable cases', () => {
  // (0,0): a = 0, b = 0 -> 0.
  assert.is(hash128to64(0n, 0n), 0n);
  // Murmur depends on every input; offset and skip streams use different words and seeds.
  assert.is.not(murmur3Pair64(1n, 42n, 0), murmur3Pair64(2n, 42n, 0));
  assert.is.not(murmur3Pair64(1n, 42n, 0), murmur3Pair64(1n, 42n, 2307));
  assert.is.not(murmur3Pair64(0n, 0n, 0), 0n);
  assert.ok(murmur3Pair64(0xffffffffffffffffn, 0xffffffffffffffffn, 0xffffffff) < 1n << 64n);
});

test('jhash: KATRAN.md flow examples', () => {
  // 192.168.1.1:31337 -> :80; words are native loads of wire bytes.
  const h4 = jhash2Words(0x0101a8c0, 0x5000697a, 33554944);
  assert.is(h4, 3353773618);
  assert.is(h4 % 65537, 48717);
  const inner = jhash(ip('fc00:2::1').bytes, 512);
  assert.is(inner, 0xbf179e70);
  const h6 = jhash2Words(inner, 0x5000697a, 33554944);
  assert.is(h6, 2623155930);
  assert.is(h6 % 65537, 37505);
  assert.is(flowRingSlot({ src: ip('192.168.1.1'), srcPort: 31337, dstPort: 80 }, 0), 48717);
  assert.is(flowRingSlot({ src: ip('fc00:2::1'), srcPort: 31337, dstPort: 80 }, 0), 37505);
});

test('jhash: flow vectors (katran jhash.h oracle)', () => {
  const flows =
    loadVectors<Array<{ src: string; srcPort: number; dstPort: number; vipFlags: number; srcJhash?: number; hash: number; slot: number }>>(
      'flows.json',
    );
  for (const f of flows) {
    const a = ip(f.src);
    if (f.srcJhash !== undefined && !(f.vipFlags & 8)) assert.is(jhash(a.bytes, 512), f.srcJhash, f.src);
    const h = flowHash({ src: a, srcPort: f.srcPort, dstPort: f.dstPort }, f.vipFlags);
    assert.is(h, f.hash, `${f.src}:${f.srcPort} flags ${f.vipFlags}`);
    assert.is(h % 65537, f.slot);
  }
});

test('jhash: lengths around the 12-byte block boundary', () => {
  // Zero-length input returns the initial value untouched.
  assert.is(jhash(new Uint8Array(0), 0), 0xdeadbeef);
  assert.is(jhash(new Uint8Array(0), 1), 0xdeadbef0);
  // Trailing zero bytes still change the hash through the length term.
  assert.is.not(jhash(new Uint8Array(12), 0), jhash(new Uint8Array(13), 0));
  assert.is.not(jhash(new Uint8Array(4), 0), jhash(new Uint8Array(5), 0));
});

test('ip: parse like inet_pton, print like inet_ntop', () => {
  const good: Array<[string, string]> = [
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['fc00::1', 'fc00::1'],
    ['FC00:0:0::1', 'fc00::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['::10.0.0.1', '::10.0.0.1'],
    ['[fc00:1::2]', 'fc00:1::2'],
  ];
  for (const [text, printed] of good) assert.is(formatIp(ip(text)), printed, text);
  assert.equal([...ip('fc00:1::2').bytes], [0xfc, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  const bad = [
    '',
    '10.0.0',
    '10.0.0.1.2',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.-4',
    'fc00:::1',
    '1:2:3:4:5:6:7:8:9',
    'fc00::1::2',
    'g::1',
    '12345::',
    '1:2:3:4:5:6:7::8:9',
    'localhost',
    ' 10.0.0.1',
    '1:2:3:4:5:6:7:1.2.3.4',
  ];
  for (const text of bad) assert.is(parseIp(text), undefined, JSON.stringify(text));
});

test.run();
