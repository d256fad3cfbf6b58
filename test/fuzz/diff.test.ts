// Differential fuzzing: random valid programs (test/fuzz/generate.ts) must leave the same
// r0 (or the same fault), the same input buffer and the same stack on the compiled module
// and on the interpreter. CI runs FUZZ_COUNT programs (default 2000) from FUZZ_SEED
// (default 1); longer runs: FUZZ_COUNT=100000 node dist/test/fuzz-diff.test.js

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { programFromInsns } from '../../compiler/raw-program.js';
import { disasm } from '../../core/isa.js';
import { generateProgram } from '../support/fuzz/generate.js';
import { prepare } from '../support/sandbox.js';
import { report } from '../support/report.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const BATCH = 250;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

for (let first = 0; first < COUNT; first += BATCH) {
  const last = Math.min(first + BATCH, COUNT);
  test(`programs ${SEED + first}..${SEED + last - 1}: wasm and interpreter agree`, () => {
    for (let i = first; i < last; i++) {
      const seed = SEED + i;
      const gen = generateProgram(seed);
      // Alternate optimisation levels so both the plain and the optimised translation are checked.
      const prepared = prepare(programFromInsns(`fuzz${seed}`, gen.insns), seed % 3);
      const wasm = prepared.run('wasm', gen.mem);
      const interp = prepared.run('interp', gen.mem);
      const where = `seed ${seed} (${gen.description})\n${gen.insns.map((x) => `${x.pc}: ${disasm(x)}`).join('\n')}`;
      assert.is(wasm.fault, interp.fault, `fault differs, ${where}`);
      assert.is(wasm.r0, interp.r0, `r0 differs, ${where}`);
      assert.is(hex(wasm.data), hex(interp.data), `buffer differs, ${where}`);
      assert.is(hex(wasm.stack), hex(interp.stack), `stack differs, ${where}`);
    }
  });
}

test.after(() => report(`fuzz: ${COUNT} random programs from seed ${SEED} compared on wasm and interpreter`));
test.run();
