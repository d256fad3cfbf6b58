// Differential fuzzing of the verifier against the kernel's: valid programs (the examples,
// the kernel and wasm fixtures) mutated one instruction at a time where memory safety is
// decided (bounds checks, null checks, offsets, registers, loop edges, helper sizes, stack
// and context accesses), each mutant loaded by the kernel and verified by bpf2wasm's
// memory-safety model. Safety: we never accept what the kernel refuses. Completeness (we
// accept / the kernel accepts) is reported, not asserted.
//
// VFUZZ_COUNT mutants (default 300, for CI; a full run uses 10,000 or more) from the fixed
// seed VFUZZ_SEED (default 1): the same mutants on every machine for the same seeds.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelMissing } from '../../native/kernel.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';
import { runCampaign } from '../support/vfuzz/campaign.js';
import { loadSeed, seedFiles, type Seed } from '../support/vfuzz/seeds.js';
import { kernelVerdict, ourVerdict } from '../support/vfuzz/verdicts.js';

const unavailable = kernelMissing();
const COUNT = Number(process.env['VFUZZ_COUNT'] ?? 300);
const SEED = Number(process.env['VFUZZ_SEED'] ?? 1);
const WALK_BUDGET = Number(process.env['VFUZZ_WALK_BUDGET'] ?? 50_000);
/** Mutants the kernel accepts and we refuse, printed per kind (VFUZZ_SAMPLES). */
const SAMPLES = Number(process.env['VFUZZ_SAMPLES'] ?? 3);
/**
 * Seeds whose own walk processes more instructions than this are left out: each of their
 * accepted mutants would cost seconds (xdp_lb, ~11 s today). Counted on the walk, not the
 * clock, so the seed set is the same on every machine and grows as the verifier gets faster.
 */
const MAX_SEED_PROCESSED = 100_000;

const seeds: Seed[] = [];

test('seeds: every seed program is accepted by the kernel and by the memory-safety model', () => {
  if (unavailable) return void skip('kernel verdicts on the seeds', unavailable);
  const slow: string[] = [];
  for (const { name, path } of seedFiles()) {
    const seed = loadSeed(name, path);
    const kernel = kernelVerdict(path);
    assert.ok(kernel.accepted, `${name}: the kernel refuses the seed: ${kernel.reason}`);
    const ours = ourVerdict(seed.bytes, path);
    assert.ok(ours.accepted, `${name}: refused: ${ours.reason}`);
    if (ours.processed! > MAX_SEED_PROCESSED) slow.push(`${name} (${ours.processed} insns)`);
    else seeds.push(seed);
  }
  const programs = seeds.reduce((n, s) => n + s.programs.length, 0);
  report(`verifier fuzz seeds: ${seeds.length} objects, ${programs} programs; left out as slow to walk: ${slow.join(', ') || 'none'}`);
  assert.ok(seeds.length > 0, 'no seeds');
});

test(`mutants (${COUNT}, seed ${SEED}): never accepted by us when the kernel refuses them`, () => {
  if (unavailable) return void skip('kernel verdicts on mutants', unavailable);
  const t = runCampaign(seeds, { count: COUNT, seed: SEED, walkBudget: WALK_BUDGET, samplesPerKind: SAMPLES });
  const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
  report(
    `verifier fuzz: ${t.mutants} mutants, kernel accepted ${t.kernelAccepted}, kernel rejected ${t.mutants - t.kernelAccepted}, ours accepted ${t.oursAccepted}, unsafe accepts ${t.unsafe.length} (+${t.kernelBugs.length} refused by a kernel verifier bug), completeness ${t.bothAccepted}/${t.kernelAccepted} = ${pct(t.bothAccepted, t.kernelAccepted)}; set aside (our walk over ${WALK_BUDGET} insns) ${t.overBudget}`,
  );
  report(`verifier fuzz time: ours ${(t.ourMs / 1000).toFixed(1)} s, kernel ${(t.kernelMs / 1000).toFixed(1)} s`);
  for (const [kind, k] of t.byKind) report(`  ${kind}: ${k.mutants} mutants, kernel accepted ${k.kernelAccepted}, ours ${k.oursAccepted}`);
  for (const s of t.slowest) console.log(`slow: ours ${s.ourMs.toFixed(0)} ms, kernel ${s.kernelMs.toFixed(0)} ms: ${s.mutant}`);
  for (const f of t.incomplete) console.log(`incomplete: ${f.mutant}\n  ours: ${f.ours}`);
  for (const f of t.kernelBugs) console.log(`kernel internal error (we accept): ${f.mutant}\n  kernel: ${f.kernel}`);
  for (const f of t.unsafe) console.log(`UNSAFE: ${f.mutant}\n  kernel: ${f.kernel}`);
  for (const f of t.crashes) console.log(`CRASH: ${f.mutant}\n  ${f.ours}`);
  assert.ok(t.mutants >= Math.min(COUNT, 50), `only ${t.mutants} distinct mutants generated`);
  assert.is(t.crashes.length, 0, `our verifier crashed on ${t.crashes.length} mutants (first: ${t.crashes[0]?.mutant})`);
  assert.is(t.unsafe.length, 0, `${t.unsafe.length} unsafe accepts (first: ${t.unsafe[0]?.mutant}: kernel: ${t.unsafe[0]?.kernel})`);
});

test.run();
