// Bad input to `bpf2wasm run`, through the real command line: a missing interface, no
// privileges, a bind mode the interface cannot do, an interface that already has an XDP
// program, a gRPC port in use, bad arguments. Each is one line on stderr naming the cause,
// exit status 1, and the interface is left exactly as it was (no XDP program, no TAP).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { BPF2WASM, startRun, topologyMissing } from '../../examples/topology/topology.js';
import { examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';

const unavailable = topologyMissing();
const ns = `lerr${process.pid % 100000}`;
const program = examplePath('xdp_pass');

function sh(...command: string[]): void {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr}`);
}

function runInNs(args: string[], prefix: string[] = []): { status: number | null; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...prefix, process.execPath, BPF2WASM, 'run', program, '--duration', '1', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr };
}

function interfaceClean(): boolean {
  const links = spawnSync('ip', ['-n', ns, '-d', 'link', 'show'], { encoding: 'utf8' }).stdout;
  return !/\bxdp/.test(links) && !/bpw\d+pass/.test(links);
}

function expectOneLine(args: string[], pattern: RegExp, prefix: string[] = []): void {
  const r = runInNs(args, prefix);
  assert.is(r.status, 1, `${args.join(' ')}: exit status; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, /^bpf2wasm: /);
  assert.match(lines[0]!, pattern);
  assert.ok(interfaceClean(), `${args.join(' ')}: the interface is left clean`);
}

test.before(() => {
  if (unavailable) return;
  sh('ip', 'netns', 'add', ns);
  sh('ip', '-n', ns, 'link', 'add', 've0', 'type', 'veth', 'peer', 'name', 've1');
  sh('ip', '-n', ns, 'link', 'set', 've0', 'up');
  sh('ip', '-n', ns, 'link', 'set', 've1', 'up');
  sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
});

test.after(() => {
  if (unavailable) return;
  spawnSync('ip', ['netns', 'del', ns]);
  // The SIGKILLed run could not remove its control socket.
  rmSync(`/run/bpf2wasm/${ns}`, { recursive: true, force: true });
});

test('a working run on the same interface ends cleanly (the baseline)', () => {
  if (unavailable) return void skip('run errors', unavailable);
  const r = runInNs(['--iface', 've0', '--stats-interval', '0']);
  assert.is(r.status, 0, r.stderr);
  assert.ok(interfaceClean());
});

test('a missing interface', () => {
  if (unavailable) return void skip('run errors', unavailable);
  expectOneLine(['--iface', 'nosuch0'], /interface 'nosuch0' does not exist/);
  expectOneLine(['--iface', 'nosuch0', '--mode', 'afpacket'], /interface 'nosuch0' does not exist/);
});

test('no privileges', () => {
  if (unavailable) return void skip('run errors', unavailable);
  expectOneLine(['--iface', 've0'], /needs root or CAP_NET_ADMIN/, [
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
  ]);
});

test('zero-copy on an interface whose driver cannot do it', () => {
  if (unavailable) return void skip('run errors', unavailable);
  expectOneLine(['--iface', 've0', '--bind-mode', 'zerocopy'], /AF_XDP socket on ve0 queue 0: .*(not supported|does not support)/);
});

test('an interface that already has an XDP program', async () => {
  if (unavailable) return void skip('run errors', unavailable);
  const first = startRun(ns, program, ['--iface', 've0', '--stats-interval', '0']);
  await first.waitFor(/^running /); // the first run started
  const r = runInNs(['--iface', 've0']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr.trim(), /^bpf2wasm: attaching to ve0: interface ve0 already has an XDP program attached$/);
  assert.is(await first.stop(), 0, 'the first run is undisturbed and stops cleanly');
  assert.ok(interfaceClean());
});

test('a run killed with SIGKILL leaves nothing attached (the bpf_link dies with it)', async () => {
  if (unavailable) return void skip('run errors', unavailable);
  const run = startRun(ns, program, ['--iface', 've0', '--stats-interval', '0']);
  await run.waitFor(/^running /);
  assert.not.ok(interfaceClean(), 'while running, the prefilter is attached');
  await run.stop('SIGKILL');
  for (let i = 0; i < 50 && !interfaceClean(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(interfaceClean(), 'the kernel detached the prefilter and removed the TAP');
});

test('SIGTERM stops a run cleanly, like SIGINT', async () => {
  if (unavailable) return void skip('run errors', unavailable);
  const run = startRun(ns, program, ['--iface', 've0', '--stats-interval', '0']);
  await run.waitFor(/^running /);
  assert.is(await run.stop('SIGTERM'), 0);
  assert.match(run.output, /^total: \d+ packets/m);
  assert.ok(interfaceClean());
});

test('a gRPC port in use', async () => {
  if (unavailable) return void skip('run errors', unavailable);
  // A listener inside the namespace holds the port.
  const holder = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'python3',
      '-c',
      'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",50999))\ns.listen()\nprint("ok",flush=True)\ntime.sleep(60)',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise((r) => holder.stdout.once('data', r));
  try {
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        BPF2WASM,
        'run',
        examplePath('xdp_lb'),
        '--iface',
        've0',
        '--katran',
        '--grpc',
        '127.0.0.1:50999',
        '--duration',
        '1',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), /^bpf2wasm: gRPC server: cannot listen on 127\.0\.0\.1:50999: .*in use/);
    assert.ok(interfaceClean());
  } finally {
    holder.kill();
  }
});

test('bad arguments', () => {
  if (unavailable) return void skip('run errors', unavailable);
  expectOneLine(['--iface', 've0', '--queues', '0'], /--queues must be a positive integer/);
  expectOneLine(['--iface', 've0', '--frames', '100'], /--frames must be a power of two/);
  expectOneLine(['--mode', 'pcap'], /--mode pcap needs --pcap/);
  expectOneLine(['--iface', 've0', '--grpc', '127.0.0.1:0'], /need --katran/);
  expectOneLine(['--iface', 've0', '--katran'], /has no katran maps/);
  expectOneLine(['--mode', 'afxdp'], /needs --iface/);
});

test.run();
