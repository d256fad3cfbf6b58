// The KatranLb-equivalent control plane against the in-memory backend. Oracles: KATRAN.md
// §1 (struct bytes, built by hand below), §4 (numbering, ring rules), §7 (the tester's
// provisioning and server ids) and the ring vectors of test/data/katran (katran's own ring
// code). Every rejected request must leave maps and state untouched.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KatranLb, ModifyAction, type KatranConfig, type VipKey } from '../../katran/control-plane.js';
import { KatranError } from '../../katran/errors.js';
import { parseIp } from '../../katran/ip.js';
import { countSlots } from '../../katran/hash/maglev.js';
import { KATRAN_MAP_SHAPES } from '../../katran/maps/maps.js';
import { MAP_TYPE } from '../../core/map-types.js';
import { MemoryMaps } from '../../katran/maps/memory-maps.js';
import { readU32le, u32le } from '../../katran/maps/structs.js';
import { loadVectors, ringSha256 } from '../support/katran-vectors.js';

const UDP = 17;
const TCP = 6;
const RING = 65537;
const RING_123 = '2790e8c3fe9ecc1f97570386e3fc15608aa00dbcd19b2186bfc78b9105af3959';
const RING_456 = '9a7f34b7affeac708bdf7db6d76405213432070281a91c630215cea078eae17d';
const V4_REALS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const V6_REALS = ['fc00::1', 'fc00::2', 'fc00::3'];

const vip = (address: string, port: number, proto: number): VipKey => ({ address, port, proto });
const bytes = (...parts: Array<number | number[]>): number[] => parts.flat();
const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const hexOf = (b: Uint8Array | number[]): string => Buffer.from(b).toString('hex');

function newLb(config: Partial<KatranConfig> = {}, maps = new MemoryMaps(2)): { lb: KatranLb; maps: MemoryMaps } {
  const lb = new KatranLb(maps, { defaultMac: '00:00:de:ad:be:af', ...config });
  lb.init();
  return { lb, maps };
}

function addReals(lb: KatranLb, v: VipKey, reals: string[]): void {
  for (const address of reals) lb.addRealForVip({ address, weight: 1 }, v);
}

/** katran_tester's prepareLbData + prepareVipUninitializedLbData (HC calls left out: HC off). */
function provisionTester(lb: KatranLb): void {
  let v = vip('10.200.1.1', 80, UDP);
  lb.addVip(v);
  addReals(lb, v, V4_REALS);
  v = vip('10.200.1.1', 80, TCP);
  lb.addVip(v);
  addReals(lb, v, V4_REALS);
  v = vip('10.200.1.2', 0, TCP);
  lb.addVip(v);
  addReals(lb, v, V4_REALS);
  v = vip('10.200.1.4', 0, TCP);
  lb.addVip(v);
  addReals(lb, v, V4_REALS);
  lb.modifyVip(v, 8);
  v = vip('10.200.1.3', 80, TCP);
  lb.addVip(v);
  addReals(lb, v, V6_REALS);
  v = vip('fc00:1::1', 80, TCP);
  lb.addVip(v);
  addReals(lb, v, V6_REALS);
  const ids = [1022, 1023, 1025, 1024, 1026, 1027];
  lb.modifyQuicRealsMapping(
    ModifyAction.ADD,
    [...V4_REALS, ...V6_REALS].flatMap((address, i) => [
      { address, id: ids[i]! },
      { address, id: 0x030000 | ids[i]! },
    ]),
  );
  v = vip('10.200.1.5', 443, UDP);
  lb.addVip(v);
  lb.modifyVip(v, 4);
  addReals(lb, v, V4_REALS);
  v = vip('fc00:1::2', 443, UDP);
  lb.addVip(v);
  lb.modifyVip(v, 4);
  addReals(lb, v, V6_REALS);
  v = vip('10.200.1.6', 80, UDP);
  lb.addVip(v);
  lb.modifyVip(v, 512);
  addReals(lb, v, V4_REALS);
  lb.addDownRealToVipToDownRealsMap(v, 1);
  lb.addVip(vip('10.200.1.99', 80, TCP));
  lb.addVip(vip('fc00:1::11', 80, UDP));
}

function ringInMaps(maps: MemoryMaps, vipNum: number, size = RING): Int32Array {
  const ring = new Int32Array(size);
  for (let i = 0; i < size; i++) ring[i] = readU32le(maps.lookup('ch_rings', u32le(vipNum * size + i))!);
  return ring;
}

function snapshot(maps: MemoryMaps): string {
  const names = Object.keys(KATRAN_MAP_SHAPES).filter((n) => n !== 'ch_rings');
  return JSON.stringify([names.map((n) => maps.entries(n).map(([k, v]) => hexOf(k) + '=' + hexOf(v))), maps.writeCount('ch_rings')]);
}

/** Asserts `fn` throws a KatranError mentioning `fragment` and changes no map. */
function rejects(maps: MemoryMaps, lb: KatranLb, fn: () => unknown, fragment: string): void {
  const before = snapshot(maps);
  const vipsBefore = JSON.stringify(lb.getAllVips());
  const realsBefore = JSON.stringify([...lb.getNumToRealMap()]);
  try {
    fn();
    assert.unreachable(`expected a KatranError about "${fragment}"`);
  } catch (e) {
    if (!(e instanceof KatranError)) throw e;
    assert.ok(e.message.includes(fragment), `message "${e.message}" lacks "${fragment}"`);
    assert.not.ok(e.message.includes('\n'), 'one line');
  }
  assert.is(snapshot(maps), before, 'maps unchanged');
  assert.is(JSON.stringify(lb.getAllVips()), vipsBefore, 'VIPs unchanged');
  assert.is(JSON.stringify([...lb.getNumToRealMap()]), realsBefore, 'reals unchanged');
}

// ------------------------------------------------------------------ tester provisioning

const tester = newLb();
provisionTester(tester.lb);

test('tester: vip_map keys and values, byte for byte', () => {
  const expected: Array<[number[], number[]]> = [
    [bytes([10, 200, 1, 1], zeros(12), [0x00, 0x50, UDP, 0]), bytes(le32(0), le32(0))],
    [bytes([10, 200, 1, 1], zeros(12), [0x00, 0x50, TCP, 0]), bytes(le32(0), le32(1))],
    [bytes([10, 200, 1, 2], zeros(12), [0, 0, TCP, 0]), bytes(le32(0), le32(2))],
    [bytes([10, 200, 1, 4], zeros(12), [0, 0, TCP, 0]), bytes(le32(8), le32(3))],
    [bytes([10, 200, 1, 3], zeros(12), [0x00, 0x50, TCP, 0]), bytes(le32(0), le32(4))],
    [bytes([0xfc, 0, 0, 1], zeros(11), [1], [0x00, 0x50, TCP, 0]), bytes(le32(0), le32(5))],
    [bytes([10, 200, 1, 5], zeros(12), [0x01, 0xbb, UDP, 0]), bytes(le32(4), le32(6))],
    [bytes([0xfc, 0, 0, 1], zeros(11), [2], [0x01, 0xbb, UDP, 0]), bytes(le32(4), le32(7))],
    [bytes([10, 200, 1, 6], zeros(12), [0x00, 0x50, UDP, 0]), bytes(le32(512), le32(8))],
    [bytes([10, 200, 1, 99], zeros(12), [0x00, 0x50, TCP, 0]), bytes(le32(0), le32(9))],
    [bytes([0xfc, 0, 0, 1], zeros(11), [0x11], [0x00, 0x50, UDP, 0]), bytes(le32(0), le32(10))],
  ];
  const got = new Map(tester.maps.entries('vip_map').map(([k, v]) => [hexOf(k), hexOf(v)]));
  assert.is(got.size, expected.length);
  for (const [k, v] of expected) assert.is(got.get(hexOf(k)), hexOf(v), `vip_map[${hexOf(k)}]`);
});

test('tester: reals 1-6 with the IPv6 flag derived from the family', () => {
  const got = new Map(tester.maps.entries('reals').map(([k, v]) => [readU32le(k), hexOf(v)]));
  assert.equal([...got.keys()].sort(), [1, 2, 3, 4, 5, 6]);
  for (let i = 1; i <= 3; i++) assert.is(got.get(i), hexOf(bytes([10, 0, 0, i], zeros(12), [0, 0, 0, 0])));
  for (let i = 1; i <= 3; i++) assert.is(got.get(i + 3), hexOf(bytes([0xfc], zeros(14), [i], [1, 0, 0, 0])));
  assert.is(tester.lb.getIndexForReal('fc00::2'), 5);
  assert.is(tester.lb.getIndexForReal('fc00:0::2'), 5);
  assert.is(tester.lb.getIndexForReal('10.0.0.9'), -1);
});

test('tester: ch_rings hold the vector rings; uninitialized VIPs stay zero', () => {
  for (const num of [0, 1, 2, 3, 6, 8]) assert.is(ringSha256(ringInMaps(tester.maps, num)), RING_123, `VIP ${num}`);
  for (const num of [4, 5, 7]) assert.is(ringSha256(ringInMaps(tester.maps, num)), RING_456, `VIP ${num}`);
  const written = new Set(tester.maps.entries('ch_rings').map(([k]) => Math.floor(readU32le(k) / RING)));
  assert.equal(
    [...written].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.is(tester.lb.getRingForVip(vip('10.200.1.99', 80, TCP)), undefined);
});

test('tester: server_id_map, ctl_array, vip_miss_stats, no LRU, down real', () => {
  const ids = new Map(tester.maps.entries('server_id_map').map(([k, v]) => [readU32le(k), readU32le(v)]));
  assert.equal(Object.fromEntries([...ids].sort((a, b) => a[0] - b[0])), {
    1022: 1,
    1023: 2,
    1024: 4,
    1025: 3,
    1026: 5,
    1027: 6,
    197630: 1,
    197631: 2,
    197632: 4,
    197633: 3,
    197634: 5,
    197635: 6,
  });
  assert.equal(
    tester.maps.entries('ctl_array').map(([k, v]) => [hexOf(k), hexOf(v)]),
    [['00000000', '0000deadbeaf0000']],
  );
  assert.equal(
    tester.maps.entries('vip_miss_stats').map(([k, v]) => [hexOf(k), hexOf(v)]),
    [['00000000', '00'.repeat(20)]],
  );
  assert.equal(tester.maps.entries('lru_mapping'), []);
  const down = tester.maps.getInnerMap('vip_to_down_reals_map', new Uint8Array(bytes([10, 200, 1, 6], zeros(12), [0, 0x50, UDP, 0])));
  assert.ok(down);
  assert.equal(tester.maps.innerShape(down), { name: 'vip_down_reals', type: 1, keySize: 4, valueSize: 1, maxEntries: 4096, flags: 1 });
  assert.equal(
    tester.maps.entries(down).map(([k, v]) => [hexOf(k), hexOf(v)]),
    [['01000000', '00']],
  );
  assert.ok(tester.lb.checkRealFromVipToDownRealsMap(vip('10.200.1.6', 80, UDP), 1));
  assert.not.ok(tester.lb.checkRealFromVipToDownRealsMap(vip('10.200.1.6', 80, UDP), 2));
  assert.not.ok(tester.lb.checkRealFromVipToDownRealsMap(vip('10.200.1.1', 80, UDP), 1));
});

test('tester: KATRAN.md flow examples pick real 3 and real 6', () => {
  const v4 = tester.lb.predictReal(vip('10.200.1.1', 80, TCP), { src: parseIp('192.168.1.1')!, srcPort: 31337, dstPort: 80 });
  assert.equal(v4, { slot: 48717, index: 3, address: '10.0.0.3' });
  const v6 = tester.lb.predictReal(vip('fc00:1::1', 80, TCP), { src: parseIp('fc00:2::1')!, srcPort: 31337, dstPort: 80 });
  assert.equal(v6, { slot: 37505, index: 6, address: 'fc00::3' });
});

test('tester: getters', () => {
  assert.is(tester.lb.getAllVips().length, 11);
  assert.equal(tester.lb.getAllVips()[5], vip('fc00:1::1', 80, TCP));
  assert.is(tester.lb.getVipFlags(vip('10.200.1.6', 80, UDP)), 512);
  assert.is(tester.lb.getMacString(), '00:00:de:ad:be:af');
  // ascending folly hash: 10.0.0.2, 10.0.0.3, 10.0.0.1
  assert.equal(
    tester.lb.getRealsForVip(vip('10.200.1.1', 80, UDP)).map((r) => r.address),
    ['10.0.0.2', '10.0.0.3', '10.0.0.1'],
  );
  assert.is(tester.lb.getQuicRealsMapping().length, 12);
  assert.equal(tester.lb.getQuicRealsMapping()[0], { address: '10.0.0.1', id: 1022 });
});

// ------------------------------------------------------------------ incremental ring updates

interface SequenceStep {
  op: 'ADD' | 'DEL';
  reals: Array<[string, number]>;
  expect: { indexes: Record<string, number>; changedSlots: number; ringSha256: string | null; counts: Record<string, number> };
}

test('sequence.json: add/del/reweight writes only changed slots, indexes FIFO', () => {
  const seq = loadVectors<{ vip: VipKey; steps: SequenceStep[] }>('sequence.json');
  const { lb, maps } = newLb();
  const num = lb.addVip(seq.vip);
  for (const [i, step] of seq.steps.entries()) {
    const before = maps.writeCount('ch_rings');
    const action = step.op === 'ADD' ? ModifyAction.ADD : ModifyAction.DEL;
    const report = lb.modifyRealsForVip(
      action,
      step.reals.map(([address, weight]) => ({ address, weight })),
      seq.vip,
    );
    const what = `step ${i} ${step.op} ${step.reals.map((r) => r.join('@')).join(',')}`;
    assert.is(report.changedSlots, step.expect.changedSlots, `${what}: reported slots`);
    assert.is(maps.writeCount('ch_rings') - before, step.expect.changedSlots, `${what}: slots written`);
    const ring = ringInMaps(maps, num);
    if (step.expect.ringSha256) assert.is(ringSha256(ring), step.expect.ringSha256, `${what}: ring`);
    const attached = Object.fromEntries(lb.getRealsForVip(seq.vip).map((r) => [r.address, lb.getIndexForReal(r.address)]));
    assert.equal(attached, step.expect.indexes, `${what}: real indexes`);
    if (step.expect.ringSha256) {
      const counts = Object.fromEntries([...countSlots(ring)].sort((a, b) => a[0] - b[0]).map(([k, c]) => [String(k), c]));
      assert.equal(counts, step.expect.counts, `${what}: slot counts`);
    }
  }
  // After the last step: 10.0.0.9 (weight 0 at step 7) got index 5; .5 and .2 took 6 and 7.
  assert.is(lb.getIndexForReal('10.0.0.9'), 5);
  assert.is(lb.getIndexForReal('10.0.0.5'), 6);
  assert.is(lb.getIndexForReal('10.0.0.2'), 7);
  assert.is(lb.getIndexForReal('10.0.0.1'), -1);
});

test('weight-0 add attaches without touching the ring; emptied VIP keeps its stale ring', () => {
  const { lb, maps } = newLb();
  const v = vip('10.1.1.1', 53, UDP);
  lb.addVip(v);
  let r = lb.addRealForVip({ address: '10.0.0.1', weight: 0 }, v);
  assert.is(r.changedSlots, 0);
  assert.is(maps.writeCount('ch_rings'), 0);
  assert.equal(lb.getRealsForVip(v), [{ address: '10.0.0.1', weight: 0, flags: 0 }]);
  assert.is(lb.getIndexForReal('10.0.0.1'), 1);
  r = lb.addRealForVip({ address: '10.0.0.2', weight: 3 }, v);
  assert.is(r.changedSlots, RING);
  assert.ok(ringInMaps(maps, 0).every((x) => x === 2));
  r = lb.delRealForVip({ address: '10.0.0.2', weight: 0 }, v);
  assert.is(r.changedSlots, 0);
  assert.ok(
    ringInMaps(maps, 0).every((x) => x === 2),
    'stale ring stays',
  );
  assert.is(lb.getIndexForReal('10.0.0.2'), -1);
  // Deleting a real the VIP does not have is ignored (katran logs and goes on).
  r = lb.delRealForVip({ address: '10.0.0.7', weight: 0 }, v);
  assert.equal(r.ignored, ['10.0.0.7: not a real of VIP 10.1.1.1:53:17']);
});

test('reals are shared between VIPs by refcount and freed at zero (index goes to the back)', () => {
  const { lb } = newLb({ maxReals: 4 });
  const a = vip('10.1.1.1', 80, TCP);
  const b = vip('10.1.1.2', 80, TCP);
  lb.addVip(a);
  lb.addVip(b);
  addReals(lb, a, ['10.0.0.1', '10.0.0.2']);
  addReals(lb, b, ['10.0.0.2', '10.0.0.3']);
  assert.equal([...lb.getNumToRealMap()].sort(), [
    [1, '10.0.0.1'],
    [2, '10.0.0.2'],
    [3, '10.0.0.3'],
  ]);
  lb.delVip(a);
  assert.equal([...lb.getNumToRealMap()].sort(), [
    [2, '10.0.0.2'],
    [3, '10.0.0.3'],
  ]);
  lb.addRealForVip({ address: '10.0.0.4', weight: 1 }, b);
  assert.is(lb.getIndexForReal('10.0.0.4'), 1);
  // VIP numbers: 0 was freed and queued behind 2..maxVips-1.
  assert.is(lb.addVip(vip('10.1.1.3', 80, TCP)), 2);
});

test('flags given with an add apply only when the real is created; modifyReal keeps bit 0', () => {
  const { lb, maps } = newLb();
  const v = vip('10.1.1.1', 80, TCP);
  lb.addVip(v);
  lb.addRealForVip({ address: 'fc00::9', weight: 1, flags: 2 | 1 }, v);
  const realBytes = (): string => hexOf(maps.lookup('reals', u32le(1))!);
  assert.is(realBytes(), hexOf(bytes([0xfc], zeros(14), [9], [3, 0, 0, 0])));
  lb.modifyRealsForVip(ModifyAction.ADD, [{ address: 'fc00::9', weight: 2, flags: 0 }], v);
  assert.is(lb.getRealFlags('fc00::9'), 2);
  lb.modifyReal('fc00::9', 2 | 1, false);
  assert.is(realBytes(), hexOf(bytes([0xfc], zeros(14), [9], [1, 0, 0, 0])));
  assert.is(lb.getRealFlags('fc00::9'), 0);
  lb.modifyReal('fc00::9', 2, true);
  assert.is(lb.getRealsForVip(v)[0]!.flags, 2);
});

test('modifyVip sets and clears bits; changeMac rewrites ctl_array[0]', () => {
  const { lb, maps } = newLb();
  const v = vip('fc00:1::1', 443, UDP);
  const key = new Uint8Array(bytes([0xfc, 0, 0, 1], zeros(11), [1], [0x01, 0xbb, UDP, 0]));
  lb.addVip(v, 1);
  lb.modifyVip(v, 4 | 2);
  assert.is(hexOf(maps.lookup('vip_map', key)!), hexOf(bytes(le32(7), le32(0))));
  lb.modifyVip(v, 1, false);
  assert.is(hexOf(maps.lookup('vip_map', key)!), hexOf(bytes(le32(6), le32(0))));
  lb.changeMac('02:AB:cd:00:00:01');
  assert.is(hexOf(maps.lookup('ctl_array', u32le(0))!), '02abcd0000010000');
  assert.is(lb.getMacString(), '02:ab:cd:00:00:01');
  lb.delVip({ address: 'FC00:1:0::1', port: 443, proto: UDP }); // same VIP, other spelling
  assert.is(maps.lookup('vip_map', key), undefined);
});

test('QUIC mappings: override, same-address no-op, delete only in userspace', () => {
  const { lb, maps } = newLb();
  lb.modifyQuicRealsMapping(ModifyAction.ADD, [
    { address: '10.0.0.1', id: 100 },
    { address: '10.0.0.2', id: 101 },
  ]);
  const before = maps.writeCount('server_id_map');
  lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.1', id: 100 }]);
  assert.is(maps.writeCount('server_id_map'), before, 'same mapping: nothing written');
  lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.3', id: 100 }]);
  assert.is(readU32le(maps.lookup('server_id_map', u32le(100))!), 3);
  assert.is(lb.getIndexForReal('10.0.0.1'), -1, 'old real lost its only reference');
  const r = lb.modifyQuicRealsMapping(ModifyAction.DEL, [
    { address: '10.0.0.1', id: 101 },
    { address: '10.0.0.2', id: 101 },
  ]);
  assert.equal(r.ignored, ['id 101: maps to 10.0.0.2, not 10.0.0.1']);
  assert.is(readU32le(maps.lookup('server_id_map', u32le(101))!), 2, 'array entry stays');
  assert.is(lb.getIndexForReal('10.0.0.2'), -1);
  assert.equal(lb.getQuicRealsMapping(), [{ address: '10.0.0.3', id: 100 }]);
});

test('forwarding cores get their own LRU (size LruSize / cores, NUMA flag when given)', () => {
  const { lb, maps } = newLb({ forwardingCores: [0, 3], numaNodes: [0, 1], lruSize: 1001 });
  const slots = maps.entries('lru_mapping').map(([k]) => readU32le(k));
  assert.equal(slots, [0, 3]);
  for (const core of [0, 3]) {
    const inner = maps.getInnerMap('lru_mapping', u32le(core))!;
    assert.equal(lb.lruMapForCore(core), inner);
    assert.equal(maps.innerShape(inner), {
      name: `katran_lru${core}`,
      type: 9,
      keySize: 40,
      valueSize: 16,
      maxEntries: 500,
      flags: 4,
      numaNode: core === 0 ? 0 : 1,
    });
  }
});

test('stats getters sum every CPU', () => {
  const { lb, maps } = newLb({}, new MemoryMaps(3));
  const v = vip('10.1.1.1', 80, TCP);
  lb.addVip(v);
  const lbStats = (a: number, b: number): Uint8Array => {
    const out = new Uint8Array(16);
    new DataView(out.buffer).setBigUint64(0, BigInt(a), true);
    new DataView(out.buffer).setBigUint64(8, BigInt(b), true);
    return out;
  };
  maps.setPerCpu('stats', u32le(0), [lbStats(1, 100), lbStats(2, 200), lbStats(3, 2 ** 40)]);
  maps.setPerCpu('stats', u32le(512), [lbStats(5, 1), lbStats(0, 0), lbStats(7, 2)]);
  maps.setPerCpu('stats', u32le(528), [lbStats(9, 900), lbStats(1, 100), lbStats(0, 0)]);
  maps.setPerCpu('reals_stats', u32le(4), [lbStats(1, 1), lbStats(1, 1), lbStats(1, 1)]);
  maps.setPerCpu('lru_miss_stats', u32le(2), [new Uint8Array(le32(7)), new Uint8Array(le32(0xffffffff)), new Uint8Array(le32(1))]);
  const q = new Uint8Array(104);
  new DataView(q.buffer).setBigUint64(8 * 4, 6n, true); // cid_routed
  maps.setPerCpu('quic_stats_map', u32le(0), [q, q, new Uint8Array(104)]);
  assert.equal(lb.stats.getStatsForVip(v), { v1: 6n, v2: 300n + 2n ** 40n });
  assert.equal(lb.stats.getStatsForVip(vip('10.9.9.9', 80, TCP)), { v1: 0n, v2: 0n });
  assert.equal(lb.stats.getLruStats(), { v1: 12n, v2: 3n });
  assert.equal(lb.stats.getXdpTotalStats(), { v1: 10n, v2: 1000n });
  assert.equal(lb.stats.getLruMissStats(), { v1: 0n, v2: 0n });
  assert.equal(lb.stats.getRealStats(4), { v1: 3n, v2: 3n });
  assert.is(lb.stats.getLruMissStatsForReal(2), 0xffffffffn + 8n);
  assert.is(lb.stats.getLbQuicPacketsStats().cid_routed, 12n);
  assert.is(lb.stats.getLbQuicPacketsStats().ch_routed, 0n);
});

// ------------------------------------------------------------------ validation: nothing half-applied

test('addVip rejects malformed addresses, ports, protocols, flags and duplicates', () => {
  const { lb, maps } = newLb({ maxVips: 2 });
  lb.addVip(vip('10.1.1.1', 80, TCP));
  rejects(maps, lb, () => lb.addVip(vip('10.1.1', 80, TCP)), '"10.1.1" is not an IPv4 or IPv6 address');
  rejects(maps, lb, () => lb.addVip(vip('10.1.1.2', 65536, TCP)), 'port 65536 outside 0..65535');
  rejects(maps, lb, () => lb.addVip(vip('10.1.1.2', -1, TCP)), 'port -1');
  rejects(maps, lb, () => lb.addVip(vip('10.1.1.2', 80, 256)), 'protocol 256');
  rejects(maps, lb, () => lb.addVip(vip('10.1.1.2', 80, TCP), 2 ** 32), 'not a u32');
  rejects(maps, lb, () => lb.addVip(vip('10.1.1.1', 80, TCP)), 'already exists');
  lb.addVip(vip('10.1.1.2', 80, TCP));
  rejects(maps, lb, () => lb.addVip(vip('10.1.1.3', 80, TCP)), 'all 2 VIP numbers are in use');
  rejects(maps, lb, () => lb.delVip(vip('10.1.1.3', 80, TCP)), 'unknown VIP 10.1.1.3:80:6');
  rejects(maps, lb, () => lb.modifyVip(vip('10.1.1.3', 80, TCP), 1), 'unknown VIP');
});

test('modifyRealsForVip validates the whole batch before writing anything', () => {
  const { lb, maps } = newLb({ maxReals: 4 });
  const v = vip('10.1.1.1', 80, TCP);
  lb.addVip(v);
  lb.addRealForVip({ address: '10.0.0.1', weight: 1 }, v);
  const add = (reals: Array<{ address: string; weight: number; flags?: number }>) => () => lb.modifyRealsForVip(ModifyAction.ADD, reals, v);
  rejects(
    maps,
    lb,
    add([
      { address: '10.0.0.2', weight: 1 },
      { address: '10.0.0.300', weight: 1 },
    ]),
    'real #1 "10.0.0.300"',
  );
  rejects(maps, lb, add([{ address: '10.0.0.2', weight: -1 }]), 'weight -1 is not a u32');
  rejects(maps, lb, add([{ address: '10.0.0.2', weight: 1.5 }]), 'weight 1.5');
  rejects(maps, lb, add([{ address: '10.0.0.2', weight: 2 ** 32 }]), 'not a u32');
  rejects(maps, lb, add([{ address: '10.0.0.2', weight: 1, flags: 256 }]), 'flags 256 is not a u8');
  // indexes 1..3 exist; 10.0.0.1 holds 1, so three new reals do not fit.
  rejects(
    maps,
    lb,
    add([
      { address: '10.0.0.2', weight: 1 },
      { address: '10.0.0.3', weight: 1 },
      { address: '10.0.0.4', weight: 1 },
    ]),
    'no free real index for 10.0.0.4 (maxReals 4)',
  );
  rejects(
    maps,
    lb,
    () => lb.modifyRealsForVip(ModifyAction.ADD, [{ address: '10.0.0.2', weight: 1 }], vip('10.9.9.9', 80, TCP)),
    'unknown VIP 10.9.9.9:80:6',
  );
  rejects(maps, lb, () => lb.modifyReal('10.0.0.2', 2), 'unknown real');
  rejects(maps, lb, () => lb.modifyReal('10.0.0.1', 300), 'flags 300 is not a u8');
  lb.modifyRealsForVip(
    ModifyAction.ADD,
    [
      { address: '10.0.0.2', weight: 1 },
      { address: '10.0.0.3', weight: 1 },
    ],
    v,
  );
  assert.is(lb.getRealsForVip(v).length, 3);
});

test('QUIC server ids at the limit: 0xFFFFFD with the array map, 0xFFFFFFFF with 32-bit ids (CID v3)', () => {
  // Without CID v3 the limit is min(0xFFFFFE, server_id_map max_entries - 1) = 0xFFFFFD
  // (katran's array has 0xFFFFFE slots); with it, server_id_map is a hash map and any u32 is an id.
  const v2 = newLb();
  v2.lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.1', id: 0xfffffd }]);
  assert.is(readU32le(v2.maps.lookup('server_id_map', u32le(0xfffffd))!), 1);
  rejects(
    v2.maps,
    v2.lb,
    () => v2.lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.2', id: 0xfffffe }]),
    'server id 16777214 of 10.0.0.2 outside 0..16777213',
  );
  const hashIds = new MemoryMaps(2, {
    ...KATRAN_MAP_SHAPES,
    server_id_map: { type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 1024, flags: 0 },
  });
  const v3 = newLb({ enableCidV3: true }, hashIds);
  v3.lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.1', id: 0xffffffff }]);
  assert.is(readU32le(v3.maps.lookup('server_id_map', u32le(0xffffffff))!), 1);
  assert.equal(v3.lb.getQuicRealsMapping(), [{ address: '10.0.0.1', id: 0xffffffff }]);
  rejects(
    v3.maps,
    v3.lb,
    () => v3.lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.2', id: 2 ** 32 }]),
    'server id 4294967296 of 10.0.0.2 outside 0..4294967295',
  );
});

test('QUIC ids, MACs, down reals and configs are validated', () => {
  const { lb, maps } = newLb({ maxReals: 2 });
  const quic = (address: string, id: number) => () =>
    lb.modifyQuicRealsMapping(ModifyAction.ADD, [
      { address: '10.0.0.1', id: 1 },
      { address, id },
    ]);
  rejects(maps, lb, quic('10.0.0.1', 0xfffffe), 'server id 16777214 of 10.0.0.1 outside 0..16777213');
  rejects(maps, lb, quic('10.0.0.1', -1), 'server id -1');
  rejects(maps, lb, quic('bogus', 5), 'QUIC real #1 "bogus"');
  rejects(maps, lb, quic('10.0.0.2', 5), 'no free real index for 10.0.0.2 (maxReals 2)');
  rejects(maps, lb, () => lb.changeMac('00:11:22:33:44'), 'is not 6 bytes');
  rejects(maps, lb, () => lb.addDownRealToVipToDownRealsMap(vip('10.9.9.9', 80, UDP), 1), 'unknown VIP');
  const cfg = (c: Partial<KatranConfig>, fragment: string): void => {
    try {
      new KatranLb(new MemoryMaps(1), c);
      assert.unreachable(`config ${JSON.stringify(c)} accepted`);
    } catch (e) {
      if (!(e instanceof KatranError)) throw e;
      assert.ok(e.message.includes(fragment), e.message);
    }
  };
  cfg({ maxVips: 1024 }, 'maxVips = 1024 exceeds vip_map max_entries 512');
  cfg({ chRingSize: 65539 }, 'maxVips * chRingSize = 33555968 exceeds ch_rings');
  // Maglev's skip is a hash modulo (ring size - 1): a ring of one slot has none.
  cfg({ chRingSize: 1 }, 'chRingSize 1 must be at least 2');
  cfg({ maxReals: 5000 }, 'maxReals = 5000 exceeds reals');
  cfg({ forwardingCores: [128] }, 'forwarding core 128 outside lru_mapping [0, 127]');
  cfg({ forwardingCores: [1, 1] }, 'listed twice');
  cfg({ forwardingCores: [1], numaNodes: [0, 1] }, 'numaNodes has 2 entries');
  cfg({ defaultMac: 'zz:00:00:00:00:00' }, 'MAC');
});

test('a ch_rings write the backend refuses commits nothing and forces a full rewrite next time', () => {
  class FailingMaps extends MemoryMaps {
    failNext = false;
    override updateBatch(map: string | { innerMap: number }, keys: Uint8Array, values: Uint8Array, count: number): void {
      if (this.failNext) {
        this.failNext = false;
        throw new Error('injected failure');
      }
      super.updateBatch(map, keys, values, count);
    }
  }
  const maps = new FailingMaps(1);
  const { lb } = newLb({}, maps);
  const v = vip('10.1.1.1', 80, TCP);
  lb.addVip(v);
  addReals(lb, v, ['10.0.0.1', '10.0.0.2']);
  maps.failNext = true;
  assert.throws(() => lb.addRealForVip({ address: '10.0.0.3', weight: 1 }, v), /injected failure/);
  assert.equal(
    lb
      .getRealsForVip(v)
      .map((r) => r.address)
      .sort(),
    ['10.0.0.1', '10.0.0.2'],
  );
  assert.is(lb.getIndexForReal('10.0.0.3'), -1);
  const r = lb.addRealForVip({ address: '10.0.0.3', weight: 1 }, v);
  assert.is(r.changedSlots, RING, 'whole ring rewritten after the failure');
  assert.is(ringSha256(ringInMaps(maps, 0)), RING_123);
});

test('a smaller ring size is honoured end to end', () => {
  const vectors = loadVectors<Array<{ name: string; ringSize: number; ring?: number[] }>>('rings.json');
  const small = vectors.find((v) => v.name === 'ring size 13, reals 1-3')!;
  const { lb, maps } = newLb({ chRingSize: 13 });
  lb.addVip(vip('10.1.1.1', 80, TCP));
  const v = lb.addVip(vip('10.1.1.2', 80, TCP));
  addReals(lb, vip('10.1.1.2', 80, TCP), V4_REALS);
  assert.equal([...ringInMaps(maps, v, 13)], small.ring);
  assert.ok(maps.entries('ch_rings').every(([k]) => readU32le(k) >= 13 && readU32le(k) < 26));
});

test("GUE sources: an object with pckt_srcs gets katranSrcV4 / katranSrcV6 at init, as katran's real_definition", () => {
  const shapes = { ...KATRAN_MAP_SHAPES, pckt_srcs: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 20, maxEntries: 2, flags: 0 } };
  const gue = (config: Partial<KatranConfig>): MemoryMaps => newLb(config, new MemoryMaps(2, shapes)).maps;
  const maps = gue({ katranSrcV4: '10.0.13.37', katranSrcV6: 'fc00:2307::1337' });
  // Slot 0 (kSrcV4Pos): the IPv4 address in network order, flags 0; slot 1: the IPv6 address, flags 1 (V6DADDR).
  assert.is(hexOf(maps.lookup('pckt_srcs', u32le(0))!), hexOf(bytes([10, 0, 13, 37], zeros(12), [0], zeros(3))));
  assert.is(hexOf(maps.lookup('pckt_srcs', u32le(1))!), hexOf(bytes([0xfc, 0, 0x23, 0x07], zeros(10), [0x13, 0x37], [1], zeros(3))));
  // One family is enough; none is refused, as katran refuses to start GUE without a source.
  assert.is(hexOf(gue({ katranSrcV6: 'fc00::1' }).lookup('pckt_srcs', u32le(0))!), hexOf(zeros(20)), 'slot 0 left empty');
  assert.throws(
    () => gue({}),
    (e: Error) => e instanceof KatranError && /pckt_srcs.*katranSrcV4/.test(e.message),
  );
  assert.throws(
    () => gue({ katranSrcV4: 'fc00::1' }),
    (e: Error) => e instanceof KatranError && /katranSrcV4 "fc00::1" is not an IPv4 address/.test(e.message),
  );
  // Without pckt_srcs (katran's default, IPIP) the sources are not written anywhere.
  const { maps: ipip } = newLb({ katranSrcV4: '10.0.13.37' });
  assert.is(ipip.describe('pckt_srcs'), undefined);
});

test.run();
