// The verifier: for every check one program it accepts and one it rejects, asserting the
// instruction index and the reason; loops with their back-edges; a program using every
// ISA v4 opcode; and every conformance vector (all must verify). These are raw programs
// (r1 a plain buffer, no struct xdp_md), so they go through the structural pass
// (memorySafety: false); the memory-safety model has test/compiler/verifier-memory.test.ts.

import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { VerifyError } from '../../core/errors.js';
import { disasm, LD_IMM64, type Insn } from '../../core/isa.js';
import { MAP_TYPE } from '../../core/map-types.js';
import type { MapSpec, Program } from '../../core/model.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { verify, type VerifyOptions, type VerifyResult } from '../../compiler/verifier/index.js';
import { listVectors, readVector, vectorDir, vectorInsns } from '../support/conformance-vectors.js';
import { skip } from '../support/skip.js';

const map = (name: string, keySize: number, valueSize: number, type: number = MAP_TYPE.HASH): MapSpec => ({
  name,
  type,
  keySize,
  valueSize,
  maxEntries: 16,
  flags: 0,
  section: '.maps',
});
const MAPS = [map('flows', 8, 16), map('counters', 4, 8, MAP_TYPE.ARRAY)];

/** A program from assembler text; `patch` edits the decoded instructions (what asm cannot write). */
function program(text: string, patch?: (insns: Insn[]) => void): Program {
  const insns = assemble(text);
  patch?.(insns);
  return programFromInsns('t', insns);
}

/** A program from raw instruction fields (slots assigned in order; lddw takes two). */
function raw(...fields: Omit<Insn, 'pc'>[]): Program {
  let pc = 0;
  const insns = fields.map((f) => {
    const insn = { ...f, pc };
    pc += f.opcode === LD_IMM64 ? 2 : 1;
    return insn;
  });
  return programFromInsns('t', insns);
}
const I = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Omit<Insn, 'pc'> => ({ opcode, dst, src, off, imm });
const EXIT = I(0x95);
const MOV0 = I(0xb7, 0, 0, 0, 0); // mov %r0, 0

/** Turn the lddw at slot `pc` into a relocated map (src 5) or map value (src 6) reference. */
const mapRef =
  (pc: number, src: 5 | 6, index: number, offset = 0) =>
  (insns: Insn[]): void => {
    const insn = insns.find((i) => i.pc === pc)!;
    insn.src = src;
    insn.imm = index;
    insn.imm64 = (BigInt(offset) << 32n) | BigInt(index);
  };

const STRUCTURAL: VerifyOptions = { memorySafety: false };

function accepts(prog: Program, opts: VerifyOptions = {}, maps: readonly MapSpec[] = MAPS): VerifyResult {
  try {
    return verify(prog, maps, { ...STRUCTURAL, ...opts });
  } catch (e) {
    return assert.unreachable(`expected acceptance, got: ${(e as Error).message}`) as never;
  }
}

function rejects(prog: Program, pc: number, reason: RegExp, opts: VerifyOptions = {}, maps: readonly MapSpec[] = MAPS): VerifyError {
  try {
    verify(prog, maps, { ...STRUCTURAL, ...opts });
  } catch (e) {
    assert.instance(e, VerifyError, `not a VerifyError: ${(e as Error).message}`);
    const err = e as VerifyError;
    assert.is(err.pc, pc, `instruction index (message: ${err.message})`);
    assert.match(err.reason, reason);
    return err;
  }
  return assert.unreachable(`expected rejection at ${pc} (${reason})`) as never;
}

// ----- the error itself ---------------------------------------------------------------------

test('error names the program, the instruction index, its disassembly and the reason', () => {
  const prog = program('mov %r0, 1\nmov %r10, 3\nexit');
  const err = rejects(prog, 1, /r10 \(the frame pointer\) is read-only/);
  assert.is(err.program, 't');
  assert.is(err.insnText, 'mov %r10, 3');
  assert.is(err.message, 't: instruction 1 (mov %r10, 3): r10 (the frame pointer) is read-only');
});

// ----- opcodes -------------------------------------------------------------------------------

test('opcodes: unknown ALU, jump, load and store opcodes are rejected', () => {
  rejects(raw(MOV0, I(0xe7, 0, 0, 0, 1), EXIT), 1, /unknown opcode 0xe7/);
  rejects(raw(MOV0, I(0xf4, 0, 0, 0, 1), EXIT), 1, /unknown opcode 0xf4/);
  rejects(raw(MOV0, I(0xe5, 0, 0, 0, 0), EXIT), 1, /unknown opcode 0xe5/);
  rejects(raw(MOV0, I(0x86), EXIT), 1, /unknown opcode 0x86/); // call in the JMP32 class
  rejects(raw(MOV0, I(0x96), EXIT), 1, /unknown opcode 0x96/); // exit in the JMP32 class
  rejects(raw(MOV0, I(0x01, 0, 10, -8), EXIT), 1, /unknown opcode 0x01/); // LDX in IMM mode
  rejects(raw(MOV0, I(0xc2, 10, 0, -8, 1), EXIT), 1, /unknown opcode 0xc2/); // ST in ATOMIC mode
  rejects(raw(MOV0, I(0x00), EXIT), 1, /unknown opcode 0x00/); // lddw-class, 4-byte immediate load
  rejects(raw(MOV0, I(0x8f, 0, 1), EXIT), 1, /unknown opcode 0x8f/); // neg with a register source
});

test('opcodes: byte swaps take widths 16/32/64 and no 64-bit register variant', () => {
  accepts(program('mov %r0, 1\nle16 %r0\nbe32 %r0\nbswap64 %r0\nexit'));
  rejects(raw(MOV0, I(0xd4, 0, 0, 0, 8), EXIT), 1, /byte swap width 8/);
  rejects(raw(MOV0, I(0xdf, 0, 0, 0, 16), EXIT), 1, /unknown opcode 0xdf/);
});

test('opcodes: sdiv/smod use off 1, movsx off 8/16/32 (32-bit form 8/16 only)', () => {
  accepts(program('mov %r0, 7\nsdiv %r0, 2\nsmod32 %r0, 3\nmovsx1664 %r0, %r0\nmovsx3264 %r0, %r0\nmovsx832 %r0, %r0\nexit'));
  rejects(raw(MOV0, I(0x37, 0, 0, 2, 3), EXIT), 1, /div offset 2/);
  // Unlike the kernel, and as RFC 9669 defines (the conformance vectors use both):
  accepts(program('mov %r0, 7\nlsh32 %r0, 40\narsh %r0, 70\nsdiv %r0, 0\nmod32 %r0, 0\nexit'));
  rejects(raw(MOV0, I(0xbc, 0, 0, 32, 0), EXIT), 1, /movsx width 32 \(must be 8, 16\)/);
  rejects(raw(MOV0, I(0xbf, 0, 0, 4, 0), EXIT), 1, /movsx width 4/);
});

test('opcodes: gotol keeps its offset in imm', () => {
  const ok = accepts(program('mov %r0, 1\nja32 +1\nmov %r0, 2\nexit'.replace('mov %r0, 2\n', 'ja32 +1\nja32 -2\n')));
  assert.equal(ok.backEdges, [{ from: 3, to: 2 }]);
  rejects(raw(MOV0, I(0x06, 0, 0, 1, 0), EXIT), 1, /gotol uses reserved field off/);
});

test('kfuncs: a metadata kfunc takes the context and outputs of its pointee size; outputs on the stack count as written', () => {
  // bpf_xdp_metadata_rx_timestamp (id 1, core/kfuncs.ts): (ctx, __u64 *). r1 is the context at entry.
  const safe: VerifyOptions = { memorySafety: true };
  const reading = 'mov %r2, %r10\nadd %r2, -8\ncall kfunc 1\nldxdw %r0, [%r10-8]\nexit';
  accepts(program(reading), safe);
  // The structural pass alone (no memory safety) also takes the output as written.
  accepts(program(reading));
  rejects(program('mov %r2, 0\ncall kfunc 1\nexit'), 1, /Possibly NULL pointer passed to trusted arg1/, safe);
  rejects(program('mov %r2, %r10\nadd %r2, -4\ncall kfunc 1\nexit'), 2, /invalid indirect access to stack R2 off=-4 size=8/, safe);
  rejects(program('mov %r2, %r10\nadd %r2, -8\nmov %r1, %r2\ncall kfunc 1\nexit'), 3, /arg#0 expected pointer to ctx, but got fp/, safe);
  // Every argument register is clobbered by the call, as by a helper.
  rejects(program('mov %r2, %r10\nadd %r2, -8\ncall kfunc 1\nmov %r0, %r2\nexit'), 3, /R2 !read_ok/, safe);
});

test('opcodes: kfunc calls are refused naming the id; callx only when allowed', () => {
  rejects(program('call kfunc 77\nexit'), 0, /kfunc\) id 77 is not supported/);
  const callx = program('mov %r2, 5\nmov %r1, 1\ncall %r2\nexit');
  rejects(callx, 2, /callx .* not supported/);
  assert.is(accepts(callx, { allowCallx: true }).usesCallx, true);
  rejects(
    program('mov %r1, 1\ncall %r2\nexit', (i) => {
      i[1]!.dst = 6;
    }),
    1,
    /r6 is read before it is initialised/,
    { allowCallx: true },
  );
});

test('opcodes: lddw src 0/4/5/6 accepted; 1/2/3 name the ELF object; map index and value offset checked', () => {
  accepts(
    program('lddw %r1, 0\nlddw %r2, 0\nldxw %r0, [%r2+4]\nexit', (i) => {
      mapRef(0, 5, 0)(i);
      mapRef(2, 6, 1, 4)(i);
    }),
  );
  for (const src of [1, 2]) {
    rejects(
      program('lddw %r1, 3\nmov %r0, 0\nexit', (i) => {
        i[0]!.src = src;
      }),
      0,
      /unrelocated map reference.*compile from the ELF object/,
    );
  }
  rejects(
    program('lddw %r1, 3\nmov %r0, 0\nexit', (i) => {
      i[0]!.src = 3;
    }),
    0,
    /unrelocated BTF id.*compile from the ELF object/,
  );
  rejects(program('lddw %r1, 0\nmov %r0, 0\nexit', mapRef(0, 5, 2)), 0, /map index 2 out of range \(the object has 2 maps\)/);
  rejects(program('lddw %r1, 0\nmov %r0, 0\nexit', mapRef(0, 6, 1, 8)), 0, /offset 8 is outside the 8-byte value of map 'counters'/);
  rejects(
    program('lddw %r1, 0\nmov %r0, 0\nexit', (i) => {
      i[0]!.src = 7;
    }),
    0,
    /lddw kind src=7/,
  );
});

test('opcodes: loads are 1/2/4/8 bytes, sign-extending loads 1/2/4; atomics are W/DW and known operations', () => {
  accepts(
    program(
      'stdw [%r10-8], 0\nldxb %r0, [%r10-8]\nldxh %r0, [%r10-8]\nldxw %r0, [%r10-8]\nldxdw %r0, [%r10-8]\n' +
        'ldxsb %r0, [%r10-8]\nldxsh %r0, [%r10-8]\nldxsw %r0, [%r10-8]\nexit',
    ),
  );
  rejects(raw(I(0x7a, 10, 0, -8, 0), I(0x99, 0, 10, -8), EXIT), 1, /no sign-extending 8-byte load/);
  rejects(raw(I(0x7a, 10, 0, -8, 0), MOV0, I(0xd3, 10, 0, -8, 0), EXIT), 2, /atomic operations are 4 or 8 bytes wide only/);
  rejects(raw(I(0x7a, 10, 0, -8, 0), MOV0, I(0xdb, 10, 0, -8, 0x10), EXIT), 2, /unknown atomic operation imm=0x10/);
  rejects(raw(I(0x7a, 10, 0, -8, 0), MOV0, I(0xdb, 10, 0, -8, 0x101), EXIT), 2, /unknown atomic operation imm=0x101/);
});

test('opcodes: legacy LD_ABS / LD_IND are refused with a reason', () => {
  rejects(program('mov %r6, %r1\nldabsw 12\nexit'), 1, /legacy packet load \(LD_ABS\/LD_IND\) is not supported/);
  rejects(program('mov %r6, %r1\nldindh %r1, 4\nexit'), 1, /legacy packet load/);
});

// ----- reserved fields -----------------------------------------------------------------------

test('reserved fields must be zero', () => {
  accepts(raw(I(0xb7, 0, 0, 0, 1), I(0x07, 0, 0, 0, 2), I(0x0f, 0, 1), EXIT));
  rejects(raw(MOV0, I(0x07, 0, 3, 0, 2), EXIT), 1, /immediate ALU op uses reserved field src/);
  rejects(raw(MOV0, I(0x0f, 0, 1, 0, 2), EXIT), 1, /register-source ALU op uses reserved field imm/);
  rejects(raw(MOV0, I(0x07, 0, 0, 4, 2), EXIT), 1, /ALU op uses reserved field off/);
  rejects(raw(MOV0, I(0xb7, 0, 0, 8, 2), EXIT), 1, /mov with an immediate uses reserved field off/);
  rejects(raw(MOV0, I(0x87, 0, 0, 0, 1), EXIT), 1, /neg uses reserved fields/);
  rejects(raw(MOV0, I(0xd4, 0, 1, 0, 16), EXIT), 1, /byte swap uses reserved fields/);
  rejects(raw(MOV0, I(0x95, 0, 0, 0, 1)), 1, /exit uses reserved fields/);
  rejects(raw(MOV0, I(0x05, 0, 0, 0, 1), EXIT), 1, /ja uses reserved field imm/);
  rejects(raw(MOV0, I(0x15, 0, 2, 0, 0), EXIT), 1, /immediate jump uses reserved field src/);
  rejects(raw(MOV0, I(0x1d, 0, 0, 0, 5), EXIT), 1, /register-source jump uses reserved field imm/);
  rejects(raw(MOV0, I(0x85, 1, 0, 0, 5), EXIT), 1, /call uses reserved fields/);
  rejects(raw(MOV0, I(0x61, 0, 1, 0, 1), EXIT), 1, /load uses reserved field imm/);
  rejects(raw(MOV0, I(0x63, 10, 0, -4, 1), EXIT), 1, /store uses reserved field imm/);
  rejects(raw(MOV0, I(0x62, 10, 1, -4, 1), EXIT), 1, /store of an immediate uses reserved field src/);
  rejects(raw(I(0x18, 0, 0, 1, 1), EXIT), 0, /lddw uses reserved field off/);
});

// ----- registers -----------------------------------------------------------------------------

test('registers are r0..r10, and r10 is read-only', () => {
  accepts(program('mov %r1, %r10\nmov %r0, 0\nexit'));
  rejects(raw(I(0xb7, 11, 0, 0, 1), EXIT), 0, /invalid destination register r11/);
  rejects(raw(MOV0, I(0xbf, 0, 12), EXIT), 1, /invalid source register r12/);
  rejects(program('mov %r0, 0\nadd %r10, 8\nexit'), 1, /r10 \(the frame pointer\) is read-only/);
  rejects(program('mov %r0, 0\nldxdw %r10, [%r1+0]\nexit'), 1, /r10 .* is read-only/);
  rejects(program('lddw %r10, 5\nexit'), 0, /r10 .* is read-only/);
  rejects(
    program('stdw [%r10-8], 0\nlock fetch add [%r10-8], %r10\nexit'),
    1,
    /r10 .* read-only \(atomic fetch writes its source register\)/,
  );
  rejects(program('stdw [%r10-8], 0\nlock xchg [%r10-8], %r10\nexit'), 1, /r10 .* read-only/);
  accepts(program('stdw [%r10-8], 0\nmov %r0, 0\nlock add [%r10-8], %r10\nexit'));
});

// ----- jumps and functions -------------------------------------------------------------------

test('jump targets: inside the program, never into the second slot of lddw', () => {
  accepts(program('mov %r0, 0\njeq %r1, 0, +2\nlddw %r0, 7\nexit'));
  rejects(program('mov %r0, 0\nja +5\nexit'), 1, /jump target 7 is outside the program \(slots 0..2\)/);
  rejects(program('mov %r0, 0\nja -3\nexit'), 1, /jump target -1 is outside the program/);
  rejects(program('mov %r0, 0\njeq %r1, 0, +1\nlddw %r0, 7\nexit'), 1, /jump target 3 is the second half of the lddw at slot 2/);
});

test('no jumps across function boundaries, no falling off a function', () => {
  accepts(program('call local f\nexit\nf:\nmov %r0, 1\nexit'));
  rejects(program('call local f\nja +1\nf:\nmov %r0, 1\nexit'), 1, /jump target 3 leaves function 't' \(slots 0..1\)/);
  rejects(program('mov %r0, 0\ncall local f\nexit\nf:\nja -2\n'), 3, /jump target 2 leaves function 't_fn3'/);
  rejects(program('mov %r0, 0\ncall local f\nmov %r0, 1\nf:\nmov %r0, 1\nexit'), 2, /control falls off the end of function 't'/);
  rejects(program('mov %r0, 0\njeq %r1, 0, -2'), 1, /control falls off the end of function 't'/);
  const entryOnly = (p: Program): Program => ({ ...p, funcs: [{ name: 't', start: 0 }] });
  rejects(entryOnly(program('mov %r0, 0\ncall local +5\nexit')), 1, /call target 7 is outside the program/);
  rejects(entryOnly(program('mov %r0, 0\ncall local -1\nexit')), 1, /call target 1 is not the start of a function/);
  // A function list naming a slot that is no instruction is the caller's mistake, reported at slot 0.
  rejects(program('mov %r0, 0\ncall local +5\nexit'), 0, /function 't_fn7' starts at slot 7, which is not the start of an instruction/);
});

test('unreachable instructions and never-called functions are rejected', () => {
  accepts(program('mov %r0, 0\njeq %r1, 0, +1\nmov %r0, 1\nexit'));
  rejects(program('mov %r0, 0\nja +1\nmov %r0, 1\nexit'), 2, /^unreachable instruction$/);
  rejects(program('mov %r0, 0\nexit\nmov %r0, 1\nexit'), 2, /^unreachable instruction$/);
  const prog = program('mov %r0, 0\nexit\nmov %r0, 1\nexit');
  prog.funcs.push({ name: 'helper_fn', start: 2 });
  rejects(prog, 2, /function 'helper_fn' is never called/);
  // A call made only from dead code does not count.
  rejects(program('mov %r0, 0\nexit\ncall local f\nexit\nf:\nmov %r0, 1\nexit'), 2, /^unreachable instruction$/);
});

test('call depth: 8 frames accepted, 9 rejected at the call; recursion rejected', () => {
  const chain = (frames: number): string => {
    let text = '';
    for (let f = 1; f < frames; f++) text += `${f === 1 ? '' : `f${f - 1}:\n`}call local f${f}\nexit\n`;
    return `${text}f${frames - 1}:\nmov %r0, 1\nexit\n`;
  };
  assert.is(accepts(program(chain(8))).maxCallDepth, 8);
  assert.is(accepts(program('mov %r0, 0\nexit')).maxCallDepth, 1);
  rejects(program(chain(9)), 14, /call depth exceeds 8 frames \(t -> t_fn2 -> .* -> t_fn16\)/);
  rejects(program('call local f\nexit\nf:\ncall local g\nexit\ng:\ncall local f\nexit'), 4, /recursive call: function 't_fn2'/);
  rejects(
    program('call local +0\nexit', (i) => {
      i[0]!.imm = -1;
    }),
    0,
    /recursive call: function 't'/,
  );
});

test('bpf_loop callbacks (lddw src 4) count as calls and make their function reachable', () => {
  const loop = 'mov %r1, 4\nlddw %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\nexit';
  const prog = program(loop, (i) => {
    i[1]!.src = 4;
    i[1]!.imm = 5;
    i[1]!.imm64 = 5n;
  });
  const ok = accepts(prog);
  assert.is(ok.maxCallDepth, 2);
  assert.equal(
    ok.functions.map((f) => [f.name, f.start, f.end]),
    [
      ['t', 0, 7],
      ['t_fn7', 7, 9],
    ],
  );
  const uncalled = { ...prog, insns: prog.insns.map((i) => (i.pc === 1 ? { ...i, src: 0 } : i)) };
  rejects(uncalled, 7, /function 't_fn7' is never called/);
  const wrong = { ...prog, insns: prog.insns.map((i) => (i.pc === 1 ? { ...i, imm: 3, imm64: 3n } : i)) };
  rejects(wrong, 1, /function reference 5 is not the start of a function/);
});

// ----- registers' initialisation ----------------------------------------------------------------

test('uninitialised registers: r0 at exit, r6-r9, and on one path only', () => {
  accepts(program('mov %r0, 1\nexit'));
  rejects(program('exit'), 0, /r0 is read before it is initialised/);
  rejects(program('mov %r0, %r6\nexit'), 0, /r6 is read before it is initialised/);
  rejects(program('mov %r0, 0\nadd %r0, %r7\nexit'), 1, /r7 is read/);
  rejects(program('mov %r0, 0\njeq %r9, 0, +0\nexit'), 1, /r9 is read/);
  rejects(program('mov %r0, 0\nstxw [%r10-4], %r8\nexit'), 1, /r8 is read/);
  rejects(program('jeq %r1, 0, +1\nmov %r0, 1\nexit'), 2, /r0 is read before it is initialised on some path/);
  accepts(program('jeq %r1, 0, +2\nmov %r0, 1\nexit\nmov %r0, 2\nexit'));
  // r1-r5 are arguments at every function's entry.
  accepts(program('mov %r0, %r5\nadd %r0, %r1\nexit'));
});

test('uninitialised registers: calls clobber r1-r5, set r0, keep r6-r9', () => {
  accepts(program('mov %r6, %r1\ncall 5\nadd %r0, %r6\nexit'));
  rejects(program('call 5\nmov %r0, %r1\nexit'), 1, /r1 is read .* \(calls clobber r1-r5\)/);
  rejects(program('call local f\nmov %r0, %r3\nexit\nf:\nmov %r0, 0\nexit'), 1, /r3 is read/);
  accepts(program('mov %r7, 2\ncall local f\nadd %r0, %r7\nexit\nf:\nmov %r0, 0\nexit'));
  // Helpers read their argument registers: map_lookup_elem reads r1 and r2.
  rejects(program('call 5\ncall 1\nexit'), 1, /r1 is read/);
});

// ----- the stack ------------------------------------------------------------------------------

test('uninitialised stack: reads need every byte written on every path', () => {
  accepts(program('stdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit'));
  rejects(program('ldxdw %r0, [%r10-8]\nexit'), 0, /load reads uninitialised stack at r10-8/);
  rejects(program('stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit'), 1, /uninitialised stack at r10-4/);
  rejects(program('jeq %r1, 0, +1\nstdw [%r10-16], 1\nldxb %r0, [%r10-16]\nexit'), 2, /uninitialised stack at r10-16/);
  accepts(program('jeq %r1, 0, +2\nstdw [%r10-16], 1\nja +1\nstdw [%r10-16], 2\nldxb %r0, [%r10-16]\nexit'));
  rejects(
    program('mov %r0, 0\nstdw [%r10-8], 1\nlock add [%r10-16], %r0\nexit'),
    2,
    /atomic operation reads uninitialised stack at r10-16/,
  );
});

test('stack pointers are tracked through moves, add/sub of constants and spills', () => {
  accepts(program('mov %r1, %r10\nadd %r1, -16\nstxdw [%r1+8], %r1\nldxdw %r0, [%r10-8]\nexit'));
  rejects(program('mov %r1, %r10\nsub %r1, 16\nstxdw [%r1+0], %r1\nldxdw %r0, [%r10-8]\nexit'), 3, /uninitialised stack at r10-8/);
  rejects(program('mov %r1, %r10\nmov %r2, -24\nadd %r1, %r2\nldxb %r0, [%r1+0]\nexit'), 3, /uninitialised stack at r10-24/);
  // A stack pointer spilled to the stack and reloaded is still known.
  accepts(program('mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nstdw [%r2+0], 3\nldxdw %r0, [%r10-16]\nexit'));
  rejects(
    program('mov %r1, %r10\nadd %r1, -16\nstxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nstw [%r2+0], 3\nldxdw %r0, [%r10-16]\nexit'),
    5,
    /r10-12/,
  );
});

test('stack accesses stay inside [r10-512, r10)', () => {
  accepts(program('stb [%r10-512], 1\nstdw [%r10-8], 1\nmov %r0, 0\nexit'));
  rejects(program('stdw [%r10-520], 1\nmov %r0, 0\nexit'), 0, /store at r10-520 \(8 bytes\) is outside the stack frame \[r10-512, r10\)/);
  rejects(program('stw [%r10+0], 1\nmov %r0, 0\nexit'), 0, /store at r10\+0 .* outside the stack frame/);
  rejects(program('stdw [%r10-8], 1\nldxdw %r0, [%r10-4]\nexit'), 1, /load at r10-4 \(8 bytes\) is outside/);
  accepts(program('mov %r1, %r10\nadd %r1, -600\nstb [%r1+90], 1\nmov %r0, 0\nexit')); // lands at r10-510
  rejects(program('mov %r1, %r10\nadd %r1, -600\nstb [%r1+0], 1\nmov %r0, 0\nexit'), 2, /store at r10-600 .* outside the stack frame/);
});

test('map helpers read their key (and update its value) from the stack', () => {
  const lookup = (store: string): Program => program(`lddw %r1, 0\n${store}\nmov %r2, %r10\nadd %r2, -8\ncall 1\nexit`, mapRef(0, 5, 0));
  accepts(lookup('stdw [%r10-8], 7'));
  rejects(lookup('stw [%r10-8], 7'), 5, /key of map 'flows' \(r2\) reads uninitialised stack at r10-4/);
  const update = (value: string): Program =>
    program(
      `stdw [%r10-8], 1\n${value}\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -8\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\ncall 2\nexit`,
      mapRef(3, 5, 0),
    );
  accepts(update('stdw [%r10-24], 2\nstdw [%r10-16], 3'));
  rejects(update('stdw [%r10-24], 2\nstw [%r10-16], 3'), 10, /value of map 'flows' \(r3\) reads uninitialised stack at r10-12/);
  // Pointers of unknown size to other helpers are accepted (csum_diff reads r1 and r3).
  accepts(program('mov %r1, %r10\nadd %r1, -4\nmov %r2, 4\nmov %r3, %r1\nmov %r4, 4\nmov %r5, 0\ncall 28\nexit'));
  // ...but must point into the frame.
  rejects(
    program('mov %r1, %r10\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28\nexit'),
    5,
    /csum_diff argument r1 at r10\+0 .* outside/,
  );
});

test('stack written by helpers and callees counts as initialised', () => {
  accepts(program('mov %r3, %r10\nadd %r3, -8\nmov %r2, 0\nmov %r4, 8\ncall 189\nldxdw %r0, [%r10-8]\nexit'));
  rejects(program('mov %r3, %r10\nadd %r3, -8\nmov %r2, 0\nmov %r4, 4\ncall 189\nldxdw %r0, [%r10-8]\nexit'), 5, /r10-4/);
  accepts(program('mov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r1+0], 1\nmov %r0, 0\nexit'));
});

test('stack depth is reported per function', () => {
  const r = accepts(program('stb [%r10-40], 1\ncall local f\nexit\nf:\nmov %r1, %r10\nstdw [%r1-200], 0\nmov %r0, 0\nexit'));
  assert.equal(
    r.functions.map((f) => f.stackDepth),
    [40, 200],
  );
});

// ----- helpers --------------------------------------------------------------------------------

test('helpers: known ids only (abi.ts HELPERS plus extraHelpers)', () => {
  const r = accepts(program('call 5\nmov %r6, %r0\ncall 7\nadd %r0, %r6\ncall 5\nexit'));
  assert.equal(r.helpersUsed, [5, 7]);
  rejects(program('call 9999\nexit'), 0, /unknown helper id 9999/);
  const extra = new Map([[9999, { name: 'test_helper', args: 1 }]]);
  accepts(program('call 9999\nexit'), { extraHelpers: extra });
  rejects(program('call 5\ncall 9999\nexit'), 1, /r1 is read/, { extraHelpers: extra });
});

// ----- loops ----------------------------------------------------------------------------------

test('loops are accepted and their back-edges reported', () => {
  const r = accepts(
    program(`
    mov %r0, 0
    mov %r1, 10
  top:
    add %r0, %r1
    sub %r1, 1
    jne %r1, 0, top
    mov %r2, 3
  inner:
    sub %r2, 1
    jsgt %r2, 0, inner
    exit`),
  );
  assert.equal(r.backEdges, [
    { from: 4, to: 2 },
    { from: 7, to: 6 },
  ]);
  // A loop that writes the stack only after its first read is still caught.
  rejects(program('mov %r1, 3\nldxdw %r0, [%r10-8]\nstdw [%r10-8], 0\nsub %r1, 1\njne %r1, 0, -5\nexit'), 1, /uninitialised stack/);
  // A register set only inside the loop body is uninitialised on the path that skips it.
  rejects(program('mov %r1, 3\njeq %r1, 0, +3\nmov %r0, 1\nsub %r1, 1\nja -4\nexit'), 5, /r0 is read/);
});

// ----- every ISA v4 opcode --------------------------------------------------------------------

test('a program using every ISA v4 opcode is accepted', () => {
  const lines = ['mov %r0, 1', 'mov %r1, 2', 'mov32 %r2, 3', 'stdw [%r10-8], 0', 'stdw [%r10-16], 0'];
  for (const op of ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh']) {
    for (const w of ['', '32']) lines.push(`${op}${w} %r0, 3`, `${op}${w} %r0, %r1`);
  }
  lines.push('neg %r0', 'neg32 %r0');
  for (const width of [16, 32, 64]) lines.push(`le${width} %r0`, `be${width} %r0`, `bswap${width} %r0`);
  lines.push('movsx864 %r0, %r1', 'movsx1664 %r0, %r1', 'movsx3264 %r0, %r1', 'movsx832 %r0, %r1', 'movsx1632 %r0, %r1');
  for (const j of ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle']) {
    for (const w of ['', '32']) lines.push(`${j}${w} %r0, 1, +0`, `${j}${w} %r0, %r1, +0`);
  }
  lines.push('ja +0', 'ja32 +0');
  for (const s of ['b', 'h', 'w', 'dw']) lines.push(`st${s} [%r10-8], 1`, `stx${s} [%r10-8], %r0`, `ldx${s} %r3, [%r10-8]`);
  for (const s of ['b', 'h', 'w']) lines.push(`ldxs${s} %r3, [%r10-8]`);
  for (const w of ['', '32']) {
    for (const op of ['add', 'or', 'and', 'xor']) lines.push(`lock ${op}${w} [%r10-16], %r1`, `lock fetch ${op}${w} [%r10-16], %r1`);
    lines.push(`lock xchg${w} [%r10-16], %r1`, `lock cmpxchg${w} [%r10-16], %r1`);
  }
  const start = lines.length;
  lines.push('lddw %r4, 0x1122334455667788', 'lddw %r4, 0', 'lddw %r4, 0', 'lddw %r4, 0');
  lines.push(
    'mov %r6, %r0',
    'call 5',
    'mov %r1, 1',
    'mov %r2, 5',
    'call %r2',
    'call local f',
    'mov %r0, %r6',
    'exit',
    'f:',
    'mov %r0, 0',
    'exit',
  );
  const insns = assemble(lines.join('\n'));
  const fnStart = insns[insns.length - 2]!.pc;
  const patch = (at: number, src: number, imm: number, high = 0): void => {
    const i = insns[at]!;
    Object.assign(i, { src, imm, imm64: (BigInt(high) << 32n) | BigInt(imm >>> 0) });
  };
  patch(start + 1, 4, fnStart - (insns[start + 1]!.pc + 1));
  patch(start + 2, 5, 1);
  patch(start + 3, 6, 1, 4);
  const r = accepts(programFromInsns('every', insns), { allowCallx: true });
  const opcodes = new Set(insns.map((i) => i.opcode));
  // 53 ALU/ALU64 + 49 JMP/JMP32 (callx included) + lddw + 7 LDX + 4 ST + 6 STX opcodes; sdiv, smod
  // and movsx share their opcodes with div, mod and mov.
  assert.is(opcodes.size, 120);
  assert.equal(r.helpersUsed, [5]);
  assert.is(r.usesCallx, true);
  assert.equal(disasm(insns[start + 2]!), 'lddw %r4, 0x1 #map_idx');
});

// ----- conformance vectors --------------------------------------------------------------------

test('every conformance vector without an error section verifies (callx allowed, helper 5 known)', () => {
  if (!existsSync(vectorDir()))
    return void skip('conformance vectors', 'conformance-vectors', `the suite at ${vectorDir()} (or BPF_CONFORMANCE_DIR)`);
  let count = 0;
  for (const path of listVectors()) {
    const vector = readVector(path);
    if (vector.error !== undefined) continue;
    try {
      verify(programFromInsns(vector.name, vectorInsns(vector)), [], { allowCallx: true, memorySafety: false });
    } catch (e) {
      assert.unreachable(`${vector.name}: ${(e as Error).message}`);
    }
    count++;
  }
  assert.ok(count >= 300, `only ${count} vectors`);
});

test.run();
