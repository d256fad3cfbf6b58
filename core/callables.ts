// The table of functions that can be reached indirectly: each program's entry (tail-call
// targets) followed by every bpf_loop callback (ld_imm64 BPF_PSEUDO_FUNC). Codegen lays
// out its wasm table in this order and the interpreter numbers callbacks the same way, so
// a callback "pointer" is the same number in both.

import { PSEUDO, isLdImm64 } from './isa.js';
import type { Program } from './model.js';

export interface Callable {
  program: Program;
  /** Slot where the function starts inside `program.insns`. */
  start: number;
}

export function callableTable(programs: readonly Program[]): Callable[] {
  const table: Callable[] = [];
  const seen = new Set<string>();
  const add = (program: Program, start: number): void => {
    const key = `${program.name}@${start}`;
    if (seen.has(key)) return;
    seen.add(key);
    table.push({ program, start });
  };
  for (const program of programs) add(program, program.funcs[0]?.start ?? 0);
  for (const program of programs) {
    for (const insn of program.insns) {
      if (isLdImm64(insn.opcode) && insn.src === PSEUDO.FUNC) add(program, insn.pc + 1 + insn.imm);
    }
  }
  return table;
}

export const callableName = (c: Callable): string => `${c.program.name}@${c.start}`;
