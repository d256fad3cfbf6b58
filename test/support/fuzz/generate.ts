// Random valid eBPF programs for differential testing (interpreter vs compiled wasm).
//
// The program is entered with r1 = address of the input buffer `mem` and r2 = its length,
// and exits with r0 folding together (almost) every value it computed. The tester also
// compares the final stack and buffer bytes. Same seed, same program.
//
// Validity is kept by tracking, at every point, what each register holds:
//   'v'    a plain value (never derived from an address),
//   'b<d>' the buffer address + d,     'f<d>' the frame pointer r10 + d,
//   undefined: not readable (never written, clobbered by a call, or differing on two paths)
// and which stack bytes have been written. Values are computed only from values, so no
// address ever reaches r0, the stack or the buffer: two engines that place memory at
// different addresses still agree. Memory accesses are in bounds and naturally aligned.
// At a join (after an if/else) a register or stack byte stays known only if it is known
// the same way on every incoming path. Loops run their body at least once, and inside a
// body no register defined at the loop head may change its kind, so every iteration sees
// what the generator assumed. Calls clobber r1-r5 (the callee's values are not visible
// to the caller), preserve r6-r9, and give the callee a fresh 512-byte frame.
//
// Assumptions for the engines under test: the buffer starts 8-byte aligned (atomics on it
// need natural alignment in wasm; set `bufferAtomics: false` otherwise); each call frame
// has its own 512 bytes of stack (the kernel would instead cap all frames at 512 in total).

import { ALU, ATOMIC, CALL_KIND, CLASS, JMP, LD_IMM64, MODE, SIZE, SRC_K, SRC_X, type Insn } from '../../../core/isa.js';
import { Code, Labels, type RawInsn } from './emitter.js';
import { Rng } from './rng.js';

export interface GenerateOptions {
  /** Top-level constructs in main (a construct is one to a dozen instructions). */
  size?: number;
  /** Input buffer size in bytes: a multiple of 8, at least 8. */
  memSize?: number;
  /** Number of local functions appended after main (each is called at least once). */
  functions?: number;
  /** Top-level constructs in each function. */
  functionSize?: number;
  /** Atomic operations on the input buffer, not only on the stack (default true). */
  bufferAtomics?: boolean;
  /** Nesting limit of if/else and loops (default 3; loops at most 2 deep). */
  maxDepth?: number;
}

export interface GeneratedProgram {
  insns: Insn[];
  mem: Uint8Array;
  description: string;
}

export const STACK_SIZE = 512;

export function generateProgram(seed: number, opts: GenerateOptions = {}): GeneratedProgram {
  return new Generator(seed, opts).run();
}

type Kind = string; // 'v' | `b${number}` | `f${number}`
const VAL = 'v';
const SIZES = [1, 2, 4, 8] as const;
const SIZE_CODE: Record<number, number> = { 1: SIZE.B, 2: SIZE.H, 4: SIZE.W, 8: SIZE.DW };
const ACC = 9; // accumulator of every function: values are folded into it as they are made
const BUF = 6; // main keeps the buffer address here (callee-saved, so calls keep it)

class State {
  constructor(
    readonly regs: (Kind | undefined)[] = new Array(11).fill(undefined),
    /** stack[i]: byte r10 - STACK_SIZE + i has been written. */
    readonly stack: boolean[] = new Array(STACK_SIZE).fill(false),
  ) {}
  clone(): State {
    return new State([...this.regs], [...this.stack]);
  }
  /** What is known on both paths into a join. */
  join(other: State): State {
    return new State(
      this.regs.map((k, r) => (k === other.regs[r] ? k : undefined)),
      this.stack.map((w, i) => w && other.stack[i]!),
    );
  }
}

interface Signature {
  args: Kind[]; // kinds of r1..rN: VAL, or 'b0' (the buffer address) for r1 only
}

/** Per-function generation context. */
interface Frame {
  code: Code;
  state: State;
  /** Registers never written here: r10, the accumulator, main's buffer pointer, loop counters. */
  reserved: Set<number>;
  /** Register kinds at the head of each enclosing loop. */
  loops: (Kind | undefined)[][];
  /** Index of the function being generated, -1 for main. */
  fn: number;
}

const pointerDelta = (k: Kind | undefined, base: 'b' | 'f'): number | undefined =>
  k !== undefined && k[0] === base ? Number(k.slice(1)) : undefined;

const ins = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ opcode, dst, src, off, imm });

class Generator {
  private readonly rng: Rng;
  private readonly labels = new Labels();
  private readonly memSize: number;
  private readonly signatures: Signature[] = [];
  private readonly fnLabels: number[] = [];
  private readonly callees = new Map<number, Set<number>>(); // caller fn (-1 = main) -> callees
  private readonly stats = { loops: 0, branches: 0, calls: 0, atomics: 0, memory: 0, alu: 0 };
  private readonly size: number;
  private readonly functionSize: number;
  private readonly maxDepth: number;
  private readonly bufferAtomics: boolean;
  private f!: Frame;

  constructor(
    private readonly seed: number,
    opts: GenerateOptions,
  ) {
    this.rng = new Rng(seed);
    const rng = this.rng;
    this.memSize = opts.memSize ?? 8 * rng.int(2, 32);
    if (this.memSize < 8 || this.memSize % 8 !== 0) throw new RangeError(`memSize ${this.memSize}: need a multiple of 8`);
    this.size = opts.size ?? rng.int(12, 40);
    this.functionSize = opts.functionSize ?? rng.int(3, 12);
    this.maxDepth = opts.maxDepth ?? 3;
    this.bufferAtomics = opts.bufferAtomics ?? true;
    const functions = opts.functions ?? rng.int(0, 3);
    for (let i = 0; i < functions; i++) {
      const n = rng.int(0, 5);
      const args: Kind[] = Array.from({ length: n }, (_, j) => (j === 0 && rng.chance(0.4) ? 'b0' : VAL));
      this.signatures.push({ args });
      this.fnLabels.push(this.labels.fresh());
    }
  }

  run(): GeneratedProgram {
    const mem = this.rng.bytes(this.memSize);
    const fnCodes = this.signatures.map((_, i) => this.genFunction(i));
    const main = this.genMain();
    const insns = this.labels.link([main, ...fnCodes]);
    const s = this.stats;
    const slots = insns.reduce((n, i) => n + (i.opcode === LD_IMM64 ? 2 : 1), 0);
    const description =
      `seed ${this.seed}: ${insns.length} insns (${slots} slots), main + ${fnCodes.length} functions, ` +
      `mem ${this.memSize} B; ${s.alu} alu, ${s.memory} loads/stores, ${s.atomics} atomics, ` +
      `${s.branches} branches, ${s.loops} loops, ${s.calls} calls`;
    return { insns, mem, description };
  }

  // -------------------------------------------------------------------------------------
  // Functions
  // -------------------------------------------------------------------------------------

  private newFrame(fn: number): Frame {
    return { code: new Code(this.labels), state: new State(), reserved: new Set([10, ACC]), loops: [], fn };
  }

  private genMain(): Code {
    const f = (this.f = this.newFrame(-1));
    f.state.regs[1] = 'b0';
    f.state.regs[2] = VAL;
    f.state.regs[10] = 'f0';
    this.emit(ins(CLASS.ALU64 | ALU.MOV | SRC_X, BUF, 1));
    f.state.regs[BUF] = 'b0';
    f.reserved.add(BUF);
    this.emitLddw(ACC, this.rng.u64());
    for (let i = this.rng.int(0, 3); i > 0; i--) this.movImm(this.rng.pick([0, 3, 4, 5, 7, 8]));
    this.block(this.size, 0);
    // Every function must be reachable (the kernel rejects unreachable code): call the
    // ones nothing reachable calls yet, from main's straight-line tail.
    for (let fn = 0; fn < this.signatures.length; fn++) {
      if (!this.reachable().has(fn)) this.call(fn);
    }
    this.finish(0);
    return f.code;
  }

  private genFunction(fn: number): Code {
    const f = (this.f = this.newFrame(fn));
    this.signatures[fn]!.args.forEach((k, j) => (f.state.regs[j + 1] = k));
    f.state.regs[10] = 'f0';
    this.code.place(this.fnLabels[fn]!);
    this.emitLddw(ACC, this.rng.u64());
    // Writing r6-r8 here checks that the caller gets its own back.
    for (const r of [6, 7, 8]) if (this.rng.chance(0.5)) this.movImm(r);
    this.block(this.functionSize, 0);
    this.finish(0);
    return f.code;
  }

  /** Fold every value register into r0 and exit. */
  private finish(r0: number): void {
    const regs = this.f.state.regs;
    if (regs[r0] !== VAL) this.emit(ins(CLASS.ALU64 | ALU.MOV | SRC_K, r0, 0, 0, 0));
    for (let r = 1; r <= 9; r++) {
      if (regs[r] !== VAL) continue;
      this.emit(ins(CLASS.ALU64 | ALU.MUL | SRC_K, r0, 0, 0, 0x2545f491)); // odd: loses nothing
      this.emit(ins(CLASS.ALU64 | ALU.XOR | SRC_X, r0, r));
    }
    this.emit(ins(CLASS.JMP | JMP.EXIT));
  }

  private reachable(): Set<number> {
    const seen = new Set<number>();
    const visit = (caller: number): void => {
      for (const fn of this.callees.get(caller) ?? []) {
        if (!seen.has(fn)) {
          seen.add(fn);
          visit(fn);
        }
      }
    };
    visit(-1);
    return seen;
  }

  // -------------------------------------------------------------------------------------
  // Blocks and control flow
  // -------------------------------------------------------------------------------------

  private get code(): Code {
    return this.f.code;
  }
  private get state(): State {
    return this.f.state;
  }

  private block(constructs: number, depth: number): void {
    const rng = this.rng;
    const inLoop = this.f.loops.length > 0;
    for (let i = 0; i < constructs; i++) {
      const nested = depth < this.maxDepth;
      const callable = inLoop ? [] : this.callableFrom(this.f.fn);
      const what = rng.weighted<string>([
        ['alu', 40],
        ['lddw', 3],
        ['stack-store', 8],
        ['stack-load', 7],
        ['buf-load', 5],
        ['buf-store', 4],
        ['atomic', 6],
        ['pointer', 3],
        ['if', nested ? 6 : 0],
        ['if-else', nested ? 4 : 0],
        ['loop', nested && this.f.loops.length < 2 ? 3 : 0],
        ['call', callable.length ? 4 : 0],
      ]);
      switch (what) {
        case 'alu':
          this.alu();
          break;
        case 'lddw':
          this.emitLddw(this.pickWritable(VAL), this.interesting64());
          break;
        case 'stack-store':
          this.store('stack');
          break;
        case 'stack-load':
          this.load('stack');
          break;
        case 'buf-load':
          this.load('buf');
          break;
        case 'buf-store':
          this.store('buf');
          break;
        case 'atomic':
          this.atomic();
          break;
        case 'pointer':
          this.derivePointer();
          break;
        case 'if':
          this.ifThen(depth);
          break;
        case 'if-else':
          this.ifElse(depth);
          break;
        case 'loop':
          this.loop(depth);
          break;
        case 'call':
          this.call(rng.pick(callable));
          break;
      }
    }
  }

  /** `if (!cond) { block }`: a forward conditional jump over a block. */
  private ifThen(depth: number): void {
    this.stats.branches++;
    const end = this.labels.fresh();
    this.condJump(end);
    const before = this.state.clone();
    this.block(this.rng.int(1, 4), depth + 1);
    this.f.state = before.join(this.state);
    this.code.place(end);
  }

  /** `if (cond) { then } else { else }` with `ja` or `ja32` (gotol) over the then-part. */
  private ifElse(depth: number): void {
    this.stats.branches++;
    const then = this.labels.fresh();
    const end = this.labels.fresh();
    this.condJump(then);
    const before = this.state.clone();
    this.block(this.rng.int(1, 4), depth + 1);
    this.jumpAlways(end);
    const elseEnd = this.state;
    this.f.state = before;
    this.code.place(then);
    this.block(this.rng.int(1, 4), depth + 1);
    this.f.state = elseEnd.join(this.state);
    this.code.place(end);
  }

  /** A counted loop of 1..4 iterations whose counter nothing else writes. */
  private loop(depth: number): void {
    const rng = this.rng;
    const candidates = this.writable(VAL).filter((r) => r !== 0);
    if (candidates.length === 0) return;
    this.stats.loops++;
    const c = rng.pick(candidates);
    const k = rng.int(1, 4);
    const up = rng.chance(0.4);
    this.emit(ins(CLASS.ALU64 | ALU.MOV | SRC_K, c, 0, 0, up ? 0 : k));
    this.state.regs[c] = VAL;
    const head = this.labels.fresh();
    const end = this.labels.fresh();
    this.code.place(head);
    this.f.reserved.add(c);
    this.f.loops.push([...this.state.regs]);
    this.block(rng.int(1, 5), depth + 1);
    this.f.loops.pop();
    this.f.reserved.delete(c);
    const back = (op: number, imm: number): void =>
      this.code.emitTo(ins((rng.chance(0.3) ? CLASS.JMP32 : CLASS.JMP) | op | SRC_K, c, 0, 0, imm), head, 'off');
    if (up) {
      this.emit(ins(CLASS.ALU64 | ALU.ADD | SRC_K, c, 0, 0, 1));
      const [op, imm] = rng.pick([
        [JMP.JLT, k],
        [JMP.JSLT, k],
        [JMP.JLE, k - 1],
        [JMP.JSLE, k - 1],
        [JMP.JNE, k],
      ] as const);
      back(op, imm);
    } else {
      if (rng.chance(0.5)) this.emit(ins(CLASS.ALU64 | ALU.SUB | SRC_K, c, 0, 0, 1));
      else this.emit(ins(CLASS.ALU64 | ALU.ADD | SRC_K, c, 0, 0, -1));
      if (rng.chance(0.25)) {
        // Leave with a forward jeq, loop with an unconditional backward ja / ja32.
        this.code.emitTo(ins(CLASS.JMP | JMP.JEQ | SRC_K, c, 0, 0, 0), end, 'off');
        if (rng.chance(0.5)) this.code.emitTo(ins(CLASS.JMP32 | JMP.JA), head, 'imm');
        else this.code.emitTo(ins(CLASS.JMP | JMP.JA), head, 'off');
      } else {
        const [op, imm] = rng.pick([
          [JMP.JNE, 0],
          [JMP.JSGT, 0],
          [JMP.JGT, 0],
          [JMP.JGE, 1],
          [JMP.JSGE, 1],
          [JMP.JSET, 7],
        ] as const);
        back(op, imm);
      }
    }
    this.code.place(end);
  }

  /** A conditional jump on values: any condition, 32 or 64 bits, register or immediate. */
  private condJump(target: number): void {
    const rng = this.rng;
    const a = this.someValue();
    const ops = [JMP.JEQ, JMP.JGT, JMP.JGE, JMP.JSET, JMP.JNE, JMP.JSGT, JMP.JSGE, JMP.JLT, JMP.JLE, JMP.JSLT, JMP.JSLE];
    const cls = rng.chance(0.4) ? CLASS.JMP32 : CLASS.JMP;
    if (rng.chance(0.5)) {
      const b = rng.chance(0.15) ? a : this.someValue();
      this.code.emitTo(ins(cls | rng.pick(ops) | SRC_X, a, b), target, 'off');
    } else {
      this.code.emitTo(ins(cls | rng.pick(ops) | SRC_K, a, 0, 0, this.interesting32()), target, 'off');
    }
  }

  private jumpAlways(target: number): void {
    if (this.rng.chance(0.5)) this.code.emitTo(ins(CLASS.JMP32 | JMP.JA), target, 'imm');
    else this.code.emitTo(ins(CLASS.JMP | JMP.JA), target, 'off');
  }

  private callableFrom(fn: number): number[] {
    return this.signatures.map((_, i) => i).filter((i) => i > fn);
  }

  /** Set up the callee's arguments in r1..rN and call it. */
  private call(fn: number): void {
    const sig = this.signatures[fn]!;
    const regs = this.state.regs;
    for (let j = 0; j < sig.args.length; j++) {
      const r = j + 1;
      if (!this.canWrite(r, sig.args[j]!)) return;
      if (sig.args[j] === VAL) {
        if (regs[r] !== VAL || this.rng.chance(0.3)) this.movImm(r);
      } else {
        const base = this.bufferBase();
        if (base === undefined) return;
        const d = pointerDelta(regs[base], 'b')!;
        this.emit(ins(CLASS.ALU64 | ALU.MOV | SRC_X, r, base));
        if (d !== 0) this.emit(ins(CLASS.ALU64 | ALU.ADD | SRC_K, r, 0, 0, -d));
        regs[r] = 'b0';
      }
    }
    this.stats.calls++;
    this.code.emitTo(ins(CLASS.JMP | JMP.CALL, 0, CALL_KIND.LOCAL), this.fnLabels[fn]!, 'imm');
    if (!this.callees.has(this.f.fn)) this.callees.set(this.f.fn, new Set());
    this.callees.get(this.f.fn)!.add(fn);
    for (let r = 1; r <= 5; r++) regs[r] = undefined;
    regs[0] = VAL;
    if (this.rng.chance(0.7)) this.fold(0);
  }

  // -------------------------------------------------------------------------------------
  // Registers
  // -------------------------------------------------------------------------------------

  private emit(insn: RawInsn): void {
    this.code.emit(insn);
  }

  /** May `reg` be overwritten with a `kind` here without breaking an enclosing loop? */
  private canWrite(reg: number, kind: Kind): boolean {
    if (this.f.reserved.has(reg)) return false;
    return this.f.loops.every((head) => head[reg] === undefined || (head[reg] === VAL && kind === VAL));
  }

  private writable(kind: Kind): number[] {
    return [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((r) => this.canWrite(r, kind));
  }

  /** A register that may receive a value (r0 when nothing else may: it is never reserved). */
  private pickWritable(kind: Kind): number {
    const regs = this.writable(kind);
    return regs.length ? this.rng.pick(regs) : 0;
  }

  private values(): number[] {
    return this.state.regs.flatMap((k, r) => (k === VAL ? [r] : []));
  }

  /** Some register holding a value, making one if there is none. */
  private someValue(): number {
    const vals = this.values();
    return vals.length ? this.rng.pick(vals) : this.movImm();
  }

  /** A writable register already holding a value (to update in place), made if needed. */
  private pickUpdatable(): number {
    const both = this.writable(VAL).filter((r) => this.state.regs[r] === VAL);
    return both.length ? this.rng.pick(both) : this.movImm();
  }

  private movImm(reg = this.pickWritable(VAL), imm = this.interesting32(), cls = this.rng.pick([CLASS.ALU64, CLASS.ALU])): number {
    this.emit(ins(cls | ALU.MOV | SRC_K, reg, 0, 0, imm));
    this.state.regs[reg] = VAL;
    return reg;
  }

  private emitLddw(reg: number, value: bigint): void {
    const imm64 = BigInt.asUintN(64, value);
    this.emit({ opcode: LD_IMM64, dst: reg, src: 0, off: 0, imm: Number(BigInt.asIntN(32, imm64)), imm64 });
    this.state.regs[reg] = VAL;
  }

  /** Mix a fresh value into the accumulator so that it reaches the result. */
  private fold(reg: number): void {
    if (reg === ACC) return;
    const op = this.rng.pick([ALU.XOR, ALU.ADD, ALU.SUB]);
    this.emit(ins(CLASS.ALU64 | op | SRC_X, ACC, reg));
  }

  private interesting32(): number {
    const rng = this.rng;
    return rng.weighted<() => number>([
      [() => rng.pick([0, 1, -1, 2, -2, 7, 31, 32, 63, 64, 0xff, 0xffff, 0x8000, 0x7fffffff, -0x80000000]), 3],
      [() => rng.int(0, 100), 2],
      [() => rng.int32(), 3],
    ])();
  }

  private interesting64(): bigint {
    const rng = this.rng;
    return rng.chance(0.5)
      ? rng.u64()
      : rng.pick([
          0n,
          1n,
          (1n << 64n) - 1n,
          1n << 63n,
          (1n << 63n) - 1n,
          0xffffffffn,
          0x80000000n,
          1n << 32n,
          0xffffffff80000000n,
          0x0123456789abcdefn,
        ]);
  }

  // -------------------------------------------------------------------------------------
  // ALU
  // -------------------------------------------------------------------------------------

  private alu(): void {
    const rng = this.rng;
    this.stats.alu++;
    const wide = rng.chance(0.55);
    const cls = wide ? CLASS.ALU64 : CLASS.ALU;
    const bits = wide ? 64 : 32;
    const op = rng.weighted<string>([
      ['add', 4],
      ['sub', 3],
      ['mul', 3],
      ['div', 3],
      ['sdiv', 3],
      ['mod', 3],
      ['smod', 3],
      ['or', 2],
      ['and', 2],
      ['xor', 2],
      ['lsh', 3],
      ['rsh', 3],
      ['arsh', 3],
      ['mov', 3],
      ['movsx', 3],
      ['neg', 2],
      ['end', 3],
    ]);
    let dst: number;
    if (op === 'mov' || op === 'movsx') {
      // Writes dst without reading it.
      const src = op === 'movsx' || rng.chance(0.5) ? this.someValue() : -1;
      dst = this.pickWritable(VAL);
      if (op === 'movsx') {
        const off = rng.pick(wide ? [8, 16, 32] : [8, 16]);
        this.emit(ins(cls | ALU.MOV | SRC_X, dst, src, off));
      } else if (src >= 0) {
        this.emit(ins(cls | ALU.MOV | SRC_X, dst, src));
      } else {
        this.emit(ins(cls | ALU.MOV | SRC_K, dst, 0, 0, this.interesting32()));
      }
    } else if (op === 'neg') {
      dst = this.pickUpdatable();
      this.emit(ins(cls | ALU.NEG | SRC_K, dst));
    } else if (op === 'end') {
      dst = this.pickUpdatable();
      const width = rng.pick([16, 32, 64]);
      const form = rng.pick(['le', 'be', 'bswap']);
      if (form === 'bswap') this.emit(ins(CLASS.ALU64 | ALU.END | SRC_K, dst, 0, 0, width));
      else this.emit(ins(CLASS.ALU | ALU.END | (form === 'be' ? SRC_X : SRC_K), dst, 0, 0, width));
    } else {
      dst = this.pickUpdatable();
      this.binary(op, cls, bits, dst);
    }
    this.state.regs[dst] = VAL;
    if (rng.chance(0.5)) this.fold(dst);
  }

  private binary(op: string, cls: number, bits: number, dst: number): void {
    const rng = this.rng;
    const code = {
      add: ALU.ADD,
      sub: ALU.SUB,
      mul: ALU.MUL,
      div: ALU.DIV,
      sdiv: ALU.DIV,
      mod: ALU.MOD,
      smod: ALU.MOD,
      or: ALU.OR,
      and: ALU.AND,
      xor: ALU.XOR,
      lsh: ALU.LSH,
      rsh: ALU.RSH,
      arsh: ALU.ARSH,
    }[op]!;
    const signed = op === 'sdiv' || op === 'smod';
    const off = signed ? 1 : 0;
    const division = code === ALU.DIV || code === ALU.MOD;
    const shift = code === ALU.LSH || code === ALU.RSH || code === ALU.ARSH;
    const intMin = (): void => {
      if (bits === 64) this.emitLddw(dst, 1n << 63n);
      else this.emit(ins(CLASS.ALU | ALU.MOV | SRC_K, dst, 0, 0, -0x80000000));
    };
    if (rng.chance(0.5)) {
      // Register source; for division and shifts, often an edge-case divisor or shift count.
      let src = this.someValue();
      const others = this.writable(VAL).filter((r) => r !== dst);
      if ((division || shift) && others.length && rng.chance(0.4)) {
        src = rng.pick(others);
        if (division) {
          const minusOne = rng.chance(0.5);
          if (minusOne) intMin();
          this.movImm(src, minusOne ? -1 : 0, CLASS.ALU64); // all ones in 32 and 64 bits
        } else {
          this.movImm(src, rng.pick([bits, bits + 1, 63, 64, 65, 127, -1, 0x7fffffff]));
        }
      }
      this.emit(ins(cls | code | SRC_X, dst, src, off));
    } else {
      let imm: number;
      if (division) {
        // The kernel rejects a constant zero divisor; -1 with INT_MIN is the overflow case.
        imm = rng.pick([-1, 1, 2, 3, 7, -3, 10, 0x10000, rng.int32() || 5]);
        if (imm === -1 && rng.chance(0.6)) intMin();
      } else if (shift) {
        imm = rng.int(0, bits - 1); // the kernel rejects constant shifts >= the width
      } else {
        imm = this.interesting32();
      }
      this.emit(ins(cls | code | SRC_K, dst, 0, off, imm));
    }
  }

  // -------------------------------------------------------------------------------------
  // Memory
  // -------------------------------------------------------------------------------------

  /** A register holding a buffer address, if any. */
  private bufferBase(): number | undefined {
    const regs = this.state.regs.flatMap((k, r) => (pointerDelta(k, 'b') !== undefined ? [r] : []));
    return regs.length ? this.rng.pick(regs) : undefined;
  }

  /** r10 or a register derived from it, with its offset from r10. */
  private stackBase(): { reg: number; delta: number } {
    const regs = this.state.regs.flatMap((k, r) => (pointerDelta(k, 'f') !== undefined ? [r] : []));
    const reg = this.rng.chance(0.7) ? 10 : this.rng.pick(regs);
    return { reg, delta: pointerDelta(this.state.regs[reg], 'f')! };
  }

  /** An aligned stack offset from r10 (in [-512, -size]); written bytes only if `written`. */
  private stackSlot(size: number, written: boolean): number | undefined {
    const stack = this.state.stack;
    const all: number[] = [];
    for (let off = -size; off >= -STACK_SIZE; off -= size) {
      const at = STACK_SIZE + off;
      if (!written || stack.slice(at, at + size).every(Boolean)) all.push(off);
    }
    if (all.length === 0) return undefined;
    // Favour the top of the frame so that slots get reused.
    const near = all.filter((o) => o >= -64);
    return near.length && this.rng.chance(0.7) ? this.rng.pick(near) : this.rng.pick(all);
  }

  private markWritten(off: number, size: number): void {
    for (let i = 0; i < size; i++) this.state.stack[STACK_SIZE + off + i] = true;
  }

  /** Base register and instruction offset for an access of `size` bytes, or undefined. */
  private address(where: 'stack' | 'buf', size: number, written: boolean): { base: number; off: number; at: number } | undefined {
    if (where === 'stack') {
      const at = this.stackSlot(size, written);
      if (at === undefined) return undefined;
      const { reg, delta } = this.stackBase();
      return { base: reg, off: at - delta, at };
    }
    const base = this.bufferBase();
    if (base === undefined || size > this.memSize) return undefined;
    const delta = pointerDelta(this.state.regs[base], 'b')!;
    const at = size * this.rng.int(0, this.memSize / size - 1);
    return { base, off: at - delta, at };
  }

  private load(where: 'stack' | 'buf'): void {
    const rng = this.rng;
    const size = rng.pick(SIZES);
    const addr = this.address(where, size, true);
    if (!addr) return;
    this.stats.memory++;
    const signExtend = size < 8 && rng.chance(0.4);
    const dst = this.pickWritable(VAL);
    this.emit(ins(CLASS.LDX | (signExtend ? MODE.MEMSX : MODE.MEM) | SIZE_CODE[size]!, dst, addr.base, addr.off));
    this.state.regs[dst] = VAL;
    if (rng.chance(0.5)) this.fold(dst);
  }

  private store(where: 'stack' | 'buf'): void {
    const rng = this.rng;
    const size = rng.pick(SIZES);
    // The value first: making one may overwrite a register that could have been the base.
    const src = rng.chance(0.6) ? this.someValue() : -1;
    const addr = this.address(where, size, false);
    if (!addr) return;
    this.stats.memory++;
    if (src >= 0) {
      this.emit(ins(CLASS.STX | MODE.MEM | SIZE_CODE[size]!, addr.base, src, addr.off));
    } else {
      this.emit(ins(CLASS.ST | MODE.MEM | SIZE_CODE[size]!, addr.base, 0, addr.off, this.interesting32()));
    }
    if (where === 'stack') this.markWritten(addr.at, size);
  }

  private atomic(): void {
    const rng = this.rng;
    const size = rng.pick([4, 8]);
    const where = this.bufferAtomics && rng.chance(0.4) ? 'buf' : 'stack';
    const kind = rng.pick(['add', 'and', 'or', 'xor', 'xchg', 'cmpxchg']);
    const fetch = kind === 'xchg' || kind === 'cmpxchg' || rng.chance(0.5);
    if (kind === 'cmpxchg' && !this.canWrite(0, VAL)) return;
    // The source first (fetching forms overwrite it, so it must be writable); then the
    // address, so that making the source cannot overwrite the base register.
    let src: number;
    if (fetch) {
      const regs = this.writable(VAL).filter((r) => r !== 0 || kind !== 'cmpxchg');
      if (regs.length === 0) return;
      src = rng.pick(regs);
      if (this.state.regs[src] !== VAL) this.movImm(src);
    } else {
      src = this.someValue();
    }
    const addr = this.address(where, size, true);
    if (!addr) return;
    if (kind === 'cmpxchg') {
      // Compare against what is there about half of the time, so that both outcomes occur.
      if (rng.chance(0.5)) this.emit(ins(CLASS.LDX | MODE.MEM | SIZE_CODE[size]!, 0, addr.base, addr.off));
      else if (this.state.regs[0] !== VAL) this.movImm(0);
      this.state.regs[0] = VAL;
    }
    this.stats.atomics++;
    const imm =
      {
        add: ATOMIC.ADD,
        and: ATOMIC.AND,
        or: ATOMIC.OR,
        xor: ATOMIC.XOR,
        xchg: ATOMIC.XCHG,
        cmpxchg: ATOMIC.CMPXCHG,
      }[kind]! | (fetch && kind !== 'xchg' && kind !== 'cmpxchg' ? ATOMIC.FETCH : 0);
    this.emit(ins(CLASS.STX | MODE.ATOMIC | SIZE_CODE[size]!, addr.base, src, addr.off, imm));
    const changed = kind === 'cmpxchg' ? 0 : fetch ? src : -1;
    if (changed >= 0 && rng.chance(0.7)) this.fold(changed);
  }

  /** `mov rX, base; add rX, k`: a register pointing into the stack frame or the buffer. */
  private derivePointer(): void {
    const rng = this.rng;
    if (rng.chance(0.5)) {
      const base = this.bufferBase();
      if (base === undefined) return;
      const delta = 8 * rng.int(0, this.memSize / 8);
      this.pointerTo(base, pointerDelta(this.state.regs[base], 'b')!, 'b', delta);
    } else {
      const { reg, delta: from } = this.stackBase();
      this.pointerTo(reg, from, 'f', -8 * rng.int(0, STACK_SIZE / 8));
    }
  }

  private pointerTo(base: number, from: number, kind: 'b' | 'f', delta: number): void {
    const target = `${kind}${delta}`;
    const regs = this.writable(target).filter((r) => r !== 0);
    if (regs.length === 0) return;
    const dst = this.rng.pick(regs);
    this.emit(ins(CLASS.ALU64 | ALU.MOV | SRC_X, dst, base));
    if (delta !== from || this.rng.chance(0.2)) {
      if (this.rng.chance(0.5)) this.emit(ins(CLASS.ALU64 | ALU.ADD | SRC_K, dst, 0, 0, delta - from));
      else this.emit(ins(CLASS.ALU64 | ALU.SUB | SRC_K, dst, 0, 0, from - delta));
    }
    this.state.regs[dst] = target;
  }
}
