// The live benchmark's machinery on a veth pair (bench/live-bench.ts): the live-frames
// generator (addon xdpLiveFrames) and the AF_XDP socket's paths it measures. The far end's
// kernel XDP_DROP counts what comes back (run_cnt, the kernel's own count).
// - the generator sends exactly what it is asked to, and writes its frame afresh each time:
//   the kernel's example LB on the peer encapsulates in place, yet sends every frame back;
// - the ceiling's C loop (XskSocket.forward) drops, or transmits, every frame;
// - the datapath worker (xdp_tx through the wasm module) sends every frame back after the
//   traffic stops (all of its TX ring, not 32 frames per kick), and hands every UMEM frame
//   back to the kernel (recycled through receive()).
// 1000 frames: fewer than the RX ring holds, so none may be lost however late the worker
// runs. The veth's own ring between the two ends may drop a few when the peer is slow, so
// the counts are held equal to what arrived: the frames XDP ran on at v1 (ethtool -S).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { topologyMissing } from '../../examples/topology/topology.js';
import { examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';
import { BPF2WASM_BIN, packageRoot } from '../../core/package-root.js';
import { KernelObject } from '../../native/kernel.js';
import { KernelKatranMaps } from '../../katran/maps/kernel-maps.js';
import { applyKatranConfig, parseKatranConfig } from '../../katran/config.js';

const unavailable = topologyMissing();
const ns = `llf${process.pid % 100000}`;
const FRAMES = 1000;
const VIP = '10.200.200.1';
const generator = join(packageRoot, 'dist', 'bench', 'live-generator.js');
const dut = join(packageRoot, 'dist', 'bench', 'live-dut.js');

function sh(...command: string[]): string {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Frames the XDP hook of v1 (the prefilter, or the kernel's LB) has run on. */
function arrivedAtV1(): number {
  return Number(/rx_queue_0_xdp_packets: (\d+)/.exec(sh('ip', 'netns', 'exec', ns, 'ethtool', '-S', 'v1'))![1]);
}

/** The generator sent FRAMES and nearly all arrived; returns how many did. */
function sendAndCount(dutMac: string): number {
  const before = arrivedAtV1();
  assert.is(generate(dutMac).sent, FRAMES);
  const arrived = arrivedAtV1() - before;
  assert.ok(arrived >= FRAMES * 0.9 && arrived <= FRAMES, `${arrived} of ${FRAMES} frames arrived`);
  return arrived;
}

function generate(dutMac: string): { sent: number } {
  // Batches of 32: the veth's 256-frame ring between the ends cannot overflow between polls.
  const args = ['v0', dutMac, VIP, '9', String(FRAMES), '-', '32'];
  return JSON.parse(sh('ip', 'netns', 'exec', ns, process.execPath, generator, ...args)) as { sent: number };
}

/** Waits until `read()` reaches `want` (or 3 s pass) and returns its last value. */
async function settle(read: () => number, want: number): Promise<number> {
  let value = read();
  for (let i = 0; i < 60 && value < want; i++) {
    await sleep(50);
    value = read();
  }
  return value;
}

interface DutResult {
  packets: Record<string, number>;
  sockets: { fillQueued: number; rxQueued: number; frames: number }[];
}

/** bench/live-dut.js on v1 while the generator sends; its totals once stopped. */
async function throughDut(
  spec: object,
  dutMac: string,
  sink: KernelObject,
  sendsBack: boolean,
): Promise<{ result: DutResult; arrived: number; back: number }> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, dut, JSON.stringify({ iface: 'v1', queues: 1, ...spec })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r((exitCode = code))));
  try {
    for (let i = 0; i < 400 && !out.includes('ready'); i++) await sleep(25);
    assert.ok(out.includes('ready'), `the datapath started: ${err}`);
    const before = sink.runCount('xdp_drop');
    const arrived = sendAndCount(dutMac);
    const back = await settle(() => sink.runCount('xdp_drop') - before, sendsBack ? arrived : 0);
    await sleep(300); // the worker's last batch
    child.kill('SIGINT');
    assert.is(await exited, 0, err);
    return { result: JSON.parse(out.slice(out.indexOf('{'))) as DutResult, arrived, back };
  } finally {
    if (exitCode === undefined) child.kill('SIGKILL'); // a failed assertion must not leave it running
  }
}

test('live-frames generator, the AF_XDP ceiling and the worker: every frame accounted for', async () => {
  if (unavailable) return void skip('live-frames generator', unavailable);
  const statsWas = sh('sysctl', '-n', 'kernel.bpf_stats_enabled').trim();
  sh('sysctl', '-qw', 'kernel.bpf_stats_enabled=1');
  const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-live-frames-'));
  sh('ip', 'netns', 'add', ns);
  // No IPv6: its neighbour discovery on the new links would reach the sink too.
  sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  const sink = KernelObject.load(examplePath('xdp_drop'));
  try {
    sh('ip', '-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    for (const l of ['v0', 'v1', 'lo']) sh('ip', '-n', ns, 'link', 'set', l, 'up');
    for (const l of ['v0', 'v1']) sh('ip', 'netns', 'exec', ns, 'ethtool', '-K', l, 'gro', 'on');
    const mac = (l: string): string => sh('ip', 'netns', 'exec', ns, 'cat', `/sys/class/net/${l}/address`).trim();
    const dutMac = mac('v1');
    sink.attachXdp('xdp_drop', 'v0', 'native', ns);

    // The kernel's LB rewrites each frame in its page; the generator writes it afresh.
    const config = join(work, 'lb.json');
    writeFileSync(
      config,
      JSON.stringify({ mac: mac('v0'), vips: [{ address: VIP, port: 9, protocol: 'udp', reals: [{ address: '10.0.0.2' }] }] }),
    );
    const lb = KernelObject.load(examplePath('xdp_lb'));
    try {
      applyKatranConfig(new KernelKatranMaps(lb, 2), parseKatranConfig(readFileSync(config, 'utf8'), config), {
        forwardingCores: [0, 1],
        lruSize: 2000,
      });
      const detach = lb.attachXdp('xdp_lb', 'v1', 'native', ns);
      const before = sink.runCount('xdp_drop');
      const arrived = sendAndCount(dutMac);
      assert.is(lb.runCount('xdp_lb'), arrived);
      assert.is(await settle(() => sink.runCount('xdp_drop') - before, arrived), arrived, 'every frame encapsulated and sent back');
      detach();
    } finally {
      lb.close();
    }

    const drop = join(work, 'xdp_drop.wasm');
    const tx = join(work, 'xdp_tx.wasm');
    sh(process.execPath, BPF2WASM_BIN, examplePath('xdp_drop'), '-o', drop);
    sh(process.execPath, BPF2WASM_BIN, examplePath('xdp_tx'), '-o', tx);
    const cases = [
      { spec: { module: drop, program: 'xdp_drop', ceiling: 'drop' }, action: 'XDP_DROP', sendsBack: false },
      { spec: { module: drop, program: 'xdp_drop', ceiling: 'tx' }, action: 'XDP_TX', sendsBack: true },
      { spec: { module: drop, program: 'xdp_drop' }, action: 'XDP_DROP', sendsBack: false },
      { spec: { module: tx, program: 'xdp_tx' }, action: 'XDP_TX', sendsBack: true },
    ];
    for (const c of cases) {
      const what = JSON.stringify(c.spec);
      const { result, arrived, back } = await throughDut(c.spec, dutMac, sink, c.sendsBack);
      assert.is(result.packets[c.action], arrived, `${what}: ${c.action}`);
      assert.is(back, c.sendsBack ? arrived : 0, `${what}: frames sent back`);
      const s = result.sockets[0]!;
      assert.is(s.fillQueued + s.rxQueued, s.frames, `${what}: every UMEM frame back with the kernel`);
    }
  } finally {
    sink.close();
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(work, { recursive: true, force: true });
    sh('sysctl', '-qw', `kernel.bpf_stats_enabled=${statsWas}`);
  }
});

test.run();
