// katran-cli against a real gRPC server on loopback (over the control plane and an
// in-memory katran map set): katran's EXAMPLE steps, the Go client's output format, stats
// numbers from counters we write, and errors as one line with exit 1, maps unchanged.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { startKatranGrpcServer } from '../../katran/grpc/server.js';
import { KatranLb } from '../../katran/control-plane.js';
import { MemoryMaps } from '../../katran/maps/memory-maps.js';
import { KATRAN_CLI_BIN } from '../../core/package-root.js';

const cliPath = KATRAN_CLI_BIN;
const maps = new MemoryMaps(2);
const lb = new KatranLb(maps, { defaultMac: '00:00:00:00:00:01' });
lb.init();
const server = await startKatranGrpcServer(lb, '127.0.0.1:0');

// Asynchronous spawn: the server lives in this process and must keep answering.
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, '-server', `127.0.0.1:${server.port}`, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const withoutTime = (out: string): string[] =>
  out
    .trim()
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, ''));
const u64pair = (a: bigint, b: bigint): Uint8Array => {
  const v = new Uint8Array(16);
  new DataView(v.buffer).setBigUint64(0, a, true);
  new DataView(v.buffer).setBigUint64(8, b, true);
  return v;
};
const key = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

test('katran EXAMPLE steps: add a VIP and a real, list them', async () => {
  // Go's log lines (timestamped) go to stderr, fmt output and `exiting` to stdout.
  const added = await cli('-A', '-t', '10.200.200.1:80');
  assert.equal(withoutTime(added.stdout), ['exiting']);
  assert.equal(withoutTime(added.stderr), ['Adding service: 10.200.200.1:80 6', 'Vip modified']);
  const real = await cli('-a', '-t', '10.200.200.1:80', '-r', '10.0.0.2', '-w', '1');
  assert.equal(withoutTime(real.stdout), ['exiting']);
  assert.equal(withoutTime(real.stderr), ['Reals modified']);
  const listed = await cli('-l');
  assert.is(listed.status, 0, listed.stderr);
  assert.equal(withoutTime(listed.stderr), ['vips len 1']);
  assert.equal(withoutTime(listed.stdout), [
    'VIP:         10.200.200.1 Port:     80 Protocol: tcp',
    "Vip's flags: ",
    ' ->10.0.0.2          weight: 1 flags: ',
    'exiting',
  ]);
});

test('edit VIP flags, QUIC mappings, delete all', async () => {
  assert.is((await cli('-E', '-t', '10.200.200.1:80', '-vf', 'NO_SPORT')).status, 0);
  assert.ok(withoutTime((await cli('-l')).stdout).includes("Vip's flags:  NO_SPORT "));
  assert.is((await cli('-E', '-t', '10.200.200.1:80', '-vf', 'NO_SPORT', '-unset')).status, 0);
  assert.ok(withoutTime((await cli('-l')).stdout).includes("Vip's flags: "));
  assert.is((await cli('-quic_mapping', '10.0.0.2=1022')).status, 0);
  assert.equal(withoutTime((await cli('-list_qm')).stdout), [
    "printing address to quic's connection id mapping",
    'real:             10.0.0.2 = connection id:   1022',
    'exiting',
  ]);
  const hc = await cli('-list_hc');
  assert.is(hc.status, 1, 'health checking is not configured: CANCELLED');
  assert.match(hc.stderr, /health checking is not configured/);
});

test('MAC round trip', async () => {
  assert.is((await cli('-change_mac', '00:00:de:ad:be:af')).status, 0);
  const listed = await cli('-list_mac');
  assert.equal(withoutTime(listed.stdout), ['exiting']);
  assert.equal(withoutTime(listed.stderr), ['Mac address is 00:00:de:ad:be:af']);
});

test("-s -lru prints katran's summary from the counters", async () => {
  // stats[512] = {packets reaching selection, misses}, [513] = {syn, non-syn}, [515] = fallback.
  maps.setPerCpu('stats', key(512), [u64pair(60n, 10n), u64pair(40n, 5n)]);
  maps.setPerCpu('stats', key(513), [u64pair(4n, 3n), u64pair(0n, 3n)]);
  maps.setPerCpu('stats', key(515), [u64pair(7n, 0n), u64pair(0n, 0n)]);
  const r = await cli('-s', '-lru', '-n', '1');
  assert.is(r.status, 0, r.stderr);
  // T=100, M=15: miss 15.00%, hit 85.00%; syn 4/100, non-syn 6/100, udp 0.90 (not x100).
  assert.equal(withoutTime(r.stdout), [
    'summary: 100 pkts/sec. lru hit: 85.00% lru miss: 15.00% (tcp syn: 0.04% tcp non-syn: 0.06% udp: 0.90%) fallback lru hit: 7 pkts/sec',
    'exiting',
  ]);
});

test('errors: one line, exit 1, maps unchanged', async () => {
  const before = JSON.stringify(maps.entries('vip_map').map(([k, v]) => [[...k], [...v]]));
  for (const [args, pattern] of [
    [['-A', '-t', '10.0.0.300:80'], /addVip: .*10\.0\.0\.300/],
    [['-A', '-t', '10.0.0.3:70000'], /port 70000 out of range/],
    [['-a', '-t', '10.9.9.9:80', '-r', '10.0.0.5'], /modifyRealsForVip: /],
    [['-A', '-t', '10.200.200.1:80'], /addVip: /],
    [['-bogus'], /flag provided but not defined: -bogus/],
  ] as [string[], RegExp][]) {
    const r = await cli(...args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    // Besides the Go client's own progress log line, exactly one error line.
    const errors = withoutTime(r.stderr).filter((l) => !/^(Adding|Deleting) service: /.test(l));
    assert.is(errors.length, 1, r.stderr);
    assert.match(errors[0]!, pattern);
  }
  assert.is(JSON.stringify(maps.entries('vip_map').map(([k, v]) => [[...k], [...v]])), before);
});

test('an unreachable server is one clear error', async () => {
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cliPath, '-server', '127.0.0.1:1', '-l']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stderr }));
  });
  assert.is(r.status, 1);
  assert.match(r.stderr, /cannot reach the katran server at 127\.0\.0\.1:1/);
});

test.after(() => server.close());
test.run();
