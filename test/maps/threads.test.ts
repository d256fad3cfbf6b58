// Maps shared between threads: a worker opens the same memory, finds the maps from their
// descriptors alone, writes them and creates inner maps the main thread then sees; and
// concurrent writers from two threads keep the maps exact (the spin lock works).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { MAP_TYPE } from '../../core/map-types.js';
import { openMap } from '../../runtime/maps/index.js';
import { fixture, type Fixture, hex, readU32, u32 } from '../support/maps-fixture.js';

const specs = [
  { name: 'h', type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 20_000 },
  { name: 'outer', type: MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4 },
  { name: 'lru', type: MAP_TYPE.LRU_PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 100 },
];

function run(f: Fixture, job: string, id: number, rounds: number, startFlag = 0): Promise<number> {
  const worker = new Worker(new URL('../support/maps-worker.js', import.meta.url), {
    workerData: { memory: f.memory, manifest: f.manifest, layout: f.layout, job, id, rounds, startFlag },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

function start(f: Fixture, flag: number): void {
  const i32 = new Int32Array(f.memory.buffer);
  Atomics.store(i32, flag >>> 2, 1);
  Atomics.notify(i32, flag >>> 2);
}

test('a worker writes maps and creates an inner map; the main thread sees it all', async () => {
  const f = fixture(specs);
  const pagesBefore = f.memory.buffer.byteLength;
  const inner = await run(f, 'insert', 1, 1000);
  const h = f.map('h');
  assert.is(h.count(), 1000);
  for (const i of [0, 1, 500, 999]) assert.is(hex(h.lookupBytes(u32(1e6 + i))), hex(u32(i)));
  // The inner map came from the worker: the main thread finds it through the outer map.
  const outer = f.map('outer');
  const handle = outer.lookup(f.put(u32(1)), 0);
  assert.is(handle, inner);
  assert.ok(f.memory.buffer.byteLength > pagesBefore, 'the worker grew the memory for its 2.4 MB array');
  const viaRegistry = f.table.get(handle)!;
  assert.is(viaRegistry.name, 'inner_w1');
  assert.is(hex(viaRegistry.lookupBytes(u32(299_999))), '0102030405060708');
  assert.is(hex(openMap(f.memory, handle).lookupBytes(u32(299_999))), '0102030405060708');
  // The main thread's next inner map does not reuse the worker's descriptor.
  const mine = f.table.createInnerMap({ name: 'main', type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 });
  assert.is(mine, handle + f.layout.descSize);
});

test('two threads incrementing one counter under the map lock come out exact', async () => {
  const f = fixture(specs);
  const h = f.map('h');
  h.updateBytes(u32(7), u32(0));
  const flag = f.room(4);
  const rounds = 3_000_000; // long enough that the two loops overlap (without the lock, updates are lost)
  const done = Promise.all([run(f, 'increment', 1, rounds, flag), run(f, 'increment', 2, rounds, flag)]);
  await new Promise((r) => setTimeout(r, 200)); // let both workers reach the start line
  start(f, flag);
  const results = await done;
  assert.is(readU32(h.lookupBytes(u32(7))!), 2 * rounds);
  assert.ok(results.every((r) => r <= 2 * rounds));
});

test('two threads inserting and deleting in one hash map concurrently lose nothing', async () => {
  const f = fixture(specs);
  const flag = f.room(4);
  const rounds = 8000;
  const done = Promise.all([run(f, 'race', 1, rounds, flag), run(f, 'race', 2, rounds, flag)]);
  await new Promise((r) => setTimeout(r, 200));
  start(f, flag);
  await done;
  const h = f.map('h');
  assert.is(h.count(), rounds);
  const keys = [...h.keys()].map((k) => readU32(k)).sort((a, b) => a - b);
  const expected = [1, 2].flatMap((id) => [...Array(rounds / 2).keys()].map((j) => id * 1e6 + 2 * j + 1));
  assert.equal(keys, expected);
  for (const k of [1e6 + 1, 2e6 + 7999]) assert.is(readU32(h.lookupBytes(u32(k))!), Math.floor(k / 1e6));
});

test('two threads filling one LRU map concurrently keep it consistent and nearly full', async () => {
  const f = fixture(specs);
  const flag = f.room(4);
  const done = Promise.all([run(f, 'lru', 1, 20_000, flag), run(f, 'lru', 2, 20_000, flag)]);
  await new Promise((r) => setTimeout(r, 200));
  start(f, flag);
  await done;
  const lru = f.map('lru');
  // The kernel's LRU evicts in batches: each CPU's local free list may hold up to
  // target_free = clamp(100 / 4 CPUs / 2, 1, 128) = 12 nodes no entry uses yet.
  assert.ok(lru.count() <= 100 && lru.count() >= 100 - 2 * 12, `count ${lru.count()}`);
  assert.is([...lru.keys()].length, lru.count());
  for (const k of lru.keys()) assert.ok(lru.lookupBytes(k));
});

test.run();
