// The random program generator: deterministic, encodable, valid by an independent
// check (test/fuzz/check.ts, which must itself catch broken programs), and covering the
// instruction set it promises.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import {
  ALU,
  ATOMIC,
  CALL_KIND,
  CLASS,
  JMP,
  LD_IMM64,
  MODE,
  decode,
  disasm,
  encode,
  insnClass,
  jmpOp,
  memMode,
  type Insn,
} from '../../core/isa.js';
import { checkProgram } from '../support/fuzz/check.js';
import { generateProgram } from '../support/fuzz/generate.js';
import { Rng } from '../support/fuzz/rng.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => i * 7919 + 1);
const text = (insns: readonly Insn[]): string => insns.map((i) => `${i.pc} ${disasm(i)}`).join('\n');
const programs = SEEDS.map((seed) => ({ seed, ...generateProgram(seed) }));

test('the PRNG is deterministic and spreads', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.u32());
  assert.equal(
    Array.from({ length: 100 }, () => b.u32()),
    xs,
  );
  assert.not.equal(
    Array.from({ length: 100 }, () => new Rng(43).u32()),
    xs,
  );
  const counts = new Array(8).fill(0);
  const r = new Rng(7);
  for (let i = 0; i < 8000; i++) counts[r.below(8)]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `bucket ${c} of 8000/8`);
});

test('same seed, same program; different seeds, different programs', () => {
  for (const seed of [0, 1, 12345, 0xffffffff]) {
    const a = generateProgram(seed);
    const b = generateProgram(seed);
    assert.is(text(a.insns), text(b.insns));
    assert.equal([...a.mem], [...b.mem]);
    assert.is(a.description, b.description);
  }
  const distinct = new Set(programs.map((p) => text(p.insns)));
  assert.is(distinct.size, programs.length);
});

test('programs survive encode/decode and disasm/assemble unchanged', () => {
  for (const p of programs) {
    const bytes = encode(p.insns);
    assert.is(text(decode(bytes)), text(p.insns), `seed ${p.seed}`);
    assert.equal(
      [...decode(bytes)].map((i) => i.imm64),
      p.insns.map((i) => i.imm64),
      `seed ${p.seed}`,
    );
    const again = assemble(p.insns.map(disasm).join('\n'));
    assert.equal([...encode(again)], [...bytes], `seed ${p.seed}`);
  }
});

test('every program passes the independent structural check', () => {
  for (const p of programs) {
    const problems = checkProgram(p.insns, p.mem.length);
    assert.equal(problems, [], `seed ${p.seed}: ${problems.join('; ')}`);
  }
});

test('options: buffer size, function count, no buffer atomics', () => {
  for (const seed of [3, 4, 5]) {
    const p = generateProgram(seed, { memSize: 24, functions: 2, size: 30, bufferAtomics: false });
    assert.is(p.mem.length, 24);
    const calls = new Set(
      p.insns.filter((i) => i.opcode === (CLASS.JMP | JMP.CALL) && i.src === CALL_KIND.LOCAL).map((i) => i.pc + 1 + i.imm),
    );
    assert.is(calls.size, 2, 'both functions are called');
    assert.equal(checkProgram(p.insns, 24, { noBufferAtomics: true }), []);
  }
  // ...while by default some programs do use atomics on the buffer.
  assert.ok(programs.some((p) => checkProgram(p.insns, p.mem.length, { noBufferAtomics: true }).length > 0));
  assert.throws(() => generateProgram(1, { memSize: 12 }), /multiple of 8/);
});

// The check must be able to fail: break valid programs in ways the generator must avoid.
const breakages: [string, (insns: Insn[]) => Insn[] | undefined, RegExp][] = [
  ["drop main's first instruction (r6 = r1)", (x) => renumber(x.slice(1)), /reads r6|uses r6/],
  ['drop the last exit', (x) => x.slice(0, -1), /falls through/],
  [
    'jump into the second slot of an lddw',
    (x) => {
      const j = x.findIndex((i) => i.opcode === (CLASS.JMP | JMP.JA) && i.off >= 0);
      const l = x.find((i) => i.opcode === LD_IMM64 && i.pc > (x[j]?.pc ?? Infinity));
      if (!l || j < 0) return undefined;
      return x.map((i, n) => (n === j ? { ...i, off: l.pc + 1 - (i.pc + 1) } : i));
    },
    /not the start of an instruction|not an instruction start/,
  ],
  [
    'read a stack slot never written',
    (x) => {
      // Only where no register copies r10 (so every stack access is r10-relative and visible).
      if (x.some((i) => i.opcode === (CLASS.ALU64 | ALU.MOV | 0x08) && i.src === 10)) return undefined;
      const j = x.findIndex((i) => i.opcode === (CLASS.LDX | MODE.MEM | 0x18) && i.src === 10);
      const free = [...Array(64).keys()].map((k) => -512 + 8 * k).find((o) => !x.some((i) => Math.abs(i.off - o) < 8));
      if (j < 0 || free === undefined) return undefined;
      return x.map((i, n) => (n === j ? { ...i, off: free } : i));
    },
    /before they are written/,
  ],
  [
    'turn a counter step into +2',
    (x) => {
      const j = x.findIndex((i, n) => i.opcode === (CLASS.ALU64 | ALU.ADD) && i.imm === 1 && isCondBack(x[n + 1]));
      if (j < 0) return undefined;
      return x.map((i, n) => (n === j ? { ...i, imm: 2 } : i));
    },
    /stepped by 1/,
  ],
  [
    'leak a pointer into r0',
    (x) => [
      ...x.slice(0, -1),
      { pc: x.at(-1)!.pc, opcode: CLASS.ALU64 | ALU.ADD | 0x08, dst: 0, src: 10, off: 0, imm: 0 },
      { pc: x.at(-1)!.pc + 1, opcode: CLASS.JMP | JMP.EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ],
    /uses r10 \(f0\) as a value/,
  ],
];

for (const [what, breakIt, expected] of breakages) {
  test(`the check catches: ${what}`, () => {
    let tried = 0;
    for (const p of programs) {
      const broken = breakIt(p.insns.map((i) => ({ ...i })));
      if (!broken) continue;
      const problems = checkProgram(broken, p.mem.length);
      assert.ok(
        problems.some((e) => expected.test(e)),
        `seed ${p.seed}: got ${problems.join('; ') || 'nothing'}`,
      );
      if (++tried === 5) break;
    }
    assert.ok(tried > 0, 'no program to break this way');
  });
}

test('the programs cover the instruction set', () => {
  const seen = new Set<string>();
  for (const p of programs) {
    for (const i of p.insns) {
      const cls = insnClass(i.opcode);
      if (cls === CLASS.STX && memMode(i.opcode) === MODE.ATOMIC) seen.add(`atomic ${i.opcode.toString(16)} ${i.imm.toString(16)}`);
      else if (cls === CLASS.ALU || cls === CLASS.ALU64) {
        const op = i.opcode & 0xf0;
        const detail = op === ALU.END ? i.imm : op === ALU.MOV || op === ALU.DIV || op === ALU.MOD ? i.off : '';
        seen.add(`${i.opcode.toString(16)} ${detail}`);
      } else seen.add(i.opcode.toString(16));
    }
  }
  const expected: string[] = [];
  for (const cls of [CLASS.ALU, CLASS.ALU64]) {
    for (const op of [ALU.ADD, ALU.SUB, ALU.MUL, ALU.OR, ALU.AND, ALU.LSH, ALU.RSH, ALU.XOR, ALU.ARSH]) {
      expected.push(`${(cls | op).toString(16)} `, `${(cls | op | 0x08).toString(16)} `);
    }
    for (const op of [ALU.DIV, ALU.MOD])
      for (const x of [0, 8]) for (const off of [0, 1]) expected.push(`${(cls | op | x).toString(16)} ${off}`);
    expected.push(`${(cls | ALU.MOV).toString(16)} 0`, `${(cls | ALU.MOV | 8).toString(16)} 0`, `${(cls | ALU.NEG).toString(16)} `);
    for (const off of cls === CLASS.ALU ? [8, 16] : [8, 16, 32]) expected.push(`${(cls | ALU.MOV | 8).toString(16)} ${off}`);
  }
  for (const w of [16, 32, 64]) expected.push(`d4 ${w}`, `dc ${w}`, `d7 ${w}`);
  for (const cls of [CLASS.JMP, CLASS.JMP32]) {
    for (const op of [JMP.JEQ, JMP.JGT, JMP.JGE, JMP.JSET, JMP.JNE, JMP.JSGT, JMP.JSGE, JMP.JLT, JMP.JLE, JMP.JSLT, JMP.JSLE]) {
      expected.push((cls | op).toString(16), (cls | op | 8).toString(16));
    }
  }
  expected.push('5', '6', '85', '95', '18');
  for (const size of [0x10, 0x08, 0x00, 0x18]) {
    expected.push(
      (CLASS.LDX | MODE.MEM | size).toString(16),
      (CLASS.ST | MODE.MEM | size).toString(16),
      (CLASS.STX | MODE.MEM | size).toString(16),
    );
    if (size !== 0x18) expected.push((CLASS.LDX | MODE.MEMSX | size).toString(16));
  }
  for (const op of ['c3', 'db']) {
    for (const imm of [ATOMIC.ADD, ATOMIC.AND, ATOMIC.OR, ATOMIC.XOR])
      expected.push(`atomic ${op} ${imm.toString(16)}`, `atomic ${op} ${(imm | ATOMIC.FETCH).toString(16)}`);
    expected.push(`atomic ${op} ${ATOMIC.XCHG.toString(16)}`, `atomic ${op} ${ATOMIC.CMPXCHG.toString(16)}`);
  }
  const missing = expected.filter((e) => !seen.has(e));
  assert.equal(missing, [], `never generated: ${missing.join(', ')}`);
});

test('edge cases appear: zero and -1 divisors in registers, INT_MIN dividends, big shift counts', () => {
  let zeroDivisor = 0;
  let overflow = 0;
  let bigShift = 0;
  for (const p of programs) {
    const x = p.insns;
    for (let n = 1; n < x.length; n++) {
      const i = x[n]!;
      const cls = insnClass(i.opcode);
      if ((cls !== CLASS.ALU && cls !== CLASS.ALU64) || !(i.opcode & 0x08)) continue;
      const op = i.opcode & 0xf0;
      const prev = x[n - 1]!;
      const movK = [CLASS.ALU | ALU.MOV, CLASS.ALU64 | ALU.MOV];
      const setsSrc = prev.dst === i.src && movK.includes(prev.opcode);
      if ((op === ALU.DIV || op === ALU.MOD) && setsSrc && prev.imm === 0) zeroDivisor++;
      if ((op === ALU.DIV || op === ALU.MOD) && i.off === 1 && setsSrc && prev.imm === -1) {
        const before = x[n - 2];
        const intMin =
          before?.opcode === LD_IMM64 ? before.imm64 === 1n << 63n : before?.opcode === (CLASS.ALU | ALU.MOV) && before.imm === -0x80000000;
        if (before && before.dst === i.dst && intMin) overflow++;
      }
      if ((op === ALU.LSH || op === ALU.RSH || op === ALU.ARSH) && setsSrc && (prev.imm >= 32 || prev.imm < 0)) bigShift++;
    }
  }
  assert.ok(zeroDivisor > 5, `${zeroDivisor} zero divisors`);
  assert.ok(overflow > 2, `${overflow} INT_MIN / -1`);
  assert.ok(bigShift > 5, `${bigShift} big shifts`);
});

test('loops, calls and branches appear, and jumps go both ways', () => {
  let back = 0;
  let calls = 0;
  let withFunctions = 0;
  for (const p of programs) {
    for (const i of p.insns) {
      const cls = insnClass(i.opcode);
      if (cls !== CLASS.JMP && cls !== CLASS.JMP32) continue;
      if (jmpOp(i.opcode) === JMP.CALL) calls++;
      else if ((i.opcode === (CLASS.JMP32 | JMP.JA) ? i.imm : i.off) < 0) back++;
    }
    if (/main \+ [1-9]/.test(p.description)) withFunctions++;
  }
  assert.ok(back > 100, `${back} backward jumps`);
  assert.ok(calls > 100, `${calls} calls`);
  assert.ok(withFunctions > 100, `${withFunctions} programs with functions`);
});

function renumber(insns: Insn[]): Insn[] {
  let pc = 0;
  return insns.map((i) => {
    const out = { ...i, pc };
    pc += i.opcode === LD_IMM64 ? 2 : 1;
    return out;
  });
}

function isCondBack(i: Insn | undefined): boolean {
  return !!i && insnClass(i.opcode) === CLASS.JMP && jmpOp(i.opcode) !== JMP.JA && i.off < 0;
}

test.run();
