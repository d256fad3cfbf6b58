// Which registers each instruction's successors may still read (a backward dataflow per
// function). Pruning compares only live registers of the innermost frame, as the
// kernel's liveness marks let it: a dead register's value cannot make a path unsafe.

import { KFUNC_BY_ID, kfuncArgs } from '../../core/kfuncs.js';
import { ATOMIC, CALL_KIND, CLASS, JMP, MODE, insnClass, isRegSource, jmpOp, jumpTarget, memMode, type Insn } from '../../core/isa.js';
import type { ProgramFlow } from './flow.js';

const bit = (r: number): number => 1 << r;
const ARGS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
const CLOBBERED = bit(0) | ARGS;

function usesDefs(insn: Insn, helperArgs: (id: number) => number): [number, number] {
  const op = insn.opcode;
  const x = isRegSource(op);
  switch (insnClass(op)) {
    case CLASS.ALU:
    case CLASS.ALU64: {
      const mov = (op & 0xf0) === 0xb0;
      const unary = (op & 0xf0) === 0x80 || (op & 0xf0) === 0xd0;
      return [(x && !unary ? bit(insn.src) : 0) | (mov ? 0 : bit(insn.dst)), bit(insn.dst)];
    }
    case CLASS.LD:
      return [0, bit(insn.dst)];
    case CLASS.LDX:
      return [bit(insn.src), bit(insn.dst)];
    case CLASS.ST:
      return [bit(insn.dst), 0];
    case CLASS.STX:
      if (memMode(op) === MODE.ATOMIC) {
        if (insn.imm === ATOMIC.CMPXCHG) return [bit(insn.dst) | bit(insn.src) | bit(0), bit(0)];
        return [bit(insn.dst) | bit(insn.src), insn.imm & ATOMIC.FETCH ? bit(insn.src) : 0];
      }
      return [bit(insn.dst) | bit(insn.src), 0];
    default: {
      const j = jmpOp(op);
      if (j === JMP.EXIT) return [bit(0), 0];
      if (j === JMP.CALL) {
        if (x) return [bit(insn.dst) | ARGS, CLOBBERED];
        if (insn.src === CALL_KIND.LOCAL) return [ARGS, CLOBBERED];
        if (insn.src === CALL_KIND.KFUNC) {
          const kfunc = KFUNC_BY_ID.get(insn.imm);
          return [kfunc ? ((1 << (kfuncArgs(kfunc) + 1)) - 2) & ARGS : ARGS, CLOBBERED];
        }
        return [helperArgs(insn.imm), CLOBBERED];
      }
      if (j === JMP.JA) return [0, 0];
      return [bit(insn.dst) | (x ? bit(insn.src) : 0), 0];
    }
  }
}

/** live[pos]: bit r set when register r may be read before written, from pos on. */
export function liveRegisters(
  insns: readonly Insn[],
  flow: ProgramFlow,
  posOfPc: ReadonlyMap<number, number>,
  helperArgs: (id: number) => number,
): Uint16Array {
  const live = new Uint16Array(insns.length);
  const uses = new Uint16Array(insns.length);
  const defs = new Uint16Array(insns.length);
  insns.forEach((insn, pos) => {
    [uses[pos], defs[pos]] = usesDefs(insn, helperArgs);
  });
  for (const fn of flow.functions) {
    let changed = true;
    while (changed) {
      changed = false;
      for (let pos = fn.stop - 1; pos >= fn.first; pos--) {
        const insn = insns[pos]!;
        const j = jmpOp(insn.opcode);
        const isJump = insnClass(insn.opcode) === CLASS.JMP || insnClass(insn.opcode) === CLASS.JMP32;
        let out = 0;
        const fallsThrough = !(isJump && (j === JMP.EXIT || j === JMP.JA));
        if (fallsThrough && pos + 1 < fn.stop) out |= live[pos + 1]!;
        if (isJump && j !== JMP.EXIT && j !== JMP.CALL) out |= live[posOfPc.get(jumpTarget(insn))!]!;
        const next = uses[pos]! | (out & ~defs[pos]!);
        if (next !== live[pos]) {
          live[pos] = next;
          changed = true;
        }
      }
    }
  }
  return live;
}
