// Containment at run time: whatever a program does that our verifier lets through — a
// trap inside the compiled module's own map code while it holds a map's lock, a helper
// given a pointer outside linear memory — aborts that packet only (XDP_ABORTED, counted as
// a fault), frees the locks it held, and leaves the next packets, the other workers and
// the control plane working. Both engines give the same verdicts for bad pointers.
// Every wait is bounded, so a regression fails instead of hanging the suite.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DESC_WORD, HASH_DESC, LOCK_SPIN_LIMIT, POOL_BYTES } from '../../core/map-layout.js';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine, type Engine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { MapError } from '../../runtime/errors.js';
import { queryInstance, startControlServer } from '../../datapath/control.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'containment.c'));
// Unsafe on purpose (bad pointers to helpers; the kernel refuses it): structural verification
// only, so that the runtime's containment is what is tested.
const wasm = compileObject(loadObject(new Uint8Array(readFileSync(object)), object), { memorySafety: false }).wasm;
const loaded = loadWasm(wasm, object);
const PROGRAM = 'containment';
const OP_UPDATE = 0;
const OP_TRAP_UNDER_LOCK = 10;
/** Ops 1..9 of the fixture: each passes a pointer outside memory to one helper. */
const BAD_POINTER_OPS: Record<number, string> = {
  1: 'map_update_elem value',
  2: 'map_lookup_elem key (hash)',
  3: 'map_lookup_elem key (array)',
  4: 'csum_diff from',
  5: 'ringbuf_output data',
  6: 'trace_printk format',
  7: 'xdp_load_bytes buffer',
  8: 'map_delete_elem key',
  9: 'map_update_elem key (LRU)',
};
/** A fault from a helper's pointer check (runtime/helpers.ts, codegen-maps.ts) or a wasm access trap. */
const POINTER_FAULT = /helper pointer argument outside memory|memory access out of bounds/;

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('hex') : 'absent');

function frame(op: number, key = 0, value = 0): Uint8Array {
  const f = new Uint8Array(60);
  f[14] = op;
  f[15] = key;
  f[16] = value;
  return f;
}

/** Rejects after `ms`: a regression (a lock never freed) fails the test instead of hanging it. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function inOtherThread(machine: BpfMachine, cpu: number, f: Uint8Array): Promise<{ action: string; fault?: string; ms: number }> {
  const worker = new Worker(new URL('../support/containment-worker.js', import.meta.url), {
    workerData: { wasm, memory: machine.memory, cpu, frame: f },
  });
  const done = new Promise<{ action: string; fault?: string; ms: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return within(10_000, `worker thread (CPU ${cpu})`, done).finally(() => void worker.terminate());
}

const lockWord = (machine: BpfMachine, name: string): number =>
  new Int32Array(machine.memory.buffer)[(machine.maps.byNameOrThrow(name).handle >>> 2) + DESC_WORD.LOCK]!;

test('wasm: a trap inside the map update, lock held: that packet aborts, the lock is freed, everyone carries on', async () => {
  const machine = BpfMachine.create(loaded);
  const hash = machine.maps.byNameOrThrow('hash');
  hash.updateBytes(u32(1), u64(1));
  const worker = machine.worker(0);

  const trapped = worker.runXdp(PROGRAM, frame(OP_TRAP_UNDER_LOCK, 5, 5));
  assert.is(trapped.actionName, 'XDP_ABORTED');
  assert.match(trapped.fault ?? '', /wasm trap: memory access out of bounds/);
  assert.is(worker.aborted, 1, 'counted as a fault');
  assert.is(worker.locksReleased, 1, 'the trap left the hash map locked by this worker; the runtime freed it');
  assert.is(lockWord(machine, 'hash'), 0);

  // The next packet of this worker: its update takes the same lock.
  assert.is(worker.runXdp(PROGRAM, frame(OP_UPDATE, 1, 7)).actionName, 'XDP_TX');
  assert.is(hex(hash.lookupBytes(u32(1))), hex(u64(7)));

  // Another worker thread, on the compiled module's own map code.
  const other = await inOtherThread(machine, 1, frame(OP_UPDATE, 1, 9));
  assert.is(other.action, 'XDP_TX', other.fault);
  assert.is(hex(hash.lookupBytes(u32(1))), hex(u64(9)));

  // The control socket, on the runtime's map code.
  const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-contain-'));
  const path = join(dir, 'control.sock');
  const server = await startControlServer(machine, path);
  try {
    await within(
      10_000,
      'control socket update',
      queryInstance(path, { op: 'update', map: 'hash', key: hex(u32(1)), value: hex(u64(11)) }),
    );
    const lines = await within(10_000, 'control socket lookup', queryInstance(path, { op: 'lookup', map: 'hash', key: hex(u32(1)) }));
    assert.match(lines.join('\n'), new RegExp(`value ${hex(u64(11))}`));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two CPUs replacing one key, with a trap under the lock between: compiled spares match the runtime, the pool is never touched', () => {
  // The kernel's rule (alloc_extra_elems): each CPU's spare exists from map creation, so a
  // replace takes no free node. Compiled (wasm) and runtime (interp) replaces must pick the
  // same entries, packet by packet, from CPUs 0 and 1 taking turns on key 1.
  const engines: Engine[] = ['wasm', 'interp'];
  const machines = engines.map(() => BpfMachine.create(loaded));
  const workers = engines.map((engine, i) => [0, 1].map((cpu) => machines[i]!.worker(cpu, { engine })));
  const view = (m: BpfMachine): { pool: number[]; spares: number[] } => {
    const i32 = new Int32Array(m.memory.buffer);
    const w = m.maps.byNameOrThrow('hash').handle >>> 2;
    const pool = i32[w + HASH_DESC.POOL]! >>> 2;
    const spares = i32[w + HASH_DESC.SPARES]! >>> 2;
    return { pool: Array.from(i32.subarray(pool, pool + POOL_BYTES / 4)), spares: Array.from(i32.subarray(spares, spares + 3)) };
  };
  machines.forEach((m) => m.maps.byNameOrThrow('hash').updateBytes(u32(1), u64(1)));
  const pools = machines.map((m) => view(m).pool);
  const turn = (cpu: number, value: number): void => {
    engines.forEach((engine, i) => {
      const r = workers[i]![cpu]!.runXdp(PROGRAM, frame(OP_UPDATE, 1, value));
      assert.equal([r.actionName, r.fault], ['XDP_TX', undefined], `${engine} CPU ${cpu}`);
      assert.is(hex(machines[i]!.maps.byNameOrThrow('hash').lookupBytes(u32(1))), hex(u64(value)), `${engine} CPU ${cpu}`);
      assert.equal(view(machines[i]!).pool, pools[i], `${engine}: CPU ${cpu}'s replace took no pool node`);
    });
    if (engines.length === 2)
      assert.equal(view(machines[0]!).spares, view(machines[1]!).spares, `after CPU ${cpu}: the same spares on both engines`);
  };
  [1, 0, 1, 1, 0].forEach((cpu, n) => turn(cpu, 10 + n));
  // The wasm machine only (the interpreter does not trap there): CPU 1 traps while it holds the
  // lock, its pool's free list broken; both CPUs then replace as before.
  const trapped = workers[0]![1]!.runXdp(PROGRAM, frame(OP_TRAP_UNDER_LOCK, 5, 5));
  assert.match(trapped.fault ?? '', /wasm trap: memory access out of bounds/);
  pools[0] = view(machines[0]!).pool;
  engines.pop();
  [0, 1, 0].forEach((cpu, n) => turn(cpu, 20 + n));
});

test('a lock whose owner never lets go: -EBUSY after the spin limit, never a hung thread', () => {
  const machine = BpfMachine.create(loaded);
  const hash = machine.maps.byNameOrThrow('hash');
  hash.updateBytes(u32(1), u64(1));
  // A token no live worker has (as if a worker thread died holding the lock).
  const i32 = new Int32Array(machine.memory.buffer);
  i32[(hash.handle >>> 2) + DESC_WORD.LOCK] = 1000;
  for (const engine of ['wasm', 'interp'] as Engine[]) {
    const worker = machine.worker(0, { engine });
    const start = performance.now();
    assert.is(worker.runXdp(PROGRAM, frame(OP_UPDATE, 1, 2)).actionName, 'XDP_DROP', `${engine}: the update gave up`);
    assert.ok(performance.now() - start < 30_000, `${engine}: bounded (${LOCK_SPIN_LIMIT} attempts)`);
    assert.is(worker.locksReleased, 0, "a fault-free run frees nothing, and never another owner's lock");
  }
  try {
    hash.updateBytes(u32(1), u64(3));
    assert.unreachable('the control plane update should fail');
  } catch (e) {
    assert.instance(e, MapError);
    assert.match((e as Error).message, /EBUSY/);
  }
  assert.is(i32[(hash.handle >>> 2) + DESC_WORD.LOCK], 1000, 'nobody stole the lock');
});

test('a helper given a pointer outside memory: XDP_ABORTED, a fault, the same on both engines; the next packet runs', () => {
  const verdicts: Record<Engine, string[]> = { wasm: [], interp: [] };
  for (const engine of ['wasm', 'interp'] as Engine[]) {
    const machine = BpfMachine.create(loaded);
    const traces: string[] = [];
    const worker = machine.worker(0, { engine, trace: (line) => traces.push(line) });
    for (const [op, what] of Object.entries(BAD_POINTER_OPS)) {
      const r = worker.runXdp(PROGRAM, frame(Number(op), 3, 4));
      assert.is(r.actionName, 'XDP_ABORTED', `${engine}: ${what}`);
      assert.match(r.fault ?? '', POINTER_FAULT, `${engine}: ${what}: ${r.fault}`);
      const next = worker.runXdp(PROGRAM, frame(OP_UPDATE, Number(op), Number(op)));
      assert.is(next.actionName, 'XDP_TX', `${engine}: the packet after ${what}`);
      verdicts[engine].push(r.actionName, next.actionName);
    }
    assert.is(worker.aborted, Object.keys(BAD_POINTER_OPS).length, `${engine}: every bad pointer counted`);
    assert.is(worker.locksReleased, 0, `${engine}: pointers are checked before any lock is taken`);
    assert.equal(traces, [], `${engine}: nothing printed through a bad format`);
    const hash = machine.maps.byNameOrThrow('hash');
    assert.is(hash.count(), Object.keys(BAD_POINTER_OPS).length, `${engine}: the bad updates inserted nothing`);
    assert.is(hex(hash.lookupBytes(u32(3))), hex(u64(3)), `${engine}: key 3 holds what the good packet wrote`);
  }
  assert.equal(verdicts.wasm, verdicts.interp);
});

test.run();
