// The eBPF ISA conformance vectors again, but entering as ELF objects: each vector's
// program is encoded into its 8-byte slots, wrapped in a minimal ELF (support/minimal-elf)
// and loaded through compiler/object.ts, so the ELF reader, the linker's walk over the
// code and isa.ts `decode` (lddw's two slots above all) stand between the vector and the
// engines, as they do for every real object. r0 on both engines must be the vector's
// expected result. vectors-run.test.ts runs the assembler's instructions directly.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { encode } from '../../core/isa.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { loadObject } from '../../compiler/object.js';
import { listVectors, readVector } from '../support/conformance-vectors.js';
import { minimalBpfElf } from '../support/minimal-elf.js';
import { prepare, type Prepared } from '../support/sandbox.js';

for (const path of listVectors()) {
  const vector = readVector(path);
  if (vector.result === undefined) continue;
  let prepared: Prepared | undefined;
  let setupError: string | undefined;
  try {
    const insns = assemble(vector.asm);
    // One symbol per function (the entry and each local-call target), as in clang's objects.
    const functions = programFromInsns('entry', insns).funcs;
    const object = loadObject(minimalBpfElf(encode(insns), functions), `${vector.name}.o`);
    assert.is(object.programs.length, 1);
    prepared = prepare(object.programs[0]!);
  } catch (e) {
    setupError = (e as Error).message;
  }
  for (const engine of ['wasm', 'interp'] as const) {
    test(`${vector.name} from ELF (${engine})`, () => {
      assert.ok(prepared, `does not load or compile: ${setupError}`);
      const out = prepared.run(engine, vector.mem);
      assert.is(out.fault, undefined, `faulted: ${out.fault}`);
      assert.is(out.r0, vector.result, `r0 = 0x${out.r0?.toString(16)}, expected 0x${vector.result?.toString(16)}`);
    });
  }
}

test.run();
