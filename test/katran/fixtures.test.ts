// katran's own test fixtures (katran_tester --test_from_fixtures: plain, -tpr and -gue) on
// katran's unmodified balancer in userspace: katran's input packets, expected output packets and
// expected verdicts, read from a katran checkout at run time, with the balancer provisioned
// through our control plane as katran_tester provisions it. The same fixtures also run on
// the kernel-loaded object provisioned through the kernel backend — the kernel must pass
// them too, which checks our reading of katran's PacketBuilder and provisioning — and after
// the run our counters must equal the kernel's.
//
// Each set runs on the object built for it: KATRAN_BPF_OBJ (katran's default build) for the
// base set, KATRAN_TPR_BPF_OBJ (-DTCP_SERVER_ID_ROUTING) for -tpr, KATRAN_GUE_BPF_OBJ
// (-DGUE_ENCAP -DGUE_DPORT=9886) for -gue, and KATRAN_SRC (the katran checkout they were
// built from: the fixtures live in its katran/lib/testing/fixtures/). The object must show
// it is that build (its maps, the functions in its line info), and then every fixture must
// meet katran's expectation: whether the kernel passes never decides what is checked.
// katran_tester provisions every set the same way (prepareLbData).

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
import { loadObject } from '../../compiler/object.js';
import { report } from '../support/report.js';

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

interface Outcome {
  verdict: string;
  packet: Uint8Array;
  note?: string;
}

/** katran_tester's check: the verdict's name and the output bytes, both exactly. */
function failure(f: KatranFixture, got: Outcome): string | undefined {
  const problems: string[] = [];
  if (got.verdict !== f.expectedReturnValue) problems.push(`verdict ${got.verdict}, expected ${f.expectedReturnValue}`);
  if (hex(got.packet) !== hex(f.expectedOutput)) problems.push(`output ${hex(got.packet)}, expected ${hex(f.expectedOutput)}`);
  if (got.note) problems.push(got.note);
  return problems.length ? `#${f.number} ${f.description}: ${problems.join('; ')}` : undefined;
}

/** What an object shows of how it was built. */
interface BuildFacts {
  maps: ReadonlySet<string>;
  /** Every source line in the programs' .BTF.ext line info. */
  lines: string;
}

function buildFacts(path: string): BuildFacts {
  const obj = loadObject(new Uint8Array(readFileSync(path)), path);
  return {
    maps: new Set(obj.maps.map((m) => m.name)),
    lines: obj.programs.flatMap((p) => [...(p.lines?.values() ?? [])]).join('\n'),
  };
}

const hasTpr = (f: BuildFacts): boolean => /\btcp_hdr_opt_lookup\b/.test(f.lines);
const hasGue = (f: BuildFacts): boolean => f.maps.has('pckt_srcs') && /\bGUE_DPORT\b/.test(f.lines);

interface FixtureSet {
  label: string;
  header: string;
  array: string;
  /** The variable naming the object built for this set, and the build it must be. */
  objectEnv: string;
  build: string;
  /** Why the object is not that build, or undefined when it is. */
  notBuiltFor: (facts: BuildFacts) => string | undefined;
}

/**
 * The fixture sets katran_tester runs: plain (what katran's os_run_tester.sh runs on the
 * default build, which encapsulates with IPIP), and with `-tpr` or `-gue`, whose
 * expectations need TCP server-id routing or GUE encapsulation (to port 9886) compiled in.
 */
const FIXTURE_SETS: FixtureSet[] = [
  {
    label: 'base',
    header: 'KatranBaseTestFixtures.h',
    array: 'testFixtures',
    objectEnv: 'KATRAN_BPF_OBJ',
    build: "katran's default build",
    notBuiltFor: (f) => (hasGue(f) ? 'it encapsulates with GUE' : hasTpr(f) ? 'it routes by TCP server id' : undefined),
  },
  {
    label: 'TPR (-tpr)',
    header: 'KatranTPRTestFixtures.h',
    array: 'tprTestFixtures',
    objectEnv: 'KATRAN_TPR_BPF_OBJ',
    build: 'a balancer built with -DTCP_SERVER_ID_ROUTING',
    notBuiltFor: (f) => (hasTpr(f) ? undefined : 'its code has no TCP option lookup (tcp_hdr_opt_lookup)'),
  },
  {
    label: 'GUE (-gue)',
    header: 'KatranGueTestFixtures.h',
    array: 'gueTestFixtures',
    objectEnv: 'KATRAN_GUE_BPF_OBJ',
    build: 'a balancer built with -DGUE_ENCAP -DGUE_DPORT=9886',
    notBuiltFor: (f) => (hasGue(f) ? undefined : 'it has no pckt_srcs map or no GUE header code (GUE_DPORT)'),
  },
];

for (const set of FIXTURE_SETS) {
  test(`katran_tester's ${set.label} fixtures pass on katran in userspace and on the kernel`, () => {
    const what = `katran_tester's ${set.label} fixtures`;
    const object = process.env[set.objectEnv];
    if (!object) return void skip(what, 'katran-object', `set ${set.objectEnv} to ${set.build}`);
    if (!source) return void skip(what, 'katran-source', 'set KATRAN_SRC to the katran checkout (its fixtures headers)');
    const header = join(source, FIXTURES_DIR, set.header);
    if (!existsSync(header)) return void skip(what, 'katran-source', `KATRAN_SRC has no ${join(FIXTURES_DIR, set.header)}`);
    const wrongBuild = set.notBuiltFor(buildFacts(object));
    assert.not.ok(wrongBuild, `${set.objectEnv}=${object} must be ${set.build}, but ${wrongBuild}`);
    runFixtureSet(set, readKatranFixtures(readFileSync(header, 'utf8'), set.array), object);
  });
}

const describeOutcome = (o: Outcome): string => `${o.verdict} ${hex(o.packet)}${o.note ? ` (${o.note})` : ''}`;

/**
 * Runs one set on wasm, the interpreter and (when it can) the kernel. Userspace must give
 * the kernel's verdict and bytes on every fixture, and its counters afterwards; every
 * fixture must meet katran's expectation on every engine.
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
        fixtures.forEach((f, i) =>
          assert.is(
            describeOutcome(outcomes[engine]![i]!),
            describeOutcome(outcomes.kernel![i]!),
            `${engine} vs kernel, #${f.number} ${f.description}`,
          ),
        );
      }
      // The counters katran_tester checks afterwards: ours must be the kernel's.
      for (const name of COUNTER_MAPS.filter((n) => loaded.manifest.maps.some((m) => m.name === n))) {
        const theirs = sumPerCpuCounters(
          kernel.dump(name).map((e) => [e.key, e.values]),
          name,
        );
        for (const { engine, machine } of engines) {
          const map = machine.maps.byNameOrThrow(name);
          assert.equal(
            sumPerCpuCounters(splitPerCpu(map.entries(), map.valueSize), name),
            theirs,
            `${engine}: counters in ${name} after the fixtures`,
          );
        }
      }
    } finally {
      kernel.close();
    }
  }

  const failures = Object.fromEntries(
    Object.entries(outcomes).map(([engine, list]) => [engine, list.flatMap((o, i) => failure(fixtures[i]!, o) ?? [])]),
  );
  const passed = (engine: string): string => `${fixtures.length - failures[engine]!.length}/${fixtures.length}`;
  report(
    `katran_tester ${label} fixtures: ${passed('wasm')} passed on wasm, ${passed('interp')} on the interpreter` +
      (outcomes.kernel ? `, ${passed('kernel')} on the kernel; userspace verdicts, bytes and counters equal the kernel's` : ''),
  );
  for (const engine of Object.keys(outcomes)) assert.equal(failures[engine], [], `${engine}: fixtures that failed`);
}

test.run();
