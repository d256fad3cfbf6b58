// ns per packet side by side, measured in one run: the reference interpreter and the
// compiled module (wasm), both in batches as the live workers run them (runBatch), the
// module one call per packet (1-by-1, the path before batches), and the kernel
// (BPF_PROG_TEST_RUN's own duration minus that of a trivial XDP_PASS program on the same
// packets, single runs through the native addon), on the same object, packets and map state.
//
// Rounds are interleaved: for each workload, BENCH_ROUNDS rounds (default 7), each timing
// interp, wasm, 1-by-1 and kernel one after the other, so that load drift on this shared
// machine hits all four alike; the table gives the median and the minimum per engine and
// wasm/kernel on both. The modules are compiled with TurboFan up front (runtime/tier.ts);
// warm-up rounds come first, their times are printed, and the bench checks that they
// settled (the last 3 within 25% of each other) and says so loudly when not.
// Peers (bench/peers.ts): other userspace eBPF JITs, llvmbpf when LLVMBPF_DIR is set and
// uBPF when UBPF_DIR is set, run the same relocated program, maps and packets through our
// C harness (bench/peer-harness/), which first checks every packet's verdict and bytes
// against our compiled module's, then takes its turn in the same interleaved rounds.
// Prints one table and writes bench/results/xdp.json.
//
//   npm run build && node dist/bench/xdp-bench.js
//   KATRAN_BPF_OBJ=/path/balancer.bpf.o node dist/bench/xdp-bench.js   (adds katran)
//   LLVMBPF_DIR=/path/llvmbpf UBPF_DIR=/path/ubpf node dist/bench/xdp-bench.js   (adds the peers)
//   BENCH_ONLY=xdp_pass node dist/bench/xdp-bench.js                     (one target)

import { mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../compiler/object.js';
import { compileObject } from '../compiler/compile.js';
import { loadWasm } from '../runtime/program.js';
import { BpfMachine, type Engine, type XdpBatch, type XdpWorker } from '../runtime/machine.js';
import { compileOptimised, optimisedFlags } from '../runtime/tier.js';
import { XDP_FRAME_SIZE, XDP_HEADROOM } from '../runtime/xdp.js';
import { applyUpdates } from '../runtime/map-commands.js';
import { KernelObject, kernelUnavailable } from '../native/kernel.js';
import { KatranLb } from '../katran/control-plane.js';
import { UserspaceKatranMaps } from '../katran/maps/userspace-maps.js';
import { sizesFromMaps } from '../katran/config.js';
import { REAL, ethernet, ipv4, tcp } from '../packets/corpus.js';
import { packageRoot } from '../core/package-root.js';
import type { BpfObject } from '../core/model.js';
import { firstPass, writePeerDump } from './peer-dump.js';
import { buildPeers, PeerRun, type Peer } from './peers.js';
import { FrameCopier, packetBytes } from './frame-copier.js';

const root = packageRoot;
const FLOWS = Number(process.env.BENCH_FLOWS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** Packets per round: compiled module (batch and 1-by-1), interpreter, kernel test runs. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 200_000);
const INTERP_RUNS = Number(process.env.BENCH_INTERP_RUNS ?? 2_000);
const KERNEL_RUNS = Number(process.env.BENCH_KERNEL_FLOWS ?? 10_000);
const BATCH = 64;
/** BENCH_ONLY=name,name: only these targets (e.g. xdp_pass), for a quick look at one change. */
const ONLY = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const WARMUP_ROUNDS = 8;
/** The warm-up settled when its last SETTLE_ROUNDS rounds are within SETTLE_SPREAD of each other. */
const SETTLE_ROUNDS = 3;
const SETTLE_SPREAD = 1.25;

interface Workload {
  name: string;
  packets: Uint8Array[];
  /**
   * Frames in place, as AF_XDP's receive ring hands them over: each frame gets its packet
   * once before timing, and a timed batch only fills descriptors and runs. Only for
   * programs that leave the packet as it was (xdp_pass), or they would run on their output.
   */
  inPlace?: boolean;
}

interface Target {
  name: string;
  object: string;
  program: string;
  /** Provision a machine's maps (copied into the kernel's afterwards). */
  provision(m: BpfMachine): void;
  workloads: Workload[];
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

/** One flow repeated (LRU hits after the first) and FLOWS distinct flows (the LRU's working set). */
const flowWorkloads = (dst: number[]): Workload[] => [
  { name: '1 flow', packets: [flowPacket(1, dst)] },
  { name: `${FLOWS} flows`, packets: Array.from({ length: FLOWS }, (_, i) => flowPacket(i, dst)) },
];

/** A timer for one engine: runs n packets (continuing through the workload's packets) and returns ns/packet. */
type Timer = (n: number) => number;

/**
 * ns per packet the way the live datapath runs a program (datapath/worker.ts): batches of
 * BATCH packets, each batch's descriptors filled, one runBatch call (what the AF_XDP
 * workers do), then every packet's verdict read and checked against the module's first
 * pass. Packets not in place are first copied into their frame of linear memory by memory.copy (as a
 * NIC's DMA would put them there; the copy is timed too, live frames need none).
 * `single` times the old way instead: one call per packet (runXdpInPlace).
 * A wrong verdict ends the bench.
 */
function engineTimer(
  loaded: ReturnType<typeof loadWasm>,
  engine: Engine,
  t: Target,
  workload: Workload,
  verdicts: Uint32Array,
  single: boolean,
): Timer {
  const { packets, inPlace = false } = workload;
  const machine = BpfMachine.create(loaded);
  t.provision(machine);
  const w = machine.worker(0, { engine, budget: 0, clock: () => process.hrtime.bigint() });
  const frames = machine.maps.heap.alloc(BATCH * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  const batch = w.batch(BATCH);
  batch.setShared(XDP_FRAME_SIZE, 1, 0); // as the live workers do once (datapath/worker.ts)
  const memory = new Uint8Array(machine.memory.buffer);
  // In place: frame i holds packet i (mod the workload's packets) for good.
  const lengths = Uint32Array.from({ length: BATCH }, (_, i) => packets[i % packets.length]!.length);
  const inPlaceVerdicts = Uint32Array.from({ length: BATCH }, (_, i) => verdicts[i % packets.length]!);
  if (inPlace) for (let i = 0; i < BATCH; i++) memory.set(packets[i % packets.length]!, frames + i * XDP_FRAME_SIZE + XDP_HEADROOM);
  // Copied packets come from linear memory by memory.copy, as the peers' come by memcpy (frame-copier.ts).
  const source = machine.maps.heap.alloc(packetBytes(packets) + BATCH * 12, 8);
  if (!source) throw new Error(`${t.name}, ${workload.name}: no room in linear memory for the bench's ${packets.length} packets`);
  const copier = new FrameCopier(machine.memory, source + BATCH * 12, source, packets);
  let next = 0;
  return (n) => {
    const start = process.hrtime.bigint();
    const wrong = single
      ? singles(w, t.program, copier, frames, inPlace ? inPlaceVerdicts : verdicts, inPlace, next, n)
      : inPlace
        ? batchesInPlace(w, t.program, batch, frames, lengths, inPlaceVerdicts, n)
        : batchesCopied(w, t.program, batch, copier, frames, verdicts, next, n);
    const ns = Number(process.hrtime.bigint() - start) / n;
    if (wrong)
      throw new Error(`${t.name}, ${workload.name} (${single ? '1-by-1' : engine}): ${wrong} of ${n} verdicts differ from the first pass`);
    next += n;
    return ns;
  };
}

// The timed loops are plain functions of their arguments, as the live worker's loop is of
// its locals: a closure's captured values would be reloaded and checked on every packet
// once the bench has made more than one closure of a kind (V8 specialises optimised code
// to a closure's context only while it is the only one), which cost xdp_pass ~5 ns a packet.

/** Frames in place (AF_XDP's receive ring): per batch, descriptors filled, one runBatch, verdicts read. Returns the wrong verdicts. */
function batchesInPlace(
  w: XdpWorker,
  program: string,
  batch: XdpBatch,
  frames: number,
  lengths: Uint32Array,
  want: Uint32Array,
  n: number,
): number {
  let wrong = 0;
  for (let done = 0; done < n; done += BATCH) {
    const count = Math.min(BATCH, n - done);
    for (let i = 0; i < count; i++) {
      const frame = frames + i * XDP_FRAME_SIZE;
      batch.setPacket(i, frame, frame + XDP_HEADROOM, lengths[i]!);
    }
    w.runBatch(program, batch, count);
    for (let i = 0; i < count; i++) if (batch.action(i) !== want[i]) wrong++;
  }
  return wrong;
}

/** As batchesInPlace, each packet first copied into its frame, packets taken in turn from `first`. */
function batchesCopied(
  w: XdpWorker,
  program: string,
  batch: XdpBatch,
  copier: FrameCopier,
  frames: number,
  want: Uint32Array,
  first: number,
  n: number,
): number {
  let wrong = 0;
  const count = copier.count;
  // Packet indexes wrap by compare, not %: an integer division per packet is several ns.
  let next = first % count;
  for (let done = 0; done < n; done += BATCH) {
    const size = Math.min(BATCH, n - done);
    const from = next;
    for (let i = 0; i < size; i++) {
      const frame = frames + i * XDP_FRAME_SIZE;
      copier.queue(i, next, frame + XDP_HEADROOM);
      batch.setPacket(i, frame, frame + XDP_HEADROOM, copier.length(next));
      if (++next === count) next = 0;
    }
    copier.copy(size);
    w.runBatch(program, batch, size);
    let j = from;
    for (let i = 0; i < size; i++) {
      if (batch.action(i) !== want[j]) wrong++;
      if (++j === count) j = 0;
    }
  }
  return wrong;
}

/** One runXdpInPlace call per packet (the path before batches); in place, frame i keeps packet i mod the packets. */
function singles(
  w: XdpWorker,
  program: string,
  copier: FrameCopier,
  frames: number,
  want: Uint32Array,
  inPlace: boolean,
  first: number,
  n: number,
): number {
  let wrong = 0;
  const count = copier.count;
  for (let k = 0; k < n; k++) {
    const i = k % BATCH;
    const frame = frames + i * XDP_FRAME_SIZE;
    const at = (inPlace ? i : first + k) % count;
    if (!inPlace) {
      copier.queue(0, at, frame + XDP_HEADROOM);
      copier.copy(1);
    }
    if (w.runXdpInPlace(program, frame, XDP_FRAME_SIZE, frame + XDP_HEADROOM, copier.length(at), 1, 0) !== want[at]) wrong++;
  }
  return wrong;
}

/**
 * The kernel's ns/packet: n single test runs of the program, each on a fresh copy of the
 * packet, then the trivial program on the same n packets; the difference of their mean
 * durations. In blocks, not alternating packet by packet, so that the measured program
 * runs back to back as on a stream of packets (alternating measured within 3% of this).
 * Single runs because a repeated test run would run the program on its own output (the
 * kernel does not reset the frame between repeats): after katran's first encapsulation
 * that is no longer a packet for the VIP, so it would time the "not a VIP" path.
 */
function kernelTimer(k: KernelObject, trivial: KernelObject, program: string, packets: Uint8Array[]): Timer {
  let next = 0;
  return (n) => {
    const first = next;
    let total = 0;
    for (let i = 0; i < n; i++) total += k.testRun(program, packets[next++ % packets.length]!, 1).durationNs;
    for (let i = 0; i < n; i++) total -= trivial.testRun('xdp_trivial', packets[(first + i) % packets.length]!, 1).durationNs;
    return total / n;
  };
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Whether the last SETTLE_ROUNDS warm-up rounds lie within SETTLE_SPREAD of each other. */
const settled = (warmup: number[]): boolean => {
  const last = warmup.slice(-SETTLE_ROUNDS);
  return Math.max(...last) <= SETTLE_SPREAD * Math.min(...last);
};

const ENGINES = ['interp', 'wasm', 'single', 'kernel', 'llvmbpf', 'ubpf'] as const;
type EngineName = (typeof ENGINES)[number];
interface Stat {
  median: number;
  min: number;
  rounds: number[];
}
type Row = Partial<Record<EngineName, Stat>>;

function targets(): Target[] {
  const list: Target[] = [];
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
    workloads: flowWorkloads([10, 200, 1, 1]),
  });
  const katran = process.env.KATRAN_BPF_OBJ;
  if (katran) list.push(katranTarget('katran', katran, 'balancer_ingress'));
  list.push(katranTarget('example LB', join(root, 'build', 'examples', 'xdp_lb.o'), 'xdp_lb'));
  // IPIP to this host (REAL, 10.0.0.2): decapsulated to the inner frame (test/examples/decap.test.ts).
  const inner = ipv4({ src: [192, 168, 7, 7], dst: [10, 200, 200, 1], proto: 6 }, tcp(40000, 80, 0x10, 16));
  list.push({
    name: 'xdp_decap',
    object: join(root, 'build', 'examples', 'xdp_decap.o'),
    program: 'xdp_decap',
    provision: (m) => applyUpdates(m, ['decap_dst_v4=0a000002:01000000']),
    workloads: [{ name: 'IPIP', packets: [ethernet(0x0800, ipv4({ src: [172, 16, 1, 2], dst: REAL, proto: 4 }, inner))] }],
  });
  // A loop-heavy program: a checksum over 512 payload bytes, one back-edge per byte (as
  // bench/loop-budget-bench.ts; compiled with the default memory-safety verifier, which
  // proves the loop bounded, so no budget check on the back-edge).
  list.push({
    name: 'checksum_loop',
    object: compileC(join(root, 'test', 'fixtures', 'kernel', 'checksum_loop.c')),
    program: 'checksum_loop',
    provision: () => {},
    workloads: [{ name: '512 bytes', packets: [Uint8Array.from({ length: 600 }, (_, i) => i & 0xff)] }],
  });
  list.push({
    name: 'parse_count',
    object: compileC(join(root, 'test', 'fixtures', 'kernel', 'parse_count.c')),
    program: 'parse_count',
    provision: (m) => m.maps.byNameOrThrow('tunnel_dst').updateBytes(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(10, 0, 0, 2)),
    workloads: flowWorkloads([10, 200, 200, 1]).slice(0, 1),
  });
  // The fixed per-packet cost: a program that returns XDP_PASS.
  list.push({
    name: 'xdp_pass',
    object: join(root, 'build', 'examples', 'xdp_pass.o'),
    program: 'xdp_pass',
    provision: () => {},
    workloads: [
      { name: '1 flow', packets: [flowPacket(1, [10, 200, 200, 1])] },
      { name: '1 flow, in place', packets: [flowPacket(1, [10, 200, 200, 1])], inPlace: true },
    ],
  });
  return ONLY ? list.filter((t) => ONLY.includes(t.name)) : list;
}

const loads = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * Starts each peer's harness on this workload: the program, its maps as `t.provision`
 * leaves them and the packets with our compiled module's first-pass verdicts and bytes,
 * which the harness reproduces before it answers (else PeerRun throws).
 */
function peerRuns(
  failures: string[],
  peers: Peer[],
  loaded: ReturnType<typeof loadWasm>,
  object: BpfObject,
  t: Target,
  packets: Uint8Array[],
): Map<Peer, PeerRun> {
  const runs = new Map<Peer, PeerRun>();
  if (!peers.length) return runs;
  const provisioned = (): BpfMachine => {
    const m = BpfMachine.create(loaded);
    t.provision(m);
    return m;
  };
  const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-peer-dump-'));
  const dump = join(dir, 'workload.bin');
  writePeerDump(dump, object, t.program, provisioned(), firstPass(provisioned(), t.program, packets));
  for (const p of peers)
    try {
      runs.set(p, new PeerRun(p, dump));
    } catch (e) {
      // Left out of this row, loudly: the figure of a peer that runs the program differently means nothing.
      const why = `${p.name} on ${t.name}: ${(e as Error).message} (the dump is kept for peer-${p.name} DUMP)`;
      console.log(`!!! ${why} !!!`);
      failures.push(why);
    }
  // The harnesses read the dump whole at start; a failed one's is kept above.
  if (runs.size === peers.length) rmSync(dir, { recursive: true, force: true });
  return runs;
}

function main(): void {
  compileOptimised(); // before any module of the bench is compiled (binaryen loaded with the imports above)
  const loadBefore = loads();
  const noKernel = kernelUnavailable();
  const trivial = noKernel ? undefined : KernelObject.load(compileC(join(root, 'bench', 'xdp_trivial.c')));
  const { peers, missing: noPeers, commands: peerBuild } = buildPeers();
  const results: Record<string, Row> = {};
  const warmups: Record<string, Record<string, number[]>> = {};
  const peerJitMs: Record<string, Record<string, number>> = {};
  const peerFailures: string[] = [];
  const unsettled: string[] = [];
  try {
    for (const t of targets()) {
      const object = loadObject(new Uint8Array(readFileSync(t.object)), t.object);
      const loaded = loadWasm(compileObject(object).wasm, t.name);
      for (const workloadSpec of t.workloads) {
        const { name: workload, packets } = workloadSpec;
        const key = `${t.name}, ${workload}`;
        const wasmRuns = Math.max(packets.length * 5, REPEAT);
        const interpRuns = INTERP_RUNS;
        // Every timed verdict is checked against the compiled module's first pass on a machine of its own.
        const first = BpfMachine.create(loaded);
        t.provision(first);
        const verdicts = Uint32Array.from(firstPass(first, t.program, packets), (p) => p.action);
        const timers: Partial<Record<EngineName, Timer>> = {
          interp: engineTimer(loaded, 'interp', t, workloadSpec, verdicts, false),
          wasm: engineTimer(loaded, 'wasm', t, workloadSpec, verdicts, false),
          single: engineTimer(loaded, 'wasm', t, workloadSpec, verdicts, true),
        };
        const runs: Record<EngineName, number> = {
          interp: interpRuns,
          wasm: wasmRuns,
          single: wasmRuns,
          kernel: KERNEL_RUNS,
          llvmbpf: wasmRuns,
          ubpf: wasmRuns,
        };
        let k: KernelObject | undefined;
        let peerRun = new Map<Peer, PeerRun>();
        try {
          peerRun = peerRuns(peerFailures, peers, loaded, object, t, packets);
          for (const [p, r] of peerRun) {
            timers[p.name] = (n) => r.time(n);
            (peerJitMs[key] ??= {})[p.name] = r.jitMs;
          }
          if (trivial) {
            k = KernelObject.load(t.object);
            const m = BpfMachine.create(loaded);
            t.provision(m);
            kernelCopy(k, m);
            timers.kernel = kernelTimer(k, trivial, t.program, packets);
          }
          // Warm-up: every engine, the module's two paths WARMUP_ROUNDS times (their times
          // are the evidence that the optimised code runs before the timed rounds).
          timers.interp!(Math.max(BATCH, interpRuns >> 2));
          timers.kernel?.(Math.max(BATCH, KERNEL_RUNS >> 3));
          const warm = (timer: Timer): number[] =>
            Array.from({ length: WARMUP_ROUNDS }, () => timer(Math.max(BATCH, Math.floor(wasmRuns / 4))));
          warmups[key] = { wasm: warm(timers.wasm!), single: warm(timers.single!) };
          for (const p of peers) if (timers[p.name]) warmups[key]![p.name] = warm(timers[p.name]!);
          for (const [path, w] of Object.entries(warmups[key]!)) if (!settled(w)) unsettled.push(`${key} (${path})`);
          const rounds: Partial<Record<EngineName, number[]>> = {};
          for (let r = 0; r < ROUNDS; r++) for (const e of ENGINES) if (timers[e]) (rounds[e] ??= []).push(timers[e]!(runs[e]));
          const row: Row = {};
          for (const e of ENGINES) if (rounds[e]) row[e] = { median: median(rounds[e]!), min: Math.min(...rounds[e]!), rounds: rounds[e]! };
          results[key] = row;
        } finally {
          k?.close();
          for (const r of peerRun.values()) r.close();
        }
      }
    }
  } finally {
    trivial?.close();
  }
  const loadAfter = loads();
  const peerNotes = [
    ...Object.entries(peerJitMs).map(
      ([key, ms]) =>
        `peer JIT compile ms, ${key}: ${Object.entries(ms)
          .map(([p, t]) => `${p} ${t}`)
          .join(', ')}`,
    ),
    ...noPeers,
    ...peerFailures.map((f) => `!!! peer left out: ${f} !!!`),
  ];
  print(results, warmups, unsettled, noKernel, peerNotes, loadBefore, loadAfter);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', 'xdp.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        v8Flags: optimisedFlags() ?? null,
        batch: BATCH,
        rounds: ROUNDS,
        loadAverage: { before: loadBefore, after: loadAfter },
        warmups,
        warmupUnsettled: unsettled,
        peers: { built: peers.map((p) => p.name), missing: noPeers, failures: peerFailures, build: peerBuild, jitMs: peerJitMs },
        results,
      },
      null,
      2,
    ),
  );
}

/** Below this the kernel's figure is within the noise of the trivial program's: no ratio. */
const KERNEL_FLOOR_NS = 5;

function print(
  results: Record<string, Row>,
  warmups: Record<string, Record<string, number[]>>,
  unsettled: string[],
  noKernel: string | undefined,
  peerNotes: string[],
  loadBefore: string,
  loadAfter: string,
): void {
  const f = (x: number): string => x.toFixed(0);
  const fw = (w: number[]): string => w.map(f).join(' ');
  console.log(`load average before ${loadBefore}, after ${loadAfter}`);
  console.log(
    `V8 flags for the modules: ${optimisedFlags() ?? '(default tiering)'}; batches of ${BATCH}; ${ROUNDS} interleaved rounds; ` +
      `warm-up ns/packet per round (${Object.keys(Object.values(warmups)[0] ?? {}).join(' | ')}):`,
  );
  for (const [name, w] of Object.entries(warmups)) console.log(`  ${name.padEnd(28)} ${Object.values(w).map(fw).join(' | ')}`);
  if (unsettled.length)
    console.log(
      `!!! WARM-UP NOT SETTLED (last ${SETTLE_ROUNDS} rounds spread > ${Math.round((SETTLE_SPREAD - 1) * 100)}%): ${unsettled.join('; ')} !!!`,
    );
  else console.log(`warm-up settled everywhere (last ${SETTLE_ROUNDS} rounds within ${Math.round((SETTLE_SPREAD - 1) * 100)}%)`);
  const cell = (s: Stat | undefined): string => (s ? `${f(s.median)} / ${f(s.min)}` : '-');
  const ratio = (a: number | undefined, b: number | undefined, floor = KERNEL_FLOOR_NS): string =>
    a === undefined || b === undefined || b < floor ? '-' : `${(a / b).toFixed(2)}x`;
  const cols = [
    'workload',
    'interp ns med/min',
    'wasm ns med/min',
    '1-by-1 ns med/min',
    'kernel ns med/min',
    'llvmbpf med/min',
    'ubpf med/min',
    'wasm/kernel med',
    'wasm/kernel min',
    'llvmbpf/kernel',
    'ubpf/kernel',
    'wasm/llvmbpf med',
    'wasm/llvmbpf min',
  ];
  const widths = [26, 18, 16, 18, 18, 16, 16, 16, 16, 15, 12, 17, 17];
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
  console.log(line(cols));
  for (const [name, r] of Object.entries(results))
    console.log(
      line([
        name,
        cell(r.interp),
        cell(r.wasm),
        cell(r.single),
        cell(r.kernel),
        cell(r.llvmbpf),
        cell(r.ubpf),
        ratio(r.wasm?.median, r.kernel?.median),
        ratio(r.wasm?.min, r.kernel?.min),
        ratio(r.llvmbpf?.median, r.kernel?.median),
        ratio(r.ubpf?.median, r.kernel?.median),
        ratio(r.wasm?.median, r.llvmbpf?.median, 0),
        ratio(r.wasm?.min, r.llvmbpf?.min, 0),
      ]),
    );
  if (noKernel) console.log(`kernel column skipped: ${noKernel}`);
  for (const m of peerNotes) console.log(m);
}

main();
