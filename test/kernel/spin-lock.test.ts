// bpf_spin_lock against the kernel. The verifier's rules: each fixture in
// test/fixtures/spin-lock/ is refused by the kernel (its verdict taken here) and by our
// memory-safety model with the same reason, or accepted by both. The run: the counter
// program (accept_counter.c) counts the packet corpus under its value locks on the kernel
// (BPF_PROG_TEST_RUN), on wasm and on the interpreter; the maps must be equal after.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { MapError } from '../../runtime/errors.js';
import { packageRoot } from '../../core/package-root.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { corpus, jumboFrame } from '../../packets/corpus.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';
import { fixtureObjects, kernelVerdict, ourVerdict } from '../support/fixture-verdicts.js';
import { pinMainThread } from '../support/cpus.js';

const dir = join(packageRoot, 'test/fixtures/spin-lock');
const unavailable = kernelMissing();

/** The kernel's reason, which ours must also give (undefined: both load it). */
const CASES: { file: string; reason?: RegExp }[] = [
  { file: 'accept_counter' },
  { file: 'lock_swap' },
  // Calls to subprograms are allowed with a lock held (helpers are not).
  { file: 'subprog_while_locked' },
  // bpf_spin_lock is a helper call like any other: the second one is refused as such.
  { file: 'double_lock', reason: /function calls are not allowed while holding a lock/ },
  { file: 'call_while_locked', reason: /function calls are not allowed while holding a lock/ },
  { file: 'unlock_without_lock', reason: /bpf_spin_unlock without taking a lock/ },
  { file: 'unlock_different', reason: /bpf_spin_unlock of different lock/ },
  { file: 'exit_locked', reason: /BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region/ },
  { file: 'direct_access', reason: /bpf_spin_lock cannot be accessed directly by load\/store/ },
  { file: 'no_lock_in_value', reason: /map 'plain' has no valid bpf_spin_lock/ },
  { file: 'wrong_offset', reason: /off 8 doesn't point to 'struct bpf_spin_lock' that is at 0/ },
  { file: 'lock_on_stack', reason: /R1 type=fp expected=map_value, ptr_/ },
  { file: 'lock_maybe_null', reason: /R1 type=map_value_or_null expected=map_value, ptr_/ },
];

const objectOf = fixtureObjects(dir);

for (const c of CASES) {
  test(`${c.file}: ${c.reason ? 'refused' : 'accepted'} by the kernel`, () => {
    if (unavailable) return void skip(`kernel verdict on ${c.file}`, unavailable);
    const verdict = kernelVerdict(objectOf(c.file));
    if (c.reason === undefined) assert.is(verdict, undefined, `kernel refused: ${verdict}`);
    else assert.match(verdict ?? 'accepted', c.reason);
  });
  test(`${c.file}: ${c.reason ? 'refused' : 'accepted'} by bpf2wasm's verifier`, () => {
    const verdict = ourVerdict(objectOf(c.file));
    if (c.reason === undefined) assert.is(verdict, undefined, `refused: ${verdict}`);
    else assert.match(verdict ?? 'accepted', c.reason);
  });
}

test('the counter under value locks: wasm, interpreter and kernel leave the same maps', () => {
  if (unavailable) return void skip('spin-lock differential', unavailable);
  const object = objectOf('accept_counter');
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
  const machines = { wasm: BpfMachine.create(loaded), interp: BpfMachine.create(loaded) };
  const workers = { wasm: machines.wasm.worker(0, { engine: 'wasm' }), interp: machines.interp.worker(0, { engine: 'interp' }) };
  const kernel = KernelObject.load(object);
  const frames = [...corpus(), jumboFrame()].filter((f) => f.bytes.length >= 14);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  try {
    for (let round = 0; round < 3; round++) {
      for (const frame of frames) {
        const want = kernel.testRun('accept_counter', frame.bytes).retval;
        for (const engine of ['wasm', 'interp'] as const) {
          const r = workers[engine].runXdp('accept_counter', frame.bytes);
          assert.is(r.fault, undefined, `${engine} on '${frame.name}'`);
          assert.is(r.action, want, `${engine} verdict on '${frame.name}'`);
        }
      }
    }
    for (const map of ['counters', 'slots']) {
      const theirs = kernel
        .dump(map)
        .map((e) => `${hex(e.key)}=${hex(e.values[0]!)}`)
        .sort();
      assert.ok(theirs.length > 1 || map === 'slots', `${map}: several keys counted`);
      for (const engine of ['wasm', 'interp'] as const) {
        const ours = [...machines[engine].maps.byNameOrThrow(map).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
        assert.equal(ours, theirs, `${engine}: ${map}`);
      }
    }
    report(`spin-lock differential: ${frames.length * 3} packets counted under value locks, maps equal on wasm, interpreter and kernel`);
  } finally {
    kernel.close();
  }
});

/** A `struct counter` value (common.h) with `lock` in its lock word. */
function counter(lock: number, packets: number, bytes: number, last: number): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, lock >>> 0, true);
  dv.setUint32(4, packets, true);
  dv.setBigUint64(8, BigInt(bytes), true);
  dv.setBigUint64(16, BigInt(last), true);
  return b;
}
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const BPF_F_LOCK = 4;

test('BPF_F_LOCK on a hash map: updates, lookups and a program under the lock as in the kernel', () => {
  if (unavailable) return void skip('BPF_F_LOCK differential', unavailable);
  const object = objectOf('lock_updates');
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const errnoOf = (e: unknown): string => {
    if (e instanceof MapError) return e.errno;
    throw e;
  };
  // Userspace's lock words are never 0 here: the kernel ignores them, and so must we.
  const updates: [string, number, Uint8Array, number][] = [
    ['counters', 1, counter(0xdeadbeef, 1, 2, 3), 0],
    ['counters', 1, counter(0xffffffff, 4, 5, 6), BPF_F_LOCK],
    ['counters', 1, counter(1, 9, 9, 9), BPF_F_LOCK | 1],
    ['counters', 3, counter(1, 9, 9, 9), BPF_F_LOCK | 2],
    ['counters', 3, counter(2, 10, 11, 12), BPF_F_LOCK],
    ['counters', 3, counter(2, 13, 14, 15), BPF_F_LOCK | 2],
    ['counters', 3, counter(1, 9, 9, 9), BPF_F_LOCK | 8],
    ['counters', 4, counter(1, 9, 9, 9), 8],
    ['slots', 0, counter(5, 16, 17, 18), BPF_F_LOCK],
    ['slots', 9, counter(5, 16, 17, 18), BPF_F_LOCK],
    ['plain_hash', 1, new Uint8Array(8).fill(3), BPF_F_LOCK],
    ['plain_hash', 1, new Uint8Array(8).fill(3), 0],
    ['plain', 9, new Uint8Array(8).fill(3), BPF_F_LOCK],
  ];
  const lookups: [string, number, number][] = [
    ['counters', 1, 0],
    ['counters', 1, BPF_F_LOCK],
    ['counters', 3, BPF_F_LOCK],
    ['counters', 5, BPF_F_LOCK],
    ['counters', 1, 8],
    ['slots', 0, BPF_F_LOCK],
    ['plain_hash', 1, BPF_F_LOCK],
    ['plain_hash', 1, 0],
  ];
  for (const engine of ['wasm', 'interp'] as const) {
    const kernel = KernelObject.load(object);
    try {
      const machine = BpfMachine.create(loaded);
      const worker = machine.worker(0, { engine });
      const map = (name: string) => machine.maps.byNameOrThrow(name);
      for (const [name, key, value, flags] of updates) {
        const theirs = kernel.tryUpdate(name, u32(key), value, flags);
        let ours: string | undefined;
        try {
          map(name).updateBytes(u32(key), value, flags);
        } catch (e) {
          ours = errnoOf(e);
        }
        assert.is(ours, theirs, `${engine}: update ${name}[${key}] flags ${flags}`);
      }
      for (const [name, key, flags] of lookups) {
        const got = kernel.tryLookup(name, u32(key), flags);
        const theirs = typeof got === 'string' || got === undefined ? got : hex(got[0]!);
        let ours: string | undefined;
        try {
          const v = map(name).lookupBytes(u32(key), flags);
          ours = v && hex(v);
        } catch (e) {
          ours = errnoOf(e);
        }
        assert.is(ours, theirs, `${engine}: lookup ${name}[${key}] flags ${flags}`);
      }
      // The program locks key 1's value (free, whatever userspace wrote) and writes key 2 with BPF_F_LOCK.
      const frame = corpus().find((f) => f.bytes.length >= 14)!.bytes;
      const want = kernel.testRun('lock_updates', frame).retval;
      const r = worker.runXdp('lock_updates', frame);
      assert.is(r.fault, undefined, `${engine}: run`);
      assert.is(r.action, want, `${engine}: verdict`);
      // Once more with key 2 present: BPF_F_LOCK now updates it in place under its lock.
      assert.is(worker.runXdp('lock_updates', frame).action, kernel.testRun('lock_updates', frame).retval, `${engine}: second verdict`);
      map('counters').updateBytes(u32(3), counter(7, 19, 20, 21), BPF_F_LOCK | 2);
      kernel.update('counters', u32(3), counter(7, 19, 20, 21), BPF_F_LOCK | 2);
      for (const name of ['counters', 'slots', 'plain_hash']) {
        const theirs = kernel
          .dump(name)
          .map((e) => `${hex(e.key)}=${hex(e.values[0]!)}`)
          .sort();
        const ours = [...map(name).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
        assert.equal(ours, theirs, `${engine}: ${name}`);
      }
    } finally {
      kernel.close();
    }
  }
  report(
    `BPF_F_LOCK differential: ${updates.length} updates, ${lookups.length} lookups and two runs agree with the kernel on wasm and interpreter`,
  );
});

test('a hash update without BPF_F_LOCK swaps in another element: old pointers read the old value, as in the kernel', () => {
  if (unavailable) return void skip('spin-lock element swap differential', unavailable);
  const object = objectOf('lock_swap');
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const frame = new Uint8Array(64);
  frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
  const unpin = pinMainThread(0); // the kernel's spare element is per CPU: keep the runs on one
  const kernel = KernelObject.load(object);
  let compared = 0;
  try {
    for (const [program, map, other] of [
      ['lock_swap', 'counters', counter(0xffffffff, 600, 1, 2)],
      ['plain_swap', 'swap_plain', new Uint8Array(8).fill(6)],
    ] as const) {
      const runs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const k = kernel.testRun(program, frame);
        runs.push(`${k.retval} ${hex(k.data.subarray(14, 46))}`);
        // Userspace replaces too (its own spare), between the runs.
        kernel.update(map, u32(6), other, 0);
      }
      // The steps tell the swap apart from an update in place (the old pointer's reads).
      assert.is.not(runs[0]!.slice(2, 10), runs[0]!.slice(10, 18), `${program}: the kernel's old pointer reads the old value`);
      for (const engine of ['wasm', 'interp'] as const) {
        const machine = BpfMachine.create(loaded);
        const worker = machine.worker(0, { engine });
        const ours = machine.maps.byNameOrThrow(map);
        for (let i = 0; i < 3; i++) {
          const r = worker.runXdp(program, frame);
          assert.is(r.fault, undefined, `${program} ${engine} run ${i}`);
          assert.is(`${r.action} ${hex(r.packet.subarray(14, 46))}`, runs[i], `${program} ${engine} run ${i}: what the pointers read`);
          ours.updateBytes(u32(6), other, 0);
          compared++;
        }
        const theirs = kernel
          .dump(map)
          .map((e) => `${hex(e.key)}=${hex(e.values[0]!)}`)
          .sort();
        assert.equal([...ours.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort(), theirs, `${program} ${engine}: the map after`);
      }
    }
  } finally {
    kernel.close();
    unpin();
  }
  report(
    `hash element swap (with and without a lock): ${compared} runs (8 pointer reads each) and the maps equal on wasm, interpreter and kernel`,
  );
});

test.run();
