// The hash family: HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS with
// ARRAY_OF_MAPS. Expectations follow the kernel's rules (kernel/bpf/hashtab.c), worked
// out by hand: flags against presence, E2BIG when full, LRU eviction as the kernel's LRU
// does it (kernel/bpf/bpf_lru_list.c: batches, reference bits, rotation and shrink; the
// kernel tests in test/kernel/lru-pressure.test.ts check these rules at scale), per-CPU
// values, and map-in-map through handles.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_TYPE } from '../../core/map-types.js';
import { HASH_DESC, POOL_BYTES, POOL_WORD } from '../../core/map-layout.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, HashMap, openMap } from '../../runtime/maps/index.js';
import { bytes, errnoOf, fixture, hex, readU32, u32 } from '../support/maps-fixture.js';

const key = (n: number): Uint8Array => {
  const k = new Uint8Array(10);
  new DataView(k.buffer).setUint32(3, n, true); // unaligned field, odd key size
  k[9] = n & 0xff;
  return k;
};

test('hash: NOEXIST/EXIST/ANY, full map, delete, an update swapping in a spare entry', () => {
  const f = fixture([{ name: 'h', type: MAP_TYPE.HASH, keySize: 10, valueSize: 4, maxEntries: 3 }]);
  const h = f.map('h');
  assert.is(h.lookupBytes(key(1)), undefined);
  assert.is(
    errnoOf(() => h.updateBytes(key(1), u32(10), BPF_EXIST)),
    'ENOENT',
  );
  h.updateBytes(key(1), u32(10), BPF_NOEXIST);
  assert.is(
    errnoOf(() => h.updateBytes(key(1), u32(11), BPF_NOEXIST)),
    'EEXIST',
  );
  h.updateBytes(key(1), u32(11), BPF_EXIST);
  assert.is(hex(h.lookupBytes(key(1))), '0b000000');
  h.updateBytes(key(2), u32(20));
  h.updateBytes(key(3), u32(30));
  assert.is(h.count(), 3);
  assert.is(
    errnoOf(() => h.updateBytes(key(4), u32(40))),
    'E2BIG',
  );
  h.updateBytes(key(3), u32(31), BPF_ANY); // replacing still works when full
  // Address-level calls return -errno, as helpers see them.
  const k4 = f.put(key(4));
  const v = f.put(u32(40));
  assert.is(h.update(k4, v, BPF_ANY, 0), -7);
  assert.is(h.update(k4, v, 4, 0), -22);
  assert.is(h.delete(k4), -2);
  assert.is(
    errnoOf(() => h.deleteBytes(key(4))),
    'ENOENT',
  );
  // An update swaps in another entry (the kernel's htab_map_update_elem): a pointer into the
  // old value still reads it, until the next update from the same CPU (here the control
  // plane) refills that entry, its spare.
  const ptr = h.lookup(f.put(key(2)), 0);
  h.updateBytes(key(2), u32(22));
  assert.is(readU32(f.read(ptr, 4)), 20);
  assert.is(hex(h.lookupBytes(key(2))), '16000000');
  h.updateBytes(key(2), u32(23));
  assert.is(readU32(f.read(ptr, 4)), 23);
  assert.is(h.lookup(f.put(key(2)), 0), ptr, 'the spare came back as the entry');
  h.deleteBytes(key(2));
  assert.is(h.lookup(f.put(key(2)), 0), 0);
  assert.is(h.count(), 2);
  assert.is(h.update(k4, v, BPF_NOEXIST, 0), 0, 'a deleted slot is free again');
  assert.is(hex(h.lookupBytes(key(4))), '28000000');
  assert.is(
    errnoOf(() => h.updateBytes(bytes(1, 2), u32(1))),
    'EINVAL',
  );
});

test('hash: every CPU has its spare from creation; CPUs replacing the same key never touch the pool', () => {
  // The kernel takes a HASH map's extra_elems (one per CPU) at creation (alloc_extra_elems),
  // so replacing an existing key needs no free node from any CPU, even the first time, and
  // even when the pool's free list is broken (a program trapped while it corrupted it).
  const cpus = 4;
  const f = fixture([{ name: 'h', type: MAP_TYPE.HASH, keySize: 10, valueSize: 4, maxEntries: 2 }], cpus);
  const h = f.map('h');
  h.updateBytes(key(1), u32(1));
  h.updateBytes(key(2), u32(2));
  const pool = new Int32Array(f.memory.buffer)[(h.handle >>> 2) + HASH_DESC.POOL]! >>> 2;
  const poolWords = (): number[] => Array.from(new Int32Array(f.memory.buffer).subarray(pool, pool + POOL_BYTES / 4));
  const before = poolWords();
  const k1 = f.put(key(1));
  const replaceFrom = (cpu: number, value: number): void => {
    assert.is(h.update(k1, f.put(u32(value)), BPF_ANY, cpu), 0, `CPU ${cpu} replaces key 1`);
    assert.is(hex(h.lookupBytes(key(1))), hex(u32(value)));
  };
  // Two CPUs taking turns on one key: a pointer CPU 0 got keeps the value it saw until the
  // CPU whose spare the old entry became (CPU 1) replaces again.
  const seen = h.lookup(k1, 0);
  replaceFrom(1, 10);
  replaceFrom(0, 11);
  assert.is(readU32(f.read(seen, 4)), 1, 'the old entry is CPU 1 spare, not yet refilled');
  replaceFrom(1, 12);
  assert.is(readU32(f.read(seen, 4)), 12, "CPU 1's next replace refilled it");
  for (let cpu = 0; cpu < cpus; cpu++) replaceFrom(cpu, 20 + cpu);
  h.updateBytes(key(1), u32(30)); // the control plane's spare
  assert.equal(poolWords(), before, 'no replace took a node from the pool');
  // A broken free list (the containment fixture's trap leaves one) does not reach replaces.
  new Int32Array(f.memory.buffer)[pool + POOL_WORD.FREE] = 0xfffffff0 | 0;
  for (let cpu = cpus - 1; cpu >= 0; cpu--) replaceFrom(cpu, 40 + cpu);
  assert.is(h.count(), 2);
  assert.equal(
    [1, 2].map((n) => hex(h.lookupBytes(key(n)))),
    [hex(u32(40)), hex(u32(2))],
  );
});

test('hash: iteration visits every key exactly once, also after deletes', () => {
  const n = 500;
  const f = fixture([{ name: 'h', type: MAP_TYPE.HASH, keySize: 10, valueSize: 8, maxEntries: n }]);
  const h = f.map('h');
  for (let i = 0; i < n; i++) h.updateBytes(key(i * 7919), new Uint8Array(8).fill(i & 0xff));
  for (let i = 0; i < n; i += 3) h.deleteBytes(key(i * 7919));
  const seen = [...h.keys()].map((k) => new DataView(k.buffer).getUint32(3, true));
  const expected = [...Array(n).keys()].filter((i) => i % 3 !== 0).map((i) => i * 7919);
  assert.is(seen.length, expected.length);
  assert.equal(
    [...seen].sort((a, b) => a - b),
    expected,
  );
  assert.is(h.count(), expected.length);
  // A key that is not in the map restarts at the first key (kernel behaviour).
  assert.is(hex(h.getNextKeyBytes(key(3 * 7919))), hex(h.getNextKeyBytes(undefined)));
  const entries = [...h.entries()];
  assert.is(entries.length, expected.length);
  for (const [k, val] of entries) assert.is(val[0], (new DataView(k.buffer).getUint32(3, true) / 7919) & 0xff);
});

test('percpu hash: a program writes its CPU; new entries start zero elsewhere; userspace sees all', () => {
  const f = fixture([{ name: 'p', type: MAP_TYPE.PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 8 }], 2);
  const p = f.map('p');
  const k = f.put(u32(5));
  assert.is(p.update(k, f.put(u32(0xaa)), BPF_ANY, 1), 0);
  assert.is(hex(p.lookupBytes(u32(5))), '0000000000000000' + 'aa00000000000000');
  assert.is(readU32(f.read(p.lookup(k, 1), 4)), 0xaa);
  assert.is(readU32(f.read(p.lookup(k, 0), 4)), 0);
  assert.is(p.lookup(k, 2), 0, 'no such CPU');
  p.updateBytes(u32(5), bytes(1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0));
  assert.is(readU32(f.read(p.lookup(k, 0), 4)), 1);
  assert.is(readU32(f.read(p.lookup(k, 1), 4)), 2);
  p.updateBytes(u32(6), u32(9)); // one value for every CPU
  assert.is(hex(p.lookupBytes(u32(6))), '0900000000000000'.repeat(2));
});

/** An LRU map's lists as numbers (HashMap.lruListKeys), empty lists left out. */
function lists(m: HashMap): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(m.lruListKeys())
      .filter(([, keys]) => keys.length)
      .map(([name, keys]) => [name, keys.map((k) => readU32(k))]),
  );
}

test('lru hash: batches of target_free, flush to inactive, ref bits, shrink from the tail', () => {
  // One CPU, 4 entries: target_free = clamp(4 / 1 / 2, 1, 128) = 2.
  const f = fixture([{ name: 'lru', type: MAP_TYPE.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 4 }], 1);
  const lru = f.map('lru') as HashMap;
  const put = (n: number): number => lru.update(f.put(u32(n)), f.put(u32(n * 10)), BPF_ANY, 0);
  for (const n of [1, 2]) assert.is(put(n), 0);
  assert.equal(lists(lru), { 'cpu0.pending': [2, 1] }, "new entries wait on the CPU's pending list");
  assert.is(put(3), 0); // refill: 1 and 2 flushed to inactive (tail first), two fresh nodes
  assert.equal(lists(lru), { inactive: [2, 1], 'cpu0.pending': [3] });
  assert.ok(lru.lookup(f.put(u32(1)), 0), "a program lookup sets 1's reference bit");
  assert.ok(lru.lookupBytes(u32(2)), 'a control-plane lookup does not');
  assert.is(put(4), 0);
  assert.equal(lists(lru), { inactive: [2, 1], 'cpu0.pending': [4, 3] }, 'lookups move nothing');
  // Refill with no free node: flush 3, 4; rotation moves referenced 1 to active; the
  // shrink evicts target_free = 2 unreferenced entries from the inactive tail: 2 and 3.
  assert.is(put(5), 0);
  assert.equal(lists(lru), { active: [1], inactive: [4], 'cpu0.pending': [5] });
  assert.is(lru.lookupBytes(u32(3)), undefined);
  assert.is(put(6), 0); // the second freed node: no eviction
  assert.equal([...lru.keys()].map((k) => readU32(k)).sort(), [1, 4, 5, 6]);
  assert.is(lru.count(), 4);
  // Delete puts the node on the global free list; the next refill takes it, and shrinks
  // one more from the inactive tail (5; 6 came later).
  lru.deleteBytes(u32(4));
  assert.is(put(7), 0);
  assert.equal(lists(lru), { active: [1], inactive: [6], 'cpu0.pending': [7] });
  assert.equal([...lru.keys()].map((k) => readU32(k)).sort(), [1, 6, 7]);
  // Updating an existing key takes a new node (referenced) and frees the old one.
  assert.is(put(6), 0);
  assert.equal(lists(lru), { active: [1], 'cpu0.pending': [6, 7] });
  assert.is(hex(lru.lookupBytes(u32(6))), '3c000000');
  // A refused update still took a node first: that refill flushed 7 to inactive and 6
  // (referenced) to active, rotated both unreferenced to inactive, and shrank 7.
  assert.is(
    errnoOf(() => lru.updateBytes(u32(9), u32(90), BPF_EXIST)),
    'ENOENT',
  );
  assert.equal([...lru.keys()].map((k) => readU32(k)).sort(), [1, 6]);
  assert.is(
    errnoOf(() => lru.updateBytes(u32(6), u32(70), BPF_NOEXIST)),
    'EEXIST',
  );
  assert.equal([...lru.keys()].map((k) => readU32(k)).sort(), [1, 6]);
});

test('lru hash, BPF_F_NO_COMMON_LRU: one LRU per CPU, rotated on every insert, shrunk by 4', () => {
  // Two CPUs, 4 entries: 2 nodes per CPU.
  const f = fixture([{ name: 'lru', type: MAP_TYPE.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 4, flags: 2 }], 2);
  const lru = f.map('lru') as HashMap;
  const put = (n: number, cpu: number): number => lru.update(f.put(u32(n)), f.put(u32(n)), BPF_ANY, cpu);
  assert.is(put(1, 0), 0);
  assert.is(put(2, 0), 0);
  assert.equal(lists(lru), { 'cpu0.inactive': [2, 1] });
  assert.is(put(3, 0), 0); // CPU 0 has no free node: its inactive list is shrunk whole
  assert.equal(lists(lru), { 'cpu0.inactive': [3] });
  assert.is(put(4, 1), 0);
  assert.ok(lru.lookup(f.put(u32(3)), 1), 'the reference bit, from any CPU');
  assert.is(put(5, 0), 0); // rotation moves 3 to active; a free node remains
  assert.equal(lists(lru), { 'cpu0.active': [3], 'cpu0.inactive': [5], 'cpu1.inactive': [4] });
});

test('lru percpu hash: common LRU across CPUs, values per CPU', () => {
  // 2 entries over 2 CPUs: target_free = 1.
  const f = fixture([{ name: 'l', type: MAP_TYPE.LRU_PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 2 }], 2);
  const l = f.map('l') as HashMap;
  const v = f.put(u32(1));
  for (const n of [1, 2, 3]) assert.is(l.update(f.put(u32(n)), v, BPF_ANY, n % 2), 0);
  // 3 on CPU 1 found its local list empty: 1 was flushed and shrunk; CPU 0's 2 untouched.
  assert.equal(lists(l), { 'cpu0.pending': [2], 'cpu1.pending': [3] });
  assert.is(hex(l.lookupBytes(u32(3))), '0000000000000000' + '0100000000000000');
});

test('map-in-map: outer maps hold inner handles; programs get the handle; inner maps reopen from memory', () => {
  const f = fixture([
    { name: 'outer_a', type: MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4 },
    { name: 'outer_h', type: MAP_TYPE.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4 },
  ]);
  const inner = f.table.createInnerMap({ name: 'inner', type: MAP_TYPE.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 16, flags: 0 });
  assert.is((inner - f.layout.descBase) % f.layout.descSize, 0, 'inner handles are descriptors from the same table');
  assert.is((inner - f.layout.descBase) / f.layout.descSize, 2, 'the first free descriptor after the static maps');
  const outerA = f.map('outer_a');
  const outerH = f.map('outer_h');
  const k1 = f.put(u32(1));
  assert.is(outerA.lookup(k1, 0), 0, 'empty slot: NULL');
  outerA.updateBytes(u32(1), u32(inner));
  outerH.updateBytes(u32(77), u32(inner));
  assert.is(outerA.lookup(k1, 0), inner);
  assert.is(outerH.lookup(f.put(u32(77)), 0), inner);
  assert.is(readU32(outerA.lookupBytes(u32(1))!), inner);
  assert.is(
    errnoOf(() => outerA.updateBytes(u32(2), u32(12345))),
    'EINVAL',
    'not a map handle',
  );
  assert.throws(() => outerA.updateBytes(u32(2), u32(12345)), /the value must be the handle of a map/);
  assert.throws(
    () => outerA.updateBytes(u32(4), u32(inner)),
    (e: Error) => /index out of range \(max_entries 4\)/.test(e.message) && !/handle/.test(e.message),
  );
  assert.is(
    errnoOf(() => outerA.updateBytes(u32(2), u32(inner), BPF_NOEXIST)),
    'EINVAL',
  );
  assert.is(outerA.update(f.put(u32(2)), f.put(u32(inner)), BPF_ANY, 0), -22, 'programs may not write map-in-maps');
  // A program writes through the handle it got; the registry finds the map.
  const viaRegistry = f.table.get(outerA.lookup(k1, 0))!;
  assert.is(viaRegistry.name, 'inner');
  assert.is(viaRegistry.update(f.put(u32(5)), f.put(u32(55)), BPF_ANY, 0), 0);
  const reopened = openMap(f.memory, inner);
  assert.equal(reopened.spec, { type: MAP_TYPE.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 16, flags: 0, name: 'inner' });
  assert.is(hex(reopened.lookupBytes(u32(5))), '37000000');
  assert.is(f.table.get(inner + 4), undefined);
  assert.is(f.table.get(f.layout.descBase + 10 * f.layout.descSize), undefined, 'unused descriptor');
  outerA.deleteBytes(u32(1));
  assert.is(outerA.lookup(k1, 0), 0);
  outerH.deleteBytes(u32(77));
  assert.is(
    errnoOf(() => outerH.deleteBytes(u32(77))),
    'ENOENT',
  );
});

test.run();
