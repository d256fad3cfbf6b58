// A program that faults — loops past its budget, reads outside memory — aborts that
// packet (XDP_ABORTED, counted), on both engines; the next packet runs normally.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { compileObject } from '../../compiler/compile.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';

// r2 = *(u8 *)(data + 12): 0x01 -> loop forever, 0x02 -> read far outside memory, else PASS.
const PROGRAM = `
  ldxw %r2, [%r1+0]
  ldxb %r2, [%r2+12]
  mov %r3, 0
  jeq %r2, 1, forever
  jeq %r2, 2, wild
  mov %r0, 2
  exit
forever:
  add %r3, 1
  ja forever
wild:
  lddw %r4, 0xfffffff0
  ldxdw %r0, [%r4+0]
  exit
`;

const frame = (kind: number): Uint8Array => Uint8Array.from({ length: 60 }, (_, i) => (i === 12 ? kind : 0));

for (const engine of ['wasm', 'interp'] as const) {
  test(`${engine}: faults abort one packet, the next one runs`, () => {
    const prog = programFromInsns('faulty', assemble(PROGRAM), 'xdp');
    // Unsafe on purpose (the kernel would refuse it): the runtime's containment is under test.
    const obj = { source: 'faulty', license: 'GPL', maps: [], programs: [prog] };
    const loaded = loadWasm(compileObject(obj, { memorySafety: false }).wasm, 'faulty');
    const worker = BpfMachine.create(loaded).worker(0, { engine, budget: 10_000 });
    const loop = worker.runXdp('faulty', frame(1));
    assert.is(loop.actionName, 'XDP_ABORTED');
    assert.match(loop.fault ?? '', /budget/);
    assert.is(worker.runXdp('faulty', frame(0)).actionName, 'XDP_PASS');
    const wild = worker.runXdp('faulty', frame(2));
    assert.is(wild.actionName, 'XDP_ABORTED');
    assert.match(wild.fault ?? '', /out of bounds/);
    assert.is(worker.runXdp('faulty', frame(0)).actionName, 'XDP_PASS');
    assert.is(worker.aborted, 2);
  });
}

test.run();
