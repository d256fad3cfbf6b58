// Where a mutation can bite, found by a cheap linear look at a program's entry function:
// what a register was last set from (the context, a packet pointer, pkt_end, the frame
// pointer, a helper's result) by walking back over the instructions before it. It ignores
// control flow, which is fine for aiming mutations: the verdicts, not this guess, decide.

import {
  ALU,
  CALL_KIND,
  CLASS,
  JMP,
  MODE,
  SIZE,
  aluOp,
  insnClass,
  isCall,
  isCondJmp,
  isJmp,
  isRegSource,
  jmpOp,
  memMode,
  memSize,
  type Insn,
} from '../../../core/isa.js';
import { PROTOS } from '../../../compiler/verifier/helpers.js';
import type { SeedProgram } from './seeds.js';

/** What a register held, as far as a linear walk back can tell. */
export type Origin = 'ctx' | 'fp' | 'pkt' | 'pkt_end' | 'pkt_meta' | 'or_null' | 'other';

const MOV64_X = CLASS.ALU64 | ALU.MOV | 0x08;
const ADD64 = CLASS.ALU64 | ALU.ADD;

const isMem = (i: Insn): boolean => {
  const c = insnClass(i.opcode);
  return (
    (c === CLASS.LDX && (memMode(i.opcode) === MODE.MEM || memMode(i.opcode) === MODE.MEMSX)) ||
    ((c === CLASS.ST || c === CLASS.STX) && memMode(i.opcode) === MODE.MEM) ||
    (c === CLASS.STX && memMode(i.opcode) === MODE.ATOMIC)
  );
};

/** The register a memory instruction addresses through. */
export const baseReg = (i: Insn): number => (insnClass(i.opcode) === CLASS.LDX ? i.src : i.dst);

const writes = (i: Insn, reg: number): boolean => {
  const c = insnClass(i.opcode);
  if (isCall(i.opcode)) return reg <= 5;
  if (c === CLASS.ALU || c === CLASS.ALU64 || c === CLASS.LDX || c === CLASS.LD) return i.dst === reg;
  return false;
};

/** The instructions of a program's entry function (those patchable in the file), with their origin walk. */
export class Sites {
  readonly insns: Insn[];
  private args: number[] | undefined;

  constructor(readonly sp: SeedProgram) {
    this.insns = sp.program.insns.filter((i) => i.pc < sp.entrySlots);
  }

  /** What `reg` held just before position `pos` (an index into `insns`). */
  origin(pos: number, reg: number, depth = 0): Origin {
    if (reg === 10) return 'fp';
    if (depth > 8) return 'other';
    for (let p = pos - 1; p >= 0; p--) {
      const i = this.insns[p]!;
      if (!writes(i, reg)) continue;
      if (isCall(i.opcode)) {
        const ret = i.src === CALL_KIND.HELPER ? PROTOS.get(i.imm)?.ret : undefined;
        return reg === 0 && ret?.endsWith('_or_null') ? 'or_null' : 'other';
      }
      if (i.opcode === MOV64_X) return this.origin(p, i.src, depth + 1);
      if (i.opcode === ADD64 || i.opcode === (ADD64 | 0x08)) return this.origin(p, reg, depth + 1);
      if (insnClass(i.opcode) === CLASS.LDX && memSize(i.opcode) === SIZE.W && this.origin(p, i.src, depth + 1) === 'ctx') {
        return ({ 0: 'pkt', 4: 'pkt_end', 8: 'pkt_meta' } as Record<number, Origin>)[i.off] ?? 'other';
      }
      return 'other';
    }
    return reg === 1 ? 'ctx' : 'other';
  }

  /** Positions whose instruction satisfies `pred`. */
  where(pred: (i: Insn, pos: number) => boolean): number[] {
    const out: number[] = [];
    this.insns.forEach((i, pos) => {
      if (pred(i, pos)) out.push(pos);
    });
    return out;
  }

  memory(): number[] {
    return this.where(isMem);
  }

  /** Conditional jumps comparing a register against one holding pkt_end. */
  boundsChecks(): number[] {
    return this.where(
      (i, pos) =>
        isCondJmp(i.opcode) && isRegSource(i.opcode) && (this.origin(pos, i.dst) === 'pkt_end' || this.origin(pos, i.src) === 'pkt_end'),
    );
  }

  /** `if rX ==/!= 0` right after a helper returning a nullable pointer, rX holding its result. */
  nullChecks(): number[] {
    return this.where(
      (i, pos) =>
        isCondJmp(i.opcode) &&
        !isRegSource(i.opcode) &&
        i.imm === 0 &&
        (jmpOp(i.opcode) === JMP.JEQ || jmpOp(i.opcode) === JMP.JNE) &&
        this.origin(pos, i.dst) === 'or_null',
    );
  }

  /** Jumps (not calls, exits or gotol) whose target may be moved. */
  jumps(): number[] {
    return this.where(
      (i) =>
        isJmp(i.opcode) &&
        !isCall(i.opcode) &&
        jmpOp(i.opcode) !== JMP.EXIT &&
        !(insnClass(i.opcode) === CLASS.JMP32 && jmpOp(i.opcode) === JMP.JA),
    );
  }

  /** Instructions setting r1..r5 in the straight line before a helper call (its arguments). */
  helperArgs(): number[] {
    if (this.args) return this.args;
    const out: number[] = (this.args = []);
    this.insns.forEach((call, c) => {
      if (!isCall(call.opcode) || call.src !== CALL_KIND.HELPER) return;
      for (let p = c - 1; p >= 0 && p >= c - 6; p--) {
        const i = this.insns[p]!;
        if (isJmp(i.opcode)) break;
        const c2 = insnClass(i.opcode);
        if ((c2 === CLASS.ALU || c2 === CLASS.ALU64 || c2 === CLASS.LDX || c2 === CLASS.LD) && i.dst >= 1 && i.dst <= 5) out.push(p);
      }
    });
    return out;
  }

  /** `mov rN, imm` among a helper call's argument setup (N = 2..5): sizes, flags, lengths. */
  helperImmediates(): number[] {
    return this.helperArgs().filter((p) => {
      const i = this.insns[p]!;
      return aluOp(i.opcode) === ALU.MOV && !isRegSource(i.opcode) && i.dst >= 2;
    });
  }

  /** Loads and stores through r10, and `rX += K` where rX was just copied from r10. */
  stackAccesses(): number[] {
    return this.where((i, pos) => (isMem(i) && baseReg(i) === 10) || (i.opcode === ADD64 && this.origin(pos, i.dst) === 'fp'));
  }

  /** Loads from the context (struct xdp_md). */
  ctxLoads(): number[] {
    return this.where((i, pos) => insnClass(i.opcode) === CLASS.LDX && memMode(i.opcode) === MODE.MEM && this.origin(pos, i.src) === 'ctx');
  }
}
