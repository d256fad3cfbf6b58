// The compiler pipeline after loading: select programs, verify each, plan memory, generate
// and optimise the module with its manifest, and validate the result with wabt.

import type { Manifest } from '../core/manifest.js';
import { planMemory } from './memory-plan.js';
import { DEFAULT_MAX_CPUS } from '../core/abi.js';
import type { HelperInfo } from '../core/helper-ids.js';
import type { BpfObject, Program } from '../core/model.js';
import { generate } from './codegen.js';
import { buildManifest, encodeManifest } from '../core/manifest.js';
import { MANIFEST_SECTION } from '../core/manifest.js';
import { verifyPrograms, type VerifiedFacts } from './verify-programs.js';
import type { MapLookupShape } from './verifier/index.js';
import { UserError } from '../core/errors.js';
import { DEFAULT_OPT_LEVEL } from './defaults.js';
import { selectPrograms } from './select.js';

// Re-exported so that callers of the pipeline need one import; the CLI imports the light modules directly.
export { DEFAULT_OPT_LEVEL, selectPrograms };

export interface CompileOptions {
  /** Program names or section names to compile; all programs when empty. */
  programs?: readonly string[];
  /** binaryen optimisation level 0..4; default DEFAULT_OPT_LEVEL. */
  optimize?: number;
  maxCpus?: number;
  wantText?: boolean;
  /** Conformance-suite extras: callx and test-only helpers. */
  allowCallx?: boolean;
  extraHelpers?: ReadonlyMap<number, HelperInfo>;
  /** Default true (the kernel's memory-safety model). False for raw programs (r1 a plain buffer, not struct xdp_md): structure only. */
  memorySafety?: boolean;
  /** What verifyPrograms proved, when it ran elsewhere (the CLI verifies in a worker thread while binaryen loads). */
  verified?: VerifiedFacts;
}

export interface CompileResult {
  wasm: Uint8Array;
  manifest: Manifest;
  text?: string;
  timings: { verifyMs: number; codegenMs: number };
}

export function compileObject(obj: BpfObject, opts: CompileOptions = {}): CompileResult {
  const programs = selectPrograms(obj, opts.programs);
  const t0 = performance.now();
  const facts = opts.verified ?? verifyPrograms(obj, programs, opts);
  const helpersByProgram = new Map<Program, number[]>();
  const budgetedByProgram = new Map<Program, number[]>();
  const constantLoads = new Map<Program, ReadonlyMap<number, bigint>>();
  const stackLocals = new Map<Program, ReadonlyMap<number, number>>();
  const lookupShapes = new Map<Program, ReadonlyMap<number, MapLookupShape>>();
  const addressCompares = new Map<Program, ReadonlyMap<number, number>>();
  for (const prog of programs) {
    const f = facts.get(prog.name);
    if (!f) throw new Error(`no verification facts for program ${prog.name}`);
    helpersByProgram.set(prog, f.helpersUsed);
    budgetedByProgram.set(prog, f.budgetedBackEdges);
    if (f.constantLoads) constantLoads.set(prog, f.constantLoads);
    if (f.stackLocals) stackLocals.set(prog, f.stackLocals);
    if (f.lookupShapes) lookupShapes.set(prog, f.lookupShapes);
    if (f.addressCompares) addressCompares.set(prog, f.addressCompares);
  }
  const t1 = performance.now();
  const maxCpus = opts.maxCpus ?? DEFAULT_MAX_CPUS;
  // Per-CPU maps keep one value per CPU; the kernel's own limit (NR_CPUS) is at most 8192.
  if (!Number.isInteger(maxCpus) || maxCpus < 1 || maxCpus > 8192)
    throw new UserError(`--max-cpus must be an integer in 1..8192, got ${maxCpus}`);
  const { layout, placements } = planMemory(obj.maps, maxCpus);
  const manifest = buildManifest(obj, programs, helpersByProgram, budgetedByProgram, layout, placements);
  const out = generate({
    programs,
    maps: obj.maps,
    placements,
    layout,
    budgetedBackEdges: new Map([...budgetedByProgram].map(([p, pcs]) => [p, new Set(pcs)])),
    constantLoads,
    stackLocals,
    // Raw programs may write their r1, test-only helpers and callx are the conformance suite's: the driver assumes nothing there.
    helpersUsed:
      opts.memorySafety === false || opts.extraHelpers || opts.allowCallx ? undefined : new Set([...helpersByProgram.values()].flat()),
    lookupShapes,
    addressCompares,
    optimize: opts.optimize ?? DEFAULT_OPT_LEVEL,
    customSections: [{ name: MANIFEST_SECTION, data: encodeManifest(manifest) }],
    wantText: opts.wantText,
  });
  const t2 = performance.now();
  return { wasm: out.binary, manifest, text: out.text, timings: { verifyMs: t1 - t0, codegenMs: t2 - t1 } };
}
