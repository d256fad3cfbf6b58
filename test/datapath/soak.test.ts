// Soak: the live AF_XDP datapath under steady traffic while its control plane churns.
// A generator namespace sends UDP to a VIP over a veth into the balancer's namespace,
// where `bpf2wasm run --katran --grpc --control` serves it: the example LB always, katran's
// balancer.bpf.o when KATRAN_BPF_OBJ is set. Meanwhile, every tick: a real added or removed
// through katran-cli (gRPC), a control-socket update checked by a lookup; every few ticks a
// dump of `reals` and `vip_map` through `bpf2wasm map dump`, and of `reals` again in pages of
// DUMP_PAGE entries through the socket's client; every tenth (from the third) the whole config cleared and re-applied.
// Asserted: every frame the generator sent was counted by the datapath or by the socket as
// dropped for want of RX ring room (at most SOCKET_DROP_BOUND, reported); every UMEM frame is
// accounted for at exit (by count and by identity); the RSS trend after warm-up (a line fitted
// through the samples) rises by at most RSS_GROWTH_BOUND, the series is reported; the stats
// line came every second, never more than a second late, its count rising while traffic flowed.
//
// A short run (SHORT_S) always; `SOAK_S=600 npm test -- datapath/soak` the long one
// (figures in docs/soak.md). SOAK_PPS sets the rate (default 10000).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPF2WASM_BIN, KATRAN_CLI_BIN } from '../../core/package-root.js';
import { dumpInstance } from '../../datapath/control-client.js';
import { Balancer, startRun, topologyMissing } from '../../examples/topology/topology.js';
import { examplePath } from '../support/examples.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';
import { fullGcs, type FullGc } from '../support/gc-trace.js';
import { rssSeries, rssTrend, type RssSample, type RssTrend } from '../support/rss-trend.js';
import { accounted, parseUmemLine, type UmemAccount } from '../support/umem-line.js';
import { removeNamespaces, sh, vethPairInNamespaces } from '../support/veth-pair.js';

const SHORT_S = 8;
const PPS = Number(process.env.SOAK_PPS ?? 10_000);
/** Frames the socket may drop for want of RX ring room (a worker descheduled on a busy machine), as a share of those sent. */
const SOCKET_DROP_BOUND = 0.05;
const TICK_MS = 2000;
/** The straight line through the RSS samples after warm-up (the first fifth of the run, at least 5 s) may rise by this much. */
const RSS_GROWTH_BOUND = 24 * 1024 * 1024;
const STATS_INTERVAL_MS = 1000;
const TRACE_GC = process.env.SOAK_TRACE_GC === '1';
/** Entries per page of the paged dumps: small, so that a dump of `reals` takes several. */
const DUMP_PAGE = 16;
/** A stats line later than the interval by more than this is a stall. */
const STALL_MS = 1000;
const VIP = '10.200.200.1';
const BASE_REALS = ['10.0.0.2', '10.0.0.3'];
const generator = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'support', 'soak-generator.js');
const unavailable = topologyMissing();
const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-soak-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** Runs without blocking this process's event loop (stats lines are timed on arrival). */
function run(command: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(command[0]!, command.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

async function must(command: string[]): Promise<string> {
  const r = await run(command);
  if (r.status !== 0) throw new Error(`${command.slice(-6).join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident set of a process, bytes, from /proc; the node process behind `ip netns exec`. */
function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

interface Figures {
  sent: number;
  counted: number;
  /** Frames the kernel dropped at the socket: RX ring full, or no fill frame (the worker fell behind). */
  socketDrops: number;
  umem: UmemAccount;
  rss: RssTrend;
  /** Every sample, ms from the start of traffic. */
  rssSamples: RssSample[];
  worstGapMs: number;
  stalls: string[];
  churn: { realsAdded: number; realsRemoved: number; reapplied: number; updates: number; dumps: number };
  wire: string[];
  /** With SOAK_TRACE_GC=1: the heap left after each full collection, per isolate. */
  fullGcs: Map<string, FullGc[]>;
}

async function soak(label: string, object: string, seconds: number): Promise<Figures> {
  const id = `${process.pid % 100000}${label[0]}`;
  const GEN = `sgen${id}`;
  const DUT = `sdut${id}`;
  const socket = `/run/bpf2wasm/soak-${id}.sock`;
  const grpc = '127.0.0.1:50051';
  let balancer: Balancer | undefined;
  try {
    const { dutMac, genMac } = vethPairInNamespaces(GEN, DUT, { loopback: true });
    const config = join(work, `${id}.json`);
    // What the LB sends out (XDP_TX, IPIP to a real) goes back to the generator's MAC and dies there.
    writeFileSync(
      config,
      JSON.stringify({
        mac: genMac,
        vips: [{ address: VIP, port: 9, protocol: 'udp', reals: BASE_REALS.map((address) => ({ address })) }],
      }),
    );

    const runArgs = [
      '--iface', 'd0', '--queues', '1', '--katran', '--katran-config', config, '--lru-size', '10000',
      '--grpc', grpc, '--control', socket, '--stats-interval', String(STATS_INTERVAL_MS / 1000),
    ]; // prettier-ignore
    // SOAK_TRACE_GC=1: the run traces V8's collections (a V8 flag, which NODE_OPTIONS refuses,
    // so on node's command line), to tell a leak (the heap left after full collections grows)
    // from the heap's cycles; reported, not checked.
    const lb = TRACE_GC
      ? new Balancer(
          spawn('ip', ['netns', 'exec', DUT, process.execPath, '--trace-gc', BPF2WASM_BIN, 'run', object, ...runArgs], {
            stdio: ['ignore', 'pipe', 'pipe'],
          }),
        )
      : startRun(DUT, object, runArgs);
    balancer = lb;
    const statsTimes: { at: number; count: number }[] = [];
    lb.child.stdout!.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/^stats: (\d+) pkts/gm)) statsTimes.push({ at: Date.now(), count: Number(m[1]) });
    });
    await lb.waitFor(/^running /, 30_000);
    const pid = lb.child.pid!;

    const katranCli = (...args: string[]): Promise<string> =>
      must(['ip', 'netns', 'exec', DUT, process.execPath, KATRAN_CLI_BIN, '-server', grpc, ...args]);
    const mapCommand = (...args: string[]): Promise<string> => must([process.execPath, BPF2WASM_BIN, 'map', ...args]);

    const traffic = run(['ip', 'netns', 'exec', GEN, process.execPath, generator, 'g0', dutMac, VIP, '9', String(PPS), String(seconds)]);
    const started = Date.now();
    const warmFrom = Math.max(5000, (seconds * 1000) / 5);
    const samples: RssSample[] = [];
    const churn = { realsAdded: 0, realsRemoved: 0, reapplied: 0, updates: 0, dumps: 0 };
    let dumpLines: number | undefined;
    const added: string[] = [];
    let generatorDone = false;
    void traffic.then(() => (generatorDone = true));
    for (let tick = 1; !generatorDone; tick++) {
      const next = Date.now() + TICK_MS;
      samples.push({ at: Date.now() - started, bytes: rss(pid) });
      if (tick % 10 === 3) {
        // The config again, from nothing: clear everything, then the VIP and its reals.
        await katranCli('-C');
        await katranCli('-A', '-u', `${VIP}:9`);
        for (const real of BASE_REALS) await katranCli('-a', '-u', `${VIP}:9`, '-r', real, '-w', '1');
        added.length = 0;
        churn.reapplied++;
      } else if (added.length < 4 && tick % 2 === 1) {
        const real = `10.0.1.${10 + (tick % 200)}`;
        await katranCli('-a', '-u', `${VIP}:9`, '-r', real, '-w', '1');
        added.push(real);
        churn.realsAdded++;
      } else if (added.length > 0) {
        await katranCli('-d', '-u', `${VIP}:9`, '-r', added.shift()!);
        churn.realsRemoved++;
      }
      // reals[0] is never handed to a real (katran numbers reals from 1): free for the socket's writes.
      const value = Buffer.alloc(20);
      value.writeUInt32BE(tick, 0);
      const hex = value.toString('hex');
      await mapCommand('update', socket, 'reals', '00000000', hex);
      assert.match(await mapCommand('lookup', socket, 'reals', '00000000'), `value ${hex}`, 'the socket reads back its own write');
      churn.updates++;
      if (tick % 3 === 0) {
        const reals = (await mapCommand('dump', socket, 'reals')).trim().split('\n');
        dumpLines ??= reals.length;
        assert.is(reals.length, dumpLines, 'an array dump has every index, every time');
        assert.ok(reals.includes(`key 00000000 value ${hex}`), 'the dump shows the latest write');
        assert.match(await mapCommand('dump', socket, 'vip_map'), /^key /m, 'vip_map has the VIP');
        // The same array in small pages (the CLI asks for whole ones): together they are the dump.
        const paged: string[] = [];
        let pages = 0;
        let largest = 0;
        await dumpInstance(
          socket,
          'reals',
          (lines) => {
            if (lines.length) pages++; // the end of a dump can come as an empty page
            largest = Math.max(largest, lines.length);
            paged.push(...lines);
          },
          DUMP_PAGE,
        );
        assert.is(pages, Math.ceil(reals.length / DUMP_PAGE), 'pages of DUMP_PAGE entries');
        assert.ok(largest <= DUMP_PAGE, `a page of ${largest} entries`);
        assert.is(paged.length, reals.length, 'the pages hold every entry once');
        churn.dumps += 3;
      }
      await sleep(Math.max(0, next - Date.now()));
    }
    const loadSent = (JSON.parse((await traffic).stdout) as { sent: number }).sent;
    await sleep(1500); // the last frames through, and one more stats line
    // A frame the kernel dropped for want of RX ring room goes back to the kernel's own free
    // list of the UMEM (copy mode), on no ring, and is the next one it receives into. A
    // trickle the ring has room for takes those back, so that the rings hold every frame again.
    const trickle = await must(['ip', 'netns', 'exec', GEN, process.execPath, generator, 'g0', dutMac, VIP, '9', '200', '1']);
    const sent = loadSent + (JSON.parse(trickle) as { sent: number }).sent;
    await sleep(500);
    samples.push({ at: Date.now() - started, bytes: rss(pid) });
    const flowing = statsTimes.filter((s) => s.at > started + 2000 && s.at < started + seconds * 1000 - 1000);
    // The veth's own counters, to say where a frame went missing if one did (generator side, wire, socket).
    const wire = ['g0', 'd0'].map((d, i) =>
      sh('ip', 'netns', 'exec', i ? DUT : GEN, 'ethtool', '-S', d)
        .replace(/\s+/g, ' ')
        .trim(),
    );
    lb.child.kill('SIGINT');
    assert.is(await lb.exited, 0, `bpf2wasm run exit status; stderr: ${lb.stderr}`);

    const counted = Number(/^total: (\d+) packets/m.exec(lb.output)?.[1] ?? NaN);
    const umem = parseUmemLine(lb.lines);
    assert.is(umem.length, 1, `one worker's umem line: ${lb.lines.find((l) => l.startsWith('umem: '))}`);
    const u = umem[0]!;

    let worstGapMs = 0;
    const stalls: string[] = [];
    for (let i = 1; i < statsTimes.length; i++) {
      const gap = statsTimes[i]!.at - statsTimes[i - 1]!.at;
      worstGapMs = Math.max(worstGapMs, gap);
      if (gap > STATS_INTERVAL_MS + STALL_MS) stalls.push(`${gap} ms between stats lines ${i - 1} and ${i}`);
    }
    for (let i = 1; i < flowing.length; i++) {
      if (flowing[i]!.count === flowing[i - 1]!.count)
        stalls.push(`no packet counted between two stats lines at ${flowing[i]!.at - started} ms`);
    }
    return {
      sent,
      counted,
      socketDrops: u.rxRingFull + u.rxDropped,
      umem: u,
      rss: rssTrend(samples, warmFrom),
      rssSamples: samples,
      worstGapMs,
      stalls,
      churn,
      wire,
      fullGcs: fullGcs(lb.lines),
    };
  } finally {
    if (balancer && balancer.child.exitCode === null) {
      balancer.child.kill('SIGKILL');
      await balancer.exited;
    }
    removeNamespaces(GEN, DUT);
  }
}

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

async function soakAndCheck(label: string, object: string, seconds: number): Promise<void> {
  const f = await soak(label, object, seconds);
  report(
    `${label} ${seconds} s at ${PPS} pps: ${f.sent} sent, ${f.counted} counted, ${f.socketDrops} dropped at the socket (RX ring full); RSS ${mib(f.rss.warm)} after warm-up, max ${mib(f.rss.max)}, end ${mib(f.rss.end)}, trend ${mib(f.rss.rise)} (${mib(f.rss.slopePerMinute)}/min over ${f.rss.points} samples); ` +
      `UMEM ${accounted(f.umem)}/${f.umem.frames} frames on rings or held at exit; stats lines at most ${f.worstGapMs} ms apart; ${f.churn.realsAdded} reals added, ${f.churn.realsRemoved} removed, config re-applied ${f.churn.reapplied}×, ` +
      `${f.churn.updates} socket updates, ${f.churn.dumps} dumps; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`,
  );
  report(`${label} RSS series (s:MiB): ${rssSeries(f.rssSamples)}`);
  for (const [isolate, gcs] of f.fullGcs)
    report(
      `${label} isolate ${isolate}: heap after full GCs (s:live/committed MB): ${gcs.map((g) => `${Math.round(g.at / 1000)}:${g.liveMb}/${g.committedMb}`).join(' ')}`,
    );
  const u = f.umem;
  assert.ok(f.sent > 0, 'the generator sent something');
  assert.is(
    accounted(u),
    u.frames,
    `${label}: every UMEM frame accounted for: fill + rx + tx + completion + held = frames (${JSON.stringify(u)})`,
  );
  assert.is(u.stated, u.frames, `${label}: the run states the same sum`);
  assert.ok(u.final, `${label}: the worker's own account at exit, not its last statistics under traffic`);
  // By identity too: a frame handed out twice would hide a lost one in the sum.
  assert.equal(u.doubled, [], `${label}: UMEM frames on two rings at exit`);
  assert.equal(u.missing, [], `${label}: UMEM frames on no ring at exit`);
  // Every frame sent is either counted by the datapath or counted by the socket as dropped
  // for want of room (the worker fell behind, e.g. descheduled); nothing disappears between.
  assert.is(
    f.counted + f.socketDrops,
    f.sent,
    `${label}: frames counted + dropped at the socket = sent; veth counters: ${f.wire.join(' / ')}`,
  );
  assert.ok(
    f.socketDrops <= f.sent * SOCKET_DROP_BOUND,
    `${label}: ${f.socketDrops} of ${f.sent} frames dropped at the socket (bound ${SOCKET_DROP_BOUND * 100}%)`,
  );
  // The trend, not the peak: V8's heap builds up under churn and falls back at a major GC by
  // tens of MiB, so the peak (and any one sample) depends on where in a cycle it falls; a
  // leak lifts the straight line through all the samples after warm-up.
  assert.ok(
    f.rss.rise <= RSS_GROWTH_BOUND,
    `${label}: RSS trend rose ${mib(f.rss.rise)} after warm-up (${mib(f.rss.slopePerMinute)}/min; bound ${mib(RSS_GROWTH_BOUND)}); peak ${mib(f.rss.max - f.rss.warm)} above warm-up`,
  );
  assert.equal(f.stalls, [], `${label}: stalls`);
}

const long = Number(process.env.SOAK_S ?? 0);

test(`soak, short (${SHORT_S} s): example LB`, async () => {
  if (unavailable) return void skip('short soak', unavailable);
  await soakAndCheck('example LB', examplePath('xdp_lb'), SHORT_S);
});

test('soak, long (SOAK_S): katran', async () => {
  if (unavailable) return void skip('long soak', unavailable);
  const katran = process.env.KATRAN_BPF_OBJ;
  if (!katran) return void skip('soak of katran', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  // With katran's object but no SOAK_S, katran gets the short run.
  await soakAndCheck('katran', katran, long || SHORT_S);
});

test('soak, long (SOAK_S): example LB', async () => {
  if (unavailable) return void skip('long soak', unavailable);
  if (!long) return void skip('long soak of the example LB', 'long-run', 'SOAK_S=600 npm test -- datapath/soak');
  await soakAndCheck('example LB', examplePath('xdp_lb'), long);
});

test.run();
