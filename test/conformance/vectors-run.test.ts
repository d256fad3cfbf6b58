// The eBPF ISA conformance vectors (../shared/bpf_conformance, 313 files) on both engines:
// each vector's program must verify, compile, and leave the expected r0 on the compiled
// module and on the interpreter. Non-passes are reported with the reason.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { listVectors, readVector } from '../support/conformance-vectors.js';
import { prepare, type Prepared } from '../support/sandbox.js';
import { report } from '../support/report.js';

const tally = { wasm: 0, interp: 0, total: 0 };
const failures: string[] = [];

for (const path of listVectors()) {
  const vector = readVector(path);
  tally.total++;
  let prepared: Prepared | undefined;
  let setupError: string | undefined;
  try {
    prepared = prepare(programFromInsns('entry', assemble(vector.asm)));
  } catch (e) {
    setupError = (e as Error).message;
  }
  for (const engine of ['wasm', 'interp'] as const) {
    test(`${vector.name} (${engine})`, () => {
      try {
        assert.ok(prepared, `does not compile: ${setupError}`);
        const out = prepared.run(engine, vector.mem);
        assert.is(out.fault, undefined, `faulted: ${out.fault}`);
        assert.is(out.r0, vector.result, `r0 = 0x${out.r0?.toString(16)}, expected 0x${vector.result?.toString(16)}`);
        tally[engine]++;
      } catch (e) {
        failures.push(`${vector.name} (${engine}): ${(e as Error).message}`);
        throw e;
      }
    });
  }
}

test.after(() => {
  for (const f of failures) report(`non-pass ${f}`);
  report(`conformance: wasm ${tally.wasm}/${tally.total}, interpreter ${tally.interp}/${tally.total}`);
});

test.run();
