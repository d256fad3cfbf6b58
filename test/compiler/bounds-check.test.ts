// Which register codegen compares in place of a bounds check's `q` (compiler/bounds-check.ts):
// the p of `q = p; q += 1` in the same block, only while both still hold those values at
// the jump. Cases written by hand from the rule; each block ends in the compare.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { predecessorOperands, type Predecessors } from '../../compiler/bounds-check.js';
import { ADDRESS_DST, ADDRESS_SRC } from '../../compiler/address-compares.js';

const BOTH = ADDRESS_DST | ADDRESS_SRC;
const CASES: [string, string, number, Predecessors][] = [
  ['q = p; q += 1; q > end', 'mov %r6, %r5\n add %r6, 1\n jgt %r6, %r3, +0', BOTH, { dst: 5 }],
  ['end < q, q the right operand', 'mov %r6, %r5\n add %r6, 1\n jlt %r3, %r6, +0', BOTH, { src: 5 }],
  ['other work between', 'mov %r6, %r5\n mov %r7, 3\n add %r6, 1\n ldxb %r8, [%r5+0]\n jle %r6, %r3, +0', BOTH, { dst: 5 }],
  ['not known as a packet address', 'mov %r6, %r5\n add %r6, 1\n jgt %r6, %r3, +0', ADDRESS_SRC, {}],
  ['p written after the copy', 'mov %r6, %r5\n add %r6, 1\n add %r5, 2\n jgt %r6, %r3, +0', BOTH, {}],
  ['p loaded after the copy', 'mov %r6, %r5\n add %r6, 1\n ldxb %r5, [%r6+0]\n jgt %r6, %r3, +0', BOTH, {}],
  ['q + 2', 'mov %r6, %r5\n add %r6, 2\n jgt %r6, %r3, +0', BOTH, {}],
  ['q written after the increment', 'mov %r6, %r5\n add %r6, 1\n mov %r6, %r4\n jgt %r6, %r3, +0', BOTH, {}],
  ['a 32-bit copy', 'mov32 %r6, %r5\n add %r6, 1\n jgt %r6, %r3, +0', BOTH, {}],
  ['the copy in an earlier block', 'add %r6, 1\n jgt %r6, %r3, +0', BOTH, {}],
  ['a call clobbers p (r1-r5)', 'mov %r6, %r5\n add %r6, 1\n call 5\n jgt %r6, %r3, +0', BOTH, {}],
  ['a call keeps r6-r9', 'mov %r7, %r6\n add %r7, 1\n call 5\n jgt %r7, %r8, +0', BOTH, { dst: 6 }],
  ['an atomic fetch writes p', 'mov %r6, %r5\n add %r6, 1\n lock fetch add [%r10-8], %r5\n jgt %r6, %r3, +0', BOTH, {}],
];

for (const [name, text, known, want] of CASES) {
  test(name, () => {
    const insns = assemble(text);
    assert.equal(predecessorOperands(insns, 0, insns.length - 1, known), want);
  });
}

test.run();
