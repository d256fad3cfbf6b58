// bpf_spin_lock at run time: a real lock across workers, and released when a run faults
// holding it. Two threads run the counter program (test/fixtures/spin-lock/accept_counter.c,
// whose read-modify-writes of the value are plain loads and stores under the lock) on the
// same memory: the counts come out exact. A program that faults with the lock held
// (test/fixtures/wasm/spin_lock_fault.c, unsafe on purpose) has it released, on both engines.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { type ArrayMap } from '../../runtime/maps/index.js';
import { BPF_F_LOCK } from '../../runtime/maps/base.js';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const ROUNDS = 200_000;

test('two threads counting under one value lock come out exact', async () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'spin-lock', 'accept_counter.c'));
  const wasm = compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm;
  const machine = BpfMachine.create(loadWasm(wasm, object));
  const flag = machine.maps.heap.alloc(4, 4);
  const frame = new Uint8Array(60).fill(0x11);
  const workers = [1, 2].map(
    (cpu) =>
      new Worker(new URL('../support/spin-lock-worker.js', import.meta.url), {
        workerData: { wasm, memory: machine.memory, cpu, rounds: ROUNDS, startFlag: flag, frame },
      }),
  );
  const done = workers.map((w) => new Promise<number>((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
  await new Promise((r) => setTimeout(r, 300)); // both threads compiled and waiting
  const i32 = new Int32Array(machine.memory.buffer);
  Atomics.store(i32, flag >>> 2, 1);
  Atomics.notify(i32, flag >>> 2);
  const faults = await Promise.all(done);
  assert.equal(faults, [0, 0], 'no run faulted');
  const view = (b: Uint8Array | undefined): DataView => new DataView(b!.buffer, b!.byteOffset);
  const slot = view(machine.maps.byNameOrThrow('slots').lookupBytes(u32(0)));
  assert.is(slot.getUint32(4, true), 2 * ROUNDS, 'slots[0].packets');
  const counter = view(machine.maps.byNameOrThrow('counters').lookupBytes(u32(0x11 & 15)));
  assert.is(counter.getUint32(4, true), 2 * ROUNDS, 'packets');
  assert.is(counter.getBigUint64(8, true), BigInt(2 * ROUNDS * 60), 'bytes');
  assert.is(slot.getUint32(0, true), 0, 'the lock is free at the end');
});

test('a run that faults holding the lock releases it (wasm and interpreter)', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'spin_lock_fault.c'));
  const wasm = compileObject(loadObject(new Uint8Array(readFileSync(object)), object), { memorySafety: false }).wasm;
  const frame = new Uint8Array(60);
  for (const engine of ['wasm', 'interp'] as const) {
    const machine = BpfMachine.create(loadWasm(wasm, object));
    const worker = machine.worker(0, { engine, budget: 10_000 });
    const faulted = worker.runXdp('spin_lock_fault', frame, 1, 1);
    assert.match(faulted.fault ?? '', /budget/, `${engine}: the looping run faults`);
    assert.is(worker.locksReleased, 1, `${engine}: the held lock was released`);
    const value = machine.maps.byNameOrThrow('slots').lookupBytes(u32(0))!;
    assert.is(new DataView(value.buffer, value.byteOffset).getUint32(0, true), 0, `${engine}: the lock word is free`);
    const next = worker.runXdp('spin_lock_fault', frame, 1, 0);
    assert.is(next.fault, undefined, `${engine}: the next run takes the lock`);
    assert.is(
      new DataView(machine.maps.byNameOrThrow('slots').lookupBytes(u32(0))!.buffer).getUint32(4, true),
      2,
      `${engine}: both runs counted`,
    );
  }
});

test('an array update copies a value around its lock word, and with BPF_F_LOCK holds the lock', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'spin-lock', 'accept_counter.c'));
  const machine = BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object));
  const slots = machine.maps.byNameOrThrow('slots') as ArrayMap;
  assert.is(slots.lockOffset, 0, "the lock's offset from BTF");
  const i32 = new Int32Array(machine.memory.buffer);
  const lockWord = slots.storage >>> 2; // slot 0's lock
  // struct counter { lock; u32 packets; u64 bytes; u64 last_len; } with a lock word that is not 0.
  const value = new Uint8Array(24);
  const dv = new DataView(value.buffer);
  dv.setUint32(0, 0xdead, true);
  dv.setUint32(4, 7, true);
  dv.setBigUint64(8, 9n, true);
  Atomics.store(i32, lockWord, 5); // held by the program of CPU 4
  slots.updateBytes(u32(0), value);
  assert.is(Atomics.load(i32, lockWord), 5, 'a plain update leaves the held lock alone');
  const stored = new DataView(slots.lookupBytes(u32(0))!.buffer);
  assert.is(stored.getUint32(4, true), 7, 'packets');
  assert.is(stored.getBigUint64(8, true), 9n, 'bytes');
  Atomics.store(i32, lockWord, 0);
  dv.setUint32(4, 8, true);
  slots.updateBytes(u32(0), value, BPF_F_LOCK);
  assert.is(Atomics.load(i32, lockWord), 0, 'BPF_F_LOCK took the lock and gave it back');
  assert.is(new DataView(slots.lookupBytes(u32(0))!.buffer).getUint32(4, true), 8, 'updated under the lock');
  const plain = machine.maps.byNameOrThrow('plain');
  assert.throws(() => plain.updateBytes(u32(0), new Uint8Array(8), BPF_F_LOCK), /EINVAL/, 'no lock in the value: -EINVAL');
});

test.run();
