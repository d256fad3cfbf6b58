// ns per packet side by side, measured in one run: the reference interpreter and the
// compiled module (wasm), both in batches as the live workers run them (runBatch), the
// module one call per packet (1-by-1, the path before batches), and the kernel (BPF_PROG_TEST_RUN's own duration, minus the
// duration of a trivial XDP_PASS program measured the same way; single runs through the
// native addon), on the same object,
// packets and map state. Workloads: one flow repeated (LRU hits) and many distinct flows
// (LRU misses). The modules are compiled with TurboFan up front (runtime/tier.ts); the
// warm-up rounds' times are printed as evidence that nothing tiers up during the timing.
// Prints a table and writes bench/results/xdp.json.
//
//   npm run build && node dist/bench/xdp-bench.js            (parse_count fixture)
//   KATRAN_BPF_OBJ=/path/balancer.bpf.o node dist/bench/xdp-bench.js   (adds katran)

import { mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../compiler/object.js';
import { compileObject } from '../compiler/compile.js';
import { loadWasm } from '../runtime/program.js';
import { BpfMachine, type Engine } from '../runtime/machine.js';
import { compileOptimised, optimisedFlags } from '../runtime/tier.js';
import { XDP_FRAME_SIZE, XDP_HEADROOM } from '../runtime/xdp.js';
import { KernelObject, kernelUnavailable } from '../native/kernel.js';
import { KatranLb } from '../katran/control-plane.js';
import { UserspaceKatranMaps } from '../katran/maps/userspace-maps.js';
import { sizesFromMaps } from '../katran/config.js';
import { ethernet, ipv4, tcp } from '../packets/corpus.js';
import { packageRoot } from '../core/package-root.js';

const root = packageRoot;
const FLOWS = Number(process.env.BENCH_FLOWS ?? 10_000);
const KERNEL_FLOWS = Number(process.env.BENCH_KERNEL_FLOWS ?? 10_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 200_000);

interface Target {
  name: string;
  object: string;
  program: string;
  /** Provision a machine's maps (and return entries to copy into the kernel). */
  provision(m: BpfMachine): void;
  dst: number[];
}

function compileC(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-bench-'));
  const out = join(dir, source.split('/').pop()!.replace(/\.c$/, '.o'));
  const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', source, '-o', out], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

const flowPacket = (i: number, dst: number[]): Uint8Array =>
  ethernet(0x0800, ipv4({ src: [192, 168, (i >> 8) & 0xff, i & 0xff], dst, proto: 6 }, tcp(1024 + (i % 50000), 80, 0x10, 16)));

const BATCH = 64;
const WARMUP_ROUNDS = 8;

/**
 * ns per packet the way the live datapath runs a program: batches of BATCH packets, each
 * copied into its frame of linear memory (as a NIC's DMA would put it there; the copy is
 * timed too, live frames need none), then one runBatch call (what the AF_XDP workers do).
 * `single` times the old way instead: one call per packet (runXdpInPlace). Warm-up rounds
 * come first; their times are returned to show that the code had stabilised.
 */
function timeEngine(
  machine: BpfMachine,
  engine: Engine,
  t: Target,
  packets: Uint8Array[],
  runs: number,
  single = false,
): { ns: number; warmup: number[] } {
  const w = machine.worker(engine === 'wasm' ? 0 : 1, { engine, budget: 0, clock: () => process.hrtime.bigint() });
  const frames = machine.maps.heap.alloc(BATCH * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  const batch = w.batch(BATCH);
  const memory = new Uint8Array(machine.memory.buffer);
  for (let i = 0; i < BATCH; i++)
    batch.set(i, frames + i * XDP_FRAME_SIZE, XDP_FRAME_SIZE, frames + i * XDP_FRAME_SIZE + XDP_HEADROOM, 0, 1, 0);
  let next = 0;
  const round = (n: number): void => {
    for (let done = 0; done < n; done += BATCH) {
      const count = Math.min(BATCH, n - done);
      for (let i = 0; i < count; i++) {
        const p = packets[next++ % packets.length]!;
        const data = frames + i * XDP_FRAME_SIZE + XDP_HEADROOM;
        memory.set(p, data);
        if (single) w.runXdpInPlace(t.program, frames + i * XDP_FRAME_SIZE, XDP_FRAME_SIZE, data, p.length, 1, 0);
        else batch.set(i, frames + i * XDP_FRAME_SIZE, XDP_FRAME_SIZE, data, p.length, 1, 0);
      }
      if (!single) w.runBatch(t.program, batch, count);
    }
  };
  const timed = (n: number): number => {
    const start = process.hrtime.bigint();
    round(n);
    return Number(process.hrtime.bigint() - start) / n;
  };
  const warmRuns = Math.max(BATCH, Math.floor(Math.min(runs, 20_000) / WARMUP_ROUNDS));
  const warmup = Array.from({ length: WARMUP_ROUNDS }, () => timed(warmRuns));
  return { ns: timed(runs), warmup };
}

function kernelCopy(k: KernelObject, m: BpfMachine): void {
  for (const spec of m.manifest.maps) {
    if ([5, 6, 10, 12, 13].includes(spec.type) || spec.maxEntries > 100_000) continue;
    const map = m.maps.byNameOrThrow(spec.name);
    k.updateMany(
      spec.name,
      [...map.entries()].filter(([, v]) => spec.type !== 2 || v.some((b) => b !== 0)),
    );
  }
}

function main(): void {
  compileOptimised(); // before any module of the bench is compiled (binaryen loaded with the imports above)
  const targets: Target[] = [
    {
      name: 'parse_count',
      object: compileC(join(root, 'test', 'fixtures', 'kernel', 'parse_count.c')),
      program: 'parse_count',
      provision: (m) => m.maps.byNameOrThrow('tunnel_dst').updateBytes(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(10, 0, 0, 2)),
      dst: [10, 200, 200, 1],
    },
  ];
  // katran-layout objects, provisioned through the katran control plane: one VIP, three reals.
  const katranTarget = (name: string, object: string, program: string): Target => ({
    name,
    object,
    program,
    provision: (m) => {
      const maps = new UserspaceKatranMaps(m.maps);
      const lb = new KatranLb(maps, { defaultMac: '00:00:de:ad:be:af', ...sizesFromMaps(maps) });
      lb.init();
      const vip = { address: '10.200.1.1', port: 80, proto: 6 };
      lb.addVip(vip);
      for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lb.addRealForVip({ address: a, weight: 1 }, vip);
    },
    dst: [10, 200, 1, 1],
  });
  targets.push(katranTarget('example LB', join(root, 'build', 'examples', 'xdp_lb.o'), 'xdp_lb'));
  const katran = process.env.KATRAN_BPF_OBJ;
  if (katran) targets.push(katranTarget('katran', katran, 'balancer_ingress'));
  const noKernel = kernelUnavailable();
  const trivial = noKernel ? undefined : KernelObject.load(compileC(join(root, 'bench', 'xdp_trivial.c')));
  const results: Record<string, Record<string, number | null>> = {};
  const warmups: Record<string, number[]> = {};
  try {
    const onePacket = flowPacket(1, [0, 0, 0, 0]);
    // The kernel's fixed cost of one test run, measured as the programs are: single runs.
    let baselineSingle = 0;
    if (trivial) {
      for (let i = 0; i < KERNEL_FLOWS; i++) baselineSingle += trivial.testRun('xdp_trivial', onePacket, 1).durationNs;
      baselineSingle /= KERNEL_FLOWS;
    }
    for (const t of targets) {
      const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(t.object)), t.object)).wasm, t.name);
      const packetsOne = [flowPacket(1, t.dst)];
      const packetsMany = Array.from({ length: FLOWS }, (_, i) => flowPacket(i, t.dst));
      for (const [workload, packets] of [
        ['1 flow', packetsOne],
        [`${FLOWS} flows`, packetsMany],
      ] as const) {
        const row: Record<string, number | null> = {};
        for (const engine of ['interp', 'wasm'] as const) {
          const m = BpfMachine.create(loaded);
          t.provision(m);
          const runs = engine === 'interp' ? Math.max(packets.length, 2000) : Math.max(packets.length * 5, REPEAT);
          const { ns, warmup } = timeEngine(m, engine, t, packets, runs);
          row[engine] = ns;
          if (engine === 'wasm') warmups[`${t.name}, ${workload}`] = warmup;
        }
        {
          const m = BpfMachine.create(loaded);
          t.provision(m);
          row.single = timeEngine(m, 'wasm', t, packets, Math.max(packets.length * 5, REPEAT), true).ns;
        }
        if (trivial) {
          const m = BpfMachine.create(loaded);
          t.provision(m);
          const k = KernelObject.load(t.object);
          try {
            kernelCopy(k, m);
            // Single runs, each on a fresh copy of the packet. A repeated test run would
            // run the program again on its own output (the kernel does not reset the
            // frame between repeats): after katran's first encapsulation that is no
            // longer a packet for the VIP, so it would time the "not a VIP" path.
            const sample = Array.from({ length: KERNEL_FLOWS }, (_, i) => packets[i % packets.length]!);
            let total = 0;
            for (const p of sample) total += k.testRun(t.program, p, 1).durationNs;
            row.kernel = total / sample.length - baselineSingle;
          } finally {
            k.close();
          }
        } else {
          row.kernel = null;
        }
        results[`${t.name}, ${workload}`] = row;
      }
    }
  } finally {
    trivial?.close();
  }
  const fmt = (x: number | null | undefined): string => (x == null ? '-' : x.toFixed(0));
  console.log(
    `V8 flags for the modules: ${optimisedFlags() ?? '(default tiering)'}; batches of ${BATCH}; wasm warm-up, ns/packet per round:`,
  );
  for (const [name, w] of Object.entries(warmups)) console.log(`  ${name.padEnd(28)} ${w.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(
    `${'workload'.padEnd(28)} ${'interp ns'.padStart(10)} ${'wasm ns'.padStart(9)} ${'1-by-1 ns'.padStart(10)} ${'kernel ns'.padStart(10)} ${'wasm/kernel'.padStart(12)} ${'interp/wasm'.padStart(12)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    const ratio = r.kernel ? (r.wasm! / Math.max(r.kernel, 1)).toFixed(1) + 'x' : '-';
    console.log(
      `${name.padEnd(28)} ${fmt(r.interp).padStart(10)} ${fmt(r.wasm).padStart(9)} ${fmt(r.single).padStart(10)} ${fmt(r.kernel).padStart(10)} ${ratio.padStart(12)} ${((r.interp! / r.wasm!).toFixed(0) + 'x').padStart(12)}`,
    );
  }
  if (noKernel) console.log(`kernel column skipped: ${noKernel}`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', 'xdp.json'),
    JSON.stringify({ date: new Date().toISOString(), v8Flags: optimisedFlags() ?? null, batch: BATCH, warmups, results }, null, 2),
  );
}

main();
