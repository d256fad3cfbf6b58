// ALU instructions on abstract registers: scalar arithmetic through scalar.ts, pointer
// arithmetic with the kernel's rules (adjust_ptr_min_max_vals for a privileged loader:
// pointer ± scalar on pointers that allow it, pointer - pointer gives a scalar, no 32-bit
// arithmetic on pointers, no arithmetic on pkt_end or unchecked or-null pointers).

import { ALU, CLASS, aluOp, insnClass, isRegSource, type Insn } from '../../core/isa.js';
import type { Env } from './env.js';
import { reject } from './problem.js';
import { NOT_INIT, T, TYPE_NAME, UNKNOWN_SCALAR, constRegInt, isOrNull, isPointer, regWith, scalarReg, type Reg } from './reg.js';
import {
  S64_MIN,
  U32,
  UNKNOWN,
  aluScalar,
  constScalar,
  isConst,
  negScalar,
  signExtend,
  truncate32,
  uRange,
  type Scalar,
} from './scalar.js';
import type { State } from './state.js';

const OP_TEXT: Record<number, string> = {
  [ALU.ADD]: '+=',
  [ALU.SUB]: '-=',
  [ALU.MUL]: '*=',
  [ALU.DIV]: '/=',
  [ALU.OR]: '|=',
  [ALU.AND]: '&=',
  [ALU.LSH]: '<<=',
  [ALU.RSH]: '>>=',
  [ALU.NEG]: 'neg',
  [ALU.MOD]: '%=',
  [ALU.XOR]: '^=',
  [ALU.MOV]: '=',
  [ALU.ARSH]: 's>>=',
  [ALU.END]: 'endian',
};
/** Fixed pointer offsets stay within ±BPF_MAX_VAR_OFF. */
const MAX_OFF = 1 << 29;

/** Read a register as an operand: it must have been written ("R2 !read_ok"). */
export function readReg(st: State, insn: Insn, r: number): Reg {
  const v = st.cur.regs[r]!;
  if (v.type === T.NOT_INIT) reject(insn, `R${r} !read_ok`);
  return v;
}

export function aluStep(env: Env, st: State, insn: Insn): void {
  const regs = st.cur.regs;
  const op = aluOp(insn.opcode);
  const is64 = insnClass(insn.opcode) === CLASS.ALU64;
  const d = insn.dst;
  const unary = op === ALU.NEG || op === ALU.END; // END keeps its byte order in the source bit
  const src: Reg = unary
    ? NOT_INIT
    : isRegSource(insn.opcode)
      ? readReg(st, insn, insn.src)
      : constRegInt(is64 ? insn.imm : insn.imm >>> 0);

  if (op === ALU.MOV) {
    if (insn.off !== 0) {
      // movsx: a pointer's bits become a scalar (privileged loaders may leak pointers).
      const s = src.type === T.SCALAR ? signExtend(src.s, insn.off as 8 | 16 | 32) : UNKNOWN;
      regs[d] = scalarReg(is64 ? s : truncate32(s));
      return;
    }
    if (!is64) {
      regs[d] = src.type === T.SCALAR ? scalarReg(truncate32(src.s)) : scalarReg(uRange(0n, U32));
      return;
    }
    if (src.type === T.SCALAR && !isConst(src.s) && isRegSource(insn.opcode)) {
      // Copies of one unknown scalar share an id, so a comparison refines both.
      const linked = src.id !== 0 ? src : regWith(src, { id: env.newId() });
      regs[insn.src] = linked;
      regs[d] = linked;
      return;
    }
    regs[d] = src;
    return;
  }

  const dst = readReg(st, insn, d);
  if (op === ALU.NEG || op === ALU.END) {
    regs[d] = dst.type === T.SCALAR ? scalarReg(op === ALU.NEG ? negScalar(dst.s, is64) : endian(dst.s, insn, is64)) : UNKNOWN_SCALAR;
    return;
  }
  if (dst.type === T.SCALAR && src.type === T.SCALAR) {
    regs[d] = scalarReg(aluScalar(op, dst.s, src.s, is64));
    return;
  }
  if (isPointer(dst) && isPointer(src)) {
    // A privileged loader may subtract any two pointers, in 32 or 64 bits (the kernel checks
    // this before its 32-bit pointer-arithmetic rule), and gets an unknown scalar.
    if (op === ALU.SUB) {
      regs[d] = UNKNOWN_SCALAR;
      return;
    }
    reject(insn, `R${d} pointer ${OP_TEXT[op]} pointer prohibited`);
  }
  const ptr = isPointer(dst) ? dst : src;
  const off = isPointer(dst) ? src : dst;
  // The offset's bounds become the pointer's: they matter on every path from here.
  if (isRegSource(insn.opcode)) env.precise([ptr === dst ? insn.src : d]);
  regs[d] = pointerArithmetic(env, insn, op, is64, ptr, off.s, ptr === src);
}

function endian(s: Scalar, insn: Insn, is64: boolean): Scalar {
  const width = insn.imm;
  const mask = (1n << BigInt(width)) - 1n;
  const toLittle = insnClass(insn.opcode) === CLASS.ALU && !isRegSource(insn.opcode);
  if (toLittle) return width === 64 ? s : aluScalar(ALU.AND, s, constScalar(mask), true);
  if (isConst(s)) {
    let v = s.t.value & mask;
    let r = 0n;
    for (let i = 0; i < width / 8; i++) {
      r = (r << 8n) | (v & 0xffn);
      v >>= 8n;
    }
    return constScalar(r);
  }
  void is64;
  return width === 64 ? UNKNOWN : uRange(0n, mask);
}

function pointerArithmetic(env: Env, insn: Insn, op: number, is64: boolean, ptr: Reg, off: Scalar, offIsDst: boolean): Reg {
  const d = insn.dst;
  if (!is64) {
    // 32-bit arithmetic on a pointer gives a meaningless scalar; a privileged loader may
    // still subtract (the kernel's allow_ptr_leaks case), anything else is refused.
    if (op === ALU.SUB) return UNKNOWN_SCALAR;
    reject(insn, `R${d} 32-bit pointer arithmetic prohibited`);
  }
  if (isOrNull(ptr)) reject(insn, `R${d} pointer arithmetic on ${TYPE_NAME[ptr.type]} prohibited, null-check it first`);
  const known = isConst(off);
  if (ptr.type === T.PKT_END || ptr.type === T.FUNC || (ptr.type === T.CONST_MAP_PTR && !(known && off.t.value === 0n && op === ALU.ADD))) {
    reject(insn, `R${d} pointer arithmetic on ${TYPE_NAME[ptr.type]} prohibited`);
  }
  if (op === ALU.SUB && offIsDst) reject(insn, `R${d} tried to subtract pointer from scalar`);
  if (op !== ALU.ADD && op !== ALU.SUB) {
    const bitwise = op === ALU.AND || op === ALU.OR || op === ALU.XOR;
    reject(
      insn,
      bitwise
        ? `R${d} bitwise operator ${OP_TEXT[op]} on pointer prohibited`
        : `R${d} pointer arithmetic with ${OP_TEXT[op]} operator prohibited`,
    );
  }
  // The kernel's check_reg_sane_offset, on the offset before and the pointer after.
  saneOffset(insn, ptr.type, off);
  if (known) {
    const c = Number(BigInt.asIntN(64, off.t.value));
    const next = op === ALU.ADD ? ptr.off + c : ptr.off - c;
    if (!Number.isSafeInteger(next) || next <= -MAX_OFF || next >= MAX_OFF) {
      reject(insn, `${TYPE_NAME[ptr.type]} pointer offset ${next} is not allowed`);
    }
    return regWith(ptr, { off: next });
  }
  const s = aluScalar(op, ptr.s, off, true);
  saneOffset(insn, ptr.type, s);
  // A packet pointer with a new variable part needs its own comparison against data_end.
  if (ptr.type === T.PKT || ptr.type === T.PKT_META) return regWith(ptr, { s, id: env.newId(), range: 0 });
  return regWith(ptr, { s });
}

/**
 * A pointer's variable offset (or the scalar about to become part of it) stays within
 * ±BPF_MAX_VAR_OFF: beyond, a later bounds check could wrap (check_reg_sane_offset).
 */
function saneOffset(insn: Insn, type: T, v: Scalar): void {
  const name = TYPE_NAME[type];
  if (isConst(v)) {
    const val = BigInt.asIntN(64, v.t.value);
    if (val >= BigInt(MAX_OFF) || val <= -BigInt(MAX_OFF)) reject(insn, `math between ${name} pointer and ${val} is not allowed`);
    return;
  }
  if (v.smin === S64_MIN) reject(insn, `math between ${name} pointer and register with unbounded min value is not allowed`);
  if (v.smin >= BigInt(MAX_OFF) || v.smin <= -BigInt(MAX_OFF)) reject(insn, `value ${v.smin} makes ${name} pointer be out of bounds`);
}

export { NOT_INIT };
