// `npm run demo`: the main job on the built-in examples. Compiles every example object
// with the bpf2wasm command line, then runs katran's example walk-through live: network
// namespaces with a client, the load balancer and a real server; our example LB compiled
// to wasm serving the balancer's interface over AF_XDP, provisioned through katran's
// control plane (config file, gRPC, katran-cli); curl through the VIP; the stats; and a
// teardown that leaves nothing behind. Where that cannot run (not root), a capture goes
// through one program on wasm, the interpreter and the kernel instead.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePcap } from '../packets/pcap.js';
import { BpfMachine } from '../runtime/machine.js';
import { loadWasm } from '../runtime/program.js';
import { KernelObject, kernelUnavailable } from '../native/kernel.js';
import { corpus } from '../packets/corpus.js';
import { Topology, topologyUnavailable } from './topology/topology.js';
import { BPF2WASM_BIN, EXAMPLES_BUILD_DIR, KATRAN_CLI_BIN, packageRoot } from '../core/package-root.js';

const root = packageRoot;
const cli = BPF2WASM_BIN;
const out = join(root, 'build', 'demo');
mkdirSync(out, { recursive: true });

function bpf2wasm(...args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpf2wasm ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout + r.stderr;
}

function clang(source: string, object: string): void {
  const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', source, '-o', object], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`clang ${source} failed:\n${r.stderr}`);
}

// 1. Compile the examples (built by `npm run build` into build/examples) and our test program.
const examples = EXAMPLES_BUILD_DIR;
const objects = existsSync(examples)
  ? readdirSync(examples)
      .filter((f) => f.endsWith('.o'))
      .map((f) => join(examples, f))
  : [];
const showcase = join(out, 'parse_count.o');
clang(join(root, 'test', 'fixtures', 'kernel', 'parse_count.c'), showcase);
objects.push(showcase);
console.log(`== compiling ${objects.length} eBPF objects to WebAssembly`);
for (const object of objects) {
  const wasm = join(out, object.split('/').pop()!.replace(/\.o$/, '.wasm'));
  process.stdout.write(`   ${bpf2wasm(object, '-o', wasm)}`);
}

// 2. Its maps, as `bpf2wasm --list` shows them.
console.log(`\n== bpf2wasm --list ${showcase}`);
console.log(bpf2wasm('--list', showcase));

/** Fallback: a capture through parse_count on wasm, the interpreter and the kernel. */
function captureDemo(): void {
  const frames = corpus();
  const pcap = join(out, 'corpus.pcap');
  writeFileSync(pcap, writePcap(frames.map((f) => ({ timestampNs: 0n, originalLength: f.bytes.length, data: f.bytes }))));
  console.log(`== ${frames.length} packets (${pcap}) through parse_count`);
  const loaded = loadWasm(new Uint8Array(readFileSync(join(out, 'parse_count.wasm'))), 'parse_count.wasm');
  const tunnel = [Uint8Array.of(0, 0, 0, 0), Uint8Array.of(10, 0, 0, 2)] as const;
  const wasm = BpfMachine.create(loaded);
  const interp = BpfMachine.create(loaded);
  for (const m of [wasm, interp]) m.maps.byNameOrThrow('tunnel_dst').updateBytes(...tunnel);
  const w = wasm.worker(0, { engine: 'wasm' });
  const i = interp.worker(0, { engine: 'interp' });
  const why = kernelUnavailable();
  const kernel = why ? undefined : KernelObject.load(showcase);
  kernel?.update('tunnel_dst', ...tunnel);
  let agree = 0;
  try {
    for (const f of frames) {
      let line = `   ${f.name.padEnd(30)}`;
      let a: string, b: string, k: string | undefined;
      try {
        const rw = w.runXdp('parse_count', f.bytes);
        const ri = i.runXdp('parse_count', f.bytes);
        a = `${rw.actionName} ${Buffer.from(rw.packet).toString('hex')}`;
        b = `${ri.actionName} ${Buffer.from(ri.packet).toString('hex')}`;
        line += ` wasm ${rw.actionName.padEnd(9)} (${rw.packet.length} B)  interp ${ri.actionName.padEnd(9)}`;
      } catch (e) {
        a = b = `refused: ${(e as Error).message}`;
        line += ` refused (${(e as Error).message})`;
      }
      if (kernel) {
        try {
          const rk = kernel.testRun('parse_count', f.bytes);
          k = `${['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'][rk.retval]} ${Buffer.from(rk.data).toString('hex')}`;
          line += `  kernel ${k.split(' ')[0]}`;
        } catch {
          k = a.startsWith('refused') ? a : 'refused';
          line += '  kernel refused';
        }
      }
      const same = a === b && (k === undefined || k === a);
      if (same) agree++;
      console.log(`${line}  ${same ? 'same bytes' : 'DIFFERENT'}`);
    }
  } finally {
    kernel?.close();
  }
  console.log(
    `\n   ${agree}/${frames.length} packets identical on wasm, interpreter${kernel ? ' and the kernel' : ` (kernel skipped: ${why})`}`,
  );
  console.log('\n== maps after the run (wasm)');
  for (const name of ['proto_count', 'flows']) {
    const map = wasm.maps.byNameOrThrow(name);
    console.log(`   ${name}: ${[...map.keys()].length} entries`);
  }
  if (agree !== frames.length) process.exitCode = 1;
}

/** katran's EXAMPLE walk-through on the live datapath. */
async function liveDemo(): Promise<void> {
  const prefix = `demo${process.pid % 100000}`;
  console.log(`== katran's example topology in network namespaces (${prefix}-*): client 10.0.0.1, balancer 10.0.0.10, real 10.0.0.2`);
  const topo = Topology.up(prefix);
  const stop = (): void => topo.down();
  process.once('SIGINT', stop);
  try {
    const f = topo.facts;
    const config = join(out, 'katran-demo.json');
    writeFileSync(config, topo.katranConfig());
    console.log(`   VIPs ${f.VIP}:80 and [${f.VIP6}]:80 -> real ${f.REAL} / ${f.REAL6}, next hop MAC ${f.REAL_MAC} (${config})`);
    const lbObject = join(EXAMPLES_BUILD_DIR, 'xdp_lb.o');
    console.log(`\n== bpf2wasm run ${lbObject} --iface eth0 --katran --katran-config ... --grpc 127.0.0.1:50051   (in ${f.LB_NS})`);
    const lb = topo.startBalancer(lbObject, ['--katran', '--katran-config', config, '--grpc', '127.0.0.1:50051', '--stats-interval', '1']);
    try {
      console.log(`   ${await lb.waitFor(/^running /)}`);
      const katranCli = (...args: string[]): string =>
        topo.exec(f.LB_NS, [process.execPath, KATRAN_CLI_BIN, '-server', '127.0.0.1:50051', ...args]).stdout.trim();
      console.log("\n== katran-cli -l   (katran's client, over gRPC)");
      console.log(katranCli('-l').replace(/^/gm, '   '));
      console.log('\n== curl from the client, through the VIP');
      for (const url of [`http://${f.VIP}/`, `http://${f.VIP}/`, `http://[${f.VIP6}]/`]) {
        const r = topo.curl(url);
        console.log(`   curl ${url.padEnd(24)} -> ${r.status === 0 ? r.body.trim() : `FAILED: ${r.body.trim()}`}`);
        if (r.status !== 0) process.exitCode = 1;
      }
      const ping = topo.exec(f.CLIENT_NS, ['ping', '-c', '1', '-W', '1', '10.0.0.10']);
      console.log(`   ping 10.0.0.10 (the balancer host itself) -> ${ping.status === 0 ? 'answered by its kernel' : 'FAILED'}`);
      await new Promise((r) => setTimeout(r, 1200));
      console.log('\n== balancer stats');
      console.log(`   ${lb.lines.filter((l) => l.startsWith('stats:')).at(-1) ?? '(none yet)'}`);
    } finally {
      await lb.stop();
    }
    for (const line of lb.lines.filter((l) => /^(total|umem): /.test(l))) console.log(`   ${line}`);
    console.log(`\n== teardown: XDP detached from the balancer's interface: ${topo.lbInterfaceClean() ? 'yes' : 'NO'}`);
  } finally {
    process.off('SIGINT', stop);
    topo.down();
  }
}

const why = topologyUnavailable();
if (why) {
  console.log(`\n== live walk-through skipped (needs ${why}); a capture instead`);
  captureDemo();
} else {
  await liveDemo();
}
