// Packet bounds checks spelled on the address before its `+ 1`. clang writes `if (p + 1 >
// end)` as `q = p; q += 1; if q > end`; V8 then computes p and p + 1 (two instructions)
// where `p >= end` needs p only. When the verifier found q to be a packet address on every
// walk (never 0, so q - 1 cannot wrap: address-compares.ts) and p still holds q - 1 at the
// jump, codegen compares p instead: q > end as p >= end, q <= end as p < end (and the same
// with q as the right operand). Same answers, one instruction less per check in a loop
// like the checksum's (bench/README.md "Session 7: loops").

import { ALU, ATOMIC, CLASS, type Insn, MODE, SRC_K, SRC_X, insnClass, isCall, isLdImm64, memMode } from '../core/isa.js';
import { ADDRESS_DST, ADDRESS_SRC } from './address-compares.js';

/** For a block's closing jump: the register holding (operand - 1), per operand that has one. */
export interface Predecessors {
  dst?: number;
  src?: number;
}

/**
 * `insns[first..jump)` is the block before its closing 64-bit register compare `jump`;
 * `known` the verifier's ADDRESS_DST | ADDRESS_SRC bits for it.
 */
export function predecessorOperands(insns: readonly Insn[], first: number, jump: number, known: number): Predecessors {
  const j = insns[jump]!;
  const dst = known & ADDRESS_DST ? beforeIncrement(insns, first, jump, j.dst) : undefined;
  const src = known & ADDRESS_SRC ? beforeIncrement(insns, first, jump, j.src) : undefined;
  return { ...(dst !== undefined && { dst }), ...(src !== undefined && { src }) };
}

const MOV64_X = CLASS.ALU64 | ALU.MOV | SRC_X;
const ADD64_K = CLASS.ALU64 | ALU.ADD | SRC_K;

/** The register p of `q = p; q += 1` in the block when neither is written again before the jump. */
function beforeIncrement(insns: readonly Insn[], first: number, jump: number, q: number): number | undefined {
  let add = jump - 1;
  while (add >= first && !writes(insns[add]!, q)) add--;
  const inc = insns[add];
  if (add < first || inc === undefined || inc.opcode !== ADD64_K || inc.imm !== 1 || inc.dst !== q) return undefined;
  let mov = add - 1;
  while (mov >= first && !writes(insns[mov]!, q)) mov--;
  const copy = insns[mov];
  if (mov < first || copy === undefined || copy.opcode !== MOV64_X || copy.dst !== q || copy.off !== 0) return undefined;
  const p = copy.src;
  if (p === q) return undefined;
  for (let i = mov + 1; i < jump; i++) if (writes(insns[i]!, p)) return undefined;
  return p;
}

/** Whether an instruction (not a block's closing jump) may write register r. */
function writes(insn: Insn, r: number): boolean {
  const cls = insnClass(insn.opcode);
  if (cls === CLASS.ALU || cls === CLASS.ALU64 || cls === CLASS.LDX) return insn.dst === r;
  if (cls === CLASS.LD) return isLdImm64(insn.opcode) ? insn.dst === r : true;
  if (cls === CLASS.STX && memMode(insn.opcode) === MODE.ATOMIC) return (insn.imm & ATOMIC.FETCH) !== 0 ? insn.src === r || r === 0 : false;
  if (isCall(insn.opcode)) return r <= 5;
  return cls === CLASS.JMP || cls === CLASS.JMP32; // none inside a block; be safe
}
