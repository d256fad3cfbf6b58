// Verifier, step 1: each instruction on its own. Is the opcode one that eBPF ISA v4
// (RFC 9669) defines, are the fields it does not use zero, are its registers real, and
// does it never write r10? Returns the reason text of the first problem, or undefined.
// The rules follow the spec and the kernel's check of reserved fields (`do_check`,
// `check_alu_op`, `check_mem_access`, `check_atomic`): what the kernel loads, we load.
// Two kernel rejections are deliberately not copied, because the RFC defines the result
// and the conformance vectors exercise it: immediate shifts by the width or more (the
// amount is masked) and division or modulo by an immediate zero (0, or the dividend).

import { KFUNC_BY_ID } from '../../core/kfuncs.js';
import {
  ALU,
  ATOMIC,
  CALL_KIND,
  CLASS,
  JMP,
  MODE,
  PSEUDO,
  SIZE,
  aluOp,
  insnClass,
  isRegSource,
  jmpOp,
  memMode,
  memSize,
  type Insn,
} from '../../core/isa.js';
import type { MapSpec } from '../../core/model.js';

export const FRAME_POINTER = 10;
const MAX_REG = 10;

export interface EncodingContext {
  maps: readonly MapSpec[];
  allowCallx: boolean;
}

/** The reason `insn` is malformed, or undefined when it is a valid encoding. */
export function encodingProblem(insn: Insn, ctx: EncodingContext): string | undefined {
  if (insn.dst > MAX_REG) return `invalid destination register r${insn.dst} (registers are r0..r10)`;
  if (insn.src > MAX_REG && !usesSrcAsKind(insn)) return `invalid source register r${insn.src} (registers are r0..r10)`;
  switch (insnClass(insn.opcode)) {
    case CLASS.ALU:
    case CLASS.ALU64:
      return aluProblem(insn);
    case CLASS.JMP:
    case CLASS.JMP32:
      return jumpProblem(insn, ctx);
    case CLASS.LD:
      return loadImmProblem(insn, ctx);
    case CLASS.LDX:
      return loadProblem(insn);
    case CLASS.ST:
    case CLASS.STX:
      return storeProblem(insn);
  }
  return undefined; // unreachable: the class is three bits
}

/** ld_imm64 and call keep a kind, not a register, in the src field. */
function usesSrcAsKind(insn: Insn): boolean {
  const cls = insnClass(insn.opcode);
  return (
    (cls === CLASS.LD && memMode(insn.opcode) === MODE.IMM) ||
    (cls === CLASS.JMP && jmpOp(insn.opcode) === JMP.CALL && !isRegSource(insn.opcode))
  );
}

const unknownOpcode = (insn: Insn): string => `unknown opcode 0x${insn.opcode.toString(16).padStart(2, '0')}`;
const writesFp = 'r10 (the frame pointer) is read-only';

function aluProblem(insn: Insn): string | undefined {
  const op = aluOp(insn.opcode);
  const is64 = insnClass(insn.opcode) === CLASS.ALU64;
  const x = isRegSource(insn.opcode);
  if (op > ALU.END) return unknownOpcode(insn);
  if (insn.dst === FRAME_POINTER) return writesFp;
  if (op === ALU.NEG) {
    if (x) return unknownOpcode(insn) + ' (neg takes no source operand)';
    if (insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) return 'neg uses reserved fields (src, off and imm must be 0)';
    return undefined;
  }
  if (op === ALU.END) {
    if (is64 && x) return unknownOpcode(insn) + ' (64-bit byte swap has no big/little-endian variant)';
    if (insn.src !== 0 || insn.off !== 0) return 'byte swap uses reserved fields (src and off must be 0)';
    if (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) return `byte swap width ${insn.imm} (must be 16, 32 or 64)`;
    return undefined;
  }
  if (x ? insn.imm !== 0 : insn.src !== 0) {
    return x ? 'register-source ALU op uses reserved field imm (must be 0)' : 'immediate ALU op uses reserved field src (must be 0)';
  }
  if (op === ALU.DIV || op === ALU.MOD) {
    if (insn.off !== 0 && insn.off !== 1) return `${op === ALU.DIV ? 'div' : 'mod'} offset ${insn.off} (0 = unsigned, 1 = signed)`;
    return undefined;
  }
  if (op === ALU.MOV && insn.off !== 0) {
    const widths = is64 ? [8, 16, 32] : [8, 16];
    if (!x) return 'mov with an immediate uses reserved field off (must be 0)';
    if (!widths.includes(insn.off)) return `movsx width ${insn.off} (must be ${widths.join(', ')})`;
    return undefined;
  }
  if (insn.off !== 0) return 'ALU op uses reserved field off (must be 0)';
  return undefined;
}

function jumpProblem(insn: Insn, ctx: EncodingContext): string | undefined {
  const op = jmpOp(insn.opcode);
  const is32 = insnClass(insn.opcode) === CLASS.JMP32;
  const x = isRegSource(insn.opcode);
  if (op > JMP.JSLE) return unknownOpcode(insn);
  if (op === JMP.JA) {
    if (x) return unknownOpcode(insn) + ' (ja takes no register)';
    if (insn.dst !== 0 || insn.src !== 0) return 'ja uses reserved fields (dst and src must be 0)';
    if (is32 ? insn.off !== 0 : insn.imm !== 0) {
      return is32 ? 'gotol uses reserved field off (the offset is in imm)' : 'ja uses reserved field imm (must be 0)';
    }
    return undefined;
  }
  if (op === JMP.EXIT) {
    if (is32 || x) return unknownOpcode(insn);
    if (insn.dst !== 0 || insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) return 'exit uses reserved fields (must be 0)';
    return undefined;
  }
  if (op === JMP.CALL) {
    if (is32) return unknownOpcode(insn);
    if (x) {
      if (!ctx.allowCallx) return 'callx (call through a register) is not supported';
      if (insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) return 'callx uses reserved fields (src, off and imm must be 0)';
      return undefined;
    }
    if (insn.dst !== 0 || insn.off !== 0) return 'call uses reserved fields (dst and off must be 0)';
    if (insn.src === CALL_KIND.KFUNC && !KFUNC_BY_ID.has(insn.imm))
      return `call of kernel function (kfunc) id ${insn.imm} is not supported`;
    if (insn.src !== CALL_KIND.HELPER && insn.src !== CALL_KIND.LOCAL && insn.src !== CALL_KIND.KFUNC)
      return `call kind src=${insn.src} (0 = helper, 1 = local, 2 = kfunc)`;
    return undefined;
  }
  // Conditional jumps.
  if (x ? insn.imm !== 0 : insn.src !== 0) {
    return x ? 'register-source jump uses reserved field imm (must be 0)' : 'immediate jump uses reserved field src (must be 0)';
  }
  return undefined;
}

function loadImmProblem(insn: Insn, ctx: EncodingContext): string | undefined {
  const mode = memMode(insn.opcode);
  if (mode === MODE.ABS || mode === MODE.IND) {
    return 'legacy packet load (LD_ABS/LD_IND) is not supported; read the packet through xdp_md data pointers';
  }
  if (mode !== MODE.IMM || memSize(insn.opcode) !== SIZE.DW) return unknownOpcode(insn);
  if (insn.dst === FRAME_POINTER) return writesFp;
  if (insn.off !== 0) return 'lddw uses reserved field off (must be 0)';
  const high = insn.imm64 === undefined ? 0 : Number(BigInt.asIntN(32, insn.imm64 >> 32n));
  switch (insn.src) {
    case PSEUDO.NONE:
      return undefined;
    case PSEUDO.MAP_FD:
    case PSEUDO.MAP_VALUE:
      return `unrelocated map reference (lddw src=${insn.src}, a map fd); compile from the ELF object so that maps are resolved`;
    case PSEUDO.BTF_ID:
      return 'unrelocated BTF id (lddw src=3, a kernel symbol); compile from the ELF object, and note kernel symbols are not supported';
    case PSEUDO.FUNC:
      if (high !== 0) return 'lddw func uses the reserved second immediate (must be 0)';
      return undefined;
    case PSEUDO.MAP_IDX:
    case PSEUDO.MAP_IDX_VALUE: {
      const map = ctx.maps[insn.imm];
      if (insn.imm < 0 || map === undefined) return `map index ${insn.imm} out of range (the object has ${ctx.maps.length} maps)`;
      if (insn.src === PSEUDO.MAP_IDX) {
        if (high !== 0) return 'lddw map uses the reserved second immediate (must be 0)';
        return undefined;
      }
      if (high < 0 || high >= map.valueSize) {
        return `offset ${high} is outside the ${map.valueSize}-byte value of map '${map.name}'`;
      }
      return undefined;
    }
  }
  return `lddw kind src=${insn.src} (0 = number, 4 = function, 5 = map, 6 = map value)`;
}

function loadProblem(insn: Insn): string | undefined {
  const mode = memMode(insn.opcode);
  if (mode !== MODE.MEM && mode !== MODE.MEMSX) return unknownOpcode(insn);
  if (mode === MODE.MEMSX && memSize(insn.opcode) === SIZE.DW) return unknownOpcode(insn) + ' (no sign-extending 8-byte load)';
  if (insn.dst === FRAME_POINTER) return writesFp;
  if (insn.imm !== 0) return 'load uses reserved field imm (must be 0)';
  return undefined;
}

function storeProblem(insn: Insn): string | undefined {
  const mode = memMode(insn.opcode);
  const st = insnClass(insn.opcode) === CLASS.ST;
  if (st) {
    if (mode !== MODE.MEM) return unknownOpcode(insn);
    if (insn.src !== 0) return 'store of an immediate uses reserved field src (must be 0)';
    return undefined;
  }
  if (mode === MODE.MEM) {
    if (insn.imm !== 0) return 'store uses reserved field imm (must be 0)';
    return undefined;
  }
  if (mode !== MODE.ATOMIC) return unknownOpcode(insn);
  const size = memSize(insn.opcode);
  if (size !== SIZE.W && size !== SIZE.DW) return 'atomic operations are 4 or 8 bytes wide only';
  const base = insn.imm & ~ATOMIC.FETCH;
  const known =
    insn.imm === ATOMIC.XCHG ||
    insn.imm === ATOMIC.CMPXCHG ||
    ((base === ATOMIC.ADD || base === ATOMIC.OR || base === ATOMIC.AND || base === ATOMIC.XOR) && (insn.imm & ~0xff) === 0);
  if (!known) return `unknown atomic operation imm=0x${(insn.imm >>> 0).toString(16)}`;
  if (atomicWritesSrc(insn) && insn.src === FRAME_POINTER) return writesFp + ' (atomic fetch writes its source register)';
  return undefined;
}

/** Atomics with fetch (and xchg) write the old value into the source register. */
export const atomicWritesSrc = (insn: Insn): boolean => insn.imm !== ATOMIC.CMPXCHG && (insn.imm & ATOMIC.FETCH) !== 0;
