// Two builds of bpf2wasm side by side, in one process: the compiled module's ns per packet
// (xdp-bench.ts's "wasm" column: batches of 64, frames copied in, TurboFan up front) for
// katran, the example LB and bench/lru-alone.bpf.c (its connection table alone: an LRU
// lookup and, on a miss, an insert), 1 flow and 10,000 flows, each build compiling and
// running its own module on its own maps. Rounds interleave the builds (A, B, A, B...), so load drift
// on this shared machine hits both alike; a change is measured against the build before it
// (another checkout or worktree, built) in the same run. Prints medians, minimums and
// every round, of wall-clock time and of the process's CPU time (steadier when other work
// shares the cores), and the p50 / p10 of the single runBatch calls (steadier still: most
// batches run undisturbed), with the load average before and after.
//
//   node dist/bench/ab-bench.js <package root A> <package root B>
//   KATRAN_BPF_OBJ=/path/balancer.bpf.o ...   (adds katran)   BENCH_ROUNDS (11)  BENCH_REPEAT (200,000)
//   BENCH_ONLY='example LB, 10000'   (only the workloads whose "target, workload" name contains it)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../core/package-root.js';

type Machine = typeof import('../runtime/machine.js');
interface Build {
  root: string;
  tier: typeof import('../runtime/tier.js');
  object: typeof import('../compiler/object.js');
  compile: typeof import('../compiler/compile.js');
  program: typeof import('../runtime/program.js');
  machine: Machine;
  xdp: typeof import('../runtime/xdp.js');
  lb: typeof import('../katran/control-plane.js');
  maps: typeof import('../katran/maps/userspace-maps.js');
  config: typeof import('../katran/config.js');
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 200_000);
const FLOWS = 10_000;
const BATCH = 64;
const WARMUP_ROUNDS = 8;
const ONLY = process.env.BENCH_ONLY ?? '';

async function load(root: string): Promise<Build> {
  const at = <T>(path: string): Promise<T> => import(pathToFileURL(join(root, 'dist', path)).href) as Promise<T>;
  return {
    root,
    tier: await at('runtime/tier.js'),
    object: await at('compiler/object.js'),
    compile: await at('compiler/compile.js'),
    program: await at('runtime/program.js'),
    machine: await at('runtime/machine.js'),
    xdp: await at('runtime/xdp.js'),
    lb: await at('katran/control-plane.js'),
    maps: await at('katran/maps/userspace-maps.js'),
    config: await at('katran/config.js'),
  };
}

/** bench/lru-alone.bpf.c, compiled by clang for the bpf target (as scripts/build-examples.mjs does). */
function lruAloneObject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ab-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'lru-alone.o');
  const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const source = join(packageRoot, 'bench', 'lru-alone.bpf.c');
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', source, '-o', out]);
  return out;
}

/** ns/packet of wall-clock time and of the process's CPU time. */
interface Time {
  wall: number;
  cpu: number;
}
/** A timer, and the ns/packet of every single batch it timed in rounds (not warm-ups). */
interface Timer {
  run(n: number, keep: boolean): Time;
  batches: number[];
}

/** ns/packet over n packets, continuing through `packets` (xdp-bench.ts engineTimer, batched wasm). */
function timer(b: Build, object: string, program: string, packets: Uint8Array[], balancer: boolean): Timer {
  const loaded = b.program.loadWasm(
    b.compile.compileObject(b.object.loadObject(new Uint8Array(readFileSync(object)), object)).wasm,
    object,
  );
  const machine = b.machine.BpfMachine.create(loaded);
  if (balancer) {
    const maps = new b.maps.UserspaceKatranMaps(machine.maps);
    const lb = new b.lb.KatranLb(maps, { defaultMac: '00:00:de:ad:be:af', ...b.config.sizesFromMaps(maps) });
    lb.init();
    const vip = { address: '10.200.1.1', port: 80, proto: 6 };
    lb.addVip(vip);
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lb.addRealForVip({ address, weight: 1 }, vip);
  }
  const w = machine.worker(0, { engine: 'wasm', budget: 0, clock: () => process.hrtime.bigint() });
  const { XDP_FRAME_SIZE, XDP_HEADROOM } = b.xdp;
  const frames = machine.maps.heap.alloc(BATCH * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  const batch = w.batch(BATCH);
  const memory = new Uint8Array(machine.memory.buffer);
  let next = 0;
  const batches: number[] = [];
  const run = (n: number, keep: boolean): Time => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let done = 0; done < n; done += BATCH) {
      const count = Math.min(BATCH, n - done);
      for (let i = 0; i < count; i++) {
        const p = packets[next++ % packets.length]!;
        const data = frames + i * XDP_FRAME_SIZE + XDP_HEADROOM;
        memory.set(p, data);
        batch.set(i, frames + i * XDP_FRAME_SIZE, XDP_FRAME_SIZE, data, p.length, 1, 0);
      }
      const t0 = process.hrtime.bigint();
      w.runBatch(program, batch, count);
      if (keep) batches.push(Number(process.hrtime.bigint() - t0) / count);
    }
    const wall = Number(process.hrtime.bigint() - start) / n;
    const used = process.cpuUsage(cpu);
    return { wall, cpu: ((used.user + used.system) * 1000) / n };
  };
  return { run, batches };
}

/** The q-quantile (0..1) of xs. */
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const loads = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const roots = process.argv.slice(2).map((r) => resolve(r));
  if (roots.length !== 2) throw new Error('usage: node dist/bench/ab-bench.js <package root A> <package root B>');
  const builds = [await load(roots[0]!), await load(roots[1]!)];
  for (const b of builds) b.tier.compileOptimised();
  const { ethernet, ipv4, tcp } = await import('../packets/corpus.js');
  const flowPacket = (i: number): Uint8Array =>
    ethernet(
      0x0800,
      ipv4({ src: [192, 168, (i >> 8) & 0xff, i & 0xff], dst: [10, 200, 1, 1], proto: 6 }, tcp(1024 + (i % 50000), 80, 0x10, 16)),
    );
  const workloads: [string, Uint8Array[]][] = [
    ['1 flow', [flowPacket(1)]],
    [`${FLOWS} flows`, Array.from({ length: FLOWS }, (_, i) => flowPacket(i))],
  ];
  const targets: [string, (b: Build) => string, string, boolean][] = [];
  const katran = process.env.KATRAN_BPF_OBJ;
  if (katran) targets.push(['katran', () => katran, 'balancer_ingress', true]);
  targets.push(['example LB', (b) => join(b.root, 'build', 'examples', 'xdp_lb.o'), 'xdp_lb', true]);
  const lruAlone = lruAloneObject();
  targets.push(['LRU alone', () => lruAlone, 'lru_alone', false]);
  console.log(`${new Date().toISOString()}  load average before ${loads()}  ${ROUNDS} rounds of ${REPEAT} packets`);
  console.log(`A ${roots[0]}\nB ${roots[1]}`);
  const header = '| workload | A median / min | B median / min | B/A (medians) | B/A (minimums) |\n|---|---:|---:|---:|---:|';
  const tables: Record<keyof Time | 'batch', string[]> = { wall: [], cpu: [], batch: [] };
  const detail: string[] = [];
  const f = (x: number): string => x.toFixed(0);
  for (const [name, object, program, balancer] of targets) {
    for (const [workload, packets] of workloads) {
      if (!`${name}, ${workload}`.includes(ONLY)) continue;
      const timers = builds.map((b) => timer(b, object(b), program, packets, balancer));
      for (let r = 0; r < WARMUP_ROUNDS; r++) for (const t of timers) t.run(50_000, false);
      const rounds: Time[][] = timers.map(() => []);
      for (let r = 0; r < ROUNDS; r++) timers.forEach((t, i) => rounds[i]!.push(t.run(REPEAT, true)));
      const [qa, qb] = timers.map((t) => [quantile(t.batches, 0.1), quantile(t.batches, 0.5)]) as [number[], number[]];
      tables.batch.push(
        `| ${name}, ${workload} | ${f(qa[1]!)} / ${f(qa[0]!)} | ${f(qb[1]!)} / ${f(qb[0]!)} | ${(qb[1]! / qa[1]!).toFixed(2)}× | ${(qb[0]! / qa[0]!).toFixed(2)}× |`,
      );
      for (const kind of ['wall', 'cpu'] as const) {
        const [a, b] = rounds.map((rs) => rs.map((r) => r[kind])) as [number[], number[]];
        tables[kind].push(
          `| ${name}, ${workload} | ${f(median(a))} / ${f(Math.min(...a))} | ${f(median(b))} / ${f(Math.min(...b))} | ${(median(b) / median(a)).toFixed(2)}× | ${(Math.min(...b) / Math.min(...a)).toFixed(2)}× |`,
        );
        detail.push(`${name}, ${workload}, ${kind}: A ${a.map(f).join(' ')}; B ${b.map(f).join(' ')}`);
      }
    }
  }
  // CPU time counts only while this process runs: on a machine shared with other work it
  // is the steadier figure (wall time also counts the waits for a core).
  console.log(`wall clock, ns/packet:\n${header}\n${tables.wall.join('\n')}`);
  console.log(`process CPU time, ns/packet:\n${header}\n${tables.cpu.join('\n')}`);
  // Single batches (batch-quantiles.ts's method): most run undisturbed, so the low
  // quantiles hold on a loaded machine. Columns: p50 / p10 of the runBatch call alone.
  console.log(
    `single batches (runBatch only), ns/packet, p50 / p10:\n${header
      .replace(/median \/ min/g, 'p50 / p10')
      .replace(/medians\)/, 'p50)')
      .replace(/minimums\)/, 'p10)')}\n${tables.batch.join('\n')}`,
  );
  console.log(`load average after ${loads()}\nrounds (ns/packet):\n${detail.join('\n')}`);
}

await main();
