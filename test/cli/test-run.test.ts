// `bpf2wasm test-run` through the real command line: per-packet JSON (index, action, len,
// data) must match the reference interpreter on the same module and capture, --out must
// write the same packets as a pcap, and bad arguments give one clear line and exit 1.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPcap, writePcap } from '../../packets/pcap.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { compileBpf, scratchDir } from '../support/clang.js';
import { corpus } from '../../packets/corpus.js';
import { BPF2WASM_BIN, packageRoot } from '../../core/package-root.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { skip } from '../support/skip.js';

const root = packageRoot;
const cli = BPF2WASM_BIN;
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

const object = compileBpf(join(root, 'test', 'fixtures', 'kernel', 'parse_count.c'));
const wasm = join(scratchDir(), 'parse_count.wasm');
const pcap = join(scratchDir(), 'corpus.pcap');
// Drop the frame shorter than Ethernet: the kernel refuses it (EINVAL), tested below.
const frames = corpus().filter((f) => f.bytes.length >= 14);
writeFileSync(pcap, writePcap(frames.map((f) => ({ timestampNs: 1_000_000n, originalLength: f.bytes.length, data: f.bytes }))));

test('--json matches the interpreter packet by packet, --out writes the same packets', () => {
  assert.is(run(object, '-o', wasm, '-q').status, 0);
  const out = join(scratchDir(), 'out.pcap');
  const r = run('test-run', wasm, '--pcap', pcap, '--json', '--out', out);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number; action: string; len: number; data: string });
  assert.is(lines.length, frames.length);
  const oracle = BpfMachine.create(loadWasm(new Uint8Array(readFileSync(wasm)), 'oracle')).worker(0, { engine: 'interp' });
  const written = readPcap(new Uint8Array(readFileSync(out)), out);
  // lines.length === frames.length (asserted above); the pcap is checked against lines.
  lines.forEach((line, i) => {
    const want = oracle.runXdp('parse_count', frames[i]!.bytes);
    assert.equal(line, { index: i, action: want.actionName, len: want.packet.length, data: Buffer.from(want.packet).toString('hex') });
    assert.is(Buffer.from(written[i]?.data ?? []).toString('hex'), line.data, `pcap record ${i}`);
  });
  assert.ok(
    lines.some((l) => l.action === 'XDP_TX') && lines.some((l) => l.action === 'XDP_DROP') && lines.some((l) => l.action === 'XDP_PASS'),
  );
});

test('summary, --repeat and --dump-map', () => {
  const r = run('test-run', wasm, '--pcap', pcap, '--repeat', '3', '--dump-map', 'flows');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${frames.length} packets through parse_count \\(wasm\\)`));
  assert.match(r.stdout, /ns per packet over \d+ repeated runs/);
  assert.match(r.stdout, /^flows key [0-9a-f]{32} value [0-9a-f]{16}$/m);
});

test('map commands over the state of a test run', () => {
  const dumped = run('test-run', wasm, '--pcap', pcap, '--dump-map', 'flows');
  const viaMap = run('map', 'dump', wasm, 'flows', '--pcap', pcap);
  assert.is(viaMap.status, 0, viaMap.stderr);
  const fromTestRun = dumped.stdout
    .split('\n')
    .filter((l) => l.startsWith('flows '))
    .map((l) => l.slice(6));
  assert.equal(viaMap.stdout.trim().split('\n'), fromTestRun);
  assert.ok(fromTestRun.length > 0);
  // --update provisions before the run; lookup reads it back.
  const r = run('map', 'lookup', wasm, 'tunnel_dst', '00000000', '--update', 'tunnel_dst=00000000:0a000002');
  assert.is(r.stdout.trim(), 'key 00000000 value 0a000002');
  // The provisioned tunnel address shows up in the encapsulated packet (outer daddr).
  const enc = run('test-run', wasm, '--pcap', pcap, '--json', '--update', 'tunnel_dst=00000000:0a000002');
  const tunnelled = enc.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((l) => l.len === frames.find((f) => f.name === 'udp v4 to the tunnel port')!.bytes.length + 20);
  assert.ok(tunnelled, 'an IPIP-encapsulated packet');
  assert.is(tunnelled.data.slice(60, 68), '0a000002');
  for (const [args, pattern] of [
    [['map', 'lookup', wasm, 'tunnel_dst', 'zz'], /not hex/],
    [['map', 'lookup', wasm, 'tunnel_dst'], /needs a KEY/],
    [['map', 'lookup', wasm, 'flows', '00'], /key|size|EINVAL/i],
    [['map', 'delete', wasm, 'tunnel_dst', '00000000'], /EINVAL|delete/],
    [['test-run', wasm, '--pcap', pcap, '--update', 'tunnel_dst'], /MAP=KEYHEX:VALUEHEX/],
  ] as [string[], RegExp][]) {
    const e = run(...args);
    assert.is(e.status, 1, `${args.join(' ')}: ${e.stderr}`);
    assert.is(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.match(e.stderr, pattern);
  }
});

test('an eBPF object is compiled on the spot: the same results as its module', () => {
  const fromModule = run('test-run', wasm, '--pcap', pcap, '--json');
  const fromObject = run('test-run', object, '--pcap', pcap, '--json');
  assert.is(fromObject.status, 0, fromObject.stderr);
  assert.is(fromObject.stdout, fromModule.stdout);
});

test('bad arguments: one line, exit 1', () => {
  const cases: [string[], RegExp][] = [
    [['test-run', wasm, '--pcap', join(scratchDir(), 'missing.pcap')], /missing\.pcap.*ENOENT/],
    [['test-run', wasm, '--pcap', wasm], /not a pcap file/],
    [['test-run', pcap, '--pcap', pcap], /not a valid WebAssembly module/],
    [['test-run', wasm, '--pcap', pcap, '--program', 'nope'], /no program 'nope'/],
    [['test-run', wasm, '--pcap', pcap, '--repeat', '0'], /--repeat/],
    [['test-run', wasm, '--pcap', pcap, '--dump-map', 'nope'], /no map 'nope'/],
    [['test-run', wasm, '--pcap', pcap, '--budget', '-5'], /--budget must be an integer in 0\.\.2147483647/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

test('a runt packet gets EINVAL, as from the kernel, and the run goes on', () => {
  const runt = new Uint8Array(10);
  const capture = [frames[0]!.bytes, runt, frames[1]!.bytes];
  const path = join(scratchDir(), 'runt.pcap');
  writeFileSync(path, writePcap(capture.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
  const r = run('test-run', wasm, '--pcap', path, '--json');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.is(lines.length, 3);
  assert.is(lines[1]!.index, 1);
  assert.match(String(lines[1]!.error), /^EINVAL: .*shorter than an Ethernet header/);
  assert.is(lines[1]!.action, undefined);
  const oracle = BpfMachine.create(loadWasm(new Uint8Array(readFileSync(wasm)), 'oracle')).worker(0, { engine: 'interp' });
  for (const i of [0, 2]) assert.is(lines[i]!.action, oracle.runXdp('parse_count', capture[i]!).actionName);
  const summary = run('test-run', wasm, '--pcap', path);
  assert.is(summary.status, 0, summary.stderr);
  assert.match(summary.stdout, /^ {2}EINVAL +1$/m);
  // The label is the kernel's own answer to BPF_PROG_TEST_RUN on that packet.
  const why = kernelMissing();
  if (why) return void skip('kernel check of the runt packet', why);
  const kernel = KernelObject.load(object);
  try {
    assert.throws(() => kernel.testRun('parse_count', runt), /EINVAL|Invalid argument/);
  } finally {
    kernel.close();
  }
});

test("metadata comes out in front of the packet, byte for byte as the kernel's test run gives it", () => {
  // test/fixtures/kernel/xdp_adjust.c runs the steps in its `steps` map: 1 adjust_head,
  // 2 adjust_meta, 4 write the first metadata word; each program below goes in by --update.
  const adjust = compileBpf(join(root, 'test', 'fixtures', 'kernel', 'xdp_adjust.c'));
  const le32 = (n: number): Uint8Array => Uint8Array.of(n, n >> 8, n >> 16, n >>> 24);
  const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const programs: [string, [number, number][]][] = [
    [
      'four bytes of metadata, written',
      [
        [2, -4],
        [4, 0x55667788],
      ],
    ],
    [
      'metadata moved by a grown head',
      [
        [2, -8],
        [4, 0x1234abcd],
        [1, -20],
      ],
    ],
    ['all the headroom as metadata', [[2, -216]]],
    [
      'metadata given back',
      [
        [2, -8],
        [2, 8],
      ],
    ],
    ['no steps, no metadata', []],
  ];
  const packets = [frames[0]!.bytes, frames[frames.length - 1]!.bytes];
  const capture = join(scratchDir(), 'meta.pcap');
  writeFileSync(capture, writePcap(packets.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
  const why = kernelMissing();
  const kernel = why ? undefined : KernelObject.load(adjust);
  try {
    for (const [name, steps] of programs) {
      const update = steps.flatMap(([op, arg], i) => [
        '--update',
        `steps=${hexOf(le32(2 * i))}:${hexOf(le32(op))}`,
        '--update',
        `steps=${hexOf(le32(2 * i + 1))}:${hexOf(le32(arg))}`,
      ]);
      const metaLength = steps.reduce((n, [op, arg]) => (op === 2 ? n - arg : n), 0);
      for (const engine of ['wasm', 'interp']) {
        const out = join(scratchDir(), 'meta-out.pcap');
        const r = run('test-run', adjust, '--pcap', capture, '--json', '--out', out, '--engine', engine, ...update);
        assert.is(r.status, 0, r.stderr);
        const lines = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { action: string; len: number; data: string; meta?: number });
        const written = readPcap(new Uint8Array(readFileSync(out)), out);
        lines.forEach((line, i) => {
          const what = `${name} (${engine}), packet ${i}`;
          assert.is(line.action, 'XDP_PASS', what);
          assert.is(line.meta, metaLength || undefined, `${what}: meta`);
          assert.is(line.len, line.data.length / 2, `${what}: len`);
          assert.is(hexOf(written[i]!.data), line.data, `${what}: --out record`);
          // The packet itself follows the metadata unchanged when the head did not move.
          if (!steps.some(([op]) => op === 1)) assert.is(line.data.slice(2 * metaLength), hexOf(packets[i]!), `${what}: packet`);
          const written0 = steps.find(([op]) => op === 4);
          if (written0) assert.is(line.data.slice(0, 8), hexOf(le32(written0[1])), `${what}: first metadata word`);
          if (!kernel) return;
          steps.forEach(([op, arg], s) => {
            kernel.update('steps', le32(2 * s), le32(op));
            kernel.update('steps', le32(2 * s + 1), le32(arg));
          });
          for (let s = steps.length; s < 6; s++) kernel.update('steps', le32(2 * s), le32(0));
          const k = kernel.testRun('xdp_adjust', packets[i]!);
          assert.is(line.data, hexOf(k.data), `${what}: against the kernel's data_out`);
        });
        assert.is(lines.length, packets.length);
      }
    }
  } finally {
    kernel?.close();
  }
  if (why) skip("kernel check of test-run's metadata", why);
});

test('a record longer than the snaplen: one warning line, and the run goes on', () => {
  const path = join(scratchDir(), 'over-snaplen.pcap');
  const snaplen = 40;
  const long = frames.filter((f) => f.bytes.length > snaplen);
  assert.ok(long.length >= 2, 'frames longer than the snaplen');
  writeFileSync(
    path,
    writePcap(
      long.map((f) => ({ timestampNs: 0n, originalLength: f.bytes.length, data: f.bytes })),
      snaplen,
    ),
  );
  const r = run('test-run', wasm, '--pcap', path, '--json');
  assert.is(r.status, 0, r.stderr);
  const warning = r.stderr.trim().split('\n');
  assert.is(warning.length, 1, r.stderr);
  assert.match(
    warning[0]!,
    new RegExp(
      `^bpf2wasm: warning: .*over-snaplen\\.pcap: record 0 captures ${long[0]!.bytes.length} bytes, more than the file's snaplen ${snaplen} \\(and ${long.length - 1} more records\\)`,
    ),
  );
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { len: number; action: string });
  assert.is(lines.length, long.length);
});

test.run();
