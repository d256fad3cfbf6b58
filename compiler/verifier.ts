// The verifier: only programs it accepts are translated. Three steps, each in its own file:
//   verifier-encoding  every instruction is a valid ISA v4 encoding with sane registers;
//   verifier-flow      functions, jump and call targets, reachability, call depth;
//   verifier-dataflow  no read of an uninitialised register or stack byte, stack accesses
//                      inside the frame, known helpers.
// The first problem found is thrown as a VerifyError naming the instruction. Loops are
// allowed (the runtime bounds them with an instruction budget); their back-edges are
// returned along with what codegen and the manifest need.

import { disasm } from '../core/isa.js';
import type { MapSpec, Program } from '../core/model.js';
import { VerifyError } from '../core/errors.js';
import { encodingProblem } from './verifier-encoding.js';
import { analyseFlow } from './verifier-flow.js';
import { analyseFunction, helperTable, type HelperSpec } from './verifier-dataflow.js';
import { Problem } from './verifier-problem.js';

export interface VerifyOptions {
  /** Accept `call %reg` (0x8d): the conformance suite uses it. */
  allowCallx?: boolean;
  /** Helpers known beyond compiler/abi.ts HELPERS (test helpers), by id. */
  extraHelpers?: ReadonlyMap<number, HelperSpec>;
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
  const ctx = { insns: prog.insns, maps, helpers: helperTable(opts.extraHelpers) };
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
