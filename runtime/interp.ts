// The reference interpreter: executes the same verified program over the same linear
// memory, maps and helpers as the compiled module, one instruction at a time, with BigInt
// registers. It is the oracle of the differential tests, so it favours being obviously
// right over being fast; every semantic rule here mirrors compiler/codegen.ts.

import { KFUNC_BY_ID } from '../core/kfuncs.js';
import {
  ALU,
  ATOMIC,
  CALL_KIND,
  CLASS,
  type Insn,
  JMP,
  MODE,
  PSEUDO,
  SIZE,
  aluOp,
  disasm,
  insnClass,
  isLdImm64,
  isRegSource,
  jmpOp,
  jumpTarget,
  memMode,
  memSize,
} from '../core/isa.js';
import { FAULT, type MapPlacement, STACK_FRAME } from '../core/abi.js';
import { HELPER_BY_ID, HELPER_ID } from '../core/helper-ids.js';
import { type Callable, callableTable } from '../core/callables.js';
import type { Program } from '../core/model.js';
import { BpfFault, FAULT_OUT_OF_BOUNDS } from './fault.js';

export type HelperFn = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;
/** Helpers by import name (abi.ts HELPERS names, plus `callx`). */
export type HelperImports = Record<string, HelperFn>;

export interface InterpreterOptions {
  memory: WebAssembly.Memory;
  helpers: HelperImports;
  placements: readonly MapPlacement[];
  /** All programs of the object, in manifest order (tail calls and callbacks index them). */
  programs: readonly Program[];
  cpu?: number;
  stackTop: number;
  /** Back-edges one run may take; 0 = unlimited (2^31 - 1, as compiled code). */
  budget?: number;
  /**
   * Per program name, the slots of the jumps whose taken back-edge counts against the
   * budget (the manifest's budgetedBackEdges, as compiled code checks them); a program
   * not listed counts every back-edge.
   */
  budgetedBackEdges?: ReadonlyMap<string, ReadonlySet<number>>;
}

const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;
const u64 = (x: bigint): bigint => x & M64;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const sext32 = (imm: number): bigint => u64(BigInt(imm));
const LOOP_MAX = 1n << 23n;

export class Interpreter {
  private readonly table: Callable[];
  private readonly positions = new Map<Program, Map<number, number>>();
  private budgetLeft = 0;
  private view: DataView;

  constructor(private readonly opts: InterpreterOptions) {
    this.table = callableTable(opts.programs);
    for (const p of opts.programs) this.positions.set(p, new Map(p.insns.map((insn, i) => [insn.pc, i])));
    this.view = new DataView(opts.memory.buffer);
  }

  /** Run `program` with r1, r2 as the exported entry does; returns r0. */
  run(program: Program, r1: bigint, r2 = 0n): bigint {
    this.view = new DataView(this.opts.memory.buffer);
    const budget = this.opts.budget ?? 0;
    this.budgetLeft = budget === 0 ? 0x7fffffff : budget;
    let current = program;
    let args = [r1 & M32, r2 & M32, 0n, 0n, 0n];
    for (;;) {
      const out = this.call(current, current.funcs[0]?.start ?? 0, args, BigInt(this.opts.stackTop), 1);
      if (out.tailCall === undefined) return out.r0;
      const next = this.table[out.tailCall];
      if (!next) throw new BpfFault(FAULT.BAD_CALL, -1, `tail call to unknown program #${out.tailCall}`);
      current = next.program;
      args = [out.r0, 0n, 0n, 0n, 0n];
    }
  }

  /** Execute one function (and what it calls) to its exit. */
  private call(prog: Program, start: number, args: bigint[], r10: bigint, depth: number): { r0: bigint; tailCall?: number } {
    // r0..r10, all initialised: the `regs[x]!` reads below are sound because the verifier
    // only admits register numbers 0..10 (literal indices are in range by construction).
    const regs = new Array<bigint>(11).fill(0n);
    args.forEach((value, i) => (regs[i + 1] = value));
    regs[10] = r10;
    const pos = this.positions.get(prog)!;
    const budgeted = this.opts.budgetedBackEdges?.get(prog.name);
    let p = pos.get(start);
    if (p === undefined) throw new BpfFault(FAULT.BAD_CALL, start);
    for (;;) {
      const insn = prog.insns[p];
      if (insn === undefined) throw new BpfFault(FAULT.BAD_CALL, -1, 'fell off the end of the program');
      const op = insn.opcode;
      const cls = insnClass(op);
      switch (cls) {
        case CLASS.ALU64:
          regs[insn.dst] = this.alu64(insn, regs);
          p++;
          continue;
        case CLASS.ALU:
          regs[insn.dst] = this.alu32(insn, regs);
          p++;
          continue;
        case CLASS.LD:
          regs[insn.dst] = this.ldImm64(prog, insn);
          p++;
          continue;
        case CLASS.LDX:
          regs[insn.dst] = this.load(insn, regs[insn.src]!);
          p++;
          continue;
        case CLASS.ST:
          this.store(insn, regs[insn.dst]!, sext32(insn.imm));
          p++;
          continue;
        case CLASS.STX:
          if (memMode(op) === MODE.ATOMIC) this.atomic(insn, regs);
          else this.store(insn, regs[insn.dst]!, regs[insn.src]!);
          p++;
          continue;
        case CLASS.JMP:
        case CLASS.JMP32: {
          const j = jmpOp(op);
          if (cls === CLASS.JMP && j === JMP.EXIT) return { r0: regs[0]! };
          if (cls === CLASS.JMP && j === JMP.CALL) {
            const out = this.doCall(prog, insn, regs, depth);
            if (out !== undefined) return out;
            p++;
            continue;
          }
          if (j === JMP.JA || this.condition(insn, regs)) {
            const target = jumpTarget(insn);
            if (target <= insn.pc && (budgeted?.has(insn.pc) ?? true) && --this.budgetLeft <= 0) throw new BpfFault(FAULT.BUDGET, insn.pc);
            const next = pos.get(target);
            if (next === undefined) throw new BpfFault(FAULT.BAD_CALL, insn.pc, 'jump to a non-instruction');
            p = next;
          } else {
            p++;
          }
          continue;
        }
      }
      throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
    }
  }

  /** A call instruction; returns a result only when a tail call ends this function. */
  private doCall(prog: Program, insn: Insn, regs: bigint[], depth: number): { r0: bigint; tailCall?: number } | undefined {
    const args = (): [bigint, bigint, bigint, bigint, bigint] => [regs[1]!, regs[2]!, regs[3]!, regs[4]!, regs[5]!];
    if (isRegSource(insn.opcode)) {
      regs[0] = u64(this.helper('callx')(regs[insn.dst]!, regs[1]!, regs[2]!, regs[3]!, regs[4]!));
      return undefined;
    }
    if (insn.src === CALL_KIND.LOCAL) {
      regs[0] = this.call(prog, insn.pc + 1 + insn.imm, args(), u64(regs[10]! - BigInt(STACK_FRAME)), depth + 1).r0;
      return undefined;
    }
    if (insn.src === CALL_KIND.KFUNC) {
      // Provided with the helpers, under the kfunc's own name (core/kfuncs.ts).
      const kfunc = KFUNC_BY_ID.get(insn.imm);
      if (!kfunc) throw new BpfFault(FAULT.UNKNOWN_HELPER, insn.pc);
      regs[0] = u64(this.helper(kfunc.name)(...args()));
      return undefined;
    }
    const info = HELPER_BY_ID.get(insn.imm);
    if (insn.src !== CALL_KIND.HELPER || !info) throw new BpfFault(FAULT.UNKNOWN_HELPER, insn.pc);
    switch (insn.imm) {
      case HELPER_ID.get_smp_processor_id:
        regs[0] = BigInt(this.opts.cpu ?? 0);
        return undefined;
      case HELPER_ID.tail_call: {
        const target = s64(u64(this.helper('tail_call')(...args())));
        if (target >= 0n) return { r0: regs[1]!, tailCall: Number(target) };
        regs[0] = u64(target);
        return undefined;
      }
      case HELPER_ID.loop:
        regs[0] = this.boundedLoop(regs, depth);
        return undefined;
    }
    regs[0] = u64(this.helper(info.name)(...args()));
    return undefined;
  }

  private helper(name: string): (...a: bigint[]) => bigint {
    const fn = this.opts.helpers[name];
    if (!fn) throw new BpfFault(FAULT.UNKNOWN_HELPER, -1, `helper ${name} is not provided by the runtime`);
    return fn as (...a: bigint[]) => bigint;
  }

  private boundedLoop(regs: bigint[], depth: number): bigint {
    if (regs[4]! !== 0n) return u64(-22n);
    if (regs[1]! > LOOP_MAX) return u64(-7n);
    const callee = this.table[Number(regs[2]! & M32)];
    if (!callee) throw new BpfFault(FAULT.BAD_CALL, -1, 'bpf_loop callback is not a function');
    let i = 0n;
    while (i < regs[1]!) {
      const frame = u64(regs[10]! - BigInt(STACK_FRAME));
      const ret = this.call(callee.program, callee.start, [i, regs[3]!, 0n, 0n, 0n], frame, depth + 1).r0;
      i++;
      if (ret !== 0n) break;
    }
    return i;
  }

  private alu64(insn: Insn, regs: bigint[]): bigint {
    const a = regs[insn.dst]!;
    const b = isRegSource(insn.opcode) ? regs[insn.src]! : sext32(insn.imm);
    const signed = insn.off === 1;
    switch (aluOp(insn.opcode)) {
      case ALU.ADD:
        return u64(a + b);
      case ALU.SUB:
        return u64(a - b);
      case ALU.MUL:
        return u64(a * b);
      case ALU.OR:
        return a | b;
      case ALU.AND:
        return a & b;
      case ALU.XOR:
        return a ^ b;
      case ALU.LSH:
        return u64(a << (b & 63n));
      case ALU.RSH:
        return a >> (b & 63n);
      case ALU.ARSH:
        return u64(s64(a) >> (b & 63n));
      case ALU.NEG:
        return u64(-a);
      case ALU.MOV:
        if (insn.off === 8) return u64(BigInt.asIntN(8, b));
        if (insn.off === 16) return u64(BigInt.asIntN(16, b));
        if (insn.off === 32) return u64(BigInt.asIntN(32, b));
        return b;
      case ALU.DIV:
        if (b === 0n) return 0n;
        return signed ? u64(s64(a) / s64(b)) : a / b;
      case ALU.MOD:
        if (b === 0n) return a;
        return signed ? u64(s64(a) % s64(b)) : a % b;
      case ALU.END:
        return swap(a, insn.imm);
    }
    throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
  }

  private alu32(insn: Insn, regs: bigint[]): bigint {
    const full = regs[insn.dst]!;
    if (aluOp(insn.opcode) === ALU.END) {
      if (isRegSource(insn.opcode)) return swap(full, insn.imm);
      return insn.imm === 64 ? full : full & ((1n << BigInt(insn.imm)) - 1n);
    }
    const a = full & M32;
    const b = (isRegSource(insn.opcode) ? regs[insn.src]! : sext32(insn.imm)) & M32;
    const signed = insn.off === 1;
    const w = (x: bigint): bigint => x & M32;
    switch (aluOp(insn.opcode)) {
      case ALU.ADD:
        return w(a + b);
      case ALU.SUB:
        return w(a - b);
      case ALU.MUL:
        return w(a * b);
      case ALU.OR:
        return a | b;
      case ALU.AND:
        return a & b;
      case ALU.XOR:
        return a ^ b;
      case ALU.LSH:
        return w(a << (b & 31n));
      case ALU.RSH:
        return a >> (b & 31n);
      case ALU.ARSH:
        return w(s32(a) >> (b & 31n));
      case ALU.NEG:
        return w(-a);
      case ALU.MOV:
        if (insn.off === 8) return w(BigInt.asIntN(8, b));
        if (insn.off === 16) return w(BigInt.asIntN(16, b));
        return b;
      case ALU.DIV:
        if (b === 0n) return 0n;
        return signed ? w(s32(a) / s32(b)) : a / b;
      case ALU.MOD:
        if (b === 0n) return a;
        return signed ? w(s32(a) % s32(b)) : a % b;
    }
    throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
  }

  private condition(insn: Insn, regs: bigint[]): boolean {
    const wide = insnClass(insn.opcode) === CLASS.JMP;
    const mask = wide ? M64 : M32;
    const a = regs[insn.dst]! & mask;
    const b = (isRegSource(insn.opcode) ? regs[insn.src]! : sext32(insn.imm)) & mask;
    const sa = wide ? s64(a) : s32(a);
    const sb = wide ? s64(b) : s32(b);
    switch (jmpOp(insn.opcode)) {
      case JMP.JEQ:
        return a === b;
      case JMP.JNE:
        return a !== b;
      case JMP.JGT:
        return a > b;
      case JMP.JGE:
        return a >= b;
      case JMP.JLT:
        return a < b;
      case JMP.JLE:
        return a <= b;
      case JMP.JSGT:
        return sa > sb;
      case JMP.JSGE:
        return sa >= sb;
      case JMP.JSLT:
        return sa < sb;
      case JMP.JSLE:
        return sa <= sb;
      case JMP.JSET:
        return (a & b) !== 0n;
    }
    throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
  }

  private ldImm64(prog: Program, insn: Insn): bigint {
    if (!isLdImm64(insn.opcode)) throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
    const value = insn.imm64 ?? sext32(insn.imm);
    switch (insn.src) {
      case PSEUDO.NONE:
        return u64(value);
      case PSEUDO.MAP_IDX:
        return BigInt(this.placement(insn, insn.imm).handle);
      case PSEUDO.MAP_IDX_VALUE:
        return BigInt((this.placement(insn, insn.imm).storage ?? 0) + Number(value >> 32n));
      case PSEUDO.FUNC: {
        const start = insn.pc + 1 + insn.imm;
        const index = this.table.findIndex((c) => c.program === prog && c.start === start);
        return BigInt(index);
      }
    }
    throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
  }

  private placement(insn: Insn, index: number): MapPlacement {
    const place = this.opts.placements[index];
    if (!place) throw new BpfFault(FAULT.BAD_CALL, insn.pc, `unknown map #${index}`);
    return place;
  }

  /** Effective address the way compiled code forms it (see codegen `address`). */
  private address(base: bigint, off: number, size: number, pc: number): number {
    const ptr = Number(base & M32);
    const ea = off >= 0 ? ptr + off : (ptr + off) >>> 0;
    if (this.view.byteLength !== this.opts.memory.buffer.byteLength) this.view = new DataView(this.opts.memory.buffer);
    if (ea + size > this.view.byteLength) throw new BpfFault(FAULT_OUT_OF_BOUNDS, pc, `memory access out of bounds (address ${ea})`);
    return ea;
  }

  private load(insn: Insn, base: bigint): bigint {
    const size = memSize(insn.opcode);
    const sx = memMode(insn.opcode) === MODE.MEMSX;
    const v = this.view;
    switch (size) {
      case SIZE.B: {
        const ea = this.address(base, insn.off, 1, insn.pc);
        return sx ? u64(BigInt(v.getInt8(ea))) : BigInt(v.getUint8(ea));
      }
      case SIZE.H: {
        const ea = this.address(base, insn.off, 2, insn.pc);
        return sx ? u64(BigInt(v.getInt16(ea, true))) : BigInt(v.getUint16(ea, true));
      }
      case SIZE.W: {
        const ea = this.address(base, insn.off, 4, insn.pc);
        return sx ? u64(BigInt(v.getInt32(ea, true))) : BigInt(v.getUint32(ea, true));
      }
      default: {
        const ea = this.address(base, insn.off, 8, insn.pc);
        return v.getBigUint64(ea, true);
      }
    }
  }

  private store(insn: Insn, base: bigint, value: bigint): void {
    const bytes = { [SIZE.B]: 1, [SIZE.H]: 2, [SIZE.W]: 4, [SIZE.DW]: 8 }[memSize(insn.opcode)]!;
    this.write(this.address(base, insn.off, bytes, insn.pc), bytes, value);
  }

  private write(ea: number, bytes: number, value: bigint): void {
    const v = this.view;
    if (bytes === 1) v.setUint8(ea, Number(value & 0xffn));
    else if (bytes === 2) v.setUint16(ea, Number(value & 0xffffn), true);
    else if (bytes === 4) v.setUint32(ea, Number(value & M32), true);
    else v.setBigUint64(ea, u64(value), true);
  }

  private atomic(insn: Insn, regs: bigint[]): void {
    const wide = memSize(insn.opcode) === SIZE.DW;
    const bytes = wide ? 8 : 4;
    const mask = wide ? M64 : M32;
    const ea = this.address(regs[insn.dst]!, insn.off, bytes, insn.pc);
    const old = wide ? this.view.getBigUint64(ea, true) : BigInt(this.view.getUint32(ea, true));
    const src = regs[insn.src]! & mask;
    if (insn.imm === ATOMIC.CMPXCHG) {
      if (old === (regs[0]! & mask)) this.write(ea, bytes, src);
      regs[0] = old;
      return;
    }
    let next: bigint;
    switch (insn.imm & ~ATOMIC.FETCH) {
      case ATOMIC.ADD:
        next = old + src;
        break;
      case ATOMIC.OR:
        next = old | src;
        break;
      case ATOMIC.AND:
        next = old & src;
        break;
      case ATOMIC.XOR:
        next = old ^ src;
        break;
      case ATOMIC.XCHG & ~ATOMIC.FETCH:
        next = src;
        break;
      default:
        throw new BpfFault(FAULT.BAD_CALL, insn.pc, `cannot execute ${disasm(insn)}`);
    }
    this.write(ea, bytes, next & mask);
    if (insn.imm & ATOMIC.FETCH) regs[insn.src] = old;
  }
}

/** Byte-swap the low `width` bits, zero-extending (be16/32/64 and bswap on a little-endian target). */
function swap(x: bigint, width: number): bigint {
  let out = 0n;
  for (let i = 0; i < width / 8; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
}
