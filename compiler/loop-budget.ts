// Which back-edges of a verified program keep the run-time loop budget (docs/design.md,
// "The loop budget"). The budget exists to end a packet's work that nothing else bounds.
// When the memory-safety walk accepted the program it ended on every path, so each loop of
// the program's own code is bounded per call of its function: those back-edges need no
// check. What stays budgeted:
//   - every back-edge of a program verified structurally only (no walk, no proof);
//   - back-edges the walk never took (none at run time if the model is right; kept as a
//     guard because the proof covers only the edges it took);
//   - back-edges in a bpf_loop callback or a function it calls: the walk bounds one call,
//     but how many calls is nr_loops, a run-time value (the kernel caps it at 1 << 23).
// Tail-call chains need none: the runtime caps them at 33 (MAX_TAIL_CALLS), each program
// in the chain is bounded by its own rule, and the budget counter spans the chain.

import { CALL_KIND, PSEUDO, isCall, isCondJmp, isJa, isLdImm64, isRegSource, jumpTarget } from '../core/isa.js';
import type { Program } from '../core/model.js';
import type { VerifyResult } from './verifier/index.js';

/** Slots of the jumps whose taken back-edge decrements the budget, ascending. */
export function budgetedBackEdges(prog: Program, verified: VerifyResult): number[] {
  const backEdges = prog.insns.filter((i) => (isJa(i.opcode) || isCondJmp(i.opcode)) && jumpTarget(i) <= i.pc).map((i) => i.pc);
  const proven = verified.boundedLoops;
  if (proven === undefined) return backEdges;
  const taken = new Set(proven.map((l) => l.from));
  const inCallback = callbackSlots(prog, verified);
  return backEdges.filter((pc) => !taken.has(pc) || inCallback(pc));
}

/** Whether a slot lies in a function that can run as a bpf_loop callback (or under one). */
function callbackSlots(prog: Program, verified: VerifyResult): (pc: number) => boolean {
  const fns = verified.functions;
  const fnOf = (pc: number): number => fns.findIndex((f) => pc >= f.start && pc < f.end);
  const byStart = new Map(fns.map((f, i) => [f.start, i]));
  const callees = fns.map((): number[] => []);
  const roots: number[] = [];
  for (const insn of prog.insns) {
    const target = insn.pc + 1 + insn.imm;
    if (isLdImm64(insn.opcode) && insn.src === PSEUDO.FUNC) roots.push(byStart.get(target) ?? -1);
    else if (isCall(insn.opcode) && !isRegSource(insn.opcode) && insn.src === CALL_KIND.LOCAL)
      callees[fnOf(insn.pc)]?.push(byStart.get(target) ?? -1);
  }
  const marked = new Set<number>();
  const stack = roots.filter((f) => f >= 0);
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (marked.has(f)) continue;
    marked.add(f);
    for (const c of callees[f] ?? []) if (c >= 0) stack.push(c);
  }
  return (pc) => marked.has(fnOf(pc));
}
