// A running instance's maps through its control socket: `bpf2wasm map lookup|dump|update`
// against a live `bpf2wasm run` of examples/xdp_counter on a veth. The counters equal the
// pings sent through the interface; a value written through the socket is what the
// program increments on the next packet; errors are one line; the socket goes with the run.
// Also: two workers sharing one interface's frames (AF_PACKET fanout) and the maps, and a
// live XDP_REDIRECT through a devmap (provisioned with --update) to another interface.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BPF2WASM, startRun, topologyMissing } from '../../examples/topology/topology.js';
import { examplePath } from '../support/examples.js';
import { compileBpf } from '../support/clang.js';
import { join } from 'node:path';
import { skip } from '../support/skip.js';
import { packageRoot } from '../../core/package-root.js';

const unavailable = topologyMissing();
const root = packageRoot;
const ns = `lctl${process.pid % 100000}`;
const socket = `/run/bpf2wasm/test-${process.pid}.sock`;
const ICMP = '03000000';
const FRAME = 98; // a default ping: 14 + 20 + 8 + 56

function sh(...command: string[]): string {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function map(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BPF2WASM, 'map', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Sum over CPUs of the {packets, bytes} u64 pairs in a per-CPU lookup line. */
function counters(line: string): [bigint, bigint] {
  const value = Buffer.from(/value ([0-9a-f]+)/.exec(line)![1]!, 'hex');
  let packets = 0n;
  let bytes = 0n;
  for (let at = 0; at < value.length; at += 16) {
    packets += value.readBigUInt64LE(at);
    bytes += value.readBigUInt64LE(at + 8);
  }
  return [packets, bytes];
}

/** Echo requests toward a neighbour nobody answers for: they only need to cross the wire. */
const ping = (count: number): void =>
  void spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', '10.5.0.9']);

test('map commands against a running instance', async () => {
  if (unavailable) return void skip('live control socket', unavailable);
  sh('ip', 'netns', 'add', ns);
  sh('ip', '-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  for (const l of ['v0', 'v1', 'lo']) sh('ip', '-n', ns, 'link', 'set', l, 'up');
  sh('ip', '-n', ns, 'addr', 'add', '10.5.0.1/24', 'dev', 'v1');
  // A fixed neighbour: pings to 10.5.0.9 leave v1 at once and arrive on v0, no ARP.
  sh('ip', '-n', ns, 'neigh', 'add', '10.5.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'v1');
  const live = startRun(ns, examplePath('xdp_counter'), ['--iface', 'v0', '--stats-interval', '0', '--control', socket]);
  try {
    assert.match(await live.waitFor(/^running /), new RegExp(`maps: bpf2wasm map dump ${socket} MAP`));
    ping(3);
    const first = map('lookup', socket, 'proto_stats', ICMP);
    assert.is(first.status, 0, first.stderr);
    assert.equal(counters(first.stdout), [3n, BigInt(3 * FRAME)]);

    // Write 1000 packets into CPU 0's slot (worker 0 is CPU 0), zero elsewhere; one more ping.
    const value = Buffer.alloc(first.stdout.trim().split('value ')[1]!.length / 2);
    value.writeBigUInt64LE(1000n, 0);
    assert.is(map('update', socket, 'proto_stats', ICMP, value.toString('hex')).status, 0);
    ping(1);
    assert.equal(counters(map('lookup', socket, 'proto_stats', ICMP).stdout), [1001n, BigInt(FRAME)]);
    const bss = map('dump', socket, '.bss');
    assert.match(bss.stdout, /^key 00000000 value 0400000000000000$/m, 'total_packets: 4 frames in all');

    const bad = map('lookup', socket, 'nosuch', '00000000');
    assert.is(bad.status, 1);
    assert.match(bad.stderr.trim(), /^bpf2wasm: .*no map 'nosuch' \(maps: proto_stats, \.bss\)$/);
  } finally {
    assert.is(await live.stop(), 0);
    spawnSync('ip', ['netns', 'del', ns]);
  }
  assert.not.ok(existsSync(socket), 'the socket goes with the run');
  const gone = map('dump', socket, 'proto_stats');
  assert.is(gone.status, 1);
  assert.match(gone.stderr, /does not exist|cannot read|ENOENT/);
});

test('two workers (AF_PACKET fanout) share the frames and the maps; per-CPU slots per worker', async () => {
  if (unavailable) return void skip('live multi-worker', unavailable);
  const mns = `lmq${process.pid % 100000}`;
  sh('ip', 'netns', 'add', mns);
  try {
    sh('ip', '-n', mns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    for (const l of ['v0', 'v1', 'lo']) sh('ip', '-n', mns, 'link', 'set', l, 'up');
    sh('ip', '-n', mns, 'addr', 'add', '10.8.0.1/24', 'dev', 'v1');
    sh('ip', '-n', mns, 'neigh', 'add', '10.8.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'v1');
    const socketPath = `/run/bpf2wasm/test-mq-${process.pid}.sock`;
    const run = startRun(mns, examplePath('xdp_counter'), [
      '--iface',
      'v0',
      '--mode',
      'afpacket',
      '--queues',
      '2',
      '--stats-interval',
      '0',
      '--control',
      socketPath,
    ]);
    let lookup = '';
    try {
      assert.match(await run.waitFor(/^running /), /w0.*w1/, 'two workers');
      // 40 UDP datagrams from 40 sockets: 40 flows, which the fanout hash spreads.
      spawnSync('ip', ['netns', 'exec', mns, 'bash', '-c', 'for i in $(seq 40); do echo x > /dev/udp/10.8.0.9/9; done']);
      await new Promise((r) => setTimeout(r, 500));
      lookup = map('lookup', socketPath, 'proto_stats', '02000000').stdout; // CLASS_UDP
    } finally {
      assert.is(await run.stop(), 0);
    }
    // Per-CPU value: worker i writes CPU i's slot; both got some, together all 40.
    const value = Buffer.from(/value ([0-9a-f]+)/.exec(lookup)![1]!, 'hex');
    const perCpu = [0, 1].map((cpu) => value.readBigUInt64LE(cpu * 16));
    assert.is(perCpu[0]! + perCpu[1]!, 40n, `UDP frames counted: ${perCpu}`);
    assert.ok(perCpu[0]! > 0n && perCpu[1]! > 0n, `both workers counted some (${perCpu})`);
    assert.match(run.output, /total: \d+ packets/);
  } finally {
    spawnSync('ip', ['netns', 'del', mns]);
  }
});

test('XDP_REDIRECT through a devmap leaves by the other interface', async () => {
  if (unavailable) return void skip('live redirect', unavailable);
  const rns = `lred${process.pid % 100000}`;
  sh('ip', 'netns', 'add', rns);
  try {
    // v0/v1: where frames arrive; w0/w1: where the program sends them (w0 out, seen on w1).
    for (const [a, b] of [
      ['v0', 'v1'],
      ['w0', 'w1'],
    ]) {
      sh('ip', '-n', rns, 'link', 'add', a!, 'type', 'veth', 'peer', 'name', b!);
      for (const l of [a!, b!]) sh('ip', '-n', rns, 'link', 'set', l, 'up');
    }
    sh('ip', '-n', rns, 'addr', 'add', '10.7.0.1/24', 'dev', 'v1');
    sh('ip', '-n', rns, 'neigh', 'add', '10.7.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'v1');
    const w0 = sh('ip', 'netns', 'exec', rns, 'cat', '/sys/class/net/w0/ifindex').trim();
    const slot = Buffer.alloc(4);
    slot.writeUInt32LE(Number(w0));
    const program = compileBpf(join(root, 'test', 'fixtures', 'wasm', 'redirect_devmap.c'));
    const capture = spawn(
      'ip',
      ['netns', 'exec', rns, 'tcpdump', '--immediate-mode', '-n', '-i', 'w1', '-c', '3', 'icmp and dst 10.7.0.9'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let seen = '';
    capture.stdout.on('data', (d) => (seen += d));
    const run = startRun(rns, program, ['--iface', 'v0', '--stats-interval', '0', '--update', `ports=00000000:${slot.toString('hex')}`]);
    try {
      await run.waitFor(/^running /);
      await new Promise((r) => setTimeout(r, 500)); // tcpdump is listening by now
      spawnSync('ip', ['netns', 'exec', rns, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '10.7.0.9']);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      assert.is(await run.stop(), 0);
      capture.kill('SIGINT');
    }
    assert.match(run.output, /total: 3 packets; XDP_REDIRECT 3/);
    assert.is(
      seen
        .trim()
        .split('\n')
        .filter((l) => /ICMP echo request/.test(l)).length,
      3,
      `frames on w1:\n${seen}`,
    );
  } finally {
    spawnSync('ip', ['netns', 'del', rns]);
  }
});

test.run();
