// Verifier, step 2: the shape of the program. Splits it into functions (Program.funcs),
// checks every jump and call target, that no function falls off its end, that every
// instruction is reachable (the kernel rejects dead code too), and that the local call
// graph — bpf_loop callbacks count as calls — has no recursion and at most 8 frames.
// It builds the basic blocks the dataflow step walks; compiler/cfg.ts is codegen's own.

import { MAX_CALL_DEPTH } from '../../core/abi.js';
import { CALL_KIND, PSEUDO, type Insn, isCall, isCondJmp, isExit, isJa, isLdImm64, isRegSource, jumpTarget } from '../../core/isa.js';
import type { Program } from '../../core/model.js';
import { reject } from './problem.js';

export interface Block {
  /** Positions (indices into Program.insns): first and one past the last instruction. */
  first: number;
  end: number;
  /** Successor block indices within the same function. */
  succs: number[];
}

export interface CallEdge {
  /** The `call` or callback-taking `lddw` instruction. */
  insn: Insn;
  /** Index into `FunctionFlow[]` of the callee. */
  callee: number;
}

export interface FunctionFlow {
  name: string;
  /** First slot and one past the last slot. */
  start: number;
  end: number;
  /** Positions: first instruction and one past the last. */
  first: number;
  stop: number;
  blocks: Block[];
  /** Per block: reached from the function's entry. */
  reachable: boolean[];
  calls: CallEdge[];
}

export interface ProgramFlow {
  functions: FunctionFlow[];
  backEdges: { from: number; to: number }[];
  /** Frames on the deepest call chain (1 = no local calls). */
  maxCallDepth: number;
}

const lastSlot = (i: Insn): number => (isLdImm64(i.opcode) ? i.pc + 1 : i.pc);
const isLocalCall = (i: Insn): boolean => isCall(i.opcode) && !isRegSource(i.opcode) && i.src === CALL_KIND.LOCAL;
const isFuncRef = (i: Insn): boolean => isLdImm64(i.opcode) && i.src === PSEUDO.FUNC;
const isBranch = (i: Insn): boolean => isJa(i.opcode) || isCondJmp(i.opcode);

export function analyseFlow(prog: Program): ProgramFlow {
  const insns = prog.insns;
  const posOfPc = new Map<number, number>();
  insns.forEach((insn, pos) => posOfPc.set(insn.pc, pos));
  const endSlot = lastSlot(insns[insns.length - 1]!) + 1;
  const functions = layoutFunctions(prog, posOfPc, endSlot);
  const indexOfStart = new Map(functions.map((f, index) => [f.start, index]));

  /** The position at `slot`, rejecting slots outside the program or inside an lddw. */
  const positionOf = (insn: Insn, slot: number, what: string): number => {
    if (slot < insns[0]!.pc || slot >= endSlot)
      reject(insn, `${what} ${slot} is outside the program (slots ${insns[0]!.pc}..${endSlot - 1})`);
    const pos = posOfPc.get(slot);
    if (pos === undefined) reject(insn, `${what} ${slot} is the second half of the lddw at slot ${slot - 1}`);
    return pos;
  };

  const backEdges: { from: number; to: number }[] = [];
  for (const fn of functions) {
    for (let pos = fn.first; pos < fn.stop; pos++) {
      const insn = insns[pos]!;
      if (isBranch(insn)) {
        const target = jumpTarget(insn);
        positionOf(insn, target, 'jump target');
        if (target < fn.start || target >= fn.end) {
          reject(insn, `jump target ${target} leaves function '${fn.name}' (slots ${fn.start}..${fn.end - 1})`);
        }
      } else if (isLocalCall(insn) || isFuncRef(insn)) {
        const target = insn.pc + 1 + insn.imm;
        const what = isFuncRef(insn) ? 'function reference' : 'call target';
        positionOf(insn, target, what);
        const callee = indexOfStart.get(target);
        if (callee === undefined) reject(insn, `${what} ${target} is not the start of a function`);
        fn.calls.push({ insn, callee });
      }
    }
    const last = insns[fn.stop - 1]!;
    if (!isExit(last.opcode) && !isJa(last.opcode)) {
      reject(last, `control falls off the end of function '${fn.name}' (its last instruction must be exit or ja)`);
    }
    splitBlocks(fn, insns, posOfPc);
  }

  const called = reachableFunctions(functions);
  for (const [index, fn] of functions.entries()) {
    if (!called[index]) reject(insns[fn.first]!, `unreachable instruction: function '${fn.name}' is never called`);
    for (const [b, block] of fn.blocks.entries()) {
      if (!fn.reachable[b]) reject(insns[block.first]!, 'unreachable instruction');
      const last = insns[block.end - 1]!;
      if (isBranch(last) && jumpTarget(last) <= last.pc) backEdges.push({ from: last.pc, to: jumpTarget(last) });
    }
  }
  return { functions, backEdges, maxCallDepth: checkCallDepth(functions, insns) };
}

function layoutFunctions(prog: Program, posOfPc: Map<number, number>, endSlot: number): FunctionFlow[] {
  const insns = prog.insns;
  const declared = prog.funcs.length > 0 ? prog.funcs : [{ name: prog.name, start: insns[0]!.pc }];
  const entry = declared[0]!;
  const sorted = [...declared].sort((a, b) => a.start - b.start);
  const insnAtSlot = (slot: number): Insn => insns[posOfPc.get(slot) ?? posOfPc.get(slot - 1) ?? 0]!;
  if (sorted[0]!.start > insns[0]!.pc) reject(insns[0]!, 'instruction outside any function');
  const out: FunctionFlow[] = [];
  for (const [index, f] of sorted.entries()) {
    const first = posOfPc.get(f.start);
    if (first === undefined) {
      const where = f.start < 0 || f.start >= endSlot ? insns[0]! : insnAtSlot(f.start);
      reject(where, `function '${f.name}' starts at slot ${f.start}, which is not the start of an instruction`);
    }
    const end = index + 1 < sorted.length ? sorted[index + 1]!.start : endSlot;
    if (end === f.start) reject(insns[first]!, `functions '${f.name}' and '${sorted[index + 1]!.name}' start at the same slot`);
    const stop = posOfPc.get(end) ?? insns.length;
    out.push({ name: f.name, start: f.start, end, first, stop, blocks: [], reachable: [], calls: [] });
  }
  // The entry goes first so that index 0 is where execution starts.
  const entryIndex = out.findIndex((f) => f.start === entry.start);
  out.unshift(...out.splice(entryIndex, 1));
  return out;
}

function splitBlocks(fn: FunctionFlow, insns: readonly Insn[], posOfPc: Map<number, number>): void {
  const leader = new Uint8Array(fn.stop - fn.first);
  leader[0] = 1;
  for (let pos = fn.first; pos < fn.stop; pos++) {
    const insn = insns[pos]!;
    if (isBranch(insn)) leader[posOfPc.get(jumpTarget(insn))! - fn.first] = 1;
    if ((isBranch(insn) || isExit(insn.opcode)) && pos + 1 < fn.stop) leader[pos + 1 - fn.first] = 1;
  }
  const blockAt = new Map<number, number>();
  for (let pos = fn.first; pos < fn.stop; pos++) {
    if (leader[pos - fn.first]) {
      blockAt.set(pos, fn.blocks.length);
      fn.blocks.push({ first: pos, end: pos, succs: [] });
    }
  }
  for (const [b, block] of fn.blocks.entries()) {
    block.end = b + 1 < fn.blocks.length ? fn.blocks[b + 1]!.first : fn.stop;
    const last = insns[block.end - 1]!;
    // The last instruction of a function is exit or ja, so a fall-through always has a next block.
    if (!isExit(last.opcode) && !isJa(last.opcode)) block.succs.push(b + 1);
    if (isBranch(last)) {
      const target = blockAt.get(posOfPc.get(jumpTarget(last))!)!;
      if (!block.succs.includes(target)) block.succs.push(target);
    }
  }
  fn.reachable = fn.blocks.map(() => false);
  const stack = [0];
  fn.reachable[0] = true;
  while (stack.length > 0) {
    for (const s of fn.blocks[stack.pop()!]!.succs) {
      if (!fn.reachable[s]) {
        fn.reachable[s] = true;
        stack.push(s);
      }
    }
  }
  // Calls made from dead code do not make their callee reachable.
  fn.calls = fn.calls.filter((c) => fn.reachable[blockIndexOf(fn, posOfPc.get(c.insn.pc)!)]);
}

function blockIndexOf(fn: FunctionFlow, pos: number): number {
  let lo = 0;
  let hi = fn.blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fn.blocks[mid]!.first <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function reachableFunctions(functions: readonly FunctionFlow[]): boolean[] {
  const called = functions.map(() => false);
  const stack = [0];
  called[0] = true;
  while (stack.length > 0) {
    for (const { callee } of functions[stack.pop()!]!.calls) {
      if (!called[callee]) {
        called[callee] = true;
        stack.push(callee);
      }
    }
  }
  return called;
}

/** Rejects recursion and chains deeper than MAX_CALL_DEPTH frames; returns the deepest chain's frames. */
function checkCallDepth(functions: readonly FunctionFlow[], insns: readonly Insn[]): number {
  // frames[f]: frames on the deepest chain starting at f (f included); computed depth-first,
  // with 0 marking "on the current path" to catch cycles.
  const frames = new Array<number | undefined>(functions.length);
  const visit = (f: number, via: Insn | undefined): number => {
    const known = frames[f];
    if (known === 0) reject(via ?? insns[0]!, `recursive call: function '${functions[f]!.name}' calls itself (directly or through others)`);
    if (known !== undefined) return known;
    frames[f] = 0;
    let deepest = 0;
    for (const c of functions[f]!.calls) deepest = Math.max(deepest, visit(c.callee, c.insn));
    frames[f] = deepest + 1;
    return deepest + 1;
  };
  const total = visit(0, undefined);
  if (total > MAX_CALL_DEPTH) {
    // Walk the deepest chain to the call that makes frame MAX_CALL_DEPTH + 1.
    let f = 0;
    const chain = [functions[0]!.name];
    for (let depth = 1; ; depth++) {
      const next = functions[f]!.calls.find((c) => depth + frames[c.callee]! > MAX_CALL_DEPTH)!;
      chain.push(functions[next.callee]!.name);
      if (depth + 1 > MAX_CALL_DEPTH) {
        reject(next.insn, `call depth exceeds ${MAX_CALL_DEPTH} frames (${chain.join(' -> ')})`);
      }
      f = next.callee;
    }
  }
  return total;
}
