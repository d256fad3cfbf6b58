// The text assembler against hand-encoded instructions (bytes worked out from RFC 9669's
// encoding tables), against the one `-- raw` section of the conformance vectors, and
// against isa.ts's decoder and disassembler on every vector.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AsmError, assemble, assembleBytes } from '../../compiler/asm.js';
import { UserError } from '../../core/errors.js';
import { decode, disasm, encode, listing, type Insn } from '../../core/isa.js';
import { listVectors, rawBytes, readVector } from '../support/conformance-vectors.js';

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/(.{16})(?=.)/g, '$1 ');
/** Instructions as text with a fixed field order, so that deep comparison shows the diff. */
const json = (v: Insn | Insn[]): string =>
  JSON.stringify([v].flat().map((i) => [i.pc, i.opcode, i.dst, i.src, i.off, i.imm, i.imm64?.toString(16)]));
const vectors = listVectors().map(readVector);

// opcode, regs (src<<4 | dst), off (LE16), imm (LE32) — one slot per row.
const HAND_ENCODED: [string, string][] = [
  ['mov %r0, 1', 'b700000001000000'],
  ['mov32 %r1, -1', 'b4010000ffffffff'],
  ['mov32 %r9, 0x80000001', 'b409000001000080'],
  ['add %r1, %r2', '0f21000000000000'],
  ['sdiv %r1, 3', '3701010003000000'],
  ['smod32 %r3, %r4', '9c43010000000000'],
  ['neg %r3', '8703000000000000'],
  ['neg32 %r3', '8403000000000000'],
  ['movsx1632 %r1, %r2', 'bc21100000000000'],
  ['movsx3264 %r0, %r9', 'bf90200000000000'],
  ['movsx864 %r6, %r5', 'bf56080000000000'],
  ['le16 %r1', 'd401000010000000'],
  ['be64 %r1', 'dc01000040000000'],
  ['bswap32 %r2', 'd702000020000000'],
  ['swap16 %r2', 'd702000010000000'],
  ['arsh32 %r1, 31', 'c4010000 1f000000'],
  ['jeq %r1, 5, +3', '1501030005000000'],
  ['jsgt32 %r1, %r2, -2', '6e21feff00000000'],
  ['jset %r7, 0x80, +0', '4507000080000000'],
  ['ja -1', '0500ffff00000000'],
  ['ja32 -2', '06000000feffffff'],
  ['call 5', '8500000005000000'],
  ['call %r2', '8d02000000000000'],
  ['call local +4', '8510000004000000'],
  ['call kfunc 7', '8520000007000000'],
  ['exit', '9500000000000000'],
  ['lddw %r1, -1', '18010000ffffffff 00000000ffffffff'],
  ['ldxw %r0, [%r1+4]', '6110040000000000'],
  ['ldxsb %r0, [%r10-1]', '91a0ffff00000000'],
  ['ldxsw %r0, [%r10 - 4]', '81a0fcff00000000'],
  ['ldxdw %r2, [%r1]', '7912000000000000'],
  ['stw [%r10-8], 7', '620af8ff07000000'],
  ['sth [%r1+2], 0xffff', '6a010200ffff0000'],
  ['stxdw [%r10-8], %r1', '7b1af8ff00000000'],
  ['stxb [%r1+0x10], %r2', '7321100000000000'],
  ['lock add [%r10-8], %r1', 'db1af8ff00000000'],
  ['lock fetch add32 [%r1+4], %r2', 'c321040001000000'],
  ['lock fetch xor [%r1+0], %r2', 'db210000a1000000'],
  ['lock and32 [%r1+0], %r2', 'c321000050000000'],
  ['lock xchg [%r10-8], %r1', 'db1af8ffe1000000'],
  ['lock cmpxchg32 [%r10-8], %r1', 'c31af8fff1000000'],
];

test('instructions encode to their hand-worked bytes', () => {
  for (const [text, expected] of HAND_ENCODED) {
    assert.is(hex(assembleBytes(text)), expected.replace(/ /g, '').replace(/(.{16})(?=.)/g, '$1 '), text);
  }
});

test('all 313 conformance vectors assemble', () => {
  assert.is(vectors.length, 313);
  for (const v of vectors) {
    let insns: Insn[] = [];
    assert.not.throws(() => (insns = assemble(v.asm)), v.name);
    assert.ok(insns.length > 0, `${v.name} is empty`);
  }
});

test('the -- raw section equals the assembled bytes exactly', () => {
  const withRaw = vectors.filter((v) => v.raw);
  assert.ok(withRaw.length >= 1, 'expected at least lddw.data to carry a raw section');
  for (const v of withRaw) assert.is(hex(assembleBytes(v.asm)), hex(rawBytes(v.raw!)), v.name);
  // lddw.data by hand: 18 00 0000 55667788 | 00 00 0000 11223344 | 95 ...
  const lddw = vectors.find((v) => v.name === 'lddw')!;
  assert.is(hex(assembleBytes(lddw.asm)), '1800000088776655 0000000044332211 9500000000000000');
});

test('assemble agrees with decode(encode(...)) on every vector', () => {
  for (const v of vectors) {
    const insns = assemble(v.asm);
    assert.is(json(decode(encode(insns))), json(insns), v.name);
  }
});

test('disasm then assemble gives back every instruction of every vector', () => {
  let count = 0;
  for (const v of vectors) {
    for (const insn of assemble(v.asm)) {
      const text = disasm(insn);
      const back = assemble(text);
      assert.is(back.length, 1, `${v.name}: ${text}`);
      assert.is(json({ ...back[0]!, pc: insn.pc }), json(insn), `${v.name}: ${text}`);
      count++;
    }
  }
  assert.ok(count > 2500, `only ${count} instructions seen`);
});

test('labels resolve to relative offsets; `exit` names the first exit', () => {
  const insns = assemble(`
    top: mov %r0, 0   # 0
    jeq %r0, 0, done  # 1 -> 5
    lddw %r1, 1       # 2,3
    ja exit           # 4 -> 6
    done: ja32 top    # 5 -> 0
    exit              # 6
    call local fn     # 7 -> 9
    exit              # 8
    fn: exit          # 9
  `);
  assert.equal(
    insns.map((i) => i.pc),
    [0, 1, 2, 4, 5, 6, 7, 8, 9],
  );
  assert.is(insns[1]!.off, 3); // 5 - (1 + 1)
  assert.is(insns[3]!.off, 1); // 6 - (4 + 1)
  assert.is(insns[4]!.imm, -6); // 0 - (5 + 1), ja32 keeps it in imm
  assert.is(insns[4]!.off, 0);
  assert.is(insns[6]!.imm, 1); // 9 - (7 + 1)
});

test('a program that defines its own exit label jumps there, not to the first exit', () => {
  const insns = assemble('ja exit\nexit\nexit:\nexit');
  assert.is(insns[0]!.off, 1);
});

test('lddw takes signed and unsigned 64-bit immediates', () => {
  assert.is(assemble('lddw %r0, -1')[0]!.imm64, 0xffffffffffffffffn);
  assert.is(assemble('lddw %r0, 0x8000000000000000')[0]!.imm64, 1n << 63n);
  assert.is(assemble('lddw %r0, 18446744073709551615')[0]!.imm64, (1n << 64n) - 1n);
  assert.is(assemble('lddw %r0, 0x8000000000000000')[0]!.imm, 0);
  assert.is(assemble('lddw %r0, 0xffffffff')[0]!.imm, -1);
});

const errorCases: [string, string, number, RegExp][] = [
  ['bad mnemonic', 'mov %r0, 1\nfrob %r1, 2\nexit', 2, /unknown mnemonic 'frob'/],
  ['register above r10', 'mov %r11, 1\nexit', 1, /bad register '%r11'/],
  ['register without %', 'exit\nadd r1, 1', 2, /bad register 'r1'/],
  ['unknown label', 'mov %r0, 0\n\njne %r0, 1, nowhere\nexit', 3, /unknown label 'nowhere'/],
  ['operand count', 'exit\nexit\nadd %r0', 3, /expected 2 operands, found 1/],
  ['imm32 range', 'mov %r0, 0x100000000', 1, /does not fit in 32 bits/],
  ['offset range', 'ldxw %r0, [%r1+40000]', 1, /does not fit in signed 16 bits/],
  ['duplicate label', 'a:\nexit\na:\nexit', 3, /defined twice/],
  ['lock without source', 'lock or [%r10-8]\nexit', 1, /expected 2 operands/],
  ['unknown atomic', 'lock nand [%r10-8], %r1', 1, /unknown atomic operation 'nand'/],
  ['fetch with xchg', 'lock fetch xchg [%r10-8], %r1', 1, /always fetches/],
  ['ldxsdw', 'ldxsdw %r0, [%r1+0]', 1, /ldxsdw does not exist/],
  ['bad jump target', 'ja 3', 1, /bad jump target '3'/],
];

for (const [what, source, line, reason] of errorCases) {
  test(`error: ${what} names the line and its text`, () => {
    try {
      assemble(source);
      assert.unreachable('assembled');
    } catch (e) {
      assert.instance(e, UserError);
      assert.instance(e, AsmError);
      const err = e as AsmError;
      assert.is(err.line, line);
      assert.match(err.message, new RegExp(`^asm line ${line} \\(`));
      assert.ok(err.message.includes(source.split('\n')[line - 1]!.trim()), err.message);
      assert.match(err.message, reason);
      assert.not.match(err.message, /\n/);
    }
  });
}

test('listing: slot numbers, labels, and absolute targets of jumps and local calls (not of helper calls or exit)', () => {
  // Slots: 0 jeq (+2 → 3), 1 call local (+1 → 3), 2 exit, 3 call helper 1, 4 ja (-5 → 0), 5 exit.
  const insns = assemble('jeq %r1, 5, +2\ncall local +1\nexit\ncall 1\nja -5\nexit');
  const lines = listing(insns, new Map([[3, 'f']])).split('\n');
  assert.equal(lines, [
    `    0: ${disasm(insns[0]!)}  ; -> 3`,
    `    1: ${disasm(insns[1]!)}  ; -> 3`,
    `    2: exit`,
    'f:',
    `    3: ${disasm(insns[3]!)}`,
    `    4: ${disasm(insns[4]!)}  ; -> 0`,
    `    5: exit`,
  ]);
});

test.run();
