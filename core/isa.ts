// The eBPF instruction set (RFC 9669, through ISA v4): opcode constants, decoding of the
// 8-byte slots into instructions, encoding back, and a disassembler whose text is the
// syntax of the conformance vectors (so `asm(disasm(x)) == x`).

import { UserError } from './errors.js';

export const CLASS = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, JMP: 5, JMP32: 6, ALU64: 7 } as const;
export const SRC_K = 0x00;
export const SRC_X = 0x08;

export const ALU = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

export const JMP = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
} as const;

export const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;
export const SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

export const ATOMIC = { ADD: 0x00, OR: 0x40, AND: 0x50, XOR: 0xa0, FETCH: 0x01, XCHG: 0xe1, CMPXCHG: 0xf1 } as const;

/** src_reg values of `ld_imm64` (BPF_PSEUDO_*). */
export const PSEUDO = {
  NONE: 0,
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
} as const;

/** src_reg values of `call`. */
export const CALL_KIND = { HELPER: 0, LOCAL: 1, KFUNC: 2 } as const;

export const LD_IMM64 = CLASS.LD | MODE.IMM | SIZE.DW; // 0x18

/** One decoded instruction. `pc` is its slot index; `ld_imm64` covers slots pc and pc+1. */
export interface Insn {
  pc: number;
  opcode: number;
  dst: number;
  src: number;
  off: number; // signed 16-bit
  imm: number; // signed 32-bit
  /** Only for ld_imm64: the full 64-bit immediate (imm | next.imm << 32). */
  imm64?: bigint;
}

export const insnClass = (op: number): number => op & 0x07;
export const aluOp = (op: number): number => op & 0xf0;
export const jmpOp = (op: number): number => op & 0xf0;
export const isRegSource = (op: number): boolean => (op & 0x08) !== 0;
export const memMode = (op: number): number => op & 0xe0;
export const memSize = (op: number): number => op & 0x18;
const SIZE_BYTES: Readonly<Record<number, 1 | 2 | 4 | 8>> = { [SIZE.B]: 1, [SIZE.H]: 2, [SIZE.W]: 4, [SIZE.DW]: 8 };
export const sizeBytes = (op: number): 1 | 2 | 4 | 8 => SIZE_BYTES[memSize(op)]!;

export const isAlu = (op: number): boolean => insnClass(op) === CLASS.ALU || insnClass(op) === CLASS.ALU64;
export const isJmp = (op: number): boolean => insnClass(op) === CLASS.JMP || insnClass(op) === CLASS.JMP32;
export const isLdImm64 = (op: number): boolean => op === LD_IMM64;
export const isExit = (op: number): boolean => op === (CLASS.JMP | JMP.EXIT);
export const isCall = (op: number): boolean => insnClass(op) === CLASS.JMP && jmpOp(op) === JMP.CALL;
/** Unconditional jump: `ja` (16-bit offset) or `gotol` / `ja32` (32-bit offset in imm). */
export const isJa = (op: number): boolean => isJmp(op) && jmpOp(op) === JMP.JA;
export const isCondJmp = (op: number): boolean => isJmp(op) && ![JMP.JA, JMP.CALL, JMP.EXIT].includes(jmpOp(op) as 0);

/** Relative offset of a jump: `gotol` keeps it in imm, every other jump in off. */
export const jumpOffset = (i: Insn): number => (i.opcode === (CLASS.JMP32 | JMP.JA) ? i.imm : i.off);
export const jumpTarget = (i: Insn): number => i.pc + 1 + jumpOffset(i);

/** Number of 8-byte slots in a program image. */
export const SLOT = 8;

/** Malformed code: a user error (bad input), located by slot. */
export class DecodeError extends UserError {
  constructor(
    message: string,
    readonly pc: number,
  ) {
    super(message);
  }
}

/**
 * Decode a program image into instructions, one per slot except `ld_imm64`, which consumes
 * two. The result is indexed by position, not pc; use `byPc` to map slots back.
 */
export function decode(code: Uint8Array): Insn[] {
  if (code.length % SLOT !== 0) {
    throw new DecodeError(`code size ${code.length} is not a multiple of 8`, Math.floor(code.length / SLOT));
  }
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const count = code.length / SLOT;
  const out: Insn[] = [];
  for (let pc = 0; pc < count; pc++) {
    const insn = decodeSlot(view, pc);
    if (isLdImm64(insn.opcode)) {
      if (pc + 1 >= count) throw new DecodeError('ld_imm64 is missing its second slot', pc);
      const next = decodeSlot(view, pc + 1);
      if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        throw new DecodeError('second slot of ld_imm64 must have zero opcode, registers and offset', pc + 1);
      }
      insn.imm64 = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      pc++;
    }
    out.push(insn);
  }
  return out;
}

function decodeSlot(view: DataView, pc: number): Insn {
  const at = pc * SLOT;
  const regs = view.getUint8(at + 1);
  return {
    pc,
    opcode: view.getUint8(at),
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(at + 2, true),
    imm: view.getInt32(at + 4, true),
  };
}

/** Encode instructions back into a program image (ld_imm64 writes its two slots). */
export function encode(insns: readonly Omit<Insn, 'pc'>[]): Uint8Array {
  const slots = insns.reduce((n, i) => n + (isLdImm64(i.opcode) ? 2 : 1), 0);
  const out = new Uint8Array(slots * SLOT);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const i of insns) {
    view.setUint8(at, i.opcode);
    view.setUint8(at + 1, (i.dst & 0x0f) | ((i.src & 0x0f) << 4));
    view.setInt16(at + 2, i.off, true);
    if (isLdImm64(i.opcode)) {
      const v = BigInt.asUintN(64, i.imm64 ?? BigInt(i.imm));
      view.setUint32(at + 4, Number(v & 0xffffffffn), true);
      view.setUint32(at + 12, Number(v >> 32n), true);
      at += 16;
    } else {
      view.setInt32(at + 4, i.imm, true);
      at += 8;
    }
  }
  return out;
}

/** Map from slot index to position in a decoded array (undefined for a second slot). */
export function byPc(insns: readonly Insn[]): Map<number, number> {
  return new Map(insns.map((insn, index) => [insn.pc, index]));
}

const ALU_NAMES: Record<number, string> = {
  [ALU.ADD]: 'add',
  [ALU.SUB]: 'sub',
  [ALU.MUL]: 'mul',
  [ALU.DIV]: 'div',
  [ALU.OR]: 'or',
  [ALU.AND]: 'and',
  [ALU.LSH]: 'lsh',
  [ALU.RSH]: 'rsh',
  [ALU.NEG]: 'neg',
  [ALU.MOD]: 'mod',
  [ALU.XOR]: 'xor',
  [ALU.MOV]: 'mov',
  [ALU.ARSH]: 'arsh',
};
const JMP_NAMES: Record<number, string> = {
  [JMP.JA]: 'ja',
  [JMP.JEQ]: 'jeq',
  [JMP.JGT]: 'jgt',
  [JMP.JGE]: 'jge',
  [JMP.JSET]: 'jset',
  [JMP.JNE]: 'jne',
  [JMP.JSGT]: 'jsgt',
  [JMP.JSGE]: 'jsge',
  [JMP.JLT]: 'jlt',
  [JMP.JLE]: 'jle',
  [JMP.JSLT]: 'jslt',
  [JMP.JSLE]: 'jsle',
};
const SIZE_SUFFIX: Record<number, string> = { [SIZE.B]: 'b', [SIZE.H]: 'h', [SIZE.W]: 'w', [SIZE.DW]: 'dw' };
const ATOMIC_NAMES: Record<number, string> = {
  [ATOMIC.ADD]: 'add',
  [ATOMIC.OR]: 'or',
  [ATOMIC.AND]: 'and',
  [ATOMIC.XOR]: 'xor',
};

export const ALU_OP_NAMES = ALU_NAMES;
export const JMP_OP_NAMES = JMP_NAMES;
export const SIZE_SUFFIXES = SIZE_SUFFIX;
export const ATOMIC_OP_NAMES = ATOMIC_NAMES;

const reg = (r: number): string => `%r${r}`;
const hex = (n: number | bigint): string => (n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`);
const memRef = (r: number, off: number): string => `[${reg(r)}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;

/**
 * Disassemble one instruction in the conformance vectors' syntax. Jump targets are
 * shown as `+off` (relative), optionally followed by the absolute slot in a comment.
 */
export function disasm(i: Insn): string {
  const op = i.opcode;
  const cls = insnClass(op);
  switch (cls) {
    case CLASS.ALU:
    case CLASS.ALU64: {
      const w = cls === CLASS.ALU ? '32' : '';
      const a = aluOp(op);
      if (a === ALU.END) {
        if (cls === CLASS.ALU64) return `bswap${i.imm} ${reg(i.dst)}`;
        return `${isRegSource(op) ? 'be' : 'le'}${i.imm} ${reg(i.dst)}`;
      }
      if (a === ALU.NEG) return `neg${w} ${reg(i.dst)}`;
      let name = ALU_NAMES[a];
      if (name === undefined) return `invalid ${hex(op)}`;
      if ((a === ALU.DIV || a === ALU.MOD) && i.off === 1) name = 's' + name;
      if (a === ALU.MOV && i.off !== 0) name = `movsx${i.off}${cls === CLASS.ALU ? '32' : '64'}`;
      else name += w;
      return `${name} ${reg(i.dst)}, ${isRegSource(op) ? reg(i.src) : String(i.imm)}`;
    }
    case CLASS.JMP:
    case CLASS.JMP32: {
      const j = jmpOp(op);
      if (op === (CLASS.JMP | JMP.EXIT)) return 'exit';
      if (j === JMP.CALL && cls === CLASS.JMP) {
        if (isRegSource(op)) return `call ${reg(i.dst)}`;
        if (i.src === CALL_KIND.LOCAL) return `call local ${i.imm >= 0 ? '+' : ''}${i.imm}`;
        if (i.src === CALL_KIND.KFUNC) return `call kfunc ${i.imm}`;
        return `call ${i.imm}`;
      }
      if (j === JMP.JA) {
        const off = jumpOffset(i);
        return `${cls === CLASS.JMP32 ? 'ja32' : 'ja'} ${off >= 0 ? '+' : ''}${off}`;
      }
      const name = JMP_NAMES[j];
      if (name === undefined) return `invalid ${hex(op)}`;
      const w = cls === CLASS.JMP32 ? '32' : '';
      const rhs = isRegSource(op) ? reg(i.src) : String(i.imm);
      return `${name}${w} ${reg(i.dst)}, ${rhs}, ${i.off >= 0 ? '+' : ''}${i.off}`;
    }
    case CLASS.LD: {
      if (isLdImm64(op)) {
        const v = i.imm64 ?? BigInt(i.imm);
        const kinds: Record<number, string> = {
          [PSEUDO.MAP_FD]: ' map',
          [PSEUDO.MAP_VALUE]: ' map_value',
          [PSEUDO.BTF_ID]: ' btf_id',
          [PSEUDO.FUNC]: ' func',
          [PSEUDO.MAP_IDX]: ' map_idx',
          [PSEUDO.MAP_IDX_VALUE]: ' map_idx_value',
        };
        const kind = kinds[i.src] ?? '';
        return `lddw ${reg(i.dst)}, ${hex(v)}${kind ? ` #${kind.trim()}` : ''}`;
      }
      const m = memMode(op);
      const sz = SIZE_SUFFIX[memSize(op)];
      if (m === MODE.ABS) return `ldabs${sz} ${i.imm}`;
      if (m === MODE.IND) return `ldind${sz} ${reg(i.src)}, ${i.imm}`;
      return `invalid ${hex(op)}`;
    }
    case CLASS.LDX: {
      const m = memMode(op);
      const sz = SIZE_SUFFIX[memSize(op)];
      if (m !== MODE.MEM && m !== MODE.MEMSX) return `invalid ${hex(op)}`;
      return `ldx${m === MODE.MEMSX ? 's' : ''}${sz} ${reg(i.dst)}, ${memRef(i.src, i.off)}`;
    }
    case CLASS.ST:
      return `st${SIZE_SUFFIX[memSize(op)]} ${memRef(i.dst, i.off)}, ${i.imm}`;
    case CLASS.STX: {
      const m = memMode(op);
      const sz = SIZE_SUFFIX[memSize(op)];
      if (m === MODE.ATOMIC) {
        const w = memSize(op) === SIZE.W ? '32' : '';
        if (i.imm === ATOMIC.XCHG) return `lock xchg${w} ${memRef(i.dst, i.off)}, ${reg(i.src)}`;
        if (i.imm === ATOMIC.CMPXCHG) return `lock cmpxchg${w} ${memRef(i.dst, i.off)}, ${reg(i.src)}`;
        const name = ATOMIC_NAMES[i.imm & ~ATOMIC.FETCH];
        const fetch = i.imm & ATOMIC.FETCH ? 'fetch ' : '';
        return `lock ${fetch}${name ?? `op${hex(i.imm)}`}${w} ${memRef(i.dst, i.off)}, ${reg(i.src)}`;
      }
      return `stx${sz} ${memRef(i.dst, i.off)}, ${reg(i.src)}`;
    }
  }
  return `invalid ${hex(op)}`;
}

/** A listing with slot numbers and absolute jump targets, as `--disasm` prints it. */
export function listing(insns: readonly Insn[], labels: ReadonlyMap<number, string> = new Map()): string {
  const lines: string[] = [];
  for (const i of insns) {
    const label = labels.get(i.pc);
    if (label) lines.push(`${label}:`);
    let text = disasm(i);
    if (isJmp(i.opcode) && !isCall(i.opcode) && !isExit(i.opcode)) text += `  ; -> ${jumpTarget(i)}`;
    if (isCall(i.opcode) && i.src === CALL_KIND.LOCAL) text += `  ; -> ${i.pc + 1 + i.imm}`;
    lines.push(`${String(i.pc).padStart(5)}: ${text}`);
  }
  return lines.join('\n');
}
