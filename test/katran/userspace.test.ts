// katran's unmodified balancer (KATRAN_BPF_OBJ) in userspace vs in the kernel: the same
// configuration — applied through our katran control plane to the userspace maps and, with
// the kernel backend, to the kernel-loaded object (their maps must then be identical) —
// and the same packets must give
// the same verdicts, the same output bytes and the same counters, on wasm and on the
// interpreter. Covers LRU miss then hit, IPv4 and IPv6 VIPs and reals, an unknown VIP.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { KatranLb } from '../../katran/control-plane.js';
import { UserspaceKatranMaps } from '../../katran/maps/userspace-maps.js';
import { KernelKatranMaps } from '../../katran/maps/kernel-maps.js';
import { sizesFromMaps } from '../../katran/config.js';
import type { KatranMaps } from '../../katran/maps/maps.js';
import { examplePath } from '../support/examples.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { ethernet, icmpEcho, ipv4, ipv6, tcp, udp } from '../../packets/corpus.js';
import { skip } from '../support/skip.js';
import { compileObjectFile, engineTwins } from '../support/katran-engines.js';
import { possibleCpus, splitPerCpu, sumPerCpuCounters } from '../support/katran-counters.js';
import { report } from '../support/report.js';

const katran = process.env.KATRAN_BPF_OBJ;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const v6 = (last: number, prefix = [0xfc, 0x00, 0x00, 0x01]): number[] => [...prefix, ...new Array(11).fill(0), last];

function provision(lb: KatranLb): void {
  lb.init();
  const tcpVip = { address: '10.200.1.1', port: 80, proto: 6 };
  const v6Vip = { address: 'fc00:1::1', port: 80, proto: 6 };
  const udpVip = { address: '10.200.1.1', port: 53, proto: 17 };
  lb.addVip(tcpVip);
  lb.addVip(v6Vip);
  lb.addVip(udpVip);
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) lb.addRealForVip({ address: a, weight: 1 }, tcpVip);
  for (const a of ['fc00::1', 'fc00::2', 'fc00::3']) lb.addRealForVip({ address: a, weight: 1 }, v6Vip);
  for (const a of ['fc00::1', '10.0.0.2']) lb.addRealForVip({ address: a, weight: 1 }, udpVip);
}

const C1 = [192, 168, 1, 1];
const C2 = [192, 168, 1, 42];
const VIP = [10, 200, 1, 1];
const frames = [
  { name: 'tcp syn v4 (LRU miss)', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(31337, 80, 0x02))) },
  { name: 'tcp ack v4 same flow (LRU hit)', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(31337, 80, 0x10, 64))) },
  { name: 'tcp non-syn v4 new flow (miss)', bytes: ethernet(0x0800, ipv4({ src: C2, dst: VIP, proto: 6 }, tcp(4242, 80, 0x10, 10))) },
  {
    name: 'tcp syn v6 vip',
    bytes: ethernet(
      0x86dd,
      ipv6(
        v6(1, [0xfc, 0, 0, 2]),
        v6(1, [0xfc, 0, 0, 1]).map((x, i) => (i === 3 ? 1 : x)),
        6,
        tcp(31337, 80, 0x02),
      ),
    ),
  },
  { name: 'udp v4 vip with a v6 real', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 17 }, udp(5000, 53, 20))) },
  { name: 'tcp to an unknown vip', bytes: ethernet(0x0800, ipv4({ src: C1, dst: [10, 9, 9, 9], proto: 6 }, tcp(1, 80, 0x02))) },
  { name: 'icmp echo to the vip', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 1 }, icmpEcho(32))) },
  { name: 'v4 fragment to the vip', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6, fragOff: 0x2000 }, tcp(1, 80, 2))) },
  { name: 'tcp syn v4 (LRU hit again)', bytes: ethernet(0x0800, ipv4({ src: C1, dst: VIP, proto: 6 }, tcp(31337, 80, 0x10))) },
];

test('katran in userspace matches the kernel byte for byte', () => {
  if (!katran) return void skip('katran userspace vs kernel', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  compareWithKernel(katran, 'balancer_ingress', 'katran');
});

test('the example LB (katran layouts) in userspace matches the kernel byte for byte', () => {
  compareWithKernel(examplePath('xdp_lb'), 'xdp_lb', 'example LB');
});

function compareWithKernel(object: string, program: string, label: string): void {
  const unavailable = kernelMissing();
  if (unavailable) return void skip(`${label} userspace vs kernel`, unavailable);
  const loaded = compileObjectFile(object, label);
  const twins = engineTwins(loaded);
  const machines = { wasm: twins.wasm.machine, interp: twins.interp.machine };
  const workers = { wasm: twins.wasm.worker, interp: twins.interp.worker };
  const lbFor = (maps: KatranMaps): KatranLb => new KatranLb(maps, { defaultMac: '00:00:de:ad:be:af', ...sizesFromMaps(maps) });
  for (const m of Object.values(machines)) provision(lbFor(new UserspaceKatranMaps(m.maps)));
  const kernel = KernelObject.load(object);
  try {
    // One control plane, two backends: the same provisioning drives the kernel's maps.
    provision(lbFor(new KernelKatranMaps(kernel, possibleCpus())));
    for (const name of ['vip_map', 'reals', 'ctl_array', 'vip_miss_stats'].filter((n) => loaded.manifest.maps.some((m) => m.name === n))) {
      const render = (entries: [Uint8Array, Uint8Array][]): string[] => entries.map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
      const kernelEntries = kernel.dump(name).map((e): [Uint8Array, Uint8Array] => [e.key, e.values[0]!]); // one value: not per-CPU maps
      assert.equal(render([...machines.wasm.maps.byNameOrThrow(name).entries()]), render(kernelEntries), `map ${name} after provisioning`);
    }
    const ring = machines.wasm.maps.byNameOrThrow('ch_rings');
    for (let slot = 0; slot < 3 * 65537; slot += 997) {
      const key = new Uint8Array(new Uint32Array([slot]).buffer);
      assert.is(hex(kernel.lookup('ch_rings', key)![0]!), hex(ring.lookupBytes(key)!), `ch_rings[${slot}]`);
    }
    let compared = 0;
    for (const f of frames) {
      const k = kernel.testRun(program, f.bytes);
      const want = `${XDP_ACTION_NAME[k.retval]} ${hex(k.data)}`;
      for (const engine of ['wasm', 'interp'] as const) {
        const r = workers[engine].runXdp(program, f.bytes);
        assert.is(`${r.actionName} ${hex(r.packet)}`, want, `${engine}: ${f.name}${r.fault ? ` (fault ${r.fault})` : ''}`);
      }
      compared++;
    }
    // Counters: per-VIP, LRU and XDP totals (stats), per real; summed over CPUs.
    for (const name of ['stats', 'reals_stats']) {
      const theirs = sumPerCpuCounters(
        kernel.dump(name).map((e) => [e.key, e.values]),
        name,
      );
      for (const engine of ['wasm', 'interp'] as const) {
        const map = machines[engine].maps.byNameOrThrow(name);
        assert.equal(sumPerCpuCounters(splitPerCpu(map.entries(), map.valueSize), name), theirs, `${engine}: ${name}`);
      }
    }
    report(`${label} userspace vs kernel: ${compared} packets identical on wasm, interpreter and kernel; stats and reals_stats equal`);
  } finally {
    kernel.close();
  }
}

test.run();
