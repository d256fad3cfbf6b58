// map_lookup_elem on an array map is inlined when the block shows which map r1 holds (the
// `lddw` of its handle). That knowledge must be dropped when an LDX or ALU instruction
// writes the register: here r1 is last loaded with map b's handle and then overwritten
// with map a's (reloaded from the stack, or computed), so the lookup must read map a.
// a[0] = 3 (XDP_TX), b[0] = 1 (XDP_DROP): the program returns the value it found. On
// compiled wasm and the interpreter (which has no such tracking).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';

const MAPS = `
#! map a array key=4 value=8 entries=4
#! map b array key=4 value=8 entries=4
  stw [%r10-4], 0
`;

const LOOKUP_AND_RETURN = `
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, miss
  ldxdw %r0, [%r0+0]
  exit
miss:
  mov %r0, 0
  exit
`;

const PROGRAMS: Record<string, string> = {
  // a's handle spilled, b's loaded into r1, then r1 reloaded from the spill (LDX).
  reload_from_stack: `${MAPS}
  lddw %r1, map:a
  stxdw [%r10-16], %r1
  lddw %r1, map:b
  ldxdw %r1, [%r10-16]
${LOOKUP_AND_RETURN}`,
  // b's handle in r1, then r1 = 0 + a's handle (ALU).
  computed_by_alu: `${MAPS}
  lddw %r6, map:a
  lddw %r1, map:b
  mov %r1, 0
  add %r1, %r6
${LOOKUP_AND_RETURN}`,
};

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);

for (const [name, text] of Object.entries(PROGRAMS)) {
  const { object } = readGoldenProgram(name, text);
  const { wasm } = compileObject(object, { memorySafety: false });
  for (const engine of ['wasm', 'interp'] as const) {
    test(`${engine}: ${name}: the lookup reads map a`, () => {
      const machine = BpfMachine.create(loadWasm(wasm, name));
      machine.maps.byNameOrThrow('a').updateBytes(u32(0), u64(3n));
      machine.maps.byNameOrThrow('b').updateBytes(u32(0), u64(1n));
      const r = machine.worker(0, { engine }).runXdp(name, new Uint8Array(60));
      assert.is(r.actionName, 'XDP_TX', r.fault);
    });
  }
}

test.run();
