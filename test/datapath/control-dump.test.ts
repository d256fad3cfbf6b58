// Dumping a large map of a running instance must not hurt it: `bpf2wasm map dump SOCKET
// big` of a 2M-entry array (katran's ch_rings is 33.5M) while pings cross the interface.
// The instance's resident memory stays within a bound far below what holding the dump
// would take, its stats line keeps coming at its interval throughout, the dump lists every
// entry with the values written through the socket, and every ping was counted.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BPF2WASM, startRun, topologyMissing } from '../../examples/topology/topology.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';
import { packageRoot } from '../../core/package-root.js';

const ENTRIES = 1 << 21; // big's max_entries in the fixture
const PINGS = 10;
const STATS_MS = 200;
/** Growth of the instance's RSS allowed during the dump; holding it would take hundreds of MB. */
const RSS_BOUND_MB = 64;

const unavailable = topologyMissing();
const ns = `ldump${process.pid % 100000}`;
const socket = `/run/bpf2wasm/test-dump-${process.pid}.sock`;

function sh(...command: string[]): void {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr}`);
}

function map(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BPF2WASM, 'map', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const u32hex = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('hex');

test('a dump of a 2M-entry map streams; the instance keeps its memory, its stats and its packets', async () => {
  if (unavailable) return void skip('live dump of a large map', unavailable);
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'control_maps.c'));
  sh('ip', 'netns', 'add', ns);
  try {
    sh('ip', '-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    for (const l of ['v0', 'v1', 'lo']) sh('ip', '-n', ns, 'link', 'set', l, 'up');
    sh('ip', '-n', ns, 'addr', 'add', '10.6.0.1/24', 'dev', 'v1');
    // A fixed neighbour: pings to 10.6.0.9 leave v1 at once and arrive on v0, no ARP.
    sh('ip', '-n', ns, 'neigh', 'add', '10.6.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'v1');
    const run = startRun(ns, object, [
      '--iface',
      'v0',
      '--mode',
      'afpacket',
      '--stats-interval',
      String(STATS_MS / 1000),
      '--control',
      socket,
    ]);
    try {
      await run.waitFor(/^running /);
      const pid = run.child.pid!;
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /bpf2wasm/, 'ip netns exec became the instance');
      // Values the dump must show: index -> value, written through the socket.
      const written = new Map([
        [1, 0xdeadbeef],
        [ENTRIES / 2, 7],
        [ENTRIES - 1, 0x01020304],
      ]);
      for (const [k, v] of written) assert.is(map('update', socket, 'big', u32hex(k), u32hex(v)).status, 0);

      await new Promise((r) => setTimeout(r, 3 * STATS_MS));
      const before = rssMb(pid);
      let peak = before;
      const statsAt: number[] = [];
      let statsSeen = run.lines.filter((l) => l.startsWith('stats:')).length;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(pid));
        const now = run.lines.filter((l) => l.startsWith('stats:')).length;
        for (; statsSeen < now; statsSeen++) statsAt.push(Date.now());
      }, 25);

      const started = Date.now();
      const pings = spawn('ip', ['netns', 'exec', ns, 'ping', '-c', String(PINGS), '-i', '0.2', '-W', '1', '10.6.0.9'], {
        stdio: 'ignore',
      });
      const pingsDone = new Promise((r) => pings.once('exit', r));
      const dump = spawn(process.execPath, [BPF2WASM, 'map', 'dump', socket, 'big'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let lines = 0;
      let partial = '';
      let stderr = '';
      const seen = new Map<number, number>();
      dump.stdout.setEncoding('utf8');
      dump.stdout.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        for (const line of parts) {
          const key = Buffer.from(line.slice(4, 12), 'hex').readUInt32LE();
          assert.is(key, lines, `entries in index order (line ${lines})`);
          if (written.has(key)) seen.set(key, Buffer.from(line.slice(19), 'hex').readUInt32LE());
          lines++;
        }
      });
      dump.stderr.on('data', (d) => (stderr += d));
      const status = await new Promise<number | null>((r) => dump.once('exit', r));
      const elapsed = Date.now() - started;
      clearInterval(sampler);
      await pingsDone;

      assert.is(status, 0, stderr);
      assert.is(lines, ENTRIES, 'every entry');
      assert.equal(seen, written, 'the values written');
      const gaps = statsAt.slice(1).map((t, i) => t - statsAt[i]!);
      const worst = Math.max(...gaps);
      report(
        `dump of ${ENTRIES} entries over the control socket: ${(elapsed / 1000).toFixed(1)} s, instance RSS ${before.toFixed(0)} -> peak ${peak.toFixed(0)} MB, ${statsAt.length} stats lines, longest gap ${worst} ms (interval ${STATS_MS} ms)`,
      );
      assert.ok(peak - before < RSS_BOUND_MB, `RSS grew by ${(peak - before).toFixed(0)} MB during the dump (bound ${RSS_BOUND_MB})`);
      assert.ok(statsAt.length >= Math.floor(elapsed / STATS_MS) - 2, `${statsAt.length} stats lines in ${elapsed} ms`);
      assert.ok(worst < 5 * STATS_MS, `the stats line stalled for ${worst} ms`);

      const counted = map('lookup', socket, 'big', u32hex(0));
      assert.is(counted.stdout.trim(), `key ${u32hex(0)} value ${u32hex(PINGS)}`, 'every ping counted by the program during the dump');
    } finally {
      assert.is(await run.stop(), 0);
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

test.run();
