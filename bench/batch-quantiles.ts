// ns per packet of the compiled module from the time of each single batch (64 packets,
// one runBatch call, as xdp-bench.ts times them), as the minimum, 10th and 50th
// percentile over BENCH_BATCHES batches. On this shared 2-core machine a long timed
// interval almost always includes time the process spent descheduled, so xdp-bench's
// per-round figures swing with the load; a single batch lasts microseconds, so most
// batches run undisturbed and the low quantiles stay put (within a few % at load 15).
// For comparing two builds of the compiler on the same workloads, not for absolute claims.
//
//   node dist/bench/batch-quantiles.js [katran|lb|pass|pass-in-place|csum ...]   (default: all)
//   BENCH_ROOTS=/old/tree,/new/tree node ...   each tree's dist/, alternating, for an A/B
// katran needs KATRAN_BPF_OBJ. pass-in-place leaves the packet in its frame (no copy per
// packet; descriptors are still filled per batch), the live datapath's fixed cost. csum is
// the loop-heavy checksum_loop fixture (one back-edge per payload byte) on a 600-byte
// packet, as xdp-bench.ts runs it but in place (it only reads the packet; the 600-byte
// copy per packet would add ~35 ns to both sides of an A/B); clang compiles it on the spot.

import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { packageRoot } from '../core/package-root.js';

const BATCH = 64;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 30_000);
const WARMUP = 20_000;
const ROOTS = process.env.BENCH_ROOTS?.split(',').filter(Boolean) ?? [packageRoot];

interface Workload {
  object: string;
  program: string;
  katran: boolean;
  inPlace: boolean;
  /** The packet every frame gets; a small TCP/IPv4 packet to katran's VIP when absent. */
  packet?: Uint8Array;
}

/** A test fixture compiled by clang, lazily (only the workload that needs it pays). */
function fixtureObject(root: string, name: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'bpf2wasm-bq-')), `${name}.o`);
  const source = join(root, 'test', 'fixtures', 'kernel', `${name}.c`);
  const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', source, '-o', out], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

function workloads(root: string): Record<string, Workload | undefined> {
  const example = (name: string): string => join(root, 'build', 'examples', `${name}.o`);
  const katran = process.env.KATRAN_BPF_OBJ;
  return {
    katran: katran ? { object: katran, program: 'balancer_ingress', katran: true, inPlace: false } : undefined,
    lb: { object: example('xdp_lb'), program: 'xdp_lb', katran: true, inPlace: false },
    pass: { object: example('xdp_pass'), program: 'xdp_pass', katran: false, inPlace: false },
    'pass-in-place': { object: example('xdp_pass'), program: 'xdp_pass', katran: false, inPlace: true },
    csum: {
      get object() {
        return fixtureObject(root, 'checksum_loop');
      },
      program: 'checksum_loop',
      katran: false,
      inPlace: true,
      packet: Uint8Array.from({ length: 600 }, (_, i) => i & 0xff),
    },
  };
}

// The tree's own modules (dist/), so that two builds can be compared in turn.
/* eslint-disable @typescript-eslint/no-explicit-any */
async function measure(root: string, name: string, w: Workload): Promise<string> {
  const mod = (path: string): Promise<any> => import(pathToFileURL(join(root, 'dist', path)).href);
  const [{ loadObject }, { compileObject }, { loadWasm }, { BpfMachine }, { compileOptimised }, xdp, corpus] = await Promise.all([
    mod('compiler/object.js'),
    mod('compiler/compile.js'),
    mod('runtime/program.js'),
    mod('runtime/machine.js'),
    mod('runtime/tier.js'),
    mod('runtime/xdp.js'),
    mod('packets/corpus.js'),
  ]);
  compileOptimised();
  const object = w.object;
  const machine = BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, name));
  if (w.katran) {
    const [{ KatranLb }, { UserspaceKatranMaps }, { sizesFromMaps }] = await Promise.all([
      mod('katran/control-plane.js'),
      mod('katran/maps/userspace-maps.js'),
      mod('katran/config.js'),
    ]);
    const maps = new UserspaceKatranMaps(machine.maps);
    const lb = new KatranLb(maps, { defaultMac: '00:00:de:ad:be:af', ...sizesFromMaps(maps) });
    lb.init();
    const vip = { address: '10.200.1.1', port: 80, proto: 6 };
    lb.addVip(vip);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lb.addRealForVip({ address: a, weight: 1 }, vip);
  }
  const packet: Uint8Array =
    w.packet ??
    corpus.ethernet(0x0800, corpus.ipv4({ src: [192, 168, 0, 1], dst: [10, 200, 1, 1], proto: 6 }, corpus.tcp(1025, 80, 0x10, 16)));
  const worker = machine.worker(0, { engine: 'wasm', budget: 0 });
  const { XDP_FRAME_SIZE: size, XDP_HEADROOM: headroom } = xdp;
  const frames: number = machine.maps.heap.alloc(BATCH * size, size);
  const batch = worker.batch(BATCH);
  const memory = new Uint8Array(machine.memory.buffer);
  for (let i = 0; i < BATCH; i++) memory.set(packet, frames + i * size + headroom);
  const once = (): void => {
    for (let i = 0; i < BATCH; i++) {
      const data = frames + i * size + headroom;
      if (!w.inPlace) memory.set(packet, data);
      batch.set(i, frames + i * size, size, data, packet.length, 1, 0);
    }
    worker.runBatch(w.program, batch, BATCH);
  };
  for (let i = 0; i < WARMUP; i++) once();
  const ns: number[] = [];
  for (let i = 0; i < BATCHES; i++) {
    const start = process.hrtime.bigint();
    once();
    ns.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  ns.sort((a, b) => a - b);
  const q = (f: number): string => ns[Math.floor(f * (ns.length - 1))]!.toFixed(1).padStart(7);
  return `${name.padEnd(14)} ${root.padEnd(32)} min ${q(0)}  p10 ${q(0.1)}  p50 ${q(0.5)}  (verdict ${batch.action(0)})`;
}

// Each measurement runs in a process of its own (spawned with --one ROOT NAME), so that
// one build's code and heap do not sit in the other's way.
if (process.argv[2] === '--one') {
  const [root, name] = [process.argv[3]!, process.argv[4]!];
  console.log(await measure(root, name, workloads(root)[name]!));
} else {
  const names = process.argv.slice(2);
  console.log(
    `ns/packet over ${BATCHES} single batches of ${BATCH}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const name of names.length ? names : Object.keys(workloads(packageRoot))) {
    if (!workloads(packageRoot)[name]) {
      console.log(`${name}: skipped (${name === 'katran' ? 'set KATRAN_BPF_OBJ' : 'unknown workload'})`);
      continue;
    }
    for (const root of ROOTS) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', root, name], { encoding: 'utf8' });
      process.stdout.write(r.status === 0 ? r.stdout : `${name} ${root}: exit ${r.status}: ${r.stderr}\n`);
    }
  }
}
