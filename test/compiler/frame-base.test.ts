// Stack accesses r10 - k are addressed from the frame's base, r10 - 512, with 512 - k as the
// load's or store's own offset (codegen.ts address()). A program writes a distinct value of
// every width at the frame's edges (r10 - 512, r10 - 1) and in between, in its own frame and
// in a callee's (whose r10 is the caller's minus one frame), through r10 and through a copy
// of it, and reads them back the other way; the result packs what it read. wasm against the
// interpreter, and against the value worked out from the stores.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';

const TEXT = `#! verifier kernel
#! map out array key=4 value=8 entries=1
  stb [%r10-1], 0x11
  sth [%r10-512], 0x2233
  stw [%r10-260], 0x44556677
  mov %r1, 0x7a
  stxb [%r10-2], %r1
  call local callee
  mov %r6, %r0
  mov %r2, %r10
  add %r2, -512
  ldxh %r3, [%r2+0]
  lsh %r6, 16
  or %r6, %r3
  ldxb %r3, [%r10-1]
  lsh %r6, 8
  or %r6, %r3
  ldxb %r3, [%r10-2]
  lsh %r6, 8
  or %r6, %r3
  mov %r2, %r10
  add %r2, -260
  ldxw %r3, [%r2+0]
  xor %r6, %r3
  stxdw [%r10-16], %r6
  stw [%r10-20], 0
  mov %r2, %r10
  add %r2, -20
  lddw %r1, map:out
  call 1
  jeq %r0, 0, done
  ldxdw %r1, [%r10-16]
  stxdw [%r0+0], %r1
done:
  mov %r0, 2
  exit
callee:
  stdw [%r10-512], 0x0102
  stb [%r10-1], 0x03
  mov %r1, %r10
  add %r1, -1
  ldxb %r0, [%r1+0]
  mov %r1, %r10
  add %r1, -512
  ldxdw %r2, [%r1+0]
  lsh %r0, 16
  or %r0, %r2
  exit`;

test('frame edges, through r10 and a copy, in a caller and its callee', () => {
  const { object } = readGoldenProgram('frame_base', TEXT);
  const machine = BpfMachine.create(loadWasm(compileObject(object).wasm, 'frame_base'));
  // callee: (0x03 << 16) | 0x0102; then << 16 | 0x2233, << 8 | 0x11, << 8 | 0x7a, ^ 0x44556677.
  const want = ((((((0x03n << 16n) | 0x0102n) << 16n) | 0x2233n) << 16n) | 0x117an) ^ 0x44556677n;
  for (const engine of ['wasm', 'interp'] as const) {
    machine.maps.byNameOrThrow('out').updateBytes(new Uint8Array(4), new Uint8Array(8));
    const r = machine.worker(0, { engine }).runXdp('frame_base', new Uint8Array(60));
    assert.is(r.actionName, 'XDP_PASS', `${engine}: ${r.fault}`);
    const out = machine.maps.byNameOrThrow('out').lookupBytes(new Uint8Array(4))!;
    assert.is(new DataView(out.buffer, out.byteOffset).getBigUint64(0, true), want, engine);
  }
});

test.run();
