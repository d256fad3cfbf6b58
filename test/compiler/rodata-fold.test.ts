// Loads from .rodata at a constant offset are folded to constants at compile time (the
// verifier reads them out of the object's bytes, as the kernel does for a frozen map), and
// nothing else is: not a load whose offset differs between paths, not writable .data.
// Oracle: the bytes given here by hand, and the interpreter, which always reads memory.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { isLdImm64, PSEUDO } from '../../core/isa.js';
import { MAP_FLAG } from '../../core/map-types.js';
import type { BpfObject } from '../../core/model.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';

/** 16 bytes of global data: u32 0x11223344 at 4, u64 0x0102030405060708 at 8 (little-endian). */
const DATA = Uint8Array.of(0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 8, 7, 6, 5, 4, 3, 2, 1);

/**
 * The program's one map made global data of `section` (a single-entry array holding DATA),
 * and each `lddw %rN, map:g` a pointer into its value at the next of `offsets`.
 */
function globalDataObject(name: string, text: string, section: '.rodata' | '.data', offsets: number[]): BpfObject {
  const { object } = readGoldenProgram(name, `#! map g array key=4 value=16 entries=1\n#! verifier kernel\n${text}`);
  const map = object.maps[0]!;
  object.maps[0] = {
    ...map,
    name: section,
    section,
    flags: MAP_FLAG.MMAPABLE | (section === '.rodata' ? MAP_FLAG.RDONLY_PROG : 0),
    initialData: DATA.slice(),
  };
  const refs = object.programs[0]!.insns.filter((i) => isLdImm64(i.opcode) && i.src === PSEUDO.MAP_IDX);
  assert.is(refs.length, offsets.length, 'one offset per map reference');
  refs.forEach((insn, k) => {
    insn.src = PSEUDO.MAP_IDX_VALUE;
    insn.imm64 = (BigInt(offsets[k]!) << 32n) | BigInt(insn.imm);
  });
  return object;
}

function run(object: BpfObject, engine: 'wasm' | 'interp', ifindex = 1, setUp?: (m: BpfMachine) => void): number {
  const machine = BpfMachine.create(loadWasm(compileObject(object).wasm, object.source));
  setUp?.(machine);
  const r = machine.worker(0, { engine }).runXdp(object.source, new Uint8Array(60), ifindex);
  assert.is(r.fault, undefined);
  return r.action;
}

// r0 = (u32 at 4) + (u64 at 8), truncated to the verdict's 32 bits: 0x11223344 + 0x05060708.
const SUM = `
  lddw %r1, map:g
  ldxw %r0, [%r1+0]
  ldxdw %r2, [%r1+4]
  add %r0, %r2
  exit
`;
const SUM_VALUE = (0x11223344 + 0x05060708) >>> 0;

test('.rodata loads at constant offsets become constants in the module', () => {
  const object = globalDataObject('fold', SUM, '.rodata', [4]);
  // Unoptimised, so that binaryen does not fold the two constants' sum into one.
  const { text } = compileObject(object, { wantText: true, optimize: 0 });
  assert.ok(text!.includes('(i64.const 287454020)'), 'u32 0x11223344 as a constant');
  assert.ok(text!.includes('(i64.const 72623859790382856)'), 'u64 0x0102030405060708 as a constant');
  assert.not.ok(/i64\.load/.test(text!), 'no 64-bit-register load left in the module');
  for (const engine of ['wasm', 'interp'] as const) assert.is(run(object, engine), SUM_VALUE, engine);
});

test('.data is writable: its loads stay loads and see a value written at run time', () => {
  const object = globalDataObject('data', SUM, '.data', [4]);
  const { text } = compileObject(object, { wantText: true, optimize: 0 });
  assert.not.ok(text!.includes('(i64.const 287454020)'));
  const bump = (m: BpfMachine): void => {
    const value = DATA.slice();
    value[4] = 0x45; // u32 at 4 becomes 0x11223345
    m.maps.byNameOrThrow('.data').updateBytes(new Uint8Array(4), value);
  };
  for (const engine of ['wasm', 'interp'] as const) assert.is(run(object, engine, 1, bump), SUM_VALUE + 1, engine);
});

// The same load reads offset 4 or offset 8 depending on the ingress ifindex: constant on
// each path, different between them, so it is not folded.
const TWO_PATHS = `
  ldxw %r6, [%r1+12]
  lddw %r1, map:g
  jeq %r6, 1, read
  lddw %r1, map:g
read:
  ldxw %r0, [%r1+0]
  exit
`;

test('a load whose constant differs between paths is not folded', () => {
  const object = globalDataObject('two_paths', TWO_PATHS, '.rodata', [4, 8]);
  for (const engine of ['wasm', 'interp'] as const) {
    assert.is(run(object, engine, 1), 0x11223344, `${engine}, ifindex 1: offset 4`);
    assert.is(run(object, engine, 2), 0x05060708, `${engine}, ifindex 2: offset 8`);
  }
});

test.run();
