// Stack slots kept in wasm locals (compiler/verifier/stack-locals.ts): an 8-byte slot only
// spilled and filled whole by its own function becomes a local; a slot anything else
// touches stays in memory: a callee or a bpf_loop callback through a pointer to the
// caller's frame, a helper given a pointer into the frame, a narrower load. Each program
// is checked twice: which accesses the verifier hands codegen (by slot, written here by
// hand from the program), and its result on wasm and the interpreter (which always uses
// memory) against the value the program computes by hand.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { verify } from '../../compiler/verifier/index.js';
import { isLdImm64, PSEUDO } from '../../core/isa.js';
import type { BpfObject } from '../../core/model.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';

/** The frame's top slot (r10-8) and the one below it (r10-16), as the verifier numbers them. */
const SLOT_8 = 63;
const SLOT_16 = 62;

interface Case {
  text: string;
  /** Instruction slot -> stack slot of the accesses kept in locals. */
  locals: [number, number][];
  result: number;
  setUp?: (m: BpfMachine) => void;
  /** The `lddw` at this slot loads the function at the label's slot (bpf_loop's callback). */
  callback?: { at: number; target: number };
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);

const CASES: Record<string, Case> = {
  // r6 spilled, clobbered, filled: both accesses become the slot's local.
  spill_fill: {
    text: `
  mov %r6, 7
  stxdw [%r10-8], %r6
  mov %r6, 0
  ldxdw %r0, [%r10-8]
  exit`,
    locals: [
      [1, SLOT_8],
      [3, SLOT_8],
    ],
    result: 7,
  },
  // The callee reads the caller's slot through r1: memory.
  callee_reads_caller: {
    text: `
  mov %r6, 5
  stxdw [%r10-8], %r6
  mov %r1, %r10
  add %r1, -8
  call local get
  exit
get:
  ldxdw %r0, [%r1+0]
  exit`,
    locals: [],
    result: 5,
  },
  // map_lookup_elem's key lives at r10-8 (memory); r6's spill at r10-16, below the key, is a local.
  helper_key: {
    text: `
#! map a array key=4 value=8 entries=4
  mov %r6, 1
  stxdw [%r10-16], %r6
  stdw [%r10-8], 1
  lddw %r1, map:a
  mov %r2, %r10
  add %r2, -8
  call 1
  jeq %r0, 0, miss
  ldxdw %r0, [%r0+0]
  ldxdw %r6, [%r10-16]
  add %r0, %r6
  exit
miss:
  mov %r0, 0
  exit`,
    locals: [
      [1, SLOT_16],
      [10, SLOT_16],
    ],
    // a[1] = 3, plus the filled 1; a[0] = 9 would show a key left at 0.
    result: 4,
    setUp: (m) => {
      const a = m.maps.byNameOrThrow('a');
      a.updateBytes(u32(0), u64(9n));
      a.updateBytes(u32(1), u64(3n));
    },
  },
  // A 4-byte load of the slot: memory.
  narrow_load: {
    text: `
  lddw %r6, 0x100000007
  stxdw [%r10-8], %r6
  ldxw %r0, [%r10-8]
  exit`,
    locals: [],
    result: 7,
  },
  // bpf_loop's callback increments the caller's slot through its context pointer: memory.
  loop_callback: {
    text: `
  mov %r6, 9
  stxdw [%r10-8], %r6
  mov %r1, 1
  lddw %r2, 0
  mov %r3, %r10
  add %r3, -8
  mov %r4, 0
  call 181
  ldxdw %r0, [%r10-8]
  exit
cb:
  ldxdw %r3, [%r2+0]
  add %r3, 1
  stxdw [%r2+0], %r3
  mov %r0, 0
  exit`,
    locals: [],
    result: 10,
    callback: { at: 3, target: 11 },
  },
};

function object(name: string, c: Case): BpfObject {
  const { object } = readGoldenProgram(name, `#! verifier kernel\n${c.text}`);
  if (c.callback) {
    const { at, target } = c.callback;
    const insn = object.programs[0]!.insns.find((i) => i.pc === at && isLdImm64(i.opcode))!;
    insn.src = PSEUDO.FUNC;
    insn.imm = target - (at + 1);
    insn.imm64 = BigInt(insn.imm);
    object.programs[0]!.funcs.push({ name: `${name}_cb`, start: target });
  }
  return object;
}

for (const [name, c] of Object.entries(CASES)) {
  test(`${name}: the accesses kept in locals`, () => {
    const o = object(name, c);
    const facts = verify(o.programs[0]!, o.maps).stackLocals;
    assert.equal(
      [...(facts ?? [])].sort((a, b) => a[0] - b[0]),
      c.locals,
    );
  });
  test(`${name}: the same result on wasm and the interpreter`, () => {
    const o = object(name, c);
    const machine = BpfMachine.create(loadWasm(compileObject(o).wasm, name));
    c.setUp?.(machine);
    for (const engine of ['wasm', 'interp'] as const) {
      const r = machine.worker(0, { engine }).runXdp(name, new Uint8Array(60));
      assert.is(r.fault, undefined, `${engine}: ${r.fault}`);
      assert.is(r.action, c.result, engine);
    }
  });
}

test("a global function writing the caller's variable through a pointer: the slot stays in memory, the write is seen", () => {
  const path = compileBpf(join(packageRoot, 'test', 'fixtures', 'stack-locals', 'global_writes_caller.c'));
  const o = loadObject(new Uint8Array(readFileSync(path)), path);
  const program = o.programs.find((p) => p.name === 'global_writes_caller')!;
  const facts = verify(program, o.maps).stackLocals;
  assert.is(facts?.size ?? 0, 0, 'no access of the caller kept in a local');
  const machine = BpfMachine.create(loadWasm(compileObject(o).wasm, path));
  for (const engine of ['wasm', 'interp'] as const) {
    const r = machine.worker(0, { engine }).runXdp('global_writes_caller', new Uint8Array(60));
    assert.is(r.fault, undefined, `${engine}: ${r.fault}`);
    assert.is(r.action, 3, engine);
  }
});

test.run();
