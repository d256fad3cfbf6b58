// Packets per second on a veth pair, side by side in one run: the AF_XDP runtime
// (`bpf2wasm run`, wasm) against the same object in the kernel's XDP hook on the same
// interface, native and generic, fed by the same raw-socket generator (sendmmsg) from a
// second namespace. Programs: xdp_drop (the datapath's own cost) and the example LB
// (katran layouts, one VIP, frames sent back out with XDP_TX). A final long run checks
// that no UMEM frame is lost. Prints a table; writes bench/results/live.json.
//
//   npm run build && node dist/bench/live-bench.js
//   BENCH_LIVE_PACKETS=2000000 BENCH_LIVE_LONG=10000000 node dist/bench/live-bench.js

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelObject } from '../native/kernel.js';
import { KernelKatranMaps } from '../katran/maps/kernel-maps.js';
import { applyKatranConfig, parseKatranConfig } from '../katran/config.js';
import { BPF2WASM, topologyUnavailable } from '../examples/topology/topology.js';
import { packageRoot } from '../core/package-root.js';

const root = packageRoot;
const PACKETS = Number(process.env.BENCH_LIVE_PACKETS ?? 2_000_000);
const LONG = Number(process.env.BENCH_LIVE_LONG ?? 10_000_000);
const id = process.pid % 100000;
const GEN = `bgen${id}`;
const DUT = `bdut${id}`;
const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-live-bench-'));
const generator = join(root, 'dist', 'bench', 'live-generator.js');

function sh(command: string[], what = command.join(' ')): string {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr || r.stdout}`);
  return r.stdout;
}
const inNs = (ns: string, command: string[]): string => sh(['ip', 'netns', 'exec', ns, ...command]);

function setUp(): { dutMac: string; genMac: string } {
  for (const ns of [GEN, DUT]) {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh(['ip', 'link', 'add', 'g0', 'netns', GEN, 'type', 'veth', 'peer', 'name', 'd0', 'netns', DUT]);
  sh(['ip', '-n', GEN, 'link', 'set', 'g0', 'up']);
  sh(['ip', '-n', DUT, 'link', 'set', 'd0', 'up']);
  // GRO gives each veth end NAPI, which native XDP on veth needs to receive.
  inNs(GEN, ['ethtool', '-K', 'g0', 'gro', 'on']);
  inNs(DUT, ['ethtool', '-K', 'd0', 'gro', 'on']);
  return {
    dutMac: inNs(DUT, ['cat', '/sys/class/net/d0/address']).trim(),
    genMac: inNs(GEN, ['cat', '/sys/class/net/g0/address']).trim(),
  };
}

function tearDown(): void {
  for (const ns of [GEN, DUT]) spawnSync('ip', ['netns', 'del', ns]);
}

function generate(dutMac: string, count: number): { sent: number; ms: number } {
  return JSON.parse(inNs(GEN, [process.execPath, generator, 'g0', dutMac, '10.200.200.1', '9', String(count)]));
}

interface Program {
  name: string;
  object: string;
  program: string;
  katranConfig?: string;
}

interface Row {
  program: string;
  datapath: string;
  sent: number;
  processed: number;
  seconds: number;
  kpps: number;
  note?: string;
}

async function runtimeRow(p: Program, dutMac: string, count: number): Promise<Row & { umem: string }> {
  const args = ['netns', 'exec', DUT, process.execPath, BPF2WASM, 'run', p.object, '--iface', 'd0', '--stats-interval', '0'];
  if (p.katranConfig) args.push('--katran', '--katran-config', p.katranConfig, '--lru-size', '1000');
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  for (let i = 0; i < 200 && !out.includes('running '); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes('running ')) throw new Error(`bpf2wasm run did not start: ${err}`);
  const g = generate(dutMac, count);
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  if ((await exited) !== 0) throw new Error(`bpf2wasm run failed: ${err}`);
  const processed = Number(/total: (\d+) packets/.exec(out)?.[1] ?? NaN);
  const umem = /umem: (.*)/.exec(out)?.[1] ?? '';
  return {
    program: p.name,
    datapath: 'bpf2wasm AF_XDP (wasm)',
    sent: g.sent,
    processed,
    seconds: g.ms / 1000,
    kpps: processed / g.ms,
    umem,
  };
}

function kernelRow(p: Program, dutMac: string, mode: 'native' | 'generic', count: number): Row {
  const kernel = KernelObject.load(p.object);
  try {
    if (p.katranConfig) {
      const cpus = Number(readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split('-').pop()) + 1;
      applyKatranConfig(new KernelKatranMaps(kernel, cpus), parseKatranConfig(readFileSync(p.katranConfig, 'utf8'), p.katranConfig), {
        forwardingCores: Array.from({ length: cpus }, (_, i) => i),
        lruSize: 1000 * cpus,
      });
    }
    const detach = kernel.attachXdp(p.program, 'd0', mode, DUT);
    const before = kernel.runCount(p.program);
    const g = generate(dutMac, count);
    spawnSync('sleep', ['0.3']);
    const processed = kernel.runCount(p.program) - before;
    detach();
    return { program: p.name, datapath: `kernel XDP ${mode}`, sent: g.sent, processed, seconds: g.ms / 1000, kpps: processed / g.ms };
  } finally {
    kernel.close();
  }
}

async function main(): Promise<void> {
  const why = topologyUnavailable();
  if (why) {
    console.log(`live bench skipped: needs ${why}`);
    return;
  }
  const statsWas = sh(['sysctl', '-n', 'kernel.bpf_stats_enabled']).trim();
  sh(['sysctl', '-qw', 'kernel.bpf_stats_enabled=1']); // run_cnt: the kernel's own packet count
  const { dutMac, genMac } = setUp();
  const rows: Row[] = [];
  let umemCheck = '';
  try {
    const config = join(work, 'lb.json');
    // Frames the LB sends back (XDP_TX) go to the generator's MAC and die there.
    writeFileSync(
      config,
      JSON.stringify({ mac: genMac, vips: [{ address: '10.200.200.1', port: 9, protocol: 'udp', reals: [{ address: '10.0.0.2' }] }] }),
    );
    const programs: Program[] = [
      { name: 'xdp_drop', object: join(root, 'build', 'examples', 'xdp_drop.o'), program: 'xdp_drop' },
      { name: 'example LB', object: join(root, 'build', 'examples', 'xdp_lb.o'), program: 'xdp_lb', katranConfig: config },
    ];
    for (const p of programs) {
      rows.push(await runtimeRow(p, dutMac, PACKETS));
      rows.push(kernelRow(p, dutMac, 'native', PACKETS));
      rows.push(kernelRow(p, dutMac, 'generic', PACKETS));
    }
    if (LONG > 0) {
      const long = await runtimeRow(programs[0]!, dutMac, LONG);
      umemCheck = `${long.processed} of ${long.sent} packets through xdp_drop; ${long.umem}`;
    }
  } finally {
    tearDown();
    sh(['sysctl', '-qw', `kernel.bpf_stats_enabled=${statsWas}`]);
  }
  console.log(`packets per second on veth, ${PACKETS} UDP frames per run from a raw-socket generator (sendmmsg) in another namespace\n`);
  console.log('| program | datapath | sent | processed | kpps processed | kernel / bpf2wasm |');
  console.log('|---|---|---|---|---|---|');
  // A datapath that processed every frame kept up with the generator: its figure is the
  // generator's rate, a lower bound on what that datapath can do.
  for (const r of rows) {
    const ours = rows.find((x) => x.program === r.program && x.datapath.startsWith('bpf2wasm'))!;
    const ratio = r === ours ? '' : `${(r.kpps / ours.kpps).toFixed(2)}×`;
    const keptUp = r.processed >= r.sent ? ' (kept up: ≥)' : '';
    console.log(`| ${r.program} | ${r.datapath} | ${r.sent} | ${r.processed} | ${r.kpps.toFixed(0)}${keptUp} | ${ratio} |`);
  }
  if (umemCheck) console.log(`\nUMEM after ${LONG} packets: ${umemCheck}`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', 'live.json'),
    JSON.stringify({ date: new Date().toISOString(), packets: PACKETS, rows, umemCheck }, null, 2),
  );
}

await main();
