// Live redirects through redirect maps, in a network namespace the test creates and
// removes: the same object (test/fixtures/redirect/redirect_maps.c) runs on v0 in
// userspace (`bpf2wasm run`, AF_XDP) and then in the kernel's XDP hook (native, on the same
// veth), and the frames that come out on a1, b1 and v1 must be the same bytes, and the
// second programs' notes (map `seen`) the same numbers. What is checked, frame by frame:
// BPF_F_BROADCAST with and without BPF_F_EXCLUDE_INGRESS over a devmap and a devmap_hash,
// a devmap entry's xdp/devmap program (it stamps ingress_ifindex, egress_ifindex and
// rx_queue_index into the frame and returns the verdict the frame asks for), a redirect
// back out of the receiving device, and a cpumap entry's xdp/cpumap program — passing to
// the stack, redirecting into a devmap entry with a program, into another cpumap entry
// (whose program redirects out of a device), and into an empty xskmap. And what second
// programs see of the frame (they stamp it): the metadata the first program reserved
// (bpf_xdp_adjust_meta) and a cpumap program added, and the headroom adjust_head allows.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPF2WASM, startRun, topologyMissing } from '../../examples/topology/topology.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { packageRoot } from '../../core/package-root.js';
import { readPcap } from '../../packets/pcap.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { report } from '../support/report.js';
import { examplePath } from '../support/examples.js';
import { possibleCpus } from '../support/cpus.js';
import {
  BPF_F_BROADCAST as BROADCAST,
  BPF_F_EXCLUDE_INGRESS as EXCLUDE_INGRESS,
  SEL,
  XDP,
  commandFrame,
  stamped as stampedBy,
  type Command,
  type View,
} from '../support/redirect-command.js';

const unavailable = topologyMissing() ?? kernelMissing();
const ns = `lbcast${process.pid % 100000}`;
const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'redirect', 'redirect_maps.c'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const { PASS, DROP, REDIRECT } = XDP;
/** The metadata word the first program reserves (commands with `meta`). */
const META = 0x11223344;
/**
 * What a second program sees after the first reserved `metaLen` bytes of metadata starting
 * with `metaWord`: a veth's XDP frame has XDP_PACKET_HEADROOM (256) bytes before the packet
 * (in the kernel's hook and in an AF_XDP chunk alike), of which the xdp_frame takes 40 and
 * the metadata the rest of what adjust_head may not take.
 */
const view = (metaLen: number, metaWord: number): View => ({ metaLen, metaWord, room: 256 - 40 - metaLen });

function sh(...command: string[]): string {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const ifindex = (dev: string): number => Number(sh('ip', 'netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/ifindex`).trim());

/** redirect_maps.c's command frame, numbered in its last byte. */
const frame = (n: number, sel: number, key: number, flags: bigint, verdict: number, then: Partial<Command> = {}): Uint8Array =>
  commandFrame({ n, sel, key, flags, verdict, ...then });

/** Sends frames into v0 from its peer v1, through a packet socket inside the namespace. */
function inject(frames: Uint8Array[]): void {
  const addon = join(packageRoot, 'dist', 'native', 'addon.js');
  const script = `import { nativeAddon } from ${JSON.stringify(addon)};
    const s = new (nativeAddon().PacketSocket)('v1', false);
    for (const h of process.argv.slice(1)) { s.send(Buffer.from(h, 'hex')); await new Promise((r) => setTimeout(r, 50)); }
    s.close();`;
  sh('ip', 'netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, ...frames.map(hex));
}

/** tcpdump of what arrives on each of `devs`, until stopped. */
function capture(dir: string, devs: string[]): { stop: () => Promise<Record<string, string[]>> } {
  const dumps: [string, ChildProcess][] = devs.map((dev) => [
    dev,
    spawn(
      'ip',
      ['netns', 'exec', ns, 'tcpdump', '-U', '-Q', 'in', '-i', dev, '--immediate-mode', '-w', join(dir, `${dev}.pcap`), 'ip proto 253'],
      {
        stdio: 'ignore',
      },
    ),
  ]);
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all(dumps.map(([, p]) => new Promise((r) => (p.once('exit', r), p.kill('SIGINT')))));
      const out: Record<string, string[]> = {};
      for (const dev of devs) out[dev] = readPcap(new Uint8Array(readFileSync(join(dir, `${dev}.pcap`))), dev).map((r) => hex(r.data));
      return out;
    },
  };
}

/** Writes `entries` (second word: the program's fd, or 0) into the pinned maps, from inside the namespace. */
function provisionInNamespace(pinDir: string, entries: [string, number, number, string?][]): void {
  const addon = join(packageRoot, 'dist', 'native', 'addon.js');
  const script = `import { nativeAddon } from ${JSON.stringify(addon)};
    const a = nativeAddon();
    const [dir, ...entries] = process.argv.slice(1);
    for (const e of entries) {
      const [map, key, first, program] = e.split(',');
      const value = new Uint32Array([Number(first), program ? a.openPinned(dir + '/' + program) : 0]);
      a.mapUpdate(a.openPinned(dir + '/maps/' + map), new Uint8Array(new Uint32Array([Number(key)]).buffer), new Uint8Array(value.buffer), 0);
    }`;
  // nsenter, not `ip netns exec`: that remounts /sys, and the pins under /sys/fs/bpf with it.
  sh(
    'nsenter',
    `--net=/run/netns/${ns}`,
    process.execPath,
    '--input-type=module',
    '-e',
    script,
    pinDir,
    ...entries.map((e) => e.join(',')),
  );
}

test('broadcast, devmap and cpumap programs on live frames: userspace as the kernel', async () => {
  if (unavailable) return void skip('live redirect maps', unavailable);
  const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-bcast-'));
  let passer: KernelObject | undefined;
  sh('ip', 'netns', 'add', ns);
  try {
    for (const [a, b] of [
      ['v0', 'v1'],
      ['a0', 'a1'],
      ['b0', 'b1'],
    ]) {
      sh('ip', '-n', ns, 'link', 'add', a!, 'numrxqueues', '2', 'numtxqueues', '2', 'type', 'veth', 'peer', 'name', b!);
      for (const l of [a!, b!]) sh('ip', '-n', ns, 'link', 'set', l, 'up');
    }
    // The kernel's XDP transmit on a veth needs an XDP program on the peer (for XDP_TX it
    // only wakes the peer then): xdp_pass on the receiving ends, for both legs alike.
    passer = KernelObject.load(examplePath('xdp_pass'));
    for (const dev of ['v1', 'a1', 'b1']) passer.attachXdp('xdp_pass', dev, 'native', ns);
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    const [v0, a0, b0] = ['v0', 'a0', 'b0'].map(ifindex) as [number, number, number];
    // The cpumap target: CPU 1, played by the second worker here (frames arrive on queue 0);
    // its program's redirects into the cpumap go to CPU 0 (the first worker).
    const cpu = Math.min(1, possibleCpus() - 1);
    const other = 0;
    const frames = [
      frame(1, 1, 0, BROADCAST | EXCLUDE_INGRESS, PASS), // a1 (stamped), b1
      frame(2, 1, 1, 0n, PASS), // a1 (stamped)
      frame(3, 1, 1, 0n, DROP), // the devmap program drops it
      frame(4, 2, 9, BROADCAST, PASS), // devmap_hash: b1, and v1 (ingress not excluded)
      frame(5, 0, cpu, 0n, PASS), // cpumap: its program notes it (on that CPU), the stack gets it
      frame(6, 2, 6, 0n, PASS), // devmap_hash: back out of v0, to v1
      frame(7, 4, 3, 3n, PASS), // the last call (missing devmap key, fallback XDP_TX) decides
      // cpumap programs that redirect, as the kernel's cpu_map_bpf_prog_run_xdp does through xdp_do_redirect:
      frame(8, 0, cpu, 0n, REDIRECT, { sel2: SEL.devmap, key2: 1, then: PASS }), // into a devmap entry with a program: a1 (stamped twice)
      frame(9, 0, cpu, 0n, REDIRECT, { sel2: SEL.xskmap, key2: 0 }), // into an empty xskmap: XDP_ABORTED, dropped
      // into another cpumap entry, whose program (on CPU `other`) redirects out of b0: b1
      frame(10, 0, cpu, 0n, REDIRECT, { sel2: SEL.cpumap, key2: other, then: REDIRECT, sel3: SEL.devmap, key3: 2 }),
      // Metadata the first program reserves, and the headroom, as second programs see them
      // (each cpumap program that redirects reserves 4 bytes more):
      frame(11, 1, 1, 0n, PASS, { meta: META, probe: true }), // the devmap program: a1
      frame(12, 0, cpu, 0n, REDIRECT, { sel2: SEL.devmap, key2: 1, then: PASS, meta: META, probe: true }), // cpumap, then devmap: a1
      // no metadata from the first program; cpumap, then the other CPU's cpumap (another worker's inbox) out of b0: b1
      frame(13, 0, cpu, 0n, REDIRECT, { sel2: SEL.cpumap, key2: other, then: REDIRECT, sel3: SEL.devmap, key3: 2, probe: true }),
      frame(14, 1, 0, BROADCAST | EXCLUDE_INGRESS, PASS, { meta: META, probe: true }), // broadcast copies: a1 (the program's view), b1
    ];
    const u32hex = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('hex');
    const entries: [map: string, key: number, first: number, program?: string][] = [
      ['tx_ports', 0, v0],
      ['tx_ports', 1, a0, 'stamp_egress'],
      ['tx_ports', 2, b0],
      ['tx_hash', 5, b0],
      ['tx_hash', 6, v0],
      ['cpu_map', cpu, 64, 'stamp_cpu'],
      ...(other === cpu ? [] : [['cpu_map', other, 64, 'stamp_cpu'] as [string, number, number, string]]),
    ];
    const devs = ['a1', 'b1', 'v1'];

    // Userspace.
    const ours = capture(dir, devs);
    const socket = `/run/bpf2wasm/test-bcast-${process.pid}.sock`;
    const updates = entries.flatMap(([map, key, first, program]) => [
      '--update',
      `${map}=${u32hex(key)}:${u32hex(first)}${map === 'cpu_map' || map === 'tx_ports' || map === 'tx_hash' ? '00000000' : ''}${program ? `+${program}` : ''}`,
    ]);
    const run = startRun(ns, object, [
      '--iface',
      'v0',
      '--stats-interval',
      '0',
      '--control',
      socket,
      '--program',
      'redirect_by_command',
      '--queues',
      '2',
      '--max-cpus',
      String(possibleCpus()),
      ...updates,
    ]);
    let oursSeen: string;
    try {
      await run.waitFor(/^running /);
      await new Promise((r) => setTimeout(r, 500));
      inject(frames);
      await new Promise((r) => setTimeout(r, 300));
      const r = spawnSync(process.execPath, [BPF2WASM, 'map', 'dump', socket, 'seen'], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      oursSeen = r.stdout.trim();
    } finally {
      assert.is(await run.stop(), 0, run.stderr);
    }
    const userspace = await ours.stop();

    // The kernel, on the same devices.
    const kernel = KernelObject.load(object);
    let kernelSeen: string;
    let kernelOut: Record<string, string[]>;
    try {
      // A devmap update resolves its ifindex in the caller's namespace: update from inside it.
      provisionInNamespace(kernel.pinDir, entries);
      const theirs = capture(dir, devs);
      await new Promise((r) => setTimeout(r, 1000)); // tcpdump is listening by now
      const detach = kernel.attachXdp('redirect_by_command', 'v0', 'native', ns);
      try {
        inject(frames);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        detach();
      }
      kernelOut = await theirs.stop();
      kernelSeen = kernel
        .dump('seen')
        .map(({ key, values }) => `key ${hex(key)} value ${hex(values[0]!)}`)
        .join('\n');
    } finally {
      kernel.close();
    }

    // The frames, derived by hand: stamped ones carry (ingress v0, egress a0, rx queue 0).
    const stamped = (f: Uint8Array): string => hex(stampedBy(f, { ingress: v0, egress: a0, rxQueue: 0 }));
    // A cpumap program stamps ingress and rx queue, and when it redirects moves the next command up.
    const viaCpu = (f: Uint8Array): Uint8Array => stampedBy(f, { ingress: v0, rxQueue: 0, redirected: true });
    const devmapSaw = (f: Uint8Array, dev: View): string => hex(stampedBy(f, { ingress: v0, egress: a0, rxQueue: 0, dev }));
    const cpuSaw = (f: Uint8Array, cpu: View): Uint8Array => stampedBy(f, { ingress: v0, rxQueue: 0, redirected: true, cpu });
    const want = {
      a1: [
        stamped(frames[0]!),
        stamped(frames[1]!),
        stamped(viaCpu(frames[7]!)),
        devmapSaw(frames[10]!, view(4, META)),
        devmapSaw(cpuSaw(frames[11]!, view(4, META)), view(8, META + 1)),
        devmapSaw(frames[13]!, view(4, META)),
      ],
      b1: [
        hex(frames[0]!),
        hex(frames[3]!),
        hex(viaCpu(frames[9]!)),
        // Both cpumap hops stamp the same place: the second's view is left.
        hex(cpuSaw(cpuSaw(frames[12]!, view(0, 0)), view(4, 1))),
        hex(frames[13]!),
      ],
      v1: [hex(frames[3]!), hex(frames[5]!), hex(frames[6]!)],
    };
    assert.equal(kernelOut, want, 'the kernel gives the hand-derived frames');
    assert.equal(userspace, kernelOut, 'userspace gives the kernel frames');
    // seen: devmap program runs 7 (frames 1, 2, 3, 8, 11, 12, 14), last egress a0; cpumap
    // program runs 8 (frames 5, 8, 9, 12, and 10 and 13 twice), the last ingress v0, the last
    // on CPU `other` (frame 13's second hop).
    const note = (k: number, v: number): string =>
      `key ${u32hex(k)} value ${Buffer.from(new BigUint64Array([BigInt(v)]).buffer).toString('hex')}`;
    assert.is(kernelSeen, [note(0, 7), note(1, a0), note(2, 8), note(3, v0), note(4, other)].join('\n'), 'the kernel notes');
    assert.is(oursSeen, kernelSeen, 'userspace notes as the kernel');
    report(`live redirect maps: ${frames.length} frames, ${Object.values(want).flat().length} out on 3 devices, as the kernel`);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]); // detaches xdp_pass with the devices
    passer?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
