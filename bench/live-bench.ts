// Packets per second on veth pairs, every row measured side by side in interleaved rounds:
// the AF_XDP runtime (`bpf2wasm run`'s LiveRun, wasm) on DROP, TX, the example LB and
// katran (KATRAN_BPF_OBJ), its ceiling (the addon's C loop moving frames rx→fill and
// rx→tx on the same socket with no program), the kernel running the same objects in
// native and generic XDP on the same veth, and a two-queue, two-worker row. The traffic
// comes from a live-frames generator (bench/live-generator.ts: BPF_PROG_TEST_RUN with an
// XDP_TX program on the sending veth), which must run well above what it feeds for the
// figures to be the datapath's and not the generator's. Prints a table (medians and
// minimums over the rounds); writes bench/results/live.json with every round.
//
// CPUs (2 here): a one-queue datapath's worker is pinned to CPU 0 and the generator to
// CPU 1, where the veth's receive work (the prefilter, the copy into the UMEM) runs as
// part of the generator's kernel call. Two queues: workers on CPU 0 and 1, one generator
// pinned to each CPU (a veth picks the peer's RX queue by the sending CPU).
//
//   npm run build && node dist/bench/live-bench.js
//   BENCH_LIVE_PACKETS=3000000 BENCH_ROUNDS=5 KATRAN_BPF_OBJ=... node dist/bench/live-bench.js

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KernelObject } from '../native/kernel.js';
import type { XskStatistics } from '../native/addon.js';
import { KernelKatranMaps } from '../katran/maps/kernel-maps.js';
import { applyKatranConfig, parseKatranConfig } from '../katran/config.js';
import { topologyUnavailable } from '../examples/topology/topology.js';
import { packageRoot } from '../core/package-root.js';
import { readModuleFile } from '../cli/module-file.js';

const root = packageRoot;
const PACKETS = Number(process.env.BENCH_LIVE_PACKETS ?? 3_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KATRAN = process.env.KATRAN_BPF_OBJ;
/** Only the rows whose name matches (a regular expression), for working on one of them. */
const ONLY = process.env.BENCH_LIVE_ROWS ? new RegExp(process.env.BENCH_LIVE_ROWS) : undefined;
const tag = `${process.pid % 100000}${randomBytes(2).toString('hex')}`;
const GEN = `lbgen${tag}`;
const DUT = `lbdut${tag}`;
const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-live-bench-'));
const generatorScript = join(root, 'dist', 'bench', 'live-generator.js');
const dutScript = join(root, 'dist', 'bench', 'live-dut.js');
const VIP = '10.200.200.1';
// The generator and the datapath run at this niceness so that other jobs on the shared
// machine take less of their CPUs (0 to measure without). With autogroup scheduling a
// niceness only counts within a session, so each runs in a session of its own (setsid)
// whose autogroup gets the same niceness: that is what counts against other sessions. BENCH_LIVE_RT=1 runs them
// SCHED_FIFO instead (chrt -f 1): other jobs then get only the kernel's real-time
// throttling share (5 %) while a row runs; use it briefly, and only when it is yours to
// take the machine.
const NICE = process.env.BENCH_LIVE_NICE ?? '-10';
const RT = process.env.BENCH_LIVE_RT === '1';
const PRIORITY = RT ? 'SCHED_FIFO (generator 1, datapath 2)' : `nice ${NICE} in autogroups of their own`;
/**
 * `command` in namespace `ns` at the bench's priority. Real-time: the datapath one above
 * the generator, which would otherwise never give up a CPU the two share (two queues).
 */
const inNsNice = (ns: string, command: string[], rtPriority: number): string[] => [
  'netns',
  'exec',
  ns,
  ...(RT
    ? ['chrt', '-f', String(rtPriority)]
    : ['setsid', 'sh', '-c', `echo ${NICE} > /proc/self/autogroup && exec nice -n ${NICE} "$@"`, 'sh']),
  ...command,
];

function sh(command: string[]): string {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A veth pair from the generator's namespace to the DUT's, `queues` RX/TX queues each end. */
interface Pair {
  gen: string;
  dut: string;
  dutMac: string;
  genMac: string;
  queues: number;
}

function makePair(gen: string, dut: string, queues: number): Pair {
  const q = ['numtxqueues', String(queues), 'numrxqueues', String(queues)];
  sh(['ip', 'link', 'add', gen, 'netns', GEN, ...q, 'type', 'veth', 'peer', 'name', dut, 'netns', DUT, ...q]);
  sh(['ip', '-n', GEN, 'link', 'set', gen, 'up']);
  sh(['ip', '-n', DUT, 'link', 'set', dut, 'up']);
  // GRO gives each veth end NAPI, which XDP frames sent to a veth need to be received.
  sh(['ip', 'netns', 'exec', GEN, 'ethtool', '-K', gen, 'gro', 'on']);
  sh(['ip', 'netns', 'exec', DUT, 'ethtool', '-K', dut, 'gro', 'on']);
  const mac = (ns: string, iface: string): string => sh(['ip', 'netns', 'exec', ns, 'cat', `/sys/class/net/${iface}/address`]).trim();
  return { gen, dut, dutMac: mac(DUT, dut), genMac: mac(GEN, gen), queues };
}

interface Generated {
  sent: number;
  ms: number;
}

/** One generator process per CPU in `cpus`, all at once; each sends `count` frames. */
async function generate(pair: Pair, count: number, cpus: number[]): Promise<Generated> {
  const runs = cpus.map(
    (cpu) =>
      new Promise<Generated>((resolve, reject) => {
        const child = spawn(
          'ip',
          inNsNice(GEN, [process.execPath, generatorScript, pair.gen, pair.dutMac, VIP, '9', String(count), String(cpu)], 1),
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Generated) : reject(new Error(`generator: ${err}`))));
      }),
  );
  const all = await Promise.all(runs);
  return { sent: all.reduce((s, g) => s + g.sent, 0), ms: Math.max(...all.map((g) => g.ms)) };
}

interface Program {
  name: string;
  object: string;
  program: string;
  wasm: string;
  katranConfig?: string;
}

type RowKind =
  | { kind: 'dut'; program: Program; ceiling?: 'drop' | 'tx'; batch?: number }
  | { kind: 'kernel'; program: Program; mode: 'native' | 'generic' };

interface RowSpec {
  name: string;
  pair: Pair;
  /** The ceiling row this row's rate is compared with. */
  ceiling: string;
  run: RowKind;
}

interface Sample {
  genMpps: number;
  /** Frames the datapath handled per second of generator time. */
  mpps: number;
  /** Frames that came back out of the DUT's veth (TX), per second. */
  backMpps: number;
  /** Datapath rows: frames handled per second of the DUT process's CPU time (its worker). */
  mppsPerCpu?: number;
  processed: number;
  sent: number;
  detail?: DutResult;
}

/** What bench/live-dut.ts prints when stopped. */
interface DutResult {
  cpuMs: number;
  total: number;
  packets: Record<string, number>;
  sockets: XskStatistics[];
}

/** The generator side drops whatever the DUT sends back, counting it (native XDP_DROP). */
let sink: KernelObject;

async function measure(row: RowSpec): Promise<Sample> {
  const cpus = row.pair.queues === 2 ? [0, 1] : [1];
  const backBefore = sink.runCount('xdp_drop');
  const finish = (g: Generated, processed: number, detail?: DutResult): Sample => ({
    genMpps: g.sent / g.ms / 1000,
    mpps: processed / g.ms / 1000,
    backMpps: (sink.runCount('xdp_drop') - backBefore) / g.ms / 1000,
    mppsPerCpu: detail ? processed / detail.cpuMs / 1000 : undefined,
    processed,
    sent: g.sent,
    detail,
  });
  if (row.run.kind === 'kernel') {
    const { program, mode } = row.run;
    const kernel = KernelObject.load(program.object);
    try {
      if (program.katranConfig) provisionKernelKatran(kernel, program.katranConfig);
      const detach = kernel.attachXdp(program.program, row.pair.dut, mode, DUT);
      try {
        const before = kernel.runCount(program.program);
        const g = await generate(row.pair, PACKETS, cpus);
        await sleep(200);
        return finish(g, kernel.runCount(program.program) - before);
      } finally {
        detach();
      }
    } finally {
      kernel.close();
    }
  }
  const { program, ceiling, batch } = row.run;
  const spec = {
    batch,
    module: program.wasm,
    iface: row.pair.dut,
    queues: row.pair.queues,
    program: program.program,
    ceiling,
    katranConfig: program.katranConfig,
  };
  const child = spawn('ip', inNsNice(DUT, [process.execPath, dutScript, JSON.stringify(spec)], 2), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  for (let i = 0; i < 400 && !out.includes('ready'); i++) await sleep(25);
  if (!out.includes('ready')) {
    child.kill('SIGKILL');
    throw new Error(`${row.name}: the datapath did not start: ${err}`);
  }
  const g = await generate(row.pair, PACKETS, cpus);
  await sleep(300);
  child.kill('SIGINT');
  if ((await exited) !== 0) throw new Error(`${row.name}: the datapath failed: ${err}`);
  const result = JSON.parse(out.slice(out.indexOf('{'))) as DutResult;
  return finish(g, result.total, result);
}

function provisionKernelKatran(kernel: KernelObject, configPath: string): void {
  const cpus = Number(readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split('-').pop()) + 1;
  applyKatranConfig(new KernelKatranMaps(kernel, cpus), parseKatranConfig(readFileSync(configPath, 'utf8'), configPath), {
    forwardingCores: Array.from({ length: cpus }, (_, i) => i),
    lruSize: 1000 * cpus,
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const why = topologyUnavailable();
  if (why) {
    console.log(`live bench skipped: needs ${why}`);
    return;
  }
  const statsWas = sh(['sysctl', '-n', 'kernel.bpf_stats_enabled']).trim();
  sh(['sysctl', '-qw', 'kernel.bpf_stats_enabled=1']); // run_cnt: the kernel's own packet count
  const loadBefore = loadavg();
  const samples = new Map<string, Sample[]>();
  let rows: RowSpec[] = [];
  try {
    for (const ns of [GEN, DUT]) {
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // No IPv6 neighbour discovery on the links: the sink counts only what the DUT sends back.
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    const one = makePair('g0', 'd0', 1);
    const two = makePair('g1', 'd1', 2);
    sink = KernelObject.load(join(root, 'build', 'examples', 'xdp_drop.o'));
    sink.attachXdp('xdp_drop', one.gen, 'native', GEN);
    sink.attachXdp('xdp_drop', two.gen, 'native', GEN);
    const all = await rowSpecs(one, two);
    const chosen = all.filter((r) => !ONLY || ONLY.test(r.name));
    rows = all.filter((r) => chosen.includes(r) || chosen.some((c) => c.ceiling === r.name)); // with their ceilings
    for (let round = 0; round < ROUNDS; round++) {
      // Each round visits every row, starting one further along, so drift in the machine's
      // load falls on all rows alike.
      for (let k = 0; k < rows.length; k++) {
        const row = rows[(round + k) % rows.length]!;
        const s = await measure(row);
        samples.set(row.name, [...(samples.get(row.name) ?? []), s]);
        const perCpu = s.mppsPerCpu === undefined ? '' : `, ${s.mppsPerCpu.toFixed(2)} per CPU-second`;
        process.stderr.write(
          `round ${round + 1} ${row.name}: gen ${s.genMpps.toFixed(2)} Mpps, handled ${s.mpps.toFixed(2)} Mpps${perCpu}\n`,
        );
      }
    }
  } finally {
    for (const ns of [GEN, DUT]) spawnSync('ip', ['netns', 'del', ns]);
    sink?.close();
    sh(['sysctl', '-qw', `kernel.bpf_stats_enabled=${statsWas}`]);
    rmSync(work, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  const summary = rows.map((row) => {
    const s = samples.get(row.name)!;
    const ceiling = samples.get(row.ceiling)!;
    const perCpu = s.map((x) => x.mppsPerCpu).filter((x) => x !== undefined);
    const ceilingPerCpu = ceiling.map((x) => x.mppsPerCpu).filter((x) => x !== undefined);
    return {
      row: row.name,
      genMedian: median(s.map((x) => x.genMpps)),
      medianMpps: median(s.map((x) => x.mpps)),
      minMpps: Math.min(...s.map((x) => x.mpps)),
      backMedian: median(s.map((x) => x.backMpps)),
      vsCeiling: median(s.map((x) => x.mpps)) / median(ceiling.map((x) => x.mpps)),
      perCpuMedian: perCpu.length ? median(perCpu) : undefined,
      vsCeilingPerCpu: perCpu.length && ceilingPerCpu.length ? median(perCpu) / median(ceilingPerCpu) : undefined,
      ceiling: row.ceiling,
    };
  });
  console.log(
    `Mpps on veth, ${PACKETS} frames per generator per run, ${ROUNDS} interleaved rounds, generator and datapath at ${PRIORITY}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after\n`,
  );
  console.log(
    '| row | generator Mpps | handled Mpps (median / min) | generator / handled | sent back Mpps | vs its ceiling | Mpps per worker CPU-second | vs its ceiling, per CPU |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(0)} %`);
  for (const r of summary) {
    const own = r.ceiling === r.row;
    console.log(
      `| ${r.row} | ${r.genMedian.toFixed(2)} | ${r.medianMpps.toFixed(2)} / ${r.minMpps.toFixed(2)} | ${(r.genMedian / r.medianMpps).toFixed(1)}× | ${r.backMedian.toFixed(2)} | ${own ? '(ceiling)' : pct(r.vsCeiling)} | ${r.perCpuMedian?.toFixed(2) ?? '-'} | ${own ? '(ceiling)' : pct(r.vsCeilingPerCpu)} |`,
    );
  }
  console.log('\nceilings: ' + [...new Set(rows.map((r) => r.ceiling))].join('; '));
  // After each AF_XDP run every UMEM frame should be back with the kernel (fill or RX
  // ring); the kernel's copy-mode buffer pool may keep a few it took from the fill ring.
  const sockets = [...samples.values()].flatMap((list) => list.flatMap((s) => s.detail?.sockets ?? []));
  const back = sockets.map((k) => (k ? k.fillQueued + k.rxQueued : 0));
  if (sockets.length)
    console.log(
      `UMEM after ${sockets.length} AF_XDP sockets: at least ${Math.min(...back)} of ${sockets[0]?.frames} frames back with the kernel`,
    );
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', 'live.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        packets: PACKETS,
        rounds: ROUNDS,
        loadBefore,
        loadAfter,
        summary,
        samples: Object.fromEntries(samples),
      },
      null,
      2,
    ),
  );
}

/** The rows, in the order of a round; programs compiled to wasm once, here. */
async function rowSpecs(one: Pair, two: Pair): Promise<RowSpec[]> {
  const compile = async (name: string, object: string, program: string, katranConfig?: string): Promise<Program> => {
    const wasm = join(work, `${program}.wasm`);
    writeFileSync(wasm, await readModuleFile(object));
    return { name, object, program, wasm, katranConfig };
  };
  // Frames the LBs send back (XDP_TX) go to the generator's MAC, where the sink drops them.
  const config = join(work, 'lb.json');
  writeFileSync(
    config,
    JSON.stringify({ mac: one.genMac, vips: [{ address: VIP, port: 9, protocol: 'udp', reals: [{ address: '10.0.0.2' }] }] }),
  );
  const examples = join(root, 'build', 'examples');
  const drop = await compile('xdp_drop', join(examples, 'xdp_drop.o'), 'xdp_drop');
  const tx = await compile('xdp_tx', join(examples, 'xdp_tx.o'), 'xdp_tx');
  const programs = [drop, tx, await compile('example LB', join(examples, 'xdp_lb.o'), 'xdp_lb', config)];
  if (KATRAN) programs.push(await compile('katran', KATRAN, 'balancer_ingress', config));
  const rows: RowSpec[] = [
    {
      name: 'ceiling: C loop rx→fill (drop)',
      pair: one,
      ceiling: 'ceiling: C loop rx→fill (drop)',
      run: { kind: 'dut', program: drop, ceiling: 'drop' },
    },
    {
      name: 'ceiling: C loop rx→tx (tx)',
      pair: one,
      ceiling: 'ceiling: C loop rx→tx (tx)',
      run: { kind: 'dut', program: drop, ceiling: 'tx' },
    },
  ];
  for (const p of programs) {
    const ceiling = p === drop ? rows[0]!.name : rows[1]!.name;
    rows.push({ name: `bpf2wasm ${p.name}`, pair: one, ceiling, run: { kind: 'dut', program: p } });
    for (const mode of ['native', 'generic'] as const)
      rows.push({ name: `kernel ${mode} ${p.name}`, pair: one, ceiling, run: { kind: 'kernel', program: p, mode } });
  }
  // The batch the worker had before (64): what the larger default buys.
  rows.push({ name: 'bpf2wasm xdp_drop, batch 64', pair: one, ceiling: rows[0]!.name, run: { kind: 'dut', program: drop, batch: 64 } });
  const twoCeiling = 'ceiling: C loop rx→fill (drop), 2 queues';
  rows.push({ name: twoCeiling, pair: two, ceiling: twoCeiling, run: { kind: 'dut', program: drop, ceiling: 'drop' } });
  rows.push({ name: 'bpf2wasm xdp_drop, 2 queues', pair: two, ceiling: twoCeiling, run: { kind: 'dut', program: drop } });
  rows.push({
    name: 'kernel native xdp_drop, 2 queues',
    pair: two,
    ceiling: twoCeiling,
    run: { kind: 'kernel', program: drop, mode: 'native' },
  });
  return rows;
}

await main();
