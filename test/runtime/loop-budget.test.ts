// The loop budget stays only where the verifier gives no bound (docs/design.md "The loop
// budget", compiler/loop-budget.ts). A loop the memory-safety walk proved bounded runs to
// its end even with a budget of 1 back-edge, on compiled wasm and the interpreter alike;
// the same loop verified structurally only keeps its check and faults; a bpf_loop
// callback's loop keeps its check (its calls are counted by nr_loops, not by the walk).
// The sum the fixture stores is checked against the packet's bytes summed here.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble } from '../../compiler/asm.js';
import { compileObject } from '../../compiler/compile.js';
import { loadObject } from '../../compiler/object.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { packageRoot } from '../../core/package-root.js';
import { HELPER_ID } from '../../core/helper-ids.js';
import { PSEUDO, isLdImm64 } from '../../core/isa.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { compileBpf } from '../support/clang.js';

const source = join(packageRoot, 'test', 'fixtures', 'kernel', 'checksum_loop.c');
const objectPath = compileBpf(source);
const object = (): ReturnType<typeof loadObject> => loadObject(new Uint8Array(readFileSync(objectPath)), objectPath);
const packet = Uint8Array.from({ length: 600 }, (_, i) => (i * 7 + 3) & 0xff);
const expectedSum = packet.subarray(0, 512).reduce((a, b) => a + b, 0);

function runChecksum(memorySafety: boolean, engine: 'wasm' | 'interp', budget: number): { action: string; fault?: string; sum: bigint } {
  const { wasm, manifest } = compileObject(object(), { memorySafety });
  const machine = BpfMachine.create(loadWasm(wasm, 'checksum_loop'));
  const r = machine.worker(0, { engine, budget }).runXdp('checksum_loop', packet);
  const value = machine.maps.byNameOrThrow('sums').lookupBytes(new Uint8Array(4))!;
  assert.ok(
    manifest.programs.every((p) => Array.isArray(p.budgetedBackEdges)),
    'every program lists its budgeted back-edges',
  );
  return {
    action: r.actionName,
    ...(r.fault ? { fault: r.fault } : {}),
    sum: new DataView(value.buffer, value.byteOffset).getBigUint64(0, true),
  };
}

test('a verified checksum loop over 512 bytes has no budgeted back-edge', () => {
  const { manifest } = compileObject(object(), {});
  assert.equal(manifest.programs.find((p) => p.name === 'checksum_loop')?.budgetedBackEdges, []);
});

for (const engine of ['wasm', 'interp'] as const) {
  test(`${engine}: the verified loop runs 512 rounds with --budget 1`, () => {
    const r = runChecksum(true, engine, 1);
    assert.is(r.fault, undefined);
    assert.is(r.action, 'XDP_PASS');
    assert.is(r.sum, BigInt(expectedSum));
  });

  test(`${engine}: the same loop verified structurally only faults with --budget 1, runs with a larger one`, () => {
    const small = runChecksum(false, engine, 1);
    assert.is(small.action, 'XDP_ABORTED');
    assert.match(small.fault ?? '', /budget/);
    const large = runChecksum(false, engine, 10_000);
    assert.is(large.action, 'XDP_PASS');
    assert.is(large.sum, BigInt(expectedSum));
  });
}

// main: bpf_loop(4, cb, NULL, 0), then a bounded loop of 3 rounds; cb: a loop of 3 rounds.
const CALLBACK_PROGRAM = `
  mov %r1, 4
  lddw %r2, 0
  mov %r3, 0
  mov %r4, 0
  call ${HELPER_ID.loop}
  mov %r6, 3
main_loop:
  add %r6, -1
  jsgt %r6, 0, main_loop
  mov %r0, 2
  exit
  mov %r7, 3
cb_loop:
  add %r7, -1
  jsgt %r7, 0, cb_loop
  mov %r0, 0
  exit
`;

function callbackObject(): { source: string; license: string; maps: never[]; programs: ReturnType<typeof programFromInsns>[] } {
  const insns = assemble(CALLBACK_PROGRAM);
  const lddw = insns.find((i) => isLdImm64(i.opcode))!;
  // The callback starts after main's exit: a BPF_PSEUDO_FUNC reference, relative as the kernel's.
  const callbackStart = insns.find((i) => i.opcode === 0x95)!.pc + 1;
  lddw.src = PSEUDO.FUNC;
  lddw.imm = callbackStart - (lddw.pc + 1);
  lddw.imm64 = BigInt(lddw.imm); // the encoder writes the 64-bit value (low half = imm)
  const prog = programFromInsns('callback_loops', insns, 'xdp');
  return { source: 'callback_loops', license: 'GPL', maps: [], programs: [prog] };
}

test('a bpf_loop callback keeps its loop budgeted, the main loop does not', () => {
  const obj = callbackObject();
  const prog = obj.programs[0]!;
  const cb = prog.funcs.find((f) => f.start !== 0);
  assert.ok(cb, 'the callback is a function of its own');
  const jumps = prog.insns.filter((i) => i.opcode === 0x65).map((i) => i.pc); // jsgt imm
  assert.is(jumps.length, 2);
  const [mainJump, cbJump] = jumps.sort((a, b) => a - b) as [number, number];
  assert.ok(cbJump >= cb!.start && mainJump < cb!.start);
  const { manifest } = compileObject(obj, {});
  assert.equal(manifest.programs[0]!.budgetedBackEdges, [cbJump]);
  for (const engine of ['wasm', 'interp'] as const) {
    const machine = BpfMachine.create(loadWasm(compileObject(obj, {}).wasm, 'callback_loops'));
    // 4 calls x 2 taken back-edges in the callback = 8 budgeted; the main loop's 2 are free.
    const roomy = machine.worker(0, { engine, budget: 9 }).runXdp('callback_loops', new Uint8Array(60));
    assert.is(roomy.actionName, 'XDP_PASS', `${engine}: ${roomy.fault}`);
    const tight = machine.worker(0, { engine, budget: 8 }).runXdp('callback_loops', new Uint8Array(60));
    assert.is(tight.actionName, 'XDP_ABORTED', engine);
    assert.match(tight.fault ?? '', /budget/);
  }
});

test.run();
