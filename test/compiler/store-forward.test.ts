// Store-to-load forwarding (compiler/store-forward.ts): a load that spans bytes written by
// two or more stores of its block, through the same unchanged register, takes the stores'
// values instead of reading memory. Each program writes into the packet and reads back;
// checked twice: which loads codegen forwards (written here by hand from the program), and
// the result on wasm and on the interpreter (which always reads memory) against the value
// worked out by hand from the bytes written.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { buildCfg } from '../../compiler/cfg.js';
import { planBlockForwarding } from '../../compiler/store-forward.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';

interface Case {
  /** After r2 = data with 8 bytes checked; r0 is the result. */
  body: string;
  /** Instruction slots of the loads forwarded. */
  forwarded: number[];
  result: number;
}

const prologue = `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r6, %r2
  add %r6, 8
  jgt %r6, %r3, out`;
const epilogue = `
  exit
out:
  mov %r0, 0
  exit`;
/** Slot of the first instruction of a case's body. */
const BODY = 5;

const CASES: Record<string, Case> = {
  // Two byte stores read back as one 16-bit word (katran's IPv4 header checksum).
  two_bytes_one_half: {
    body: `
  stb [%r2+0], 0x45
  stb [%r2+1], 0x12
  ldxh %r0, [%r2+0]`,
    forwarded: [BODY + 2],
    result: 0x1245,
  },
  // The later store wins over the earlier one's byte.
  later_store_wins: {
    body: `
  mov %r4, 0x11223344
  stxw [%r2+0], %r4
  stb [%r2+1], 0xaa
  ldxw %r0, [%r2+0]`,
    forwarded: [BODY + 3],
    result: 0x1122aa44,
  },
  // Only the stored bytes of a wide register count; a load at an offset inside the stores.
  narrow_stores_shifted_load: {
    body: `
  mov %r4, 0x7fbbaa
  stxh [%r2+2], %r4
  stxb [%r2+4], %r4
  ldxh %r0, [%r2+3]`,
    forwarded: [BODY + 3],
    result: 0xaabb,
  },
  // The base register changed in between: memory.
  base_changed: {
    body: `
  stb [%r2+0], 1
  stb [%r2+1], 2
  add %r2, 1
  ldxh %r0, [%r2-1]`,
    forwarded: [],
    result: 0x0201,
  },
  // A store through another register may alias: memory, which has that store's byte.
  other_register_store: {
    body: `
  mov %r5, %r2
  stb [%r2+0], 1
  stb [%r2+1], 2
  stb [%r5+0], 9
  ldxh %r0, [%r2+0]`,
    forwarded: [],
    result: 0x0209,
  },
  // A byte the block did not store: memory (the packet's zero).
  not_covered: {
    body: `
  stb [%r2+0], 1
  stb [%r2+1], 2
  ldxw %r0, [%r2+0]`,
    forwarded: [],
    result: 0x0201,
  },
};

function object(name: string, c: Case) {
  return readGoldenProgram(name, `#! verifier kernel\n${prologue}${c.body}${epilogue}`).object;
}

for (const [name, c] of Object.entries(CASES)) {
  test(`${name}: the loads forwarded`, () => {
    const prog = object(name, c).programs[0]!;
    const forwarded: number[] = [];
    for (const fn of buildCfg(prog))
      for (const block of fn.blocks) forwarded.push(...planBlockForwarding(prog.insns, block.first, block.end).loads.keys());
    assert.equal(
      forwarded.sort((a, b) => a - b),
      c.forwarded,
    );
  });
  test(`${name}: the same result on wasm and the interpreter`, () => {
    const machine = BpfMachine.create(loadWasm(compileObject(object(name, c)).wasm, name));
    for (const engine of ['wasm', 'interp'] as const) {
      const r = machine.worker(0, { engine }).runXdp(name, new Uint8Array(60));
      assert.is(r.fault, undefined, `${engine}: ${r.fault}`);
      assert.is(r.action, c.result, engine);
    }
  });
}

test.run();
