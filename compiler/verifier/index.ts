// The verifier: only programs it accepts are translated. Three steps, each in its own file:
//   encoding.ts  every instruction is a valid ISA v4 encoding with sane registers;
//   flow.ts      functions, jump and call targets, reachability, call depth;
//   interp.ts    the kernel's model of memory safety for a privileged loader (as katran is
//                loaded): every path walked with typed registers, scalar bounds, packet
//                ranges, null checks, stack slots, helper prototypes and the xdp_md rules
//                (state.ts, memory.ts, alu.ts, branch.ts, helpers.ts).
// interp.ts is the default (see VerifyOptions); with `memorySafety: false` the third step
// is the structural dataflow instead (structure-dataflow.ts: registers and stack
// initialised, stack inside the frame, known helpers), which raw programs (the conformance
// suite, codegen shape tests: no context, memory through r1) need. The model covers every
// structural check but one on purpose: like the kernel for a privileged loader, it lets
// programs read stack bytes never written.
// The first problem found is thrown as a VerifyError naming the instruction, its
// disassembly and the kernel's reason. Loops the walk bounded are returned with what
// codegen and the manifest need.

import { disasm } from '../../core/isa.js';
import type { MapSpec, Program } from '../../core/model.js';
import { VerifyError } from '../../core/errors.js';
import { encodingProblem } from './encoding.js';
import { analyseFlow } from './flow.js';
import { analyseFunction, helperTable, type HelperSpec } from './structure-dataflow.js';
import { Problem } from './problem.js';
import { explore } from './interp.js';

export interface VerifyOptions {
  /** Accept `call %reg` (0x8d): the conformance suite uses it. */
  allowCallx?: boolean;
  /** Helpers known beyond compiler/abi.ts HELPERS (test helpers), by id. */
  extraHelpers?: ReadonlyMap<number, HelperSpec>;
  /**
   * Check memory safety as the kernel does (interp.ts); the default. False: structure only
   * (structure-dataflow.ts), for raw programs (conformance suite: r1 a plain buffer, not
   * struct xdp_md) and programs unsafe on purpose (runtime containment tests).
   */
  memorySafety?: boolean;
  /**
   * Memory-safety walk only: give up ("too large") after this many instructions instead of
   * the kernel's 1M. For the verifier fuzzer, which cannot afford a runaway mutant's full walk.
   */
  maxProcessed?: number;
}

export interface VerifiedFunction {
  name: string;
  /** First slot and one past the last slot of the function. */
  start: number;
  end: number;
  /** Bytes of stack below r10 the function uses (0..512). */
  stackDepth: number;
}

export interface VerifyResult {
  /** The entry function first, then the others in slot order. */
  functions: VerifiedFunction[];
  /** Taken jumps to a slot at or before the jump itself (every loop contains one). */
  backEdges: { from: number; to: number }[];
  /** Frames on the deepest local call chain (1 without local calls; at most 8). */
  maxCallDepth: number;
  /** Helper ids called directly, ascending (callx targets are not known statically). */
  helpersUsed: number[];
  usesCallx: boolean;
  /**
   * Memory-safety walk only: back-edges it took, each with how many times over all paths.
   * The walk ended, so each of these loops is bounded on every path (the kernel's proof).
   */
  boundedLoops?: { from: number; to: number; taken: number }[];
  /** Memory-safety walk only: instructions processed and states kept for pruning. */
  processed?: number;
  statesKept?: number;
  /** Memory-safety walk only: loads of read-only map constants, by slot (value as u64), which codegen folds. */
  constantLoads?: ReadonlyMap<number, bigint>;
  /** Memory-safety walk only: loads and stores of 8-byte stack slots codegen keeps in locals, by slot (stack-locals.ts). */
  stackLocals?: ReadonlyMap<number, number>;
  /**
   * Memory-safety walk only: map_lookup_elem calls whose map had the same type and key size
   * on every walk (an inner map of a map-in-map: its template's), by pc; codegen calls a
   * lookup made for that shape (codegen-map-lookup.ts).
   */
  lookupShapes?: ReadonlyMap<number, MapLookupShape>;
  /**
   * Memory-safety walk only: 64-bit register compares (conditional jumps) whose dst and/or
   * src held a packet address on every walk, by pc, as ADDRESS_DST | ADDRESS_SRC bits:
   * such an operand q is never 0, so codegen may compare p >= y for q > y where q = p + 1 (bounds-check.ts).
   */
  addressCompares?: ReadonlyMap<number, number>;
}

/** The type and key size of the map a call looks up in. */
export interface MapLookupShape {
  type: number;
  keySize: number;
}

export function verify(prog: Program, maps: readonly MapSpec[], opts: VerifyOptions = {}): VerifyResult {
  try {
    return verifyOrThrowProblem(prog, maps, opts);
  } catch (e) {
    if (e instanceof Problem) throw new VerifyError(prog.name, e.insn.pc, disasm(e.insn), e.reason);
    throw e;
  }
}

function verifyOrThrowProblem(prog: Program, maps: readonly MapSpec[], opts: VerifyOptions): VerifyResult {
  if (prog.insns.length === 0) throw new VerifyError(prog.name, 0, '', 'the program has no instructions');
  const encoding = { maps, allowCallx: opts.allowCallx ?? false };
  let usesCallx = false;
  for (const insn of prog.insns) {
    const problem = encodingProblem(insn, encoding);
    if (problem !== undefined) throw new Problem(insn, problem);
    if (insn.opcode === 0x8d) usesCallx = true;
  }
  const flow = analyseFlow(prog);
  const helperSpecs = helperTable(opts.extraHelpers);
  if (opts.memorySafety !== false) {
    const posOfPc = new Map(prog.insns.map((insn, pos) => [insn.pc, pos]));
    const facts = explore({
      insns: prog.insns,
      maps,
      section: prog.section,
      flow,
      posOfPc,
      helpers: helperSpecs,
      maxProcessed: opts.maxProcessed,
      globals: flow.functions.map((fn) => prog.funcs.find((f) => f.start === fn.start)?.global),
    });
    return {
      functions: flow.functions.map((fn, i) => ({ name: fn.name, start: fn.start, end: fn.end, stackDepth: facts.stackDepth[i]! })),
      backEdges: flow.backEdges,
      maxCallDepth: flow.maxCallDepth,
      helpersUsed: [...facts.helpersUsed].sort((a, b) => a - b),
      usesCallx,
      boundedLoops: facts.loops,
      processed: facts.processed,
      statesKept: facts.statesKept,
      constantLoads: facts.constantLoads,
      stackLocals: facts.stackLocals,
      lookupShapes: facts.lookupShapes,
      addressCompares: facts.addressCompares,
    };
  }
  const ctx = { insns: prog.insns, maps, helpers: helperSpecs };
  const helpers = new Set<number>();
  const functions = flow.functions.map((fn): VerifiedFunction => {
    const facts = analyseFunction(fn, ctx);
    for (const id of facts.helpersUsed) helpers.add(id);
    return { name: fn.name, start: fn.start, end: fn.end, stackDepth: facts.stackDepth };
  });
  return {
    functions,
    backEdges: flow.backEdges,
    maxCallDepth: flow.maxCallDepth,
    helpersUsed: [...helpers].sort((a, b) => a - b),
    usesCallx,
  };
}
