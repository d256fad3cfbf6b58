// bpf_fib_lookup against the kernel: in a network namespace made for the test (veths,
// addresses, routes of every type, static neighbours, a device with forwarding off), the
// forwarder test/fixtures/helpers/fib_lookup.c runs on the kernel (BPF_PROG_TEST_RUN), on
// wasm and on the interpreter, all inside the namespace (support/fib-child.ts). Every
// packet asks one question (destination, ingress ifindex, flags, tot_len); the verdicts and
// the output bytes (return code, the whole struct bpf_fib_lookup, rewritten MACs) must be
// equal, and the kernel's own answers must be the ones each case was built to provoke.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { kernelMissing } from '../../native/kernel.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';
import { packageRoot } from '../../core/package-root.js';

const ns = `bpf2wasm-fib-${process.pid}`;
const sh = (...args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const inNs = (...args: string[]): string => sh('ip', 'netns', 'exec', ns, ...args);

const FLAG = { DIRECT: 1, OUTPUT: 2, SKIP_NEIGH: 4, TBID: 8, SRC: 16, MARK: 32 };
const RET = { SUCCESS: 0, BLACKHOLE: 1, UNREACHABLE: 2, PROHIBIT: 3, NOT_FWDED: 4, FWD_DISABLED: 5, NO_NEIGH: 7, FRAG_NEEDED: 8 };
const XDP = { ABORTED: 0, PASS: 2, REDIRECT: 4 };
const NEIGH_MAC = '02:00:00:00:77:02';

function topology(): void {
  sh('ip', 'netns', 'add', ns);
  const ip = (...args: string[]): string => sh('ip', '-n', ns, ...args);
  ip('link', 'add', 'fib0', 'type', 'veth', 'peer', 'name', 'fib1');
  ip('link', 'add', 'fib2', 'type', 'veth', 'peer', 'name', 'fib3');
  ip('link', 'set', 'fib2', 'mtu', '1400');
  for (const dev of ['lo', 'fib0', 'fib1', 'fib2', 'fib3']) ip('link', 'set', dev, 'up');
  inNs('sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  inNs('sysctl', '-qw', 'net.ipv4.conf.fib3.forwarding=0', 'net.ipv6.conf.fib3.forwarding=0');
  ip('addr', 'add', '10.77.1.1/24', 'dev', 'fib0');
  ip('addr', 'add', '10.77.2.1/24', 'dev', 'fib2');
  ip('-6', 'addr', 'add', 'fd77:1::1/64', 'dev', 'fib0', 'nodad');
  ip('-6', 'addr', 'add', 'fd77:2::1/64', 'dev', 'fib2', 'nodad');
  ip('neigh', 'replace', '10.77.1.2', 'lladdr', NEIGH_MAC, 'nud', 'permanent', 'dev', 'fib0');
  ip('neigh', 'replace', '10.77.2.2', 'lladdr', '02:00:00:00:77:22', 'nud', 'reachable', 'dev', 'fib2');
  ip('-6', 'neigh', 'replace', 'fd77:1::2', 'lladdr', NEIGH_MAC, 'nud', 'permanent', 'dev', 'fib0');
  ip('route', 'add', '10.77.50.0/24', 'via', '10.77.1.2', 'metric', '7');
  ip('route', 'add', '10.77.60.0/24', 'via', '10.77.1.3');
  ip('route', 'add', '10.77.40.0/24', 'via', '10.77.1.2', 'mtu', 'lock', '1300');
  ip('route', 'add', '10.77.45.0/24', 'via', '10.77.2.2', 'src', '10.77.2.1');
  ip('route', 'add', 'blackhole', '10.77.70.0/24');
  ip('route', 'add', 'unreachable', '10.77.80.0/24');
  ip('route', 'add', 'prohibit', '10.77.90.0/24');
  ip('-6', 'route', 'add', 'fd77:50::/64', 'via', 'fd77:1::2', 'metric', '9');
  ip('-6', 'route', 'add', 'fd77:60::/64', 'via', 'fd77:1::3');
  ip('-6', 'route', 'add', 'blackhole', 'fd77:70::/64');
  ip('-6', 'route', 'add', 'unreachable', 'fd77:80::/64');
  // Multipath (ECMP): the next hop follows the flow's hash (IPv4 with ports: policy 1).
  inNs('sysctl', '-qw', 'net.ipv4.fib_multipath_hash_policy=1');
  ip('-6', 'neigh', 'replace', 'fd77:2::2', 'lladdr', '02:00:00:00:77:22', 'nud', 'permanent', 'dev', 'fib2');
  ip(
    'route',
    'add',
    '10.77.100.0/24',
    'nexthop',
    'via',
    '10.77.1.2',
    'dev',
    'fib0',
    'nexthop',
    'via',
    '10.77.2.2',
    'dev',
    'fib2',
    'weight',
    '2',
  );
  ip('-6', 'route', 'add', 'fd77:100::/64', 'nexthop', 'via', 'fd77:1::2', 'dev', 'fib0', 'nexthop', 'via', 'fd77:2::2', 'dev', 'fib2');
  // Table 100, reached by policy rules on the source, the input device and the mark, or directly (TBID).
  ip('route', 'add', '10.77.50.0/24', 'via', '10.77.2.2', 'table', '100', 'metric', '3');
  ip('route', 'add', '10.77.110.0/24', 'via', '10.77.2.2', 'table', '100');
  ip('-6', 'route', 'add', 'fd77:50::/64', 'via', 'fd77:2::2', 'table', '100');
}

/** Rules of our own (the first makes IPv4 split its local table from main: fib_unmerge). */
function rules(): void {
  const ip = (...args: string[]): string => sh('ip', '-n', ns, ...args);
  ip('rule', 'add', 'from', '10.77.1.200', 'lookup', '100', 'pref', '100');
  ip('rule', 'add', 'iif', 'fib1', 'lookup', '100', 'pref', '101');
  ip('rule', 'add', 'fwmark', '9', 'lookup', '100', 'pref', '102');
  ip('-6', 'rule', 'add', 'from', 'fd77:1::200', 'lookup', '100', 'pref', '100');
  ip('-6', 'rule', 'add', 'iif', 'fib1', 'lookup', '100', 'pref', '101');
}

const ipv4Bytes = (a: string): number[] => a.split('.').map(Number);
function ipv6Bytes(a: string): number[] {
  const [head, tail = ''] = a.split('::');
  const words = (s: string): number[] => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head!);
  const t = a.includes('::') ? words(tail) : [];
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

interface Case {
  name: string;
  dst: string;
  src?: string;
  dev: string;
  flags?: number;
  totLen?: number;
  mark?: number;
  tbid?: number;
  sport?: number;
  /** What the kernel is expected to answer (checks the topology provokes it). */
  rc: number;
}

/** Ethernet + IP + UDP + the control block (ifindex, flags, tot_len, mark, rc, struct) the program reads. */
function frame(c: Case, ifindex: number): Uint8Array {
  const v6 = c.dst.includes(':');
  const control = Buffer.alloc(24 + 8 + 64);
  control.writeUInt32LE(ifindex, 0);
  control.writeUInt32LE(c.flags ?? 0, 4);
  control.writeUInt32LE(c.totLen ?? 0, 8);
  control.writeUInt32LE(c.mark ?? 0, 12);
  control.writeUInt32LE(c.tbid ?? 0, 16);
  const udp = Buffer.from([(c.sport ?? 12345) >> 8, (c.sport ?? 12345) & 0xff, 0x00, 0x35, 0, 8 + control.length, 0, 0]);
  const eth = Buffer.from([2, 0, 0, 0, 0, 0xaa, 2, 0, 0, 0, 0, 0xbb, v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00]);
  let ip: Buffer;
  if (v6) {
    ip = Buffer.alloc(40);
    ip.set([0x60, 0x01, 0x23, 0x45]);
    ip.writeUInt16BE(udp.length + control.length, 4);
    ip[6] = 17;
    ip[7] = 64;
    ip.set(ipv6Bytes(c.src ?? 'fd77:1::9'), 8);
    ip.set(ipv6Bytes(c.dst), 24);
  } else {
    ip = Buffer.from([0x45, 0x10, 0, 20 + udp.length + control.length, 0, 1, 0, 0, 64, 17, 0, 0]);
    ip = Buffer.concat([ip, Buffer.from(ipv4Bytes(c.src ?? '10.77.1.9')), Buffer.from(ipv4Bytes(c.dst))]);
  }
  return new Uint8Array(Buffer.concat([eth, ip, udp, control]));
}

/** Asked before the namespace has rules of its own: DIRECT meets IPv4's merged main and local tables. */
const DEFAULT_RULE_CASES: Case[] = [
  { name: 'default rules: IPv4 DIRECT to a local address', dst: '10.77.1.1', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.NOT_FWDED },
  { name: 'default rules: IPv6 DIRECT to a local address', dst: 'fd77:1::1', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.NO_NEIGH },
  { name: 'default rules: IPv4 DIRECT', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.SUCCESS },
  {
    name: 'default rules: IPv4 DIRECT TBID 100',
    dst: '10.77.110.5',
    dev: 'fib0',
    flags: FLAG.DIRECT | FLAG.TBID,
    tbid: 100,
    rc: RET.SUCCESS,
  },
  { name: 'default rules: IPv6 DIRECT', dst: 'fd77:50::5', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.SUCCESS },
  {
    name: 'default rules: IPv4 DIRECT multipath',
    dst: '10.77.100.77',
    src: '10.77.1.33',
    dev: 'fib0',
    flags: FLAG.DIRECT,
    rc: RET.SUCCESS,
  },
];

const CASES: Case[] = [
  { name: 'IPv4 via a gateway with a permanent neighbour', dst: '10.77.50.5', dev: 'fib0', rc: RET.SUCCESS },
  { name: 'IPv4 on-link with a reachable neighbour', dst: '10.77.2.2', dev: 'fib0', rc: RET.SUCCESS },
  { name: 'IPv4 gateway without a neighbour', dst: '10.77.60.5', dev: 'fib0', rc: RET.NO_NEIGH },
  { name: 'IPv4 gateway without a neighbour, SKIP_NEIGH', dst: '10.77.60.5', dev: 'fib0', flags: FLAG.SKIP_NEIGH, rc: RET.SUCCESS },
  { name: 'IPv4 on-link without a neighbour', dst: '10.77.1.77', dev: 'fib0', rc: RET.NO_NEIGH },
  { name: 'IPv4 blackhole', dst: '10.77.70.1', dev: 'fib0', rc: RET.BLACKHOLE },
  { name: 'IPv4 unreachable', dst: '10.77.80.1', dev: 'fib0', rc: RET.UNREACHABLE },
  { name: 'IPv4 prohibit', dst: '10.77.90.1', dev: 'fib0', rc: RET.PROHIBIT },
  { name: 'IPv4 no route', dst: '192.0.2.1', dev: 'fib0', rc: RET.NOT_FWDED },
  { name: 'IPv4 to a local address', dst: '10.77.1.1', dev: 'fib0', rc: RET.NOT_FWDED },
  { name: 'IPv4 forwarding off on the ingress device', dst: '10.77.50.5', dev: 'fib3', rc: RET.FWD_DISABLED },
  { name: 'IPv4 within the device MTU', dst: '10.77.2.2', dev: 'fib0', totLen: 1400, rc: RET.SUCCESS },
  { name: 'IPv4 beyond the device MTU', dst: '10.77.2.2', dev: 'fib0', totLen: 1401, rc: RET.FRAG_NEEDED },
  { name: 'IPv4 beyond a locked route MTU', dst: '10.77.40.1', dev: 'fib0', totLen: 1301, rc: RET.FRAG_NEEDED },
  { name: 'IPv4 within a locked route MTU', dst: '10.77.40.1', dev: 'fib0', totLen: 1300, rc: RET.SUCCESS },
  { name: 'IPv4 DIRECT', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.SUCCESS },
  { name: 'IPv4 OUTPUT', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.OUTPUT, rc: RET.SUCCESS },
  { name: 'IPv4 MARK', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.MARK, mark: 5, rc: RET.SUCCESS },
  { name: 'IPv4 SRC from the route', dst: '10.77.45.1', dev: 'fib0', flags: FLAG.SRC, rc: RET.SUCCESS },
  { name: 'IPv4 SRC chosen by the host', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.SRC, rc: RET.SUCCESS },
  { name: 'unknown flag', dst: '10.77.50.5', dev: 'fib0', flags: 1 << 10, rc: -22 },
  { name: 'no such ingress device', dst: '10.77.50.5', dev: '#999', rc: -19 },
  { name: 'IPv6 via a gateway with a neighbour', dst: 'fd77:50::5', dev: 'fib0', rc: RET.SUCCESS },
  { name: 'IPv6 gateway without a neighbour', dst: 'fd77:60::5', dev: 'fib0', rc: RET.NO_NEIGH },
  { name: 'IPv6 blackhole', dst: 'fd77:70::1', dev: 'fib0', rc: RET.BLACKHOLE },
  { name: 'IPv6 unreachable', dst: 'fd77:80::1', dev: 'fib0', rc: RET.UNREACHABLE },
  { name: 'IPv6 no route', dst: '2001:db8::1', dev: 'fib0', rc: RET.NOT_FWDED },
  { name: 'IPv6 link-local', dst: 'fe80::1', dev: 'fib0', rc: RET.NOT_FWDED },
  { name: 'IPv6 beyond the device MTU', dst: 'fd77:2::5', dev: 'fib0', totLen: 1401, rc: RET.FRAG_NEEDED },
  { name: 'IPv6 forwarding off on the ingress device', dst: 'fd77:50::5', dev: 'fib3', rc: RET.FWD_DISABLED },
  { name: 'IPv6 SRC chosen by the host', dst: 'fd77:50::5', dev: 'fib0', flags: FLAG.SRC, rc: RET.SUCCESS },
  // Policy rules: on the source, the input device, the mark; DIRECT skips them.
  { name: 'IPv4 rule on the source', dst: '10.77.50.5', src: '10.77.1.200', dev: 'fib0', rc: RET.SUCCESS },
  { name: 'IPv4 rule on the input device', dst: '10.77.50.5', dev: 'fib1', rc: RET.SUCCESS },
  { name: 'IPv4 rule on the mark', dst: '10.77.110.5', dev: 'fib0', flags: FLAG.MARK, mark: 9, rc: RET.SUCCESS },
  { name: 'IPv4 mark without MARK', dst: '10.77.110.5', dev: 'fib0', mark: 9, rc: RET.NOT_FWDED },
  { name: 'IPv4 DIRECT skips the source rule', dst: '10.77.50.5', src: '10.77.1.200', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.SUCCESS },
  { name: 'IPv4 DIRECT skips the input-device rule', dst: '10.77.50.5', dev: 'fib1', flags: FLAG.DIRECT, rc: RET.SUCCESS },
  { name: 'IPv4 DIRECT to a local address: the main table', dst: '10.77.1.1', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.NO_NEIGH },
  { name: 'IPv4 DIRECT TBID 100', dst: '10.77.110.5', dev: 'fib0', flags: FLAG.DIRECT | FLAG.TBID, tbid: 100, rc: RET.SUCCESS },
  {
    name: 'IPv4 DIRECT TBID 100, a route of both',
    dst: '10.77.50.5',
    dev: 'fib0',
    flags: FLAG.DIRECT | FLAG.TBID,
    tbid: 100,
    rc: RET.SUCCESS,
  },
  {
    name: 'IPv4 DIRECT TBID 100, no route there',
    dst: '10.77.60.5',
    dev: 'fib0',
    flags: FLAG.DIRECT | FLAG.TBID,
    tbid: 100,
    rc: RET.NOT_FWDED,
  },
  { name: 'IPv4 DIRECT TBID of no table', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.DIRECT | FLAG.TBID, tbid: 555, rc: RET.NOT_FWDED },
  { name: 'IPv4 DIRECT TBID 0: main', dst: '10.77.50.5', dev: 'fib0', flags: FLAG.DIRECT | FLAG.TBID, rc: RET.SUCCESS },
  { name: 'IPv4 TBID without DIRECT', dst: '10.77.110.5', dev: 'fib0', flags: FLAG.TBID, tbid: 100, rc: RET.NOT_FWDED },
  {
    name: 'IPv4 DIRECT TBID blackhole in main',
    dst: '10.77.70.1',
    dev: 'fib0',
    flags: FLAG.DIRECT | FLAG.TBID,
    tbid: 254,
    rc: RET.BLACKHOLE,
  },
  {
    name: 'IPv4 DIRECT TBID SKIP_NEIGH',
    dst: '10.77.60.5',
    dev: 'fib0',
    flags: FLAG.DIRECT | FLAG.TBID | FLAG.SKIP_NEIGH,
    tbid: 254,
    rc: RET.SUCCESS,
  },
  { name: 'IPv6 rule on the source', dst: 'fd77:50::5', src: 'fd77:1::200', dev: 'fib0', rc: RET.SUCCESS },
  { name: 'IPv6 rule on the input device', dst: 'fd77:50::5', dev: 'fib1', rc: RET.SUCCESS },
  { name: 'IPv6 DIRECT skips the rules', dst: 'fd77:50::5', dev: 'fib1', flags: FLAG.DIRECT, rc: RET.SUCCESS },
  { name: 'IPv6 DIRECT TBID 100', dst: 'fd77:50::5', dev: 'fib0', flags: FLAG.DIRECT | FLAG.TBID, tbid: 100, rc: RET.SUCCESS },
  { name: 'IPv6 DIRECT to a local address: the main table', dst: 'fd77:1::1', dev: 'fib0', flags: FLAG.DIRECT, rc: RET.NO_NEIGH },
  // Multipath: the next hop the kernel hashes each flow to; OUTPUT takes the one through the device.
  ...Array.from({ length: 12 }, (_, i): Case => ({
    name: `IPv4 multipath flow ${i}`,
    dst: `10.77.100.${1 + ((i * 37) % 250)}`,
    src: `10.77.1.${10 + i}`,
    sport: 1000 + 977 * i,
    dev: 'fib0',
    flags: i % 3 === 2 ? FLAG.DIRECT : 0,
    rc: RET.SUCCESS,
  })),
  ...Array.from({ length: 8 }, (_, i): Case => ({
    name: `IPv6 multipath flow ${i}`,
    dst: `fd77:100::${(i * 37 + 1).toString(16)}`,
    src: `fd77:1::${(10 + i).toString(16)}`,
    sport: 2000 + 977 * i,
    dev: 'fib0',
    flags: i % 3 === 2 ? FLAG.DIRECT : 0,
    rc: RET.SUCCESS,
  })),
  { name: 'IPv4 multipath OUTPUT through the second hop', dst: '10.77.100.9', dev: 'fib2', flags: FLAG.OUTPUT, rc: RET.SUCCESS },
  { name: 'IPv4 multipath SRC', dst: '10.77.100.9', dev: 'fib0', flags: FLAG.SRC, rc: RET.SUCCESS },
  { name: 'IPv6 multipath OUTPUT through the second hop', dst: 'fd77:100::9', dev: 'fib2', flags: FLAG.OUTPUT, rc: RET.SUCCESS },
];

/** The ifindex the lookup wrote (struct bpf_fib_lookup's, at the packet's end). */
const outIfindex = (data: string): number => Buffer.from(data, 'hex').readUInt32LE(data.length / 2 - 64 + 8);

/** The return code the program wrote into the packet (the control block's rc). */
const rcOf = (data: string): number => Number(Buffer.from(data, 'hex').readBigInt64LE(data.length / 2 - 64 - 8));

test('bpf_fib_lookup: wasm, interpreter and kernel agree on every route shape', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('fib_lookup differential', unavailable);
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'helpers', 'fib_lookup.c'));
  try {
    topology();
    const ifindex = (dev: string): number =>
      dev.startsWith('#') ? Number(dev.slice(1)) : Number(inNs('cat', `/sys/class/net/${dev}/ifindex`).trim());
    const seen = new Set<number>();
    let compared = 0;
    const phase = (cases: Case[]): void => {
      const frames = cases.map((c) => Buffer.from(frame(c, ifindex(c.dev))).toString('hex'));
      const child = spawnSync(
        'ip',
        ['netns', 'exec', ns, process.execPath, join(packageRoot, 'dist', 'test', 'support', 'fib-child.js'), object],
        {
          input: JSON.stringify(frames),
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        },
      );
      assert.is(child.status, 0, `the engines ran in the namespace: ${child.stderr}`);
      type Out = { action: number; data: string; fault?: string };
      const results = JSON.parse(child.stdout) as { kernel: Out; wasm: Out; interp: Out }[];
      cases.forEach((c, i) => {
        const r = results[i]!;
        const kernelRc = r.kernel.action === XDP.ABORTED ? undefined : rcOf(r.kernel.data);
        if (c.rc < 0) assert.is(r.kernel.action, XDP.ABORTED, `${c.name}: the kernel's verdict (an error aborts)`);
        else assert.is(kernelRc, c.rc, `${c.name}: the kernel's return code`);
        seen.add(c.rc);
        for (const engine of ['wasm', 'interp'] as const) {
          assert.is(r[engine].fault, undefined, `${c.name}: ${engine} ran without a fault`);
          assert.is(r[engine].action, r.kernel.action, `${c.name}: ${engine} verdict`);
          if (c.rc >= 0) assert.is(r[engine].data, r.kernel.data, `${c.name}: ${engine} bytes (rc, struct bpf_fib_lookup, MACs)`);
        }
        if (c.rc === RET.SUCCESS) assert.is(r.kernel.action, XDP.REDIRECT, `${c.name}: redirected`);
        compared++;
      });
      // The multipath flows must reach both next hops, or they would not show the choice.
      const hops = new Set(cases.flatMap((c, i) => (c.name.includes('multipath flow') ? [outIfindex(results[i]!.kernel.data)] : [])));
      if (cases === CASES) assert.is(hops.size, 2, 'the multipath flows leave by both next hops');
    };
    phase(DEFAULT_RULE_CASES);
    rules();
    phase(CASES);
    report(
      `fib_lookup differential: ${compared} lookups (${seen.size} distinct return codes; rules, DIRECT, TBID, multipath), equal on wasm, interpreter and kernel`,
    );
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

test.run();
