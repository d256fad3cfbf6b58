// Basic blocks and edges of each function of a verified program, for codegen. Block
// boundaries follow jump targets and jumps; edges carry whether they are taken jumps
// (so codegen can attach the loop budget to back-edges: taken jumps to a slot at or
// before the jump itself, the same rule the interpreter counts).

import { type Insn, isCondJmp, isExit, isJa, jumpTarget } from '../core/isa.js';
import type { Program } from '../core/model.js';

export interface Block {
  id: number;
  /** Positions (indices into Program.insns) of the first and one-past-last instruction. */
  first: number;
  end: number;
  /** Slot of the first instruction. */
  pc: number;
  /** Taken-jump successor (block id), if the block ends in a jump. */
  jumpTo?: number;
  /** Fall-through successor (block id), if control can fall out of the block. */
  fallTo?: number;
  /** The block's last instruction is a conditional jump. */
  conditional: boolean;
  /** The taken edge jumps backwards (target slot <= jump slot): budgeted. */
  backEdge: boolean;
}

export interface FunctionCfg {
  name: string;
  /** Slot where the function starts. */
  start: number;
  blocks: Block[];
}

/** Split a program into functions and each function into basic blocks. */
export function buildCfg(prog: Program): FunctionCfg[] {
  const posOfPc = new Map(prog.insns.map((insn, index) => [insn.pc, index]));
  const funcs = [...prog.funcs].sort((a, b) => a.start - b.start);
  const lastInsn = prog.insns.at(-1);
  const endSlot = lastInsn === undefined ? 0 : lastSlot(lastInsn) + 1;
  return funcs.map((fn, index) => {
    const startPos = posOfPc.get(fn.start);
    const stopSlot = funcs[index + 1]?.start ?? endSlot;
    const stopPos = posOfPc.get(stopSlot) ?? prog.insns.length;
    if (startPos === undefined) throw new Error(`function ${fn.name} starts at slot ${fn.start}, not an instruction`);
    return { name: fn.name, start: fn.start, blocks: splitBlocks(prog.insns, startPos, stopPos, posOfPc) };
  });
}

const lastSlot = (i: Insn): number => (i.imm64 !== undefined ? i.pc + 1 : i.pc);

// Positions in [from, to) index `insns` (buildCfg derives both from it), hence the `!`s.
function splitBlocks(insns: readonly Insn[], from: number, to: number, posOfPc: Map<number, number>): Block[] {
  const leaders = new Set<number>([from]);
  for (let p = from; p < to; p++) {
    const insn = insns[p]!;
    if (isJa(insn.opcode) || isCondJmp(insn.opcode)) {
      const target = posOfPc.get(jumpTarget(insn));
      if (target === undefined) throw new Error(`jump at slot ${insn.pc} has no instruction at its target`);
      leaders.add(target);
      if (p + 1 < to) leaders.add(p + 1);
    } else if (isExit(insn.opcode) && p + 1 < to) {
      leaders.add(p + 1);
    }
  }
  const starts = [...leaders].sort((a, b) => a - b);
  const blockAt = new Map(starts.map((pos, id) => [pos, id]));
  return starts.map((first, id): Block => {
    const end = starts[id + 1] ?? to;
    const last = insns[end - 1]!;
    const block: Block = { id, first, end, pc: insns[first]!.pc, conditional: false, backEdge: false };
    if (isJa(last.opcode) || isCondJmp(last.opcode)) {
      const targetPc = jumpTarget(last);
      block.jumpTo = blockAt.get(posOfPc.get(targetPc)!);
      block.backEdge = targetPc <= last.pc;
      block.conditional = isCondJmp(last.opcode);
      if (block.conditional && end < to) block.fallTo = blockAt.get(end);
    } else if (!isExit(last.opcode) && end < to) {
      block.fallTo = blockAt.get(end);
    }
    return block;
  });
}
