// Array lookups at a constant key (compiler/constant-keys.ts): a map_lookup_elem whose key
// the same block wrote as a constant becomes the element's address (or NULL past the end)
// at compile time. Checked twice: which calls codegen treats so (listed here by hand from
// each program, including the cases it must leave alone), and what the programs compute on
// compiled wasm and on the interpreter (which always reads the key from the stack), against
// values worked out by hand from the maps: the last valid index, one past it, 0xffffffff,
// a per-CPU array on two CPUs, and a value the control plane changes between runs.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCfg } from '../../compiler/cfg.js';
import { compileObject } from '../../compiler/compile.js';
import { planConstantKeys } from '../../compiler/constant-keys.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';
import { R6_FROM_RESULT, storeR6AndPass } from '../support/lookup-asm.js';

const MAPS = `#! verifier kernel
#! map a array key=4 value=8 entries=4
#! map pc percpu_array key=4 value=8 entries=4
#! map out array key=4 value=8 entries=2`;

/** After the lookup (r0): out[1] = *r0, or 0xdead for NULL; returns XDP_PASS. Slot of its first instruction: the lookup's + 1. */
const STORE_RESULT = `
${R6_FROM_RESULT}
${storeR6AndPass(1, 16)}`;

/** The key at r10-4 written as `store`, then a lookup in `map`. */
const lookup = (store: string, map = 'a'): string => `${MAPS}
${store}
  mov %r2, %r10
  add %r2, -4
  lddw %r1, map:${map}
  call 1${STORE_RESULT}`;

interface Case {
  text: string;
  /** Slots of the calls planned with a constant key, and the key. */
  planned: [number, number][];
}

// Slot of `call 1` after a key store of n slots: n + 4 (mov, add, lddw's two slots); out's lookup comes 9 slots later.
const outCall = (first: number): [number, number] => [first + 9, 1];

const CASES: Record<string, Case> = {
  // A register's constant, stored as a word: the last valid index.
  last_index: { text: lookup('  mov %r1, 3\n  stxw [%r10-4], %r1'), planned: [[6, 3], outCall(6)] },
  // One past the end: NULL, decided at compile time.
  past_the_end: { text: lookup('  stw [%r10-4], 4'), planned: [[5, 4], outCall(5)] },
  // mov of -1 is all ones; its low word as the key: far past the end.
  all_ones: { text: lookup('  mov %r1, -1\n  stxw [%r10-4], %r1'), planned: [[6, 0xffffffff], outCall(6)] },
  // The key's bytes from byte stores and the high half of a wider store.
  byte_stores: {
    text: lookup('  stdw [%r10-8], 0x02000000\n  stb [%r10-4], 2\n  stb [%r10-3], 0\n  stb [%r10-2], 0'),
    planned: [[8, 2], outCall(8)],
  },
  // A per-CPU array at its last index.
  percpu: { text: lookup('  stw [%r10-4], 3', 'pc'), planned: [[5, 3], outCall(5)] },
  // A store through a copy of r10 is a store to the stack: the key is 2.
  copy_of_r10: { text: lookup('  stw [%r10-4], 1\n  mov %r7, %r10\n  stw [%r7-4], 2'), planned: [[7, 2], outCall(7)] },
  // A store through a register the block cannot place (here r10 spilled and filled) may write the key: not planned (it is 2).
  aliased_store: {
    text: lookup('  stxdw [%r10-16], %r10\n  stw [%r10-4], 1\n  ldxdw %r7, [%r10-16]\n  stw [%r7-4], 2'),
    planned: [outCall(8)],
  },
  // A helper call between the store and the lookup: not planned.
  call_between: { text: lookup('  stw [%r10-4], 1\n  call 7'), planned: [outCall(6)] },
  // A byte of the key not written since the call: not planned (the key is 1, its high byte the 0 from before the call).
  partly_written: { text: lookup('  stw [%r10-4], 0\n  call 7\n  sth [%r10-4], 1\n  stb [%r10-2], 0'), planned: [outCall(8)] },
  // The key register loaded from memory: not planned (the key is 3).
  loaded_key: { text: lookup('  stw [%r10-8], 3\n  ldxw %r1, [%r10-8]\n  stxw [%r10-4], %r1'), planned: [outCall(7)] },
};

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);
const readU64 = (b: Uint8Array | undefined): bigint => new DataView(b!.buffer, b!.byteOffset).getBigUint64(0, true);

for (const [name, c] of Object.entries(CASES)) {
  test(`${name}: the lookups planned with a constant key`, () => {
    const prog = readGoldenProgram(name, c.text).object.programs[0]!;
    const planned: [number, number][] = [];
    for (const fn of buildCfg(prog)) for (const block of fn.blocks) planned.push(...planConstantKeys(prog.insns, block.first, block.end));
    assert.equal(
      planned.sort((x, y) => x[0] - y[0]),
      c.planned,
    );
  });
}

/** What out[1] must hold for each case, from the maps as `provision` leaves them: a[i] = 100 + i, pc[i] on CPU c = 1000 * (c + 1) + i. */
const EXPECTED: Record<string, (cpu: number) => bigint> = {
  last_index: () => 103n,
  past_the_end: () => 0xdeadn,
  all_ones: () => 0xdeadn,
  byte_stores: () => 102n,
  percpu: (cpu) => BigInt(1000 * (cpu + 1) + 3),
  copy_of_r10: () => 102n,
  aliased_store: () => 102n,
  call_between: () => 101n,
  partly_written: () => 101n,
  loaded_key: () => 103n,
};

function provision(machine: BpfMachine): void {
  const a = machine.maps.byNameOrThrow('a');
  for (let i = 0; i < 4; i++) a.updateBytes(u32(i), u64(BigInt(100 + i)));
  const pc = machine.maps.byNameOrThrow('pc');
  for (let i = 0; i < 4; i++) {
    const all = new Uint8Array(8 * pc.cpus);
    for (let cpu = 0; cpu < pc.cpus; cpu++) all.set(u64(BigInt(1000 * (cpu + 1) + i)), 8 * cpu);
    pc.updateBytes(u32(i), all);
  }
}

for (const [name, c] of Object.entries(CASES)) {
  test(`${name}: wasm and the interpreter find the value worked out by hand, on CPUs 0 and 1`, () => {
    const machine = BpfMachine.create(loadWasm(compileObject(readGoldenProgram(name, c.text).object, { maxCpus: 2 }).wasm, name));
    provision(machine);
    for (const engine of ['wasm', 'interp'] as const) {
      for (const cpu of [0, 1]) {
        machine.maps.byNameOrThrow('out').updateBytes(u32(1), u64(0n));
        const r = machine.worker(cpu, { engine }).runXdp(name, new Uint8Array(60));
        assert.is(r.actionName, 'XDP_PASS', `${engine}: ${r.fault}`);
        assert.is(readU64(machine.maps.byNameOrThrow('out').lookupBytes(u32(1))), EXPECTED[name]!(cpu), `${engine} on CPU ${cpu}`);
      }
    }
  });
}

test('a value the control plane changes between runs is read at the folded address', () => {
  const name = 'last_index';
  const machine = BpfMachine.create(loadWasm(compileObject(readGoldenProgram(name, CASES[name]!.text).object).wasm, name));
  provision(machine);
  const worker = machine.worker(0, { engine: 'wasm' });
  for (const value of [7n, 0xfffffffffffffffen, 0n]) {
    machine.maps.byNameOrThrow('a').updateBytes(u32(3), u64(value));
    worker.runXdp(name, new Uint8Array(60));
    assert.is(readU64(machine.maps.byNameOrThrow('out').lookupBytes(u32(1))), value);
  }
});

test.run();
