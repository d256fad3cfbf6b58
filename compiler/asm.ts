// Text assembler for the syntax of the eBPF conformance vectors (uBPF's assembler syntax),
// which is also what isa.ts `disasm` prints, so `assemble(disasm(i))` gives back `i`.
//
//   mov %r0, 1            add32 %r1, %r2        neg %r3          movsx832 %r0, %r1
//   le16 %r1  be64 %r1  bswap32 %r1 (also swap32)
//   jeq %r1, 5, label     jsgt32 %r1, %r2, +3   ja L1   ja32 -2 (gotol: offset in imm)
//   call 5 (helper)   call local func  call local +4   call %r2 (callx)   call kfunc 7
//   exit                  lddw %r1, 0x1122334455667788
//   ldxw %r0, [%r1+4]     ldxsb %r0, [%r10-1]   stw [%r10-8], 7    stxdw [%r10-8], %r1
//   lock add [%r10-8], %r1   lock fetch xor32 [%r1+4], %r2   lock xchg / cmpxchg[32]
//   ldabsw 12   ldindh %r1, 4   (legacy packet loads, only because disasm prints them)
//
// Labels are `name:` (alone on a line or before an instruction); jump targets are a label
// or a signed relative offset `+n`/`-n` counted in slots from the next instruction. As in
// the upstream assembler, the label `exit` names the first `exit` instruction unless the
// program defines its own `exit:` (several vectors jump to `exit` without defining it).
// `#` and `;` start comments. Immediates are decimal or 0x-hex, optionally negative; a
// 32-bit immediate may be written as a signed or an unsigned 32-bit value (0xffffffff = -1).

import { UserError } from '../core/errors.js';
import { ALU, ATOMIC, CALL_KIND, CLASS, encode, JMP, LD_IMM64, MODE, SIZE, SRC_K, SRC_X, type Insn } from '../core/isa.js';

/** A line the assembler cannot accept: names the line number, its text and why. */
export class AsmError extends UserError {
  override name = 'AsmError';
  constructor(
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`asm line ${line} (${text.trim()}): ${reason}`);
  }
}

/** Assemble a program; the result is what isa.ts `decode` gives for its encoding. */
export function assemble(text: string): Insn[] {
  return new Assembler().run(text);
}

/** Assemble a program into its 8-byte-slot image. */
export function assembleBytes(text: string): Uint8Array {
  return encode(assemble(text));
}

/** A jump or local call whose target is a label, resolved once all labels are known. */
interface Fixup {
  index: number;
  label: string;
  field: 'off' | 'imm';
  line: number;
  text: string;
}

/** Thrown inside the line parser, turned into an AsmError with the line attached. */
class LineError extends Error {}
const fail = (reason: string): never => {
  throw new LineError(reason);
};

const ALU_BY_NAME: Record<string, number> = {
  add: ALU.ADD,
  sub: ALU.SUB,
  mul: ALU.MUL,
  div: ALU.DIV,
  sdiv: ALU.DIV,
  or: ALU.OR,
  and: ALU.AND,
  lsh: ALU.LSH,
  rsh: ALU.RSH,
  mod: ALU.MOD,
  smod: ALU.MOD,
  xor: ALU.XOR,
  mov: ALU.MOV,
  arsh: ALU.ARSH,
};
const JMP_BY_NAME: Record<string, number> = {
  jeq: JMP.JEQ,
  jgt: JMP.JGT,
  jge: JMP.JGE,
  jset: JMP.JSET,
  jne: JMP.JNE,
  jsgt: JMP.JSGT,
  jsge: JMP.JSGE,
  jlt: JMP.JLT,
  jle: JMP.JLE,
  jslt: JMP.JSLT,
  jsle: JMP.JSLE,
};
const SIZE_BY_SUFFIX: Record<string, number> = { b: SIZE.B, h: SIZE.H, w: SIZE.W, dw: SIZE.DW };
const ATOMIC_BY_NAME: Record<string, number> = {
  add: ATOMIC.ADD,
  and: ATOMIC.AND,
  or: ATOMIC.OR,
  xor: ATOMIC.XOR,
};

const LABEL = /^[A-Za-z_.$][\w.$]*$/;

class Assembler {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  private pc = 0;
  private firstExit: number | undefined;
  private line = 0;
  private text = '';

  run(source: string): Insn[] {
    const lines = source.split(/\r?\n/);
    for (let n = 0; n < lines.length; n++) {
      this.line = n + 1;
      this.text = lines[n]!;
      try {
        this.parseLine(stripComment(this.text).trim());
      } catch (e) {
        if (e instanceof LineError) throw new AsmError(this.line, this.text, e.message);
        throw e;
      }
    }
    if (!this.labels.has('exit') && this.firstExit !== undefined) this.labels.set('exit', this.firstExit);
    for (const f of this.fixups) this.resolve(f);
    return this.insns;
  }

  private parseLine(line: string): void {
    const labelled = /^([A-Za-z_.$][\w.$]*)\s*:(.*)$/.exec(line);
    if (labelled) {
      const name = labelled[1]!;
      if (this.labels.has(name)) fail(`label '${name}' is defined twice`);
      this.labels.set(name, this.pc);
      line = labelled[2]!.trim();
    }
    if (line === '') return;
    const space = line.search(/\s/);
    const mnemonic = (space < 0 ? line : line.slice(0, space)).toLowerCase();
    const rest = space < 0 ? '' : line.slice(space + 1).trim();
    this.instruction(mnemonic, rest);
  }

  private push(insn: Omit<Insn, 'pc'>): number {
    this.insns.push({ pc: this.pc, ...insn });
    this.pc += insn.opcode === LD_IMM64 ? 2 : 1;
    return this.insns.length - 1;
  }

  private instruction(m: string, rest: string): void {
    let match: RegExpExecArray | null;
    if (m === 'exit') {
      operands(rest, 0);
      if (this.firstExit === undefined) this.firstExit = this.pc;
      this.push({ opcode: CLASS.JMP | JMP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
    } else if (m === 'lddw') {
      const [d, v] = operands(rest, 2);
      const imm64 = parseImm64(v!);
      this.push({ opcode: LD_IMM64, dst: parseReg(d!), src: 0, off: 0, imm: Number(BigInt.asIntN(32, imm64)), imm64 });
    } else if (m === 'call') {
      this.call(rest);
    } else if (m === 'lock') {
      this.atomic(rest);
    } else if (m === 'ja' || m === 'ja32') {
      const [target] = operands(rest, 1);
      const wide = m === 'ja32';
      const index = this.push({ opcode: (wide ? CLASS.JMP32 : CLASS.JMP) | JMP.JA, dst: 0, src: 0, off: 0, imm: 0 });
      this.target(index, target!, wide ? 'imm' : 'off');
    } else if ((match = /^(j[a-z]+?)(32)?$/.exec(m)) && JMP_BY_NAME[match[1]!] !== undefined) {
      const [d, s, target] = operands(rest, 3);
      const cls = match[2] ? CLASS.JMP32 : CLASS.JMP;
      const index = this.push({ opcode: cls | JMP_BY_NAME[match[1]!]!, dst: parseReg(d!), off: 0, ...source(s!) });
      this.insns[index]!.opcode |= isRegister(s!) ? SRC_X : SRC_K;
      this.target(index, target!, 'off');
    } else if ((match = /^neg(32|64)?$/.exec(m))) {
      const [d] = operands(rest, 1);
      this.push({ opcode: aluClass(match[1]) | ALU.NEG | SRC_K, dst: parseReg(d!), src: 0, off: 0, imm: 0 });
    } else if ((match = /^(le|be)(16|32|64)$/.exec(m))) {
      const [d] = operands(rest, 1);
      const order = match[1] === 'be' ? SRC_X : SRC_K; // BPF_TO_BE / BPF_TO_LE
      this.push({ opcode: CLASS.ALU | ALU.END | order, dst: parseReg(d!), src: 0, off: 0, imm: Number(match[2]) });
    } else if ((match = /^b?swap(16|32|64)$/.exec(m))) {
      const [d] = operands(rest, 1);
      this.push({ opcode: CLASS.ALU64 | ALU.END | SRC_K, dst: parseReg(d!), src: 0, off: 0, imm: Number(match[1]) });
    } else if ((match = /^movsx(8|16|32)(32|64)$/.exec(m))) {
      if (match[1] === '32' && match[2] === '32') fail('movsx3232 does not exist (32-bit movsx takes 8 or 16)');
      const [d, s] = operands(rest, 2);
      this.alu(aluClass(match[2]), ALU.MOV, Number(match[1]), d!, s!);
    } else if ((match = /^([a-z]+?)(32|64)?$/.exec(m)) && ALU_BY_NAME[match[1]!] !== undefined) {
      const [d, s] = operands(rest, 2);
      const signed = match[1] === 'sdiv' || match[1] === 'smod';
      this.alu(aluClass(match[2]), ALU_BY_NAME[match[1]!]!, signed ? 1 : 0, d!, s!);
    } else if ((match = /^ldx(s?)(b|h|w|dw)$/.exec(m))) {
      if (match[1] && match[2] === 'dw') fail('ldxsdw does not exist (sign-extending loads are 1, 2 or 4 bytes)');
      const [d, mem] = operands(rest, 2);
      const { reg, off } = parseMem(mem!);
      const mode = match[1] ? MODE.MEMSX : MODE.MEM;
      this.push({ opcode: CLASS.LDX | mode | SIZE_BY_SUFFIX[match[2]!]!, dst: parseReg(d!), src: reg, off, imm: 0 });
    } else if ((match = /^st(b|h|w|dw)$/.exec(m))) {
      const [mem, v] = operands(rest, 2);
      const { reg, off } = parseMem(mem!);
      this.push({ opcode: CLASS.ST | MODE.MEM | SIZE_BY_SUFFIX[match[1]!]!, dst: reg, src: 0, off, imm: parseImm32(v!) });
    } else if ((match = /^stx(b|h|w|dw)$/.exec(m))) {
      const [mem, s] = operands(rest, 2);
      const { reg, off } = parseMem(mem!);
      this.push({ opcode: CLASS.STX | MODE.MEM | SIZE_BY_SUFFIX[match[1]!]!, dst: reg, src: parseReg(s!), off, imm: 0 });
    } else if ((match = /^ldabs(b|h|w|dw)$/.exec(m))) {
      const [v] = operands(rest, 1);
      this.push({ opcode: CLASS.LD | MODE.ABS | SIZE_BY_SUFFIX[match[1]!]!, dst: 0, src: 0, off: 0, imm: parseImm32(v!) });
    } else if ((match = /^ldind(b|h|w|dw)$/.exec(m))) {
      const [s, v] = operands(rest, 2);
      this.push({ opcode: CLASS.LD | MODE.IND | SIZE_BY_SUFFIX[match[1]!]!, dst: 0, src: parseReg(s!), off: 0, imm: parseImm32(v!) });
    } else {
      fail(`unknown mnemonic '${m}'`);
    }
  }

  private alu(cls: number, op: number, off: number, d: string, s: string): void {
    const opcode = cls | op | (isRegister(s) ? SRC_X : SRC_K);
    this.push({ opcode, dst: parseReg(d), off, ...source(s) });
  }

  /** `call N`, `call helper N`, `call local <label|±n>`, `call kfunc N`, `call %rN` (callx). */
  private call(rest: string): void {
    const words = rest.split(/\s+/).filter((w) => w !== '');
    const opcode = CLASS.JMP | JMP.CALL;
    if (words.length === 1 && isRegister(words[0]!)) {
      // callx: the register is in dst, as upstream's assembler and isa.ts disasm have it.
      this.push({ opcode: opcode | SRC_X, dst: parseReg(words[0]!), src: 0, off: 0, imm: 0 });
      return;
    }
    const [kind, arg] = words.length === 1 ? ['helper', words[0]] : words;
    if (words.length > 2 || arg === undefined) fail('call takes one operand (helper id, %reg) or a kind and a target');
    if (kind === 'local') {
      const index = this.push({ opcode, dst: 0, src: CALL_KIND.LOCAL, off: 0, imm: 0 });
      this.target(index, arg!, 'imm');
    } else if (kind === 'helper' || kind === 'kfunc' || kind === 'runtime') {
      const src = kind === 'helper' ? CALL_KIND.HELPER : CALL_KIND.KFUNC;
      this.push({ opcode, dst: 0, src, off: 0, imm: parseImm32(arg!) });
    } else {
      fail(`unknown call kind '${kind}' (expected local, helper or kfunc)`);
    }
  }

  /** `lock [fetch] add|and|or|xor[32] [%rD+off], %rS`, `lock xchg[32] ...`, `lock cmpxchg[32] ...`. */
  private atomic(rest: string): void {
    const head = /^(fetch\s+)?([a-z]+?)(32|64)?\s+(.*)$/i.exec(rest);
    if (!head) fail('expected lock [fetch] <op> [%reg+off], %reg');
    const [, fetch, name, width, tail] = head!;
    const op = name!.toLowerCase();
    let imm: number;
    if (op === 'xchg' || op === 'cmpxchg') {
      if (fetch) fail(`${op} always fetches; write 'lock ${op}' without 'fetch'`);
      imm = op === 'xchg' ? ATOMIC.XCHG : ATOMIC.CMPXCHG;
    } else if (ATOMIC_BY_NAME[op] !== undefined) {
      imm = ATOMIC_BY_NAME[op]! | (fetch ? ATOMIC.FETCH : 0);
    } else {
      return fail(`unknown atomic operation '${op}'`);
    }
    const [mem, s] = operands(tail!, 2);
    const { reg, off } = parseMem(mem!);
    const size = width === '32' ? SIZE.W : SIZE.DW;
    this.push({ opcode: CLASS.STX | MODE.ATOMIC | size, dst: reg, src: parseReg(s!), off, imm });
  }

  /** Set a jump's offset now if it is numeric, or record a label to resolve at the end. */
  private target(index: number, target: string, field: 'off' | 'imm'): void {
    const insn = this.insns[index]!;
    if (/^[+-]/.test(target)) {
      const value = parseInteger(target);
      if (value === undefined) fail(`bad jump offset '${target}'`);
      insn[field] = checkRange(Number(value), field, target);
    } else if (LABEL.test(target)) {
      this.fixups.push({ index, label: target, field, line: this.line, text: this.text });
    } else {
      fail(`bad jump target '${target}' (expected a label or +n/-n)`);
    }
  }

  private resolve(f: Fixup): void {
    const at = this.labels.get(f.label);
    if (at === undefined) throw new AsmError(f.line, f.text, `unknown label '${f.label}'`);
    const insn = this.insns[f.index]!;
    try {
      insn[f.field] = checkRange(at - (insn.pc + 1), f.field, f.label);
    } catch (e) {
      if (e instanceof LineError) throw new AsmError(f.line, f.text, e.message);
      throw e;
    }
  }
}

function stripComment(line: string): string {
  const at = line.search(/[#;]/);
  return at < 0 ? line : line.slice(0, at);
}

/** Split comma-separated operands and check their count. */
function operands(rest: string, count: number): string[] {
  const out = rest === '' ? [] : rest.split(',').map((s) => s.trim());
  if (out.length !== count || out.some((s) => s === '')) {
    fail(`expected ${count} operand${count === 1 ? '' : 's'}, found ${rest === '' ? 0 : out.length}`);
  }
  return out;
}

const isRegister = (s: string): boolean => s.startsWith('%');

function parseReg(s: string): number {
  const m = /^%r(10|[0-9])$/.exec(s);
  if (!m) fail(`bad register '${s}' (expected %r0..%r10)`);
  return Number(m![1]);
}

/** The source operand of an ALU or jump: a register (src) or a 32-bit immediate (imm). */
function source(s: string): { src: number; imm: number } {
  return isRegister(s) ? { src: parseReg(s), imm: 0 } : { src: 0, imm: parseImm32(s) };
}

/** `[%rN]`, `[%rN+off]` or `[%rN-off]`, spaces allowed inside the brackets. */
function parseMem(s: string): { reg: number; off: number } {
  const m = /^\[\s*(%\w+)\s*(?:([+-])\s*(\w+))?\s*\]$/.exec(s);
  if (!m) return fail(`bad memory operand '${s}' (expected [%reg+off])`);
  const reg = parseReg(m[1]!);
  if (m[2] === undefined) return { reg, off: 0 };
  const value = parseInteger(m[2] + m[3]);
  if (value === undefined) fail(`bad memory offset in '${s}'`);
  return { reg, off: checkRange(Number(value), 'off', s) };
}

/** A decimal or 0x-hex integer with optional sign, or undefined if malformed. */
function parseInteger(s: string): bigint | undefined {
  const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(s);
  if (!m) return undefined;
  const magnitude = BigInt(m[2]!);
  return m[1] === '-' ? -magnitude : magnitude;
}

/** A 32-bit immediate, written signed (-2^31..2^31-1) or unsigned (up to 0xffffffff). */
function parseImm32(s: string): number {
  const v = parseInteger(s);
  if (v === undefined) return fail(`bad immediate '${s}'`);
  if (v < -(1n << 31n) || v > 0xffffffffn) fail(`immediate '${s}' does not fit in 32 bits`);
  return Number(BigInt.asIntN(32, v));
}

/** A 64-bit immediate of lddw, signed or unsigned; returned as its unsigned value. */
function parseImm64(s: string): bigint {
  const v = parseInteger(s);
  if (v === undefined) return fail(`bad immediate '${s}'`);
  if (v < -(1n << 63n) || v > (1n << 64n) - 1n) fail(`immediate '${s}' does not fit in 64 bits`);
  return BigInt.asUintN(64, v);
}

/** Offsets live in the signed 16-bit `off` field, or in `imm` for ja32 and local calls. */
function checkRange(value: number, field: 'off' | 'imm', what: string): number {
  const bits = field === 'off' ? 16 : 32;
  const limit = 2 ** (bits - 1);
  if (value < -limit || value >= limit) fail(`offset ${value} (${what}) does not fit in signed ${bits} bits`);
  return value;
}

const aluClass = (width: string | undefined): number => (width === '32' ? CLASS.ALU : CLASS.ALU64);
