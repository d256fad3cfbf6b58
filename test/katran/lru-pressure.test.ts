// katran (KATRAN_BPF_OBJ) and the example LB (build/examples/xdp_lb.o) under connection
// pressure, against the kernel: a 16-entry per-core LRU (lruSize 16 on forwarding core 0)
// and thousands of flows — each new flow's SYN followed by a packet of an older flow (a
// hit or, once evicted, a miss that re-inserts), with UDP flows mixed in. Every packet's
// verdict and bytes, the counters (stats, reals_stats) and the LRU's contents at the end
// must be the kernel's, on wasm and on the interpreter. The kernel runs pinned to CPU 0
// and our worker runs as CPU 0, with maps laid out for the kernel's possible CPUs, so both
// use lru_mapping[0] and the same per-CPU LRU lists; both read CLOCK_MONOTONIC
// (katran-engines.ts), which the UDP entries' atime shows: it must lie inside the run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { KatranLb } from '../../katran/control-plane.js';
import { UserspaceKatranMaps } from '../../katran/maps/userspace-maps.js';
import { KernelKatranMaps } from '../../katran/maps/kernel-maps.js';
import { sizesFromMaps } from '../../katran/config.js';
import type { KatranMaps } from '../../katran/maps/maps.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { ethernet, ipv4, tcp, udp } from '../../packets/corpus.js';
import { examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';
import { compileObjectFile, engineTwins, monotonicClock } from '../support/katran-engines.js';
import { splitPerCpu, sumPerCpuCounters } from '../support/katran-counters.js';
import { pinMainThread, possibleCpus } from '../support/cpus.js';
import { Rng } from '../support/fuzz/rng.js';
import { report } from '../support/report.js';

const katran = process.env.KATRAN_BPF_OBJ;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const FLOWS = 3000;
const LRU_SIZE = 16;

function provision(lb: KatranLb): void {
  lb.init();
  const tcpVip = { address: '10.200.1.1', port: 80, proto: 6 };
  const udpVip = { address: '10.200.1.1', port: 53, proto: 17 };
  lb.addVip(tcpVip);
  lb.addVip(udpVip);
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lb.addRealForVip({ address: a, weight: 1 }, tcpVip);
  for (const a of ['10.0.0.4', '10.0.0.5']) lb.addRealForVip({ address: a, weight: 1 }, udpVip);
}

const client = (flow: number): number[] => [192, 168, (flow >> 8) & 0xff, flow & 0xff];
const VIP = [10, 200, 1, 1];

/** SYN of each new flow, then a packet of an older flow (TCP ACK, or UDP for every 4th flow). */
function* traffic(rng: Rng): Generator<{ name: string; bytes: Uint8Array }> {
  const packet = (flow: number, syn: boolean): { name: string; bytes: Uint8Array } =>
    flow % 4 === 3
      ? { name: `udp flow ${flow}`, bytes: ethernet(0x0800, ipv4({ src: client(flow), dst: VIP, proto: 17 }, udp(1000 + flow, 53, 16))) }
      : {
          name: `${syn ? 'syn' : 'ack'} flow ${flow}`,
          bytes: ethernet(0x0800, ipv4({ src: client(flow), dst: VIP, proto: 6 }, tcp(1000 + flow, 80, syn ? 0x02 : 0x10, 8))),
        };
  for (let flow = 0; flow < FLOWS; flow++) {
    yield packet(flow, true);
    if (flow > 0) yield packet(flow - 1 - rng.below(Math.min(flow, 40)), false);
  }
}

/** LRU entries as key=value, a time (atime) inside [t0, t1] shown as "T" (both sides read CLOCK_MONOTONIC). */
function renderLru(entries: [Uint8Array, Uint8Array][], t0: bigint, t1: bigint): string[] {
  return entries
    .map(([k, v]) => {
      const words = [...Array(v.length >> 3).keys()].map((i) => {
        const w = Buffer.from(v.subarray(i * 8, i * 8 + 8)).readBigUInt64LE();
        return w >= t0 && w <= t1 ? 'T' : hex(v.subarray(i * 8, i * 8 + 8));
      });
      return `${hex(k)}=${words.join('/')}`;
    })
    .sort();
}

function underPressure(object: string, program: string, label: string): void {
  const unavailable = kernelMissing();
  if (unavailable) return void skip(`${label} under LRU pressure`, unavailable);
  const cpus = possibleCpus();
  const loaded = compileObjectFile(object, label, cpus);
  const twins = engineTwins(loaded);
  const config = (maps: KatranMaps) => ({
    defaultMac: '00:00:de:ad:be:af',
    ...sizesFromMaps(maps),
    forwardingCores: [0],
    lruSize: LRU_SIZE,
  });
  const lbs = {
    wasm: new KatranLb(new UserspaceKatranMaps(twins.wasm.machine.maps), config(new UserspaceKatranMaps(twins.wasm.machine.maps))),
    interp: new KatranLb(new UserspaceKatranMaps(twins.interp.machine.maps), config(new UserspaceKatranMaps(twins.interp.machine.maps))),
  };
  for (const lb of Object.values(lbs)) provision(lb);
  const unpin = pinMainThread(0);
  const kernel = KernelObject.load(object);
  try {
    const kernelMaps = new KernelKatranMaps(kernel, cpus);
    const kernelLb = new KatranLb(kernelMaps, config(kernelMaps));
    provision(kernelLb);
    const t0 = monotonicClock();
    let packets = 0;
    for (const f of traffic(new Rng(0x1bc))) {
      const k = kernel.testRun(program, f.bytes);
      const want = `${XDP_ACTION_NAME[k.retval]} ${hex(k.data)}`;
      for (const engine of ['wasm', 'interp'] as const) {
        const r = twins[engine].worker.runXdp(program, f.bytes);
        assert.is(
          `${r.actionName} ${hex(r.packet)}`,
          want,
          `${engine}: packet ${packets} (${f.name})${r.fault ? ` fault ${r.fault}` : ''}`,
        );
      }
      packets++;
    }
    const t1 = monotonicClock();
    for (const name of ['stats', 'reals_stats']) {
      const theirs = sumPerCpuCounters(
        kernel.dump(name).map((e) => [e.key, e.values]),
        name,
      );
      for (const engine of ['wasm', 'interp'] as const) {
        const map = twins[engine].machine.maps.byNameOrThrow(name);
        assert.equal(sumPerCpuCounters(splitPerCpu(map.entries(), map.valueSize), name), theirs, `${engine}: ${name}`);
      }
    }
    const kernelLru = renderLru(
      kernel.dump(kernelMaps.pinOf(kernelLb.lruMapForCore(0)!)).map((e) => [e.key, e.values[0]!]),
      t0,
      t1,
    );
    for (const engine of ['wasm', 'interp'] as const) {
      const lru = twins[engine].machine.maps.get(lbs[engine].lruMapForCore(0)!.innerMap)!;
      assert.equal(renderLru([...lru.entries()], t0, t1), kernelLru, `${engine}: the LRU's contents`);
    }
    assert.ok(kernelLru.length > 0 && kernelLru.length <= LRU_SIZE, `LRU entries: ${kernelLru.length}`);
    assert.ok(
      kernelLru.some((line) => line.includes('T')),
      'UDP entries carry an atime inside the run on both sides',
    );
    report(
      `${label} under LRU pressure: ${packets} packets over ${FLOWS} flows, ${LRU_SIZE}-entry LRU: verdicts, bytes, stats, reals_stats and the ${kernelLru.length} LRU entries equal on wasm, interpreter and kernel`,
    );
  } finally {
    kernel.close();
    unpin();
  }
}

test('katran under LRU pressure matches the kernel packet by packet', () => {
  if (!katran) return void skip('katran under LRU pressure', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  underPressure(katran, 'balancer_ingress', 'katran');
});

test('the example LB under LRU pressure matches the kernel packet by packet', () => {
  underPressure(examplePath('xdp_lb'), 'xdp_lb', 'example LB');
});

test.run();
