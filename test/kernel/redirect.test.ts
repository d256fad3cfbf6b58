// Redirect maps against the kernel: bpf_redirect_map's verdicts on cpumap, devmap,
// devmap_hash and xskmap for every mix of key and flags (fallback action, invalid bits,
// BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS, the last call deciding), in BPF_PROG_TEST_RUN
// (which, not live, returns the verdict and the frame without redirecting it); and the
// control plane of cpumap and devmap values that name a second program (xdp/cpumap,
// xdp/devmap sections): which updates the kernel takes, with which errno it refuses the
// others, and what a lookup reports afterwards.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { commandFrame } from '../support/redirect-command.js';
import { compileBpf } from '../support/clang.js';
import { possibleCpus } from '../support/cpus.js';
import { fixtureEngines, u32le, type FixtureEngine, type UpdateFlags } from '../support/fixture-engines.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';
import { writeFileSync } from 'node:fs';
import { scratchDir } from '../support/clang.js';
import { kernelVerdict, ourVerdict } from '../support/fixture-verdicts.js';
import { kernelMissing } from '../../native/kernel.js';
import { hostDeviceExists } from '../../native/devices.js';
import { setDeviceExists } from '../../runtime/maps/redirect-value.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'redirect', 'redirect_maps.c'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cpus = possibleCpus();

/** redirect_maps.c's command frame: which map, the key, the flags. */
const command = (sel: number, key: number, flags: bigint): Uint8Array => commandFrame({ n: 0, sel, key, flags, verdict: 0 });

const value = (first: number, second: number): Uint8Array => {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setUint32(0, first, true);
  new DataView(v.buffer).setInt32(4, second, true);
  return v;
};

function withEngines(what: string, fn: (engines: FixtureEngine[]) => void): void {
  setDeviceExists(hostDeviceExists()); // devmap updates ask the host for the device, as the kernel's do
  const engines = fixtureEngines(object, { maxCpus: cpus });
  try {
    if (engines.find((e) => e.name === 'kernel')!.missing) return void skip(what, engines.find((e) => e.name === 'kernel')!.missing!);
    fn(engines);
  } finally {
    for (const e of engines) e.close();
  }
}

/** Every engine's answer to `fn`; they must all be the kernel's. */
function agree<T>(engines: FixtureEngine[], what: string, fn: (e: FixtureEngine) => T): T {
  const answers = engines.map((e) => [e.name, fn(e)] as const);
  const kernel = answers.find(([n]) => n === 'kernel')![1];
  for (const [name, got] of answers) assert.equal(got, kernel, `${what}: ${name} against the kernel`);
  return kernel;
}

const FLAGS = [0n, 1n, 2n, 3n, 4n, 8n, 9n, 16n, 17n, 24n, 27n, 32n, 0x100n, 1n << 32n, (1n << 63n) | 8n];
const KEYS = [0, 1, 2, 3, 5, 7, 0xffffffff];

test('bpf_redirect_map: verdicts and frames as the kernel for every map, key and flags', () => {
  withEngines('redirect verdicts', (engines) => {
    for (const e of engines) {
      // CPUs 0 and 1 (when possible) take frames; devmap slot 1 and devmap_hash key 5 are lo.
      e.set('cpu_map', u32le(0), value(64, 0));
      if (cpus > 1) e.set('cpu_map', u32le(1), value(64, 0));
      e.set('tx_ports', u32le(1), value(1, 0));
      e.set('tx_hash', u32le(5), value(1, 0));
    }
    const tally = new Map<string, number>();
    let runs = 0;
    for (let sel = 0; sel <= 5; sel++) {
      for (const key of KEYS) {
        for (const flags of FLAGS) {
          const frame = command(sel, key, flags);
          const verdict = agree(engines, `sel ${sel} key ${key} flags 0x${flags.toString(16)}`, (e) => {
            const r = e.run('redirect_by_command', frame);
            return `${r.actionName} ${hex(r.packet)}`;
          }).split(' ')[0]!;
          tally.set(verdict, (tally.get(verdict) ?? 0) + 1);
          runs++;
        }
      }
    }
    // The mix covers redirects, each fallback action and the invalid-flag abort.
    for (const v of ['XDP_REDIRECT', 'XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX']) assert.ok(tally.get(v), `some ${v}`);
    report(`redirect_map verdicts: ${runs} frames as the kernel (${[...tally].map(([v, n]) => `${v} ${n}`).join(', ')})`);
  });
});

/** An ifindex no device has (ifindexes are allocated upwards from 1; this one is far beyond any). */
const NO_DEVICE = 0x7ffffff0;

type Step = { map: string; key: number; first: number; program?: string; fd?: number; flags?: UpdateFlags };

test('cpumap and devmap values: updates, refusals and lookups as the kernel, second programs included', () => {
  withEngines('redirect map control plane', (engines) => {
    const steps: Step[] = [
      { map: 'cpu_map', key: 0, first: 128 },
      { map: 'cpu_map', key: 0, first: 128, flags: 'noexist' },
      { map: 'cpu_map', key: 1, first: 64, flags: 'exist' },
      { map: 'cpu_map', key: 0, first: 16385 },
      { map: 'cpu_map', key: 0, first: 16384 },
      { map: 'cpu_map', key: cpus, first: 32 },
      { map: 'cpu_map', key: 4, first: 32 },
      { map: 'cpu_map', key: 0, first: 256, program: 'stamp_cpu' },
      { map: 'cpu_map', key: 0, first: 256, program: 'stamp_egress' },
      { map: 'cpu_map', key: 0, first: 256, program: 'redirect_by_command' },
      { map: 'cpu_map', key: 0, first: 512, fd: -1 },
      { map: 'cpu_map', key: 0, first: 0, program: 'redirect_by_command' },
      { map: 'cpu_map', key: 0, first: 8, program: 'stamp_cpu' },
      { map: 'tx_ports', key: 1, first: 1, program: 'stamp_egress' },
      { map: 'tx_ports', key: 2, first: 1, program: 'stamp_cpu' },
      { map: 'tx_ports', key: 2, first: 1, program: 'redirect_by_command' },
      { map: 'tx_ports', key: 2, first: 0, program: 'stamp_egress' },
      { map: 'tx_ports', key: 3, first: 1, fd: -7 },
      { map: 'tx_ports', key: 3, first: 1, flags: 'noexist' },
      { map: 'tx_hash', key: 9, first: 1, program: 'stamp_egress' },
      { map: 'tx_hash', key: 10, first: 1, program: 'stamp_cpu' },
      { map: 'tx_hash', key: 11, first: 0 },
      // No such device (the kernel: dev_get_by_index fails, EINVAL), with and without a program.
      { map: 'tx_ports', key: 4, first: NO_DEVICE },
      { map: 'tx_ports', key: 4, first: NO_DEVICE, program: 'stamp_egress' },
      { map: 'tx_ports', key: 4, first: NO_DEVICE, program: 'stamp_cpu' },
      { map: 'tx_hash', key: 12, first: NO_DEVICE },
      { map: 'tx_hash', key: 12, first: NO_DEVICE, program: 'stamp_egress' },
      { map: 'tx_hash', key: 9, first: NO_DEVICE, flags: 'exist' },
    ];
    steps.forEach((step, i) => {
      const what = `step ${i}: ${step.map}[${step.key}] = ${step.first}${step.program ? ` + ${step.program}` : ''} ${step.flags ?? 'any'}`;
      agree(engines, what, (e) => {
        const ref = step.program ? e.programRef(step.program) : undefined;
        const answer = e.update(step.map, u32le(step.key), value(step.first, ref?.fd ?? step.fd ?? 0), step.flags ?? 'any');
        // What a lookup reports: the first word, and whether the second is that program's id.
        const now = answer === 'ok' ? e.get(step.map, u32le(step.key)) : undefined;
        if (!now) return `${answer} (no entry)`;
        const dv = new DataView(now.buffer, now.byteOffset);
        const id = dv.getUint32(4, true);
        return `${answer} ${dv.getUint32(0, true)} ${id === 0 ? 'no program' : id === ref?.id ? step.program : `id ${id}`}`;
      });
    });
    for (const map of ['cpu_map', 'tx_ports']) {
      agree(engines, `${map} deletes`, (e) => [0, 3].map((k) => e.remove(map, u32le(k))).join(','));
      agree(engines, `${map} keys`, (e) => {
        const keys: string[] = [];
        for (let k = e.nextKey(map); k; k = e.nextKey(map, k)) keys.push(hex(k));
        return keys.join(',');
      });
    }
    report(
      `cpumap / devmap / devmap_hash values: ${steps.length} updates (queue limits, CPUs, missing devices, second programs) answered as the kernel`,
    );
  });
});

// The kernel's verifier: devmaps are BPF_F_RDONLY_PROG (update and delete: "write into map
// forbidden", EACCES), and an xskmap only serves redirects and lookups.
test('programs may not update or delete in a devmap, devmap_hash or xskmap, as the kernel refuses', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('devmap writes from programs', unavailable);
  const cases: [string, string][] = [
    ['DEVMAP', 'bpf_map_update_elem(&m, &k, &v, 0)'],
    ['DEVMAP_HASH', 'bpf_map_update_elem(&m, &k, &v, 0)'],
    ['DEVMAP', 'bpf_map_delete_elem(&m, &k)'],
    ['DEVMAP_HASH', 'bpf_map_delete_elem(&m, &k)'],
    ['XSKMAP', 'bpf_map_update_elem(&m, &k, &v, 0)'],
    ['XSKMAP', 'bpf_map_delete_elem(&m, &k)'],
  ];
  for (const [type, call] of cases) {
    const source = join(scratchDir(), `write_${type}_${call.slice(8, 14)}.c`);
    writeFileSync(
      source,
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_${type}); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } m SEC(".maps");
SEC("xdp") int writer(struct xdp_md *ctx) { __u32 k = 0, v = 1; return ${call} ? XDP_DROP : XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
`,
    );
    const o = compileBpf(source);
    const kernel = kernelVerdict(o);
    const ours = ourVerdict(o);
    assert.ok(kernel && ours, `${type} ${call}: both refuse (kernel: ${kernel}; ours: ${ours})`);
    // The kernel's reason is the verifier log line after the call's instruction.
    const reason = /\(85\) call [^/]*\/ ([^/]+?) \//.exec(kernel)?.[1];
    assert.ok(reason, `${type} ${call}: the kernel's reason in ${kernel}`);
    assert.ok(ours.includes(reason), `${type} ${call}: ours (${ours}) gives the kernel's reason (${reason})`);
  }
  report(`writes into devmaps and xskmaps from programs: ${cases.length} programs refused as the kernel, with its reasons`);
});

test.run();
