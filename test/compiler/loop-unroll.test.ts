// Unrolled loops (compiler/unroll.ts) and packet bounds checks compared as `p >= end`
// (compiler/bounds-check.ts, the verifier's addressCompares). Each loop below can leave
// through the packet's end, a byte value or its count, so packets of consecutive lengths
// (and with the stop byte at consecutive places) leave it in every copy of the unrolled
// body. The interpreter, which runs the instructions as they are, is the reference: the
// compiled module must give the same verdict and bytes on every packet, and so must the
// kernel (BPF_PROG_TEST_RUN) on the C fixture when this machine has it. The first tests
// check that the programs do exercise both transformations.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { compileObject } from '../../compiler/compile.js';
import { buildCfg } from '../../compiler/cfg.js';
import { unrollLoops } from '../../compiler/unroll.js';
import { verify } from '../../compiler/verifier/index.js';
import { loadObject } from '../../compiler/object.js';
import { ADDRESS_DST, ADDRESS_SRC } from '../../compiler/address-compares.js';
import type { BpfObject, Program } from '../../core/model.js';
import { packageRoot } from '../../core/package-root.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { compileBpf } from '../support/clang.js';
import { fixtureEngines } from '../support/fixture-engines.js';
import { skip } from '../support/skip.js';
import { readGoldenProgram } from '../golden/program-file.js';

/**
 * Sums packet bytes until the end, a 0xff byte or 61 bytes (r0 = sum + bytes summed << 16).
 * EXIT is the bounds check of p + 1 (r6) against data_end (r3), in one of its four
 * spellings; `in` continues the loop, `out` leaves it.
 */
const loop = (exit: string): string => `#! verifier kernel
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r0, 0
  mov %r4, 0
again:
  mov %r5, %r2
  add %r5, %r4
  mov %r6, %r5
  add %r6, 1
${exit}
in:
  ldxb %r7, [%r5+0]
  jeq %r7, 0xff, out
  add %r0, %r7
  add %r4, 1
  jne %r4, 61, again
out:
  lsh %r4, 16
  add %r0, %r4
  exit`;

/** Slot of the bounds check in `loop` (ADDRESS_* names which operand is p + 1). */
const CHECK = 8;
const SHAPES: Record<string, { exit: string; operand: number }> = {
  'p + 1 > end': { exit: '  jgt %r6, %r3, out', operand: ADDRESS_DST },
  'end < p + 1': { exit: '  jlt %r3, %r6, out', operand: ADDRESS_SRC },
  'p + 1 <= end': { exit: '  jle %r6, %r3, in\n  ja out', operand: ADDRESS_DST },
  'end >= p + 1': { exit: '  jge %r3, %r6, in\n  ja out', operand: ADDRESS_SRC },
};

/** Packets of every length from 14 to 80 bytes, then 0xff at each place from 14 to 30 in a 100-byte one. */
function packets(): Uint8Array[] {
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 5) % 251);
  const byLength = Array.from({ length: 67 }, (_, i) => bytes(14 + i));
  const byStop = Array.from({ length: 17 }, (_, i) => {
    const b = bytes(100);
    b[14 + i] = 0xff;
    return b;
  });
  return [...byLength, ...byStop];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Blocks the unroller adds to a program. */
function unrolledCopies(prog: Program): number {
  return buildCfg(prog).reduce((n, fn) => n + unrollLoops(fn, prog.insns, () => true).length - fn.blocks.length, 0);
}

for (const [name, shape] of Object.entries(SHAPES)) {
  const object = (): BpfObject => readGoldenProgram(name, loop(shape.exit)).object;

  test(`${name}: the loop is unrolled and the verifier knows p + 1 is a packet address`, () => {
    const obj = object();
    assert.ok(unrolledCopies(obj.programs[0]!) > 0, 'no block copied');
    const insn = obj.programs[0]!.insns.find((i) => i.pc === CHECK)!;
    assert.is(insn.dst === 6 ? ADDRESS_DST : ADDRESS_SRC, shape.operand, 'the check at CHECK compares r6');
    const facts = verify(obj.programs[0]!, obj.maps).addressCompares;
    assert.is((facts?.get(CHECK) ?? 0) & shape.operand, shape.operand, 'p + 1 is not known as a packet address');
  });

  test(`${name}: wasm gives the interpreter's result on every packet`, () => {
    const machine = BpfMachine.create(loadWasm(compileObject(object()).wasm, name));
    const [wasm, interp] = [machine.worker(0, { engine: 'wasm' }), machine.worker(0, { engine: 'interp' })];
    for (const packet of packets()) {
      const want = interp.runXdp(name, packet);
      assert.is(want.fault, undefined, `interp on ${packet.length} bytes: ${want.fault}`);
      const got = wasm.runXdp(name, packet);
      assert.is(`${got.action} ${hex(got.packet)}`, `${want.action} ${hex(want.packet)}`, `${packet.length} bytes`);
    }
  });
}

const fixture = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'unrolled_loops.c'));
const fixtureObject = loadObject(new Uint8Array(readFileSync(fixture)), fixture);
const engines = fixtureEngines(fixture);
const interp = engines.find((e) => e.name === 'interp')!;

for (const prog of fixtureObject.programs) {
  test(`unrolled_loops.c ${prog.name}: its loop is unrolled`, () => {
    assert.ok(unrolledCopies(prog) > 0, 'no block copied');
  });
  for (const engine of engines.filter((e) => e.name !== 'interp')) {
    test(`unrolled_loops.c ${prog.name}: ${engine.name} gives the interpreter's verdict and bytes on every packet`, () => {
      if (engine.missing) return void skip(`unrolled_loops.c on ${engine.name}`, engine.missing);
      for (const packet of packets()) {
        const want = interp.run(prog.name, packet);
        const got = engine.run(prog.name, packet);
        assert.is(`${got.actionName} ${hex(got.packet)}`, `${want.actionName} ${hex(want.packet)}`, `${packet.length} bytes`);
      }
    });
  }
}

test.after(() => engines.forEach((e) => e.close()));
test.run();
