// Control flow the Relooper must handle with its label variable: loops with two entries
// (irreducible) and a jump table-like chain. Compiled and interpreted results must agree
// with the values worked out by hand.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { prepare } from '../support/sandbox.js';

const IRREDUCIBLE = `
  mov %r0, 0
  ldxb %r3, [%r1+0]
  jeq %r3, 0, second
first:
  add %r0, 1
second:
  add %r0, 2
  jlt %r0, 20, first
  exit
`;

// Two interleaved loops entered at different points depending on the input.
const TWO_ENTRIES = `
  mov %r0, 0
  mov %r4, 0
  ldxb %r3, [%r1+0]
  jne %r3, 0, b
a:
  add %r0, 3
  add %r4, 1
  jgt %r4, 6, out
b:
  add %r0, 5
  jlt %r0, 40, a
out:
  exit
`;

// Every register r0..r9 holds its own value: r_n = 2^n, summed into r0 = 2^10 - 1, plus
// the 1 stored through r10 before r9 is written and read back after: 1024. Two registers
// sharing a wasm local would lose a power of two (or double one), or move the frame.
const ALL_REGISTERS = [
  ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => `  mov %r${n}, ${1 << n}`),
  '  stxdw [%r10-8], %r0',
  '  mov %r9, 512',
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `  add %r0, %r${n}`),
  '  ldxdw %r1, [%r10-8]',
  '  add %r0, %r1',
  '  exit',
].join('\n');

const cases: [string, string, number, bigint][] = [
  ['r0..r10 are eleven registers', ALL_REGISTERS, 0, 1024n],
  // r0: 2, then +1+2 per round until >= 20: 2,5,...,20 -> 20.
  ['irreducible, enter at second', IRREDUCIBLE, 0, 20n],
  // 1+2=3, then 6, ..., 21.
  ['irreducible, enter at first', IRREDUCIBLE, 1, 21n],
  // a: 3, b: 8, a: 11, b: 16, a: 19, b: 24, a: 27, b: 32, a: 35, b: 40 -> exit at b (40 >= 40).
  ['two entries, enter at a', TWO_ENTRIES, 0, 40n],
  // b: 5, a: 8, b: 13, a: 16, b: 21, a: 24, b: 29, a: 32, b: 37, a: 40, b: 45 -> 45.
  ['two entries, enter at b', TWO_ENTRIES, 1, 45n],
];

for (const [name, source, input, expected] of cases) {
  test(name, () => {
    const prepared = prepare(programFromInsns('shape', assemble(source)));
    for (const engine of ['wasm', 'interp'] as const) {
      const out = prepared.run(engine, Uint8Array.of(input, 0, 0, 0, 0, 0, 0, 0));
      assert.is(out.fault, undefined, `${engine}: ${out.fault}`);
      assert.is(out.r0, expected, engine);
    }
  });
}

test.run();
