// A Program from bare instructions (assembler output, conformance vectors, fuzzing):
// the entry at slot 0 plus one function per distinct local-call or callback target.

import { CALL_KIND, PSEUDO, type Insn, isCall, isLdImm64, isRegSource } from '../core/isa.js';
import type { Program } from '../core/model.js';

export function programFromInsns(name: string, insns: Insn[], section = '.text'): Program {
  const starts = new Set<number>([0]);
  for (const i of insns) {
    if (isCall(i.opcode) && !isRegSource(i.opcode) && i.src === CALL_KIND.LOCAL) starts.add(i.pc + 1 + i.imm);
    if (isLdImm64(i.opcode) && i.src === PSEUDO.FUNC) starts.add(i.pc + 1 + i.imm);
  }
  const funcs = [...starts].sort((a, b) => a - b).map((start) => ({ name: start === 0 ? name : `${name}_fn${start}`, start }));
  return { name, section, insns, funcs };
}
