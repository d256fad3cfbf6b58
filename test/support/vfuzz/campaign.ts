// One fuzzing campaign: seeded random mutants of the seed programs, each judged by the
// kernel and by bpf2wasm's memory-safety model, tallied. An unsafe accept (the kernel
// refuses, we accept) is a verifier bug; the reverse is incompleteness, counted only.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../fuzz/rng.js';
import { scratchDir } from '../clang.js';
import { KINDS, candidates, describe, mutate, type Kind, type Mutant } from './mutate.js';
import type { Seed, SeedProgram } from './seeds.js';
import { Sites } from './sites.js';
import { kernelVerdict, ourVerdict, type Verdict } from './verdicts.js';

export interface Finding {
  mutant: string;
  kernel?: string;
  ours?: string;
}

export interface Tally {
  mutants: number;
  /** Mutants our walk gave up on at the budget (runaway loops): neither verdict taken. */
  overBudget: number;
  kernelAccepted: number;
  oursAccepted: number;
  /** Accepted by both. */
  bothAccepted: number;
  /** Kernel refuses, we accept: must stay empty. */
  unsafe: Finding[];
  /**
   * The kernel refused with an internal error ("verifier bug: ...", EFAULT), not a verdict on
   * the program: listed, not counted as unsafe accepts when we accept.
   */
  kernelBugs: Finding[];
  /** Our verifier threw something other than a verdict. */
  crashes: Finding[];
  /** Kernel accepts, we refuse: a sample of them (the first few per kind). */
  incomplete: Finding[];
  byKind: Map<Kind, { mutants: number; kernelAccepted: number; oursAccepted: number }>;
  ourMs: number;
  kernelMs: number;
  /** The mutants that took longest (both verdicts), slowest first. */
  slowest: { mutant: string; ourMs: number; kernelMs: number }[];
}

export interface CampaignOptions {
  count: number;
  seed: number;
  /**
   * Instructions our walk may process per program before the mutant is set aside. A loop
   * mutation can make both verifiers run to the kernel's 1M instructions (tens of seconds
   * each, the kernel logging every step on its retry); the seeds themselves need < 1,000.
   */
  walkBudget: number;
  /** How many incompleteness samples to keep per kind. */
  samplesPerKind?: number;
}

export function runCampaign(seeds: readonly Seed[], opts: CampaignOptions): Tally {
  const rng = new Rng(opts.seed);
  const programs: { sp: SeedProgram; sites: Sites }[] = seeds.flatMap((s) => s.programs.map((sp) => ({ sp, sites: new Sites(sp) })));
  const byKind = new Map(KINDS.map((k) => [k, programs.filter((p) => candidates(p.sites, k).length > 0)]));
  const kinds = KINDS.filter((k) => byKind.get(k)!.length > 0);
  const tally: Tally = {
    mutants: 0,
    overBudget: 0,
    kernelAccepted: 0,
    oursAccepted: 0,
    bothAccepted: 0,
    unsafe: [],
    kernelBugs: [],
    crashes: [],
    incomplete: [],
    byKind: new Map(kinds.map((k) => [k, { mutants: 0, overBudget: 0, kernelAccepted: 0, oursAccepted: 0 }])),
    ourMs: 0,
    kernelMs: 0,
    slowest: [],
  };
  const seen = new Set<string>();
  const file = join(scratchDir(), 'vfuzz-mutant.o');
  for (let attempts = 0; tally.mutants < opts.count && attempts < opts.count * 50; attempts++) {
    const kind = rng.pick(kinds);
    const { sp, sites } = rng.pick(byKind.get(kind)!);
    const m = mutate(sp, sites, kind, rng);
    if (!m || seen.has(m.key)) continue;
    seen.add(m.key);
    judge(m, file, tally, opts);
  }
  return tally;
}

function judge(m: Mutant, file: string, tally: Tally, opts: CampaignOptions): void {
  const samples = opts.samplesPerKind ?? 3;
  writeFileSync(file, m.bytes);
  let ours: Verdict;
  try {
    ours = ourVerdict(m.bytes, file, opts.walkBudget);
  } catch (e) {
    tally.crashes.push({ mutant: describe(m), ours: (e as Error).stack ?? String(e) });
    return;
  }
  if (ours.overBudget) {
    tally.overBudget++;
    return;
  }
  const kernel = kernelVerdict(file);
  tally.mutants++;
  tally.ourMs += ours.ms;
  tally.kernelMs += kernel.ms;
  tally.slowest.push({ mutant: describe(m), ourMs: ours.ms, kernelMs: kernel.ms });
  tally.slowest.sort((a, b) => b.ourMs + b.kernelMs - a.ourMs - a.kernelMs).splice(5);
  const k = tally.byKind.get(m.kind)!;
  k.mutants++;
  if (kernel.accepted) {
    tally.kernelAccepted++;
    k.kernelAccepted++;
  }
  if (ours.accepted) {
    tally.oursAccepted++;
    k.oursAccepted++;
  }
  if (kernel.accepted && ours.accepted) tally.bothAccepted++;
  if (!kernel.accepted && ours.accepted) {
    const finding = { mutant: describe(m), kernel: kernel.reason };
    if (kernel.reason?.includes('verifier bug')) tally.kernelBugs.push(finding);
    else tally.unsafe.push(finding);
  }
  if (kernel.accepted && !ours.accepted && tally.incomplete.filter((f) => f.mutant.includes(` ${m.kind}: `)).length < samples) {
    tally.incomplete.push({ mutant: describe(m), ours: ours.reason });
  }
}
