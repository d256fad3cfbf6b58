// `bpf2wasm run --mode pcap`: a capture through the live runner's workers (two of them,
// packets split between them) must transmit exactly what the reference interpreter says
// the program transmits, in capture order — for xdp_tx and for the example LB provisioned
// through --katran-config; and programs that redirect, checked against hand-derived output:
// through devmap and cpumap entries with second programs (xdp/devmap, xdp/cpumap), each
// frame in the file of the place it went (out.pcap, out.if<N>.pcap, out.cpu<K>.pcap). The
// kernel's side of the same frames is test/datapath/redirect-live.test.ts (live, on veths).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { readPcap, writePcap } from '../../packets/pcap.js';
import { UserspaceKatranMaps } from '../../katran/maps/userspace-maps.js';
import { applyKatranConfig, parseKatranConfig } from '../../katran/config.js';
import { XDP_ACTION } from '../../runtime/xdp.js';
import { BPF2WASM } from '../../examples/topology/topology.js';
import { corpus } from '../../packets/corpus.js';
import { examplePath } from '../support/examples.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';
import {
  BPF_F_BROADCAST,
  BPF_F_EXCLUDE_INGRESS,
  SEL,
  XDP,
  commandFrame,
  stamped,
  type Command,
  type View,
} from '../support/redirect-command.js';

const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-live-pcap-'));
const frames = corpus()
  .map((f) => f.bytes)
  .filter((b) => b.length >= 14);
const input = join(work, 'in.pcap');
writeFileSync(input, writePcap(frames.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What the interpreter transmits (TX or REDIRECT), in order. */
function expected(object: string, provision?: (m: BpfMachine) => void): string[] {
  const machine = BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object));
  provision?.(machine);
  const worker = machine.worker(0, { engine: 'interp' });
  const program = machine.programs[0]!.name;
  // A result's packet is a view valid until the next run: turn it into hex at once.
  return frames.flatMap((f) => {
    const r = worker.runXdp(program, f);
    return r.action === XDP_ACTION.TX || r.action === XDP_ACTION.REDIRECT ? [hex(r.packet)] : [];
  });
}

let lastStdout = '';

function runPcap(object: string, extra: string[] = [], from = input, dir = work): string[] {
  const out = join(dir, 'out.pcap');
  const r = spawnSync(
    process.execPath,
    [BPF2WASM, 'run', object, '--mode', 'pcap', '--pcap', from, '--out', out, '--queues', '2', '--stats-interval', '0', ...extra],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^total: \d+ packets/m);
  lastStdout = r.stdout;
  return readPcap(new Uint8Array(readFileSync(out)), out).map((p) => hex(p.data));
}

test('xdp_tx: two workers transmit what the interpreter transmits', () => {
  const object = examplePath('xdp_tx');
  const want = expected(object);
  assert.ok(want.length > 10);
  assert.equal(runPcap(object), want);
});

test('example LB with --katran-config: same encapsulated packets as the interpreter', () => {
  const object = examplePath('xdp_lb');
  const config = join(work, 'lb.json');
  writeFileSync(
    config,
    JSON.stringify({
      mac: '02:00:00:00:00:99',
      vips: [
        { address: '10.200.200.1', port: 80, protocol: 'tcp', reals: [{ address: '10.0.0.1' }, { address: '10.0.0.2', weight: 2 }] },
        { address: '10.200.200.1', port: 53, protocol: 'udp', reals: [{ address: 'fc00::3' }] },
      ],
    }),
  );
  const want = expected(object, (m) => {
    applyKatranConfig(new UserspaceKatranMaps(m.maps), parseKatranConfig(readFileSync(config, 'utf8'), config), {
      forwardingCores: [0, 1],
      lruSize: 2000,
    });
  });
  assert.ok(want.length >= 3, `the corpus reaches the VIPs (${want.length} packets transmitted)`);
  assert.equal(runPcap(object, ['--katran', '--katran-config', config, '--lru-size', '2000']), want);
});

// Hand-derived: redirect_devmap redirects every IPv4 frame, unchanged, through devmap slot
// 0 and passes everything else. With the slot set, the output is the capture's IPv4
// frames in capture order; not one may go missing for being a redirect rather than a TX.
test('redirect_devmap: every redirected frame is written, in order', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'redirect_devmap.c'));
  const ipv4 = frames.filter((f) => f[12] === 0x08 && f[13] === 0x00).map(hex);
  assert.ok(ipv4.length > 10 && ipv4.length < frames.length, 'the capture mixes IPv4 with other frames');
  assert.equal(runPcap(object, ['--update', 'ports=00000000:01000000']), ipv4);
});

// Hand-derived, from redirect_maps.c: the same command frames as the live test against the
// kernel (redirect-live.test.ts), plus cpumap verdicts a live test cannot see (XDP_PASS to
// a CPU's stack, XDP_DROP). In pcap mode the receiving device is ifindex 1; devices 5 and
// 6 exist only as devmap targets. Second programs see ingress 1, rx queue 0 (the kernel's
// devmap and cpumap leave it 0), a devmap program its egress device.
test('redirect_maps: devmap and cpumap programs run, each frame written where it went', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'redirect', 'redirect_maps.c'));
  const dir = mkdtempSync(join(work, 'maps-'));
  const { PASS, DROP, REDIRECT } = XDP;
  const f = (n: number, sel: number, key: number, flags: bigint, verdict: number, then: Partial<Command> = {}): Uint8Array =>
    commandFrame({ n, sel, key, flags, verdict, ...then });
  const frames = [
    f(1, SEL.devmap, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS, PASS), // if5 (stamped), if6; not ifindex 1
    f(2, SEL.devmap, 1, 0n, PASS), // if5 (stamped)
    f(3, SEL.devmap, 1, 0n, DROP), // the devmap program drops it
    f(4, SEL.devmapHash, 9, BPF_F_BROADCAST, PASS), // if6, and ifindex 1 (ingress not excluded)
    f(5, SEL.cpumap, 1, 0n, PASS), // CPU 1's stack
    f(6, SEL.devmapHash, 6, 0n, PASS), // back out of ifindex 1
    f(7, SEL.lastCallDecides, 3, 3n, PASS), // missing devmap key: the flags' XDP_TX
    f(8, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.devmap, key2: 1, then: PASS }), // CPU 1, then if5 (stamped)
    f(9, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.xskmap, key2: 0 }), // empty xskmap: XDP_ABORTED
    f(10, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.cpumap, key2: 0, then: REDIRECT, sel3: SEL.devmap, key3: 2 }), // CPU 1, CPU 0, if6
    f(11, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.cpumap, key2: 0, then: PASS }), // CPU 1, then CPU 0's stack
    f(12, SEL.cpumap, 1, 0n, DROP), // the cpumap program drops it
    f(13, SEL.cpumap, 3, 0n, PASS), // CPU 3 has no entry: the flags' XDP_ABORTED, nothing runs
    // CPU 1's program redirects into CPU 1 again and again: the kernel keeps it circling,
    // pcap mode drops it after MAX_CPU_ROUNDS rounds (its own limit, counted).
    f(14, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.cpumap, key2: 1, then: REDIRECT, sel3: SEL.cpumap, key3: 1 }),
  ];
  const from = join(dir, 'in.pcap');
  writeFileSync(from, writePcap(frames.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
  const u32 = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
  const updates = [
    `tx_ports=${u32(0)}:${u32(1)}${u32(0)}`,
    `tx_ports=${u32(1)}:${u32(5)}${u32(0)}+stamp_egress`,
    `tx_ports=${u32(2)}:${u32(6)}${u32(0)}`,
    `tx_hash=${u32(5)}:${u32(6)}${u32(0)}`,
    `tx_hash=${u32(6)}:${u32(1)}${u32(0)}`,
    `cpu_map=${u32(1)}:${u32(64)}${u32(0)}+stamp_cpu`,
    `cpu_map=${u32(0)}:${u32(64)}${u32(0)}+stamp_cpu`,
  ].flatMap((u) => ['--update', u]);
  const ingress = runPcap(object, ['--program', 'redirect_by_command', '--max-cpus', '4', ...updates], from, dir);
  const read = (name: string): string[] => readPcap(new Uint8Array(readFileSync(join(dir, name))), name).map((p) => hex(p.data));
  const at = (n: number): Uint8Array => frames[n - 1]!;
  const devmapStamp = (b: Uint8Array, egress: number): string => hex(stamped(b, { ingress: 1, egress, rxQueue: 0 }));
  const viaCpu = (b: Uint8Array): Uint8Array => stamped(b, { ingress: 1, rxQueue: 0, redirected: true });
  assert.equal(ingress, [hex(at(4)), hex(at(6)), hex(at(7))], 'out.pcap: back out of the receiving device');
  assert.equal(read('out.if5.pcap'), [devmapStamp(at(1), 5), devmapStamp(at(2), 5), devmapStamp(viaCpu(at(8)), 5)]);
  assert.equal(read('out.if6.pcap'), [hex(at(1)), hex(at(4)), hex(viaCpu(at(10)))]);
  assert.equal(read('out.cpu1.pcap'), [hex(stamped(at(5), { ingress: 1, rxQueue: 0 }))], "CPU 1's stack");
  assert.equal(read('out.cpu0.pcap'), [hex(viaCpu(at(11)))], "CPU 0's stack, after a hop through CPU 1");
  // Dropped after a redirect: frames 3 (devmap program), 9 (xskmap), 12 (cpumap program), 14 (rounds).
  assert.match(lastStdout, /^total: 14 packets; XDP_ABORTED 1, XDP_TX 1, XDP_REDIRECT 12; redirect dropped 4$/m);
  assert.match(lastStdout, /^out: 3 frames out of ifindex 5 -> .*out\.if5\.pcap$/m);
  assert.equal(readdirSync(dir).sort(), ['in.pcap', 'out.cpu0.pcap', 'out.cpu1.pcap', 'out.if5.pcap', 'out.if6.pcap', 'out.pcap']);
});

// Hand-derived, from redirect_maps.c with `probe`: second programs see the metadata the first
// program reserved (and a cpumap program added) and the headroom it left — the test run's
// 256 bytes, minus the 40 of the kernel's xdp_frame and the metadata — also after a hop
// through another CPU's round, as the kernel rebuilds the frame from its xdp_frame.
test('redirect_maps: second programs see the metadata and headroom the frame carries', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'redirect', 'redirect_maps.c'));
  const dir = mkdtempSync(join(work, 'meta-'));
  const { PASS, REDIRECT } = XDP;
  const META = 0x0a0b0c0d;
  const view = (metaLen: number, metaWord: number): View => ({ metaLen, metaWord, room: 256 - 40 - metaLen });
  const f = (n: number, sel: number, key: number, flags: bigint, verdict: number, then: Partial<Command> = {}): Uint8Array =>
    commandFrame({ n, sel, key, flags, verdict, probe: true, ...then });
  const frames = [
    f(1, SEL.devmap, 1, 0n, PASS, { meta: META }), // if5
    f(2, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.devmap, key2: 1, then: PASS, meta: META }), // CPU 1, then if5
    f(3, SEL.cpumap, 1, 0n, REDIRECT, { sel2: SEL.cpumap, key2: 0, then: REDIRECT, sel3: SEL.devmap, key3: 2 }), // CPU 1, CPU 0, if6
    f(4, SEL.devmap, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS, PASS, { meta: META }), // if5 (the program's view), if6
    f(5, SEL.cpumap, 1, 0n, PASS, { meta: META }), // CPU 1's stack
  ];
  const from = join(dir, 'in.pcap');
  writeFileSync(from, writePcap(frames.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
  const u32 = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
  const updates = [
    `tx_ports=${u32(0)}:${u32(1)}${u32(0)}`,
    `tx_ports=${u32(1)}:${u32(5)}${u32(0)}+stamp_egress`,
    `tx_ports=${u32(2)}:${u32(6)}${u32(0)}`,
    `cpu_map=${u32(1)}:${u32(64)}${u32(0)}+stamp_cpu`,
    `cpu_map=${u32(0)}:${u32(64)}${u32(0)}+stamp_cpu`,
  ].flatMap((u) => ['--update', u]);
  runPcap(object, ['--program', 'redirect_by_command', '--max-cpus', '4', ...updates], from, dir);
  const read = (name: string): string[] => readPcap(new Uint8Array(readFileSync(join(dir, name))), name).map((p) => hex(p.data));
  const at = (n: number): Uint8Array => frames[n - 1]!;
  const devmapSaw = (b: Uint8Array, dev: View): string => hex(stamped(b, { ingress: 1, egress: 5, rxQueue: 0, dev }));
  const cpuSaw = (b: Uint8Array, cpu: View, redirected = true): Uint8Array => stamped(b, { ingress: 1, rxQueue: 0, redirected, cpu });
  assert.equal(read('out.if5.pcap'), [
    devmapSaw(at(1), view(4, META)),
    devmapSaw(cpuSaw(at(2), view(4, META)), view(8, META + 1)),
    devmapSaw(at(4), view(4, META)),
  ]);
  // Both cpumap hops stamp the same place: the second's view is left.
  assert.equal(read('out.if6.pcap'), [hex(cpuSaw(cpuSaw(at(3), view(0, 0)), view(4, 1))), hex(at(4))]);
  assert.equal(read('out.cpu1.pcap'), [hex(cpuSaw(at(5), view(4, META), false))], "CPU 1's stack");
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
