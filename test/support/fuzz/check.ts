// An independent validity check for generated programs, written from the rules (not from
// the generator's code): it decodes the program's meaning from the instructions alone.
//
// A dataflow analysis over every reachable instruction tracks what each register holds —
// 'v' (a value), 'b<d>' (buffer address + d), 'f<d>' (frame pointer + d) or nothing —
// and which stack bytes of the current frame were written, joining at merges until a fixed
// point. It then reports: reads of registers not written on every path, pointers used as
// values (or values as pointers), memory accesses out of bounds, misaligned, or reading
// unwritten stack, invalid jump targets (out of range, into an lddw's second slot, into
// another function), falling off the end of a function, constant zero divisors or
// over-wide constant shifts, and exits with r0 not a value. Loops are checked separately
// for termination: each backward jump must close a counted loop whose counter is changed
// only by a ±1 step before the back jump; the counter is then simulated.

import {
  ALU,
  ATOMIC,
  CALL_KIND,
  CLASS,
  JMP,
  LD_IMM64,
  MODE,
  SIZE,
  aluOp,
  insnClass,
  isRegSource,
  jmpOp,
  memMode,
  memSize,
  sizeBytes,
  type Insn,
} from '../../../core/isa.js';

type Kind = string | undefined;

interface AbstractState {
  regs: Kind[];
  stack: boolean[]; // index 512 + offset from r10
}

const FRAME = 512;

const copy = (s: AbstractState): AbstractState => ({ regs: [...s.regs], stack: [...s.stack] });
const same = (a: AbstractState, b: AbstractState): boolean =>
  a.regs.every((k, i) => k === b.regs[i]) && a.stack.every((w, i) => w === b.stack[i]);
const join = (a: AbstractState, b: AbstractState): AbstractState => ({
  regs: a.regs.map((k, i) => (k === b.regs[i] ? k : undefined)),
  stack: a.stack.map((w, i) => w && b.stack[i]!),
});
const ptr = (k: Kind): { base: 'b' | 'f'; delta: number } | undefined =>
  k && (k[0] === 'b' || k[0] === 'f') ? { base: k[0] as 'b' | 'f', delta: Number(k.slice(1)) } : undefined;

/** Problems found in a generated program (empty when valid). */
export function checkProgram(insns: readonly Insn[], memLength: number, opts: CheckOptions = {}): string[] {
  return new Checker(insns, memLength, opts).run();
}

export interface CheckOptions {
  /** Report atomic operations on the input buffer (for engines that cannot align it). */
  noBufferAtomics?: boolean;
}

class Checker {
  private readonly at = new Map<number, number>(); // pc -> index
  private readonly problems = new Set<string>();
  private readonly entryOf = new Map<number, number>(); // index -> function entry pc
  private readonly entries = new Map<number, AbstractState>(); // function entry pc -> state
  private readonly states = new Map<number, AbstractState>(); // index -> state before it
  private reporting = false;
  private readonly work = new Set<number>(); // indexes whose input state changed

  constructor(
    private readonly insns: readonly Insn[],
    private readonly mem: number,
    private readonly opts: CheckOptions,
  ) {
    insns.forEach((i, n) => this.at.set(i.pc, n));
  }

  run(): string[] {
    if (this.insns.length === 0) return ['empty program'];
    const main: AbstractState = { regs: new Array(11).fill(undefined), stack: new Array(FRAME).fill(false) };
    main.regs[1] = 'b0';
    main.regs[2] = 'v';
    main.regs[10] = 'f0';
    this.entries.set(0, main);
    this.flow(0, main);
    // Iterate to a fixed point (states only lose facts, so this ends), then check once.
    for (let steps = 0; this.work.size > 0; steps++) {
      if (steps > 100 * this.insns.length) return ['analysis does not converge'];
      const index = this.work.values().next().value!;
      this.work.delete(index);
      this.step(index, this.states.get(index)!);
    }
    this.reporting = true;
    for (const [index, state] of this.states) this.step(index, state);
    this.checkLoops();
    return [...this.problems];
  }

  private problem(index: number, text: string): void {
    if (this.reporting) this.problems.add(`pc ${this.insns[index]?.pc ?? '?'}: ${text}`);
  }

  /** Merge `state` into the state before the instruction at `pc`, in function `fn`. */
  private flow(pc: number, state: AbstractState, from?: number): void {
    const index = this.at.get(pc);
    const fn = from === undefined ? pc : this.entryOf.get(from)!;
    if (index === undefined) {
      this.problem(from ?? 0, `control reaches pc ${pc}, which is not the start of an instruction`);
      return;
    }
    const owner = this.entryOf.get(index);
    if (owner !== undefined && owner !== fn) {
      this.problem(from ?? index, `control passes from function ${fn} into function ${owner}`);
      return;
    }
    this.entryOf.set(index, fn);
    this.merge(index, state);
  }

  private merge(index: number, state: AbstractState): void {
    const old = this.states.get(index);
    const merged = old ? join(old, state) : copy(state);
    if (!old || !same(old, merged)) {
      this.states.set(index, merged);
      this.work.add(index);
    }
  }

  private read(index: number, s: AbstractState, r: number, want: 'v' | 'ptr' | 'any'): Kind {
    const k = s.regs[r];
    if (k === undefined) this.problem(index, `reads r${r}, which is not written on every path`);
    else if (want === 'v' && k !== 'v') this.problem(index, `uses r${r} (${k}) as a value`);
    else if (want === 'ptr' && !ptr(k)) this.problem(index, `uses r${r} (${k}) as a pointer`);
    return k;
  }

  /** Check a memory access through `reg + off`; returns the stack offset for frame accesses. */
  private access(
    index: number,
    s: AbstractState,
    reg: number,
    off: number,
    size: number,
    reads: boolean,
    atomic = false,
  ): number | undefined {
    const p = ptr(this.read(index, s, reg, 'ptr'));
    if (!p) return undefined;
    const where = p.delta + off;
    if (where % size !== 0) this.problem(index, `misaligned ${size}-byte access at offset ${where}`);
    if (p.base === 'b') {
      if (atomic && this.opts.noBufferAtomics) this.problem(index, 'atomic operation on the buffer');
      if (where < 0 || where + size > this.mem) this.problem(index, `buffer access [${where}, +${size}) outside ${this.mem} bytes`);
      return undefined;
    }
    if (where < -FRAME || where + size > 0) {
      this.problem(index, `stack access [${where}, +${size}) outside the frame`);
      return undefined;
    }
    if (reads && !s.stack.slice(FRAME + where, FRAME + where + size).every(Boolean)) {
      this.problem(index, `reads stack bytes [${where}, +${size}) before they are written`);
    }
    return where;
  }

  private step(index: number, before: AbstractState): void {
    const i = this.insns[index]!;
    const s = copy(before);
    const op = i.opcode;
    const next = (): void => {
      const pc = i.pc + (op === LD_IMM64 ? 2 : 1);
      if (this.at.get(pc) === undefined || this.entries.has(pc)) this.problem(index, 'falls through past the end of its function');
      else this.flow(pc, s, index);
    };
    const jumpTo = (offset: number, state: AbstractState): void => {
      const target = i.pc + 1 + offset;
      if (this.at.get(target) === undefined) this.problem(index, `jump target ${target} is not an instruction start`);
      else if (this.entries.has(target)) this.problem(index, `jump into function entry ${target}`);
      else this.flow(target, state, index);
    };
    const cls = insnClass(op);
    switch (cls) {
      case CLASS.ALU:
      case CLASS.ALU64: {
        const a = aluOp(op);
        const x = isRegSource(op) && a !== ALU.END; // for END the bit picks the byte order
        if (a === ALU.MOV && x && i.off === 0 && cls === CLASS.ALU64) {
          s.regs[i.dst] = this.read(index, s, i.src, 'any'); // copies pointers too
        } else if ((a === ALU.ADD || a === ALU.SUB) && !x && cls === CLASS.ALU64 && ptr(s.regs[i.dst])) {
          const p = ptr(s.regs[i.dst])!;
          s.regs[i.dst] = `${p.base}${p.delta + (a === ALU.ADD ? i.imm : -i.imm)}`;
        } else {
          if (a !== ALU.MOV) this.read(index, s, i.dst, 'v');
          if (x) this.read(index, s, i.src, 'v');
          if ((a === ALU.DIV || a === ALU.MOD) && !x && i.imm === 0) this.problem(index, 'constant zero divisor');
          const bits = cls === CLASS.ALU64 ? 64 : 32;
          if ((a === ALU.LSH || a === ALU.RSH || a === ALU.ARSH) && !x && (i.imm < 0 || i.imm >= bits)) {
            this.problem(index, `constant shift ${i.imm} >= ${bits}`);
          }
          if (a === ALU.END && ![16, 32, 64].includes(i.imm)) this.problem(index, `byte swap width ${i.imm}`);
          if (a === ALU.MOV && i.off !== 0 && !(x && (i.off === 8 || i.off === 16 || (i.off === 32 && bits === 64)))) {
            this.problem(index, `bad movsx (off ${i.off})`);
          }
          s.regs[i.dst] = 'v';
        }
        return next();
      }
      case CLASS.LD:
        if (op !== LD_IMM64 || i.src !== 0) this.problem(index, `unexpected load opcode 0x${op.toString(16)}`);
        s.regs[i.dst] = 'v';
        return next();
      case CLASS.LDX: {
        if (memMode(op) === MODE.MEMSX && memSize(op) === SIZE.DW) this.problem(index, 'ldxsdw');
        this.access(index, s, i.src, i.off, sizeBytes(op), true);
        s.regs[i.dst] = 'v';
        return next();
      }
      case CLASS.ST:
      case CLASS.STX: {
        const size = sizeBytes(op);
        const atomic = memMode(op) === MODE.ATOMIC;
        if (cls === CLASS.STX) this.read(index, s, i.src, 'v');
        if (atomic) {
          if (size < 4) this.problem(index, 'atomic on fewer than 4 bytes');
          if (i.imm === ATOMIC.CMPXCHG) this.read(index, s, 0, 'v');
        }
        const where = this.access(index, s, i.dst, i.off, size, atomic, atomic);
        if (where !== undefined) for (let b = 0; b < size; b++) s.stack[FRAME + where + b] = true;
        if (atomic && i.imm === ATOMIC.CMPXCHG) s.regs[0] = 'v';
        else if (atomic && i.imm & ATOMIC.FETCH) s.regs[i.src] = 'v';
        return next();
      }
      case CLASS.JMP:
      case CLASS.JMP32: {
        const j = jmpOp(op);
        if (op === (CLASS.JMP | JMP.EXIT)) {
          this.read(index, s, 0, 'v');
          return;
        }
        if (j === JMP.CALL) {
          if (cls !== CLASS.JMP || i.src !== CALL_KIND.LOCAL || isRegSource(op)) {
            this.problem(index, 'only local calls are expected');
            return;
          }
          const target = i.pc + 1 + i.imm;
          if (this.at.get(target) === undefined) return this.problem(index, `call target ${target} is not an instruction`);
          const entry: AbstractState = { regs: new Array(11).fill(undefined), stack: new Array(FRAME).fill(false) };
          for (let r = 1; r <= 5; r++) entry.regs[r] = s.regs[r];
          entry.regs[10] = 'f0';
          const old = this.entries.get(target);
          const merged = old ? join(old, entry) : entry;
          this.entries.set(target, merged);
          const owner = this.entryOf.get(this.at.get(target)!);
          if (owner !== undefined && owner !== target) this.problem(index, `call into the middle of function ${owner}`);
          this.entryOf.set(this.at.get(target)!, target);
          this.merge(this.at.get(target)!, merged);
          for (let r = 1; r <= 5; r++) s.regs[r] = undefined;
          s.regs[0] = 'v';
          return next();
        }
        if (j === JMP.JA) return jumpTo(cls === CLASS.JMP32 ? i.imm : i.off, s);
        this.read(index, s, i.dst, 'v');
        if (isRegSource(op)) this.read(index, s, i.src, 'v');
        jumpTo(i.off, copy(s));
        return next();
      }
    }
  }

  /** Every backward jump closes a counted loop that provably ends. */
  private checkLoops(): void {
    const insns = this.insns;
    insns.forEach((back, bi) => {
      if (insnClass(back.opcode) !== CLASS.JMP && insnClass(back.opcode) !== CLASS.JMP32) return;
      const j = jmpOp(back.opcode);
      if (j === JMP.CALL || back.opcode === (CLASS.JMP | JMP.EXIT)) return;
      const offset = back.opcode === (CLASS.JMP32 | JMP.JA) ? back.imm : back.off;
      if (offset >= 0) return;
      const head = this.at.get(back.pc + 1 + offset);
      if (head === undefined) return; // reported by the flow check
      const fail = (why: string): void => void this.problems.add(`pc ${back.pc}: loop back to ${insns[head]!.pc}: ${why}`);
      // Shapes: [step; jcc c, K, head] or [step; jeq c, 0, out; ja head].
      let cond = back;
      let stepAt = bi - 1;
      if (j === JMP.JA) {
        cond = insns[bi - 1]!;
        stepAt = bi - 2;
        if (cond.opcode !== (CLASS.JMP | JMP.JEQ) || cond.imm !== 0 || cond.pc + 1 + cond.off !== back.pc + 1) {
          return fail('a backward ja must follow `jeq c, 0` leaving the loop');
        }
      } else if (isRegSource(back.opcode)) {
        return fail('the loop condition must compare with a constant');
      }
      const step = insns[stepAt];
      const c = cond.dst;
      const delta =
        step && step.dst === c && step.opcode === (CLASS.ALU64 | ALU.ADD)
          ? step.imm
          : step && step.dst === c && step.opcode === (CLASS.ALU64 | ALU.SUB)
            ? -step.imm
            : undefined;
      if (delta === undefined || Math.abs(delta) !== 1) return fail(`r${c} is not stepped by 1 just before the jump`);
      const init = insns[head - 1];
      if (!init || init.dst !== c || init.opcode !== (CLASS.ALU64 | ALU.MOV)) return fail(`r${c} is not set by mov just before the loop`);
      for (let k = head; k < stepAt; k++) {
        if (writes(insns[k]!).includes(c)) return fail(`r${c} is written inside the body at pc ${insns[k]!.pc}`);
      }
      // Nothing outside the loop may jump into its body.
      insns.forEach((x, xi) => {
        if (xi >= head && xi <= bi) return;
        const t = target(x);
        if (t !== undefined && t >= insns[head]!.pc && t <= back.pc) fail(`pc ${x.pc} jumps into the body`);
      });
      let value = BigInt(init.imm);
      for (let n = 0; ; n++) {
        if (n > 64) return fail('does not end within 64 iterations');
        value = BigInt.asIntN(64, value + BigInt(delta));
        // A conditional back jump loops while it holds; the `jeq` exit test leaves when it holds.
        const again = j === JMP.JA ? !holds(cond, value) : holds(cond, value);
        if (!again) break;
      }
    });
  }
}

/** Registers an instruction writes. */
function writes(i: Insn): number[] {
  const cls = insnClass(i.opcode);
  if (cls === CLASS.ALU || cls === CLASS.ALU64 || cls === CLASS.LDX || i.opcode === LD_IMM64) return [i.dst];
  if (cls === CLASS.STX && memMode(i.opcode) === MODE.ATOMIC) {
    if (i.imm === ATOMIC.CMPXCHG) return [0];
    return i.imm & ATOMIC.FETCH ? [i.src] : [];
  }
  if (cls === CLASS.JMP && jmpOp(i.opcode) === JMP.CALL) return [0, 1, 2, 3, 4, 5];
  return [];
}

/** Absolute target pc of a jump or local call. */
function target(i: Insn): number | undefined {
  const cls = insnClass(i.opcode);
  if (cls !== CLASS.JMP && cls !== CLASS.JMP32) return undefined;
  if (i.opcode === (CLASS.JMP | JMP.EXIT)) return undefined;
  if (jmpOp(i.opcode) === JMP.CALL) return i.src === CALL_KIND.LOCAL ? i.pc + 1 + i.imm : undefined;
  return i.pc + 1 + (i.opcode === (CLASS.JMP32 | JMP.JA) ? i.imm : i.off);
}

/** Whether a conditional jump against a constant is taken when its register holds `v`. */
function holds(cond: Insn, v: bigint): boolean {
  const j = jmpOp(cond.opcode);
  const narrow = insnClass(cond.opcode) === CLASS.JMP32;
  const bits = narrow ? 32 : 64;
  const u = BigInt.asUintN(bits, v);
  const sv = BigInt.asIntN(bits, v);
  const k = BigInt(cond.imm);
  const ku = BigInt.asUintN(bits, k);
  const ks = BigInt.asIntN(bits, k);
  switch (j) {
    case JMP.JEQ:
      return u === ku;
    case JMP.JNE:
      return u !== ku;
    case JMP.JGT:
      return u > ku;
    case JMP.JGE:
      return u >= ku;
    case JMP.JLT:
      return u < ku;
    case JMP.JLE:
      return u <= ku;
    case JMP.JSGT:
      return sv > ks;
    case JMP.JSGE:
      return sv >= ks;
    case JMP.JSLT:
      return sv < ks;
    case JMP.JSLE:
      return sv <= ks;
    case JMP.JSET:
      return (u & ku) !== 0n;
  }
  return true;
}
