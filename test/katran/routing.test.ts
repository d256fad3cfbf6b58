// Source-routing rules, inline-decap destinations and healthcheck destinations through the
// katran control plane. Oracles: the kernel (the same calls on the kernel-loaded example
// LB must leave the same map bytes, and its packets the same verdicts and output as wasm
// and the interpreter), and key/value bytes worked out by hand from katran's layouts
// (lpm key = u32 prefix length LE + network-order address; decap_dst key = 16-byte address,
// value u32 flags 0; hc_reals_map value = 16-byte address union + flags byte + 3 pad).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '@grpc/grpc-js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { KatranLb } from '../../katran/control-plane.js';
import { UserspaceKatranMaps } from '../../katran/maps/userspace-maps.js';
import { KernelKatranMaps } from '../../katran/maps/kernel-maps.js';
import { MemoryMaps } from '../../katran/maps/memory-maps.js';
import { KATRAN_MAP_SHAPES, type KatranMaps } from '../../katran/maps/maps.js';
import { MAP_TYPE, MAP_FLAG, type MapShape } from '../../core/map-types.js';
import { applyKatranConfig, parseKatranConfig, sizesFromMaps } from '../../katran/config.js';
import { KatranError } from '../../katran/errors.js';
import { loadKatranProto, startKatranGrpcServer } from '../../katran/grpc/server.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { examplePath } from '../support/examples.js';
import { ethernet, ipv4, ipv6, tcp, udp } from '../../packets/corpus.js';
import { skip } from '../support/skip.js';
import { compileObjectFile, engineTwins } from '../support/katran-engines.js';
import { possibleCpus } from '../support/katran-counters.js';
import { report } from '../support/report.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const zeros = (n: number): string => '00'.repeat(n);

/** katran's shapes for the optional maps (KATRAN.md section 1), smaller where it does not matter. */
const OPTIONAL_SHAPES: Record<string, MapShape> = {
  lpm_src_v4: { type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 1000, flags: MAP_FLAG.NO_PREALLOC },
  lpm_src_v6: { type: MAP_TYPE.LPM_TRIE, keySize: 20, valueSize: 4, maxEntries: 1000, flags: MAP_FLAG.NO_PREALLOC },
  decap_dst: { type: MAP_TYPE.HASH, keySize: 16, valueSize: 4, maxEntries: 512, flags: 0 },
  hc_reals_map: { type: MAP_TYPE.HASH, keySize: 4, valueSize: 20, maxEntries: 4096, flags: 0 },
};
const memoryMaps = (extra: Record<string, MapShape> = OPTIONAL_SHAPES): MemoryMaps => new MemoryMaps(2, { ...KATRAN_MAP_SHAPES, ...extra });

/** Every map's entries, rendered, for "nothing changed" checks. */
function snapshot(maps: MemoryMaps): string {
  return ['reals', 'vip_map', ...Object.keys(OPTIONAL_SHAPES)]
    .filter((n) => maps.describe(n))
    .map(
      (n) =>
        `${n}: ${maps
          .entries(n)
          .map(([k, v]) => `${hex(k)}=${hex(v)}`)
          .sort()
          .join(' ')}`,
    )
    .join('\n');
}

function throwsKatran(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, KatranError);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a KatranError matching ${pattern}`);
}

test('hand-checked bytes: one IPv4 and one IPv6 rule, decap destination and healthcheck', () => {
  const maps = memoryMaps();
  const lb = new KatranLb(maps);
  lb.init();
  // The host bits of 192.168.7.7/16 are dropped, as folly's createNetwork does.
  lb.addSrcRoutingRule(['192.168.7.7/16'], '10.0.0.3');
  lb.addSrcRoutingRule(['fc00:2::/64'], 'fc00::3');
  assert.equal(Object.fromEntries(lb.getSrcRoutingRule()), { '192.168.0.0/16': '10.0.0.3', 'fc00:2::/64': 'fc00::3' });
  // The destinations are reals: indexes 1 and 2, written to `reals` (v6 with flag bit 0).
  assert.equal(Object.fromEntries(lb.getNumToRealMap()), { 1: '10.0.0.3', 2: 'fc00::3' });
  assert.equal(
    maps
      .entries('reals')
      .map(([k, v]) => `${hex(k)}=${hex(v)}`)
      .filter((e) => !e.endsWith(zeros(20))),
    [`01000000=0a000003${zeros(12)}00000000`, `02000000=fc000000${zeros(11)}0301000000`],
  );
  // lpm_src_v4 key: prefixlen 16 (LE u32) | c0 a8 00 00; value: real index 1 (LE u32).
  assert.equal(
    maps.entries('lpm_src_v4').map(([k, v]) => `${hex(k)}=${hex(v)}`),
    ['10000000c0a80000=01000000'],
  );
  // lpm_src_v6 key: prefixlen 64 | fc00:0002:0000:... ; value: real index 2.
  assert.equal(
    maps.entries('lpm_src_v6').map(([k, v]) => `${hex(k)}=${hex(v)}`),
    [`40000000fc000002${zeros(12)}=02000000`],
  );

  lb.addInlineDecapDst('10.100.0.1');
  lb.addInlineDecapDst('fc00:100::1');
  assert.equal(
    maps.entries('decap_dst').map(([k, v]) => `${hex(k)}=${hex(v)}`),
    [`0a640001${zeros(12)}=00000000`, `fc000100${zeros(11)}01=00000000`],
  );

  lb.addHealthcheckerDst(1, '10.0.0.1');
  lb.addHealthcheckerDst(2, 'fc00::1');
  // Without direct healthchecking (no hc_pckt_srcs_map) IPv4 is a host-order u32: 10.0.0.1
  // = 0x0a000001, stored LE as 01 00 00 0a. IPv6 stays in network order, flags 1.
  assert.equal(
    maps.entries('hc_reals_map').map(([k, v]) => `${hex(k)}=${hex(v)}`),
    [`01000000=0100000a${zeros(12)}00000000`, `02000000=fc000000${zeros(11)}0101000000`],
  );
  assert.equal(Object.fromEntries(lb.getHealthcheckersDst()), { 1: '10.0.0.1', 2: 'fc00::1' });

  // A healthchecker built for direct healthchecking (it has hc_pckt_srcs_map) takes network order.
  const direct = memoryMaps({
    ...OPTIONAL_SHAPES,
    hc_pckt_srcs_map: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 20, maxEntries: 2, flags: 0 },
  });
  const directLb = new KatranLb(direct);
  directLb.addHealthcheckerDst(7, '10.0.0.1');
  assert.equal(
    direct.entries('hc_reals_map').map(([k, v]) => `${hex(k)}=${hex(v)}`),
    [`07000000=0a000001${zeros(12)}00000000`],
  );
});

test('reference counting: rule destinations share real indexes with VIP reals', () => {
  const maps = memoryMaps();
  const lb = new KatranLb(maps);
  lb.init();
  const vip = { address: '10.200.1.1', port: 80, proto: 6 };
  lb.addVip(vip, 16);
  lb.addRealForVip({ address: '10.0.0.1', weight: 1 }, vip);
  lb.addSrcRoutingRule(['192.168.0.0/16', '172.16.0.0/12'], '10.0.0.1');
  lb.addSrcRoutingRule(['10.0.0.0/8'], '10.0.0.2');
  assert.is(lb.getIndexForReal('10.0.0.1'), 1, 'the VIP real and the rules share index 1');
  assert.is(lb.getIndexForReal('10.0.0.2'), 2);
  // Re-adding a network replaces its rule: 10.0.0.2 loses its only reference.
  lb.addSrcRoutingRule(['10.0.0.0/8'], '10.0.0.1');
  assert.is(lb.getIndexForReal('10.0.0.2'), -1);
  assert.is(lb.getSrcRoutingRuleSize(), 3);
  lb.delVip(vip);
  assert.is(lb.getIndexForReal('10.0.0.1'), 1, 'still referenced by the rules');
  assert.equal(lb.delSrcRoutingRule(['192.168.0.0/16', '1.2.3.0/24']), ['1.2.3.0/24: no source-routing rule']);
  lb.clearAllSrcRoutingRules();
  assert.is(lb.getIndexForReal('10.0.0.1'), -1, 'freed with its last rule');
  assert.equal(maps.entries('lpm_src_v4'), []);
});

test('bad input is refused with the maps unchanged', () => {
  const maps = memoryMaps();
  const lb = new KatranLb(maps, { maxLpmSrcSize: 3 });
  lb.init();
  lb.addSrcRoutingRule(['10.1.0.0/16'], '10.0.0.1');
  lb.addInlineDecapDst('10.100.0.1');
  lb.addHealthcheckerDst(1, '10.0.0.1');
  const before = snapshot(maps);
  throwsKatran(() => lb.addSrcRoutingRule(['10.2.0.0/16', '10.3.0.0'], '10.0.0.1'), /source #1 "10\.3\.0\.0" has no \/prefix length/);
  throwsKatran(() => lb.addSrcRoutingRule(['10.0.0/8'], '10.0.0.1'), /'10\.0\.0' is not an IPv4 or IPv6 address/);
  throwsKatran(() => lb.addSrcRoutingRule(['10.0.0.0/33'], '10.0.0.1'), /prefix length '33' is not in 0\.\.32/);
  throwsKatran(() => lb.addSrcRoutingRule(['fc00::/129'], '10.0.0.1'), /prefix length '129' is not in 0\.\.128/);
  throwsKatran(
    () => lb.addSrcRoutingRule(['10.2.0.0/16'], 'not-an-address'),
    /addSrcRoutingRule.*destination "not-an-address" is not an IPv4 or IPv6 address/,
  );
  throwsKatran(
    () => lb.addSrcRoutingRule(['10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16'], '10.0.0.1'),
    /4 source-routing rules exceed the limit 3/,
  );
  throwsKatran(() => lb.delSrcRoutingRule(['10.1.0.0/99']), /delSrcRoutingRule: source #0/);
  throwsKatran(() => lb.addInlineDecapDst('10.100.0.1'), /already a decap destination/);
  throwsKatran(() => lb.addInlineDecapDst('10.100.0'), /is not an IPv4 or IPv6 address/);
  throwsKatran(() => lb.delInlineDecapDst('10.100.0.2'), /delInlineDecapDst\(10\.100\.0\.2\): not a decap destination/);
  for (let i = 2; i <= 6; i++) lb.addInlineDecapDst(`10.100.0.${i}`);
  const full = snapshot(maps);
  throwsKatran(() => lb.addInlineDecapDst('10.100.0.7'), /decap destinations are full \(6\)/);
  assert.is(snapshot(maps), full);
  for (let i = 2; i <= 6; i++) lb.delInlineDecapDst(`10.100.0.${i}`);
  throwsKatran(() => lb.addHealthcheckerDst(2, 'fc00::zz'), /addHealthcheckerDst\(2\): destination "fc00::zz"/);
  throwsKatran(() => lb.delHealthcheckerDst(3), /no healthcheck with this somark/);
  assert.is(snapshot(maps), before);

  // Healthcheck marks are bounded by maxReals, as in katran.
  const small = new KatranLb(memoryMaps(), { maxReals: 2 });
  small.addHealthcheckerDst(1, '10.0.0.1');
  small.addHealthcheckerDst(2, '10.0.0.2');
  small.addHealthcheckerDst(2, '10.0.0.3'); // replacing a mark needs no room
  throwsKatran(() => small.addHealthcheckerDst(3, '10.0.0.4'), /healthcheck destinations are full \(2\)/);

  // Objects without the maps: katran's library refuses (feature off); so does ours.
  const bare = new KatranLb(new MemoryMaps(2));
  throwsKatran(() => bare.addSrcRoutingRule(['10.0.0.0/8'], '10.0.0.1'), /no map lpm_src_v4/);
  throwsKatran(() => bare.addInlineDecapDst('10.0.0.1'), /no map decap_dst/);
  throwsKatran(() => bare.addHealthcheckerDst(1, '10.0.0.1'), /no map hc_reals_map \(health checking is not configured\)/);
  assert.equal(bare.getHealthcheckersDst().size, 0);
});

test('config file: the new keys, and all or nothing', () => {
  const text = JSON.stringify({
    mac: '00:00:de:ad:be:af',
    vips: [{ address: '10.200.1.1', port: 80, protocol: 'tcp', flags: ['SRC_ROUTING'], reals: [{ address: '10.0.0.1' }] }],
    srcRoutingRules: [{ srcs: ['192.168.0.0/16', 'fc00:2::/64'], dst: '10.0.0.3' }],
    decapDsts: ['10.100.0.1', 'fc00:100::1'],
    healthchecks: [{ somark: 1, address: '10.0.0.1' }],
  });
  const maps = memoryMaps();
  const lb = applyKatranConfig(maps, parseKatranConfig(text, 'cfg.json'));
  // Oracle: the same calls made by hand on a second balancer leave identical maps.
  const byHand = memoryMaps();
  const hand = new KatranLb(byHand, { defaultMac: '00:00:de:ad:be:af' });
  hand.init();
  const vip = { address: '10.200.1.1', port: 80, proto: 6 };
  hand.addVip(vip, 16);
  hand.addRealForVip({ address: '10.0.0.1', weight: 1 }, vip);
  hand.addSrcRoutingRule(['192.168.0.0/16', 'fc00:2::/64'], '10.0.0.3');
  hand.addInlineDecapDst('10.100.0.1');
  hand.addInlineDecapDst('fc00:100::1');
  hand.addHealthcheckerDst(1, '10.0.0.1');
  assert.is(snapshot(maps), snapshot(byHand));
  assert.is(lb.getSrcRoutingRuleSize(), 2);

  const bad: Array<[object, RegExp]> = [
    [{ srcRoutingRules: [{ srcs: ['10.0.0.0/8'], dst: '10.0.0.1', extra: 1 }] }, /\$\.srcRoutingRules\[0\]\.extra: unknown key/],
    [
      { srcRoutingRules: [{ srcs: ['10.0.0.0/40'], dst: '10.0.0.1' }] },
      /\$\.srcRoutingRules\[0\]\.srcs\[0\]: '10\.0\.0\.0\/40' prefix length/,
    ],
    [
      { srcRoutingRules: [{ srcs: ['10.0.0.0/8', '10.1.0.0/8'], dst: '10.0.0.1' }] },
      /srcs\[1\]: network 10\.0\.0\.0\/8 has more than one rule/,
    ],
    [{ srcRoutingRules: [{ srcs: ['10.0.0.0/8'], dst: 'x' }] }, /\$\.srcRoutingRules\[0\]\.dst: 'x' is not/],
    [{ decapDsts: ['10.0.0.1', '10.0.0.1'] }, /\$\.decapDsts\[1\]: duplicate decap destination/],
    [{ healthchecks: [{ somark: -1, address: '10.0.0.1' }] }, /\$\.healthchecks\[0\]\.somark: must be an integer/],
    [{ healthcheck: [] }, /\$\.healthcheck: unknown key/],
  ];
  for (const [extra, pattern] of bad) {
    throwsKatran(() => parseKatranConfig(JSON.stringify({ mac: '00:00:de:ad:be:af', ...extra }), 'cfg.json'), pattern);
  }

  // Checked against the balancer before any write: a VIP plus one misfit writes nothing.
  const before = snapshot(maps);
  const misfits: Array<[object, RegExp]> = [
    [{ decapDsts: ['10.100.0.1'] }, /\$\.decapDsts\[0\]: 10\.100\.0\.1 is already a decap destination/],
    [{ decapDsts: ['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5'] }, /7 decap destinations exceed the limit 6/],
    [{ srcRoutingRules: [{ srcs: ['192.168.1.1/16'], dst: '10.0.0.1' }] }, /already has a rule for 192\.168\.0\.0\/16/],
  ];
  for (const [extra, pattern] of misfits) {
    const config = parseKatranConfig(
      JSON.stringify({ mac: '00:00:de:ad:be:af', vips: [{ address: '10.200.9.9', port: 80, protocol: 'tcp' }], ...extra }),
      'cfg.json',
    );
    throwsKatran(() => applyKatranConfig(lb, config), pattern);
    assert.is(snapshot(maps), before);
  }
  // An object without hc_reals_map refuses a file with healthchecks, and creates nothing.
  const noHc = memoryMaps({
    lpm_src_v4: OPTIONAL_SHAPES.lpm_src_v4!,
    lpm_src_v6: OPTIONAL_SHAPES.lpm_src_v6!,
    decap_dst: OPTIONAL_SHAPES.decap_dst!,
  });
  throwsKatran(() => applyKatranConfig(noHc, parseKatranConfig(text, 'cfg.json')), /\$\.healthchecks: the object has no map hc_reals_map/);
  assert.equal(noHc.entries('vip_map'), []);
  assert.equal(
    noHc.entries('ctl_array').filter(([, v]) => v.some((b) => b !== 0)),
    [],
  );
});

test('gRPC: healthcheck RPCs over hc_reals_map', async () => {
  const maps = memoryMaps();
  const lb = new KatranLb(maps, { defaultMac: '00:00:00:00:00:01' });
  lb.init();
  const server = await startKatranGrpcServer(lb, '127.0.0.1:0');
  const bare = new KatranLb(new MemoryMaps(2));
  const bareServer = await startKatranGrpcServer(bare, '127.0.0.1:0');
  const pkg = (loadKatranProto().lb as grpc.GrpcObject).katran as grpc.GrpcObject;
  const Service = pkg.KatranService as grpc.ServiceClientConstructor;
  type Client = grpc.Client & Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, reply: any) => void) => void>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const connect = (port: number): Client => new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
  const client = connect(server.port);
  const bareClient = connect(bareServer.port);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (c: Client, method: string, request: unknown): Promise<any> =>
    new Promise((resolve, reject) => c[method]!(request, (err, reply) => (err ? reject(err) : resolve(reply))));
  const status = (c: Client, method: string, request: unknown): Promise<number> =>
    call(c, method, request).then(
      () => grpc.status.OK,
      (e: grpc.ServiceError) => e.code,
    );
  try {
    assert.equal(await call(client, 'addHealthcheckerDst', { somark: 1, address: '10.0.0.1' }), { success: true });
    assert.equal(await call(client, 'addHealthcheckerDst', { somark: 2, address: 'fc00::1' }), { success: true });
    assert.equal((await call(client, 'getHealthcheckersDst', {})).healthchecks, { 1: '10.0.0.1', 2: 'fc00::1' });
    // What the RPCs wrote is what the library call writes (compared with a direct call).
    const direct = memoryMaps();
    const directLb = new KatranLb(direct);
    directLb.addHealthcheckerDst(1, '10.0.0.1');
    directLb.addHealthcheckerDst(2, 'fc00::1');
    assert.equal(
      maps
        .entries('hc_reals_map')
        .map(([k, v]) => hex(k) + hex(v))
        .sort(),
      direct
        .entries('hc_reals_map')
        .map(([k, v]) => hex(k) + hex(v))
        .sort(),
    );
    assert.is(await status(client, 'addHealthcheckerDst', { somark: 3, address: '10.0.0' }), grpc.status.INVALID_ARGUMENT);
    assert.is(await status(client, 'delHealthcheckerDst', { somark: 9 }), grpc.status.CANCELLED);
    assert.equal(await call(client, 'delHealthcheckerDst', { somark: 1 }), { success: true });
    assert.equal((await call(client, 'getHealthcheckersDst', {})).healthchecks, { 2: 'fc00::1' });
    // No hc_reals_map: every healthcheck RPC is CANCELLED, as katran's server with HC off.
    for (const [method, request] of [
      ['addHealthcheckerDst', { somark: 1, address: '10.0.0.1' }],
      ['delHealthcheckerDst', { somark: 1 }],
      ['getHealthcheckersDst', {}],
    ] as const) {
      assert.is(await status(bareClient, method, request), grpc.status.CANCELLED, method);
    }
  } finally {
    client.close();
    bareClient.close();
    await server.close();
    await bareServer.close();
  }
});

// ------------------------------------------------------------------ the example LB, kernel as oracle

const VIP = [10, 200, 1, 1];
const VIP6 = [0xfc, 0, 0, 1, ...new Array(11).fill(0), 1];
const MATCHED = [192, 168, 5, 5]; // inside 192.168.0.0/16
const UNMATCHED = [172, 31, 0, 9];
const MATCHED6 = [0xfc, 0, 0, 2, ...new Array(11).fill(0), 7]; // inside fc00:2::/64
const DECAP4 = [10, 100, 0, 1];
const DECAP6 = [0xfc, 0, 1, 0, ...new Array(11).fill(0), 1];

function provision(lb: KatranLb): void {
  lb.init();
  const tcpVip = { address: '10.200.1.1', port: 80, proto: 6 };
  const v6Vip = { address: 'fc00:1::1', port: 80, proto: 6 };
  lb.addVip(tcpVip, 16); // SRC_ROUTING
  lb.addVip(v6Vip, 16);
  for (const a of ['10.0.0.1', '10.0.0.2']) lb.addRealForVip({ address: a, weight: 1 }, tcpVip);
  for (const a of ['fc00::1', 'fc00::2']) lb.addRealForVip({ address: a, weight: 1 }, v6Vip);
  lb.addSrcRoutingRule(['192.168.0.0/16', '10.50.0.0/16'], '10.0.0.9');
  lb.addSrcRoutingRule(['fc00:2::/64'], 'fc00::9');
  lb.delSrcRoutingRule(['10.50.0.0/16']);
  lb.addInlineDecapDst('10.100.0.1');
  lb.addInlineDecapDst('fc00:100::1');
  lb.addInlineDecapDst('10.100.0.2');
  lb.delInlineDecapDst('10.100.0.2');
}

const frames = [
  {
    name: 'syn from a routed network (-> 10.0.0.9)',
    bytes: ethernet(0x0800, ipv4({ src: MATCHED, dst: VIP, proto: 6 }, tcp(31337, 80, 0x02))),
  },
  { name: 'syn from elsewhere (ring)', bytes: ethernet(0x0800, ipv4({ src: UNMATCHED, dst: VIP, proto: 6 }, tcp(31337, 80, 0x02))) },
  { name: 'v6 syn from a routed network (-> fc00::9)', bytes: ethernet(0x86dd, ipv6(MATCHED6, VIP6, 6, tcp(4000, 80, 0x02))) },
  {
    name: 'IPIP to a decap destination',
    bytes: ethernet(
      0x0800,
      ipv4({ src: [10, 9, 9, 9], dst: DECAP4, proto: 4 }, ipv4({ src: UNMATCHED, dst: [10, 1, 1, 1], proto: 17 }, udp(53, 53, 12))),
    ),
  },
  {
    name: 'IPIP to another address (untouched)',
    bytes: ethernet(
      0x0800,
      ipv4(
        { src: [10, 9, 9, 9], dst: [10, 100, 0, 2], proto: 4 },
        ipv4({ src: UNMATCHED, dst: [10, 1, 1, 1], proto: 17 }, udp(53, 53, 12)),
      ),
    ),
  },
  {
    name: 'IPv6-in-IPv6 to a decap destination',
    bytes: ethernet(0x86dd, ipv6(MATCHED6, DECAP6, 41, ipv6(MATCHED6, VIP6, 6, tcp(4000, 80, 0x02)))),
  },
  {
    name: 'IPv4-in-IPv6 to a decap destination, inner TTL 1 (dropped)',
    bytes: ethernet(0x86dd, ipv6(MATCHED6, DECAP6, 4, ipv4({ src: UNMATCHED, dst: VIP, proto: 6, ttl: 1 }, tcp(1, 80, 2)))),
  },
];

test('example LB: the same calls give the same maps and packets in userspace and in the kernel', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('routing features userspace vs kernel', unavailable);
  const object = examplePath('xdp_lb');
  const twins = engineTwins(compileObjectFile(object, 'xdp_lb'));
  const machines = { wasm: twins.wasm.machine, interp: twins.interp.machine };
  const workers = { wasm: twins.wasm.worker, interp: twins.interp.worker };
  const lbFor = (maps: KatranMaps): KatranLb => new KatranLb(maps, { defaultMac: '00:00:de:ad:be:af', ...sizesFromMaps(maps) });
  const userspaceLb = lbFor(new UserspaceKatranMaps(machines.wasm.maps));
  provision(userspaceLb);
  provision(lbFor(new UserspaceKatranMaps(machines.interp.maps)));
  const kernel = KernelObject.load(object);
  try {
    provision(lbFor(new KernelKatranMaps(kernel, possibleCpus())));
    const render = (entries: Iterable<[Uint8Array, Uint8Array]>): string[] => [...entries].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
    for (const name of ['lpm_src_v4', 'lpm_src_v6', 'decap_dst', 'reals', 'vip_map']) {
      const theirs = render(kernel.dump(name).map((e): [Uint8Array, Uint8Array] => [e.key, e.values[0]!]));
      assert.equal(render(machines.wasm.maps.byNameOrThrow(name).entries()), theirs, `map ${name}`);
    }
    assert.is(kernel.dump('lpm_src_v4').length, 1, 'the deleted rule is gone');

    const realOf = (packet: Uint8Array): string => hex(packet[12] === 0x08 ? packet.subarray(30, 34) : packet.subarray(38, 54));
    for (const f of frames) {
      const k = kernel.testRun('xdp_lb', f.bytes);
      const want = `${XDP_ACTION_NAME[k.retval]} ${hex(k.data)}`;
      for (const engine of ['wasm', 'interp'] as const) {
        const r = workers[engine].runXdp('xdp_lb', f.bytes);
        assert.is(`${r.actionName} ${hex(r.packet)}`, want, `${engine}: ${f.name}${r.fault ? ` (fault ${r.fault})` : ''}`);
      }
      // Independent of the implementations: routed clients reach the rule's real, decapsulated
      // packets are the inner packet with its TTL one lower.
      if (f.name.includes('-> 10.0.0.9')) assert.is(realOf(k.data), '0a000009', f.name);
      if (f.name.includes('-> fc00::9')) assert.is(realOf(k.data), `fc000000${zeros(11)}09`, f.name);
      if (f.name === 'syn from elsewhere (ring)') assert.ok(['0a000001', '0a000002'].includes(realOf(k.data)), f.name);
      if (f.name === 'IPIP to a decap destination') {
        const inner = f.bytes.subarray(34);
        assert.is(XDP_ACTION_NAME[k.retval], 'XDP_PASS');
        assert.is(hex(k.data.subarray(14, 22)), hex(inner.subarray(0, 8)), 'inner header up to the TTL');
        assert.is(k.data[22], inner[8]! - 1, 'TTL one lower');
        assert.is(hex(k.data.subarray(0, 12)), hex(f.bytes.subarray(0, 12)), 'MACs kept');
      }
      if (f.name.includes('untouched')) assert.is(hex(k.data), hex(f.bytes));
    }
    // Counters: LPM_SRC (16+5) and DECAP (16+10) of the example's stats, userspace = kernel.
    for (const index of [21, 22, 26]) {
      const key = new Uint8Array([index, 0, 0, 0]);
      const sum = (values: Uint8Array[]): string => {
        let a = 0n,
          b = 0n;
        for (const v of values) {
          const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
          a += d.getBigUint64(0, true);
          b += d.getBigUint64(8, true);
        }
        return `${a}/${b}`;
      };
      const ours = machines.wasm.maps.byNameOrThrow('stats').lookupBytes(key)!;
      const oursPerCpu = Array.from({ length: ours.length / 16 }, (_, i) => ours.subarray(i * 16, i * 16 + 16));
      assert.is(sum(oursPerCpu), sum(kernel.lookup('stats', key)!), `stats[${index}]`);
    }
    assert.is(userspaceLb.stats.getLbStats(21).v2, 2n, 'two packets routed by a rule');
    report(
      `source routing / inline decap: ${frames.length} packets identical on wasm, interpreter and kernel; lpm_src_v4/v6, decap_dst, reals equal`,
    );
  } finally {
    kernel.close();
  }
});

test.run();
