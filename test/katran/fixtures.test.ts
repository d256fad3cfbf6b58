// katran's own test fixtures (katran_tester --test_from_fixtures: plain, -tpr and -gue) on
// katran's unmodified balancer in userspace: katran's input packets, expected output packets and
// expected verdicts, read from a katran checkout at run time, with the balancer provisioned
// through our control plane as katran_tester provisions it. The same fixtures also run on
// the kernel-loaded object provisioned through the kernel backend — the kernel must pass
// them too, which checks our reading of katran's PacketBuilder and provisioning — and after
// the run our counters must equal the kernel's.
//
// Needs KATRAN_BPF_OBJ (balancer.bpf.o) and KATRAN_SRC (the katran checkout it was built
// from: the fixtures live in its katran/lib/testing/fixtures/). katran_tester provisions
// every set the same way (prepareLbData).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { KatranLb } from '../../katran/control-plane.js';
import { UserspaceKatranMaps } from '../../katran/maps/userspace-maps.js';
import { KernelKatranMaps } from '../../katran/maps/kernel-maps.js';
import { sizesFromMaps } from '../../katran/config.js';
import type { KatranMaps } from '../../katran/maps/maps.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { readKatranFixtures, type KatranFixture } from '../support/katran-fixtures.js';
import { prepareLbData, prepareVipUninitializedLbData, TESTER_CONFIG } from '../support/katran-tester-provision.js';
import { possibleCpus, splitPerCpu, sumPerCpuCounters } from '../support/katran-counters.js';
import { skip } from '../support/skip.js';
import { compileObjectFile, engineTwins } from '../support/katran-engines.js';
import { report } from '../support/report.js';

const object = process.env.KATRAN_BPF_OBJ;
const source = process.env.KATRAN_SRC;
const FIXTURES_DIR = join('katran', 'lib', 'testing', 'fixtures');
const PROGRAM = 'balancer_ingress';
/** Counters katran_tester's testLbCounters reads, compared with the kernel's after the run. */
const COUNTER_MAPS = ['stats', 'reals_stats', 'quic_stats_map', 'tpr_stats_map', 'lru_miss_stats', 'server_id_stats', 'decap_vip_stats'];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function provision(maps: KatranMaps): KatranLb {
  const lb = new KatranLb(maps, { ...sizesFromMaps(maps), ...TESTER_CONFIG });
  lb.init();
  prepareLbData(lb);
  prepareVipUninitializedLbData(lb);
  return lb;
}

interface Outcome { verdict: string; packet: Uint8Array; note?: string }

/** katran_tester's check: the verdict's name and the output bytes, both exactly. */
function failure(f: KatranFixture, got: Outcome): string | undefined {
  const problems: string[] = [];
  if (got.verdict !== f.expectedReturnValue) problems.push(`verdict ${got.verdict}, expected ${f.expectedReturnValue}`);
  if (hex(got.packet) !== hex(f.expectedOutput)) problems.push(`output ${hex(got.packet)}, expected ${hex(f.expectedOutput)}`);
  if (got.note) problems.push(got.note);
  return problems.length ? `#${f.number} ${f.description}: ${problems.join('; ')}` : undefined;
}

interface FixtureSet {
  label: string;
  header: string;
  array: string;
  /** The build the expectations assume. */
  buildNeeds: string;
  /**
   * Whether the object is that build, when its maps tell; otherwise the kernel decides: it
   * has the build if it passes every fixture.
   */
  isBuiltFor?: (maps: ReadonlySet<string>) => boolean;
}

/**
 * The fixture sets katran_tester runs: plain (what katran's os_run_tester.sh runs on the
 * default build, which encapsulates with IPIP), and with `-tpr` or `-gue`, whose
 * expectations need TCP server-id routing or GUE encapsulation (to port 9886) compiled in.
 */
const FIXTURE_SETS: FixtureSet[] = [
  { label: 'base', header: 'KatranBaseTestFixtures.h', array: 'testFixtures', buildNeeds: "katran's default build (IPIP; a GUE build has pckt_srcs)", isBuiltFor: (maps) => !maps.has('pckt_srcs') },
  { label: 'TPR (-tpr)', header: 'KatranTPRTestFixtures.h', array: 'tprTestFixtures', buildNeeds: 'a balancer built with -DTCP_SERVER_ID_ROUTING' },
  { label: 'GUE (-gue)', header: 'KatranGueTestFixtures.h', array: 'gueTestFixtures', buildNeeds: 'a balancer built with -DGUE_ENCAP -DGUE_DPORT=9886' },
];

for (const set of FIXTURE_SETS) {
  test(`katran_tester's ${set.label} fixtures pass on katran in userspace (and on the kernel)`, () => {
    const what = `katran_tester's ${set.label} fixtures`;
    if (!object) return void skip(what, 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
    if (!source) return void skip(what, 'katran-source', 'set KATRAN_SRC to the katran checkout (its fixtures headers)');
    const header = join(source, FIXTURES_DIR, set.header);
    if (!existsSync(header)) return void skip(what, 'katran-source', `KATRAN_SRC has no ${join(FIXTURES_DIR, set.header)}`);
    runFixtureSet(set, readKatranFixtures(readFileSync(header, 'utf8'), set.array), object);
  });
}

const describeOutcome = (o: Outcome): string => `${o.verdict} ${hex(o.packet)}${o.note ? ` (${o.note})` : ''}`;

/**
 * Runs one set on wasm, the interpreter and (when it can) the kernel. Userspace must give
 * the kernel's verdict and bytes on every fixture, and its counters afterwards. Every
 * fixture must also meet katran's expectation when the object is the build the set assumes;
 * otherwise that comparison is skipped, saying which build it needs.
 */
function runFixtureSet(set: FixtureSet, fixtures: KatranFixture[], object: string): void {
  const label = set.label;
  assert.ok(fixtures.length > 0, 'the fixtures header has fixtures');
  const loaded = compileObjectFile(object, 'katran');
  const engines = Object.values(engineTwins(loaded));
  for (const { machine } of engines) provision(new UserspaceKatranMaps(machine.maps));
  const outcomes: Record<string, Outcome[]> = {};
  for (const { engine, worker } of engines) {
    outcomes[engine] = fixtures.map((f) => {
      const r = worker.runXdp(PROGRAM, f.input);
      // The worker hands back a view of its frame, which the next run overwrites: keep a copy.
      return { verdict: r.actionName, packet: r.packet.slice(), ...(r.fault ? { note: `fault ${r.fault}` } : {}) };
    });
  }

  const unavailable = kernelMissing();
  if (unavailable) {
    skip(`katran_tester's ${label} fixtures on the kernel`, unavailable);
  } else {
    const kernel = KernelObject.load(object);
    try {
      provision(new KernelKatranMaps(kernel, possibleCpus()));
      outcomes.kernel = fixtures.map((f) => {
        const k = kernel.testRun(PROGRAM, f.input);
        return { verdict: XDP_ACTION_NAME[k.retval] ?? `UNKNOWN(${k.retval})`, packet: k.data };
      });
      for (const { engine } of engines) {
        fixtures.forEach((f, i) => assert.is(describeOutcome(outcomes[engine]![i]!), describeOutcome(outcomes.kernel![i]!), `${engine} vs kernel, #${f.number} ${f.description}`));
      }
      // The counters katran_tester checks afterwards: ours must be the kernel's.
      for (const name of COUNTER_MAPS.filter((n) => loaded.manifest.maps.some((m) => m.name === n))) {
        const theirs = sumPerCpuCounters(kernel.dump(name).map((e) => [e.key, e.values]), name);
        for (const { engine, machine } of engines) {
          const map = machine.maps.byNameOrThrow(name);
          assert.equal(sumPerCpuCounters(splitPerCpu(map.entries(), map.valueSize), name), theirs, `${engine}: counters in ${name} after the fixtures`);
        }
      }
    } finally {
      kernel.close();
    }
  }

  const failures = Object.fromEntries(Object.entries(outcomes).map(([engine, list]) => [engine, list.flatMap((o, i) => failure(fixtures[i]!, o) ?? [])]));
  const passed = (engine: string): string => `${fixtures.length - failures[engine]!.length}/${fixtures.length}`;
  report(`katran_tester ${label} fixtures: ${passed('wasm')} passed on wasm, ${passed('interp')} on the interpreter` +
    (outcomes.kernel ? `, ${passed('kernel')} on the kernel; userspace verdicts, bytes and counters equal the kernel's` : ''));
  const mapNames = new Set(loaded.manifest.maps.map((m) => m.name));
  const builtFor = set.isBuiltFor ? set.isBuiltFor(mapNames) : outcomes.kernel !== undefined && failures.kernel!.length === 0;
  if (!builtFor) {
    skip(`katran_tester's ${label} fixtures against katran's expectations`, 'katran-build', `${set.buildNeeds}${outcomes.kernel ? ` (the kernel passes ${passed('kernel')} with this object)` : ''}`);
    return;
  }
  for (const engine of Object.keys(outcomes)) assert.equal(failures[engine], [], `${engine}: fixtures that failed`);
}

test.run();
