// PERF_EVENT_ARRAY buffers against hand-derived records (the kernel's rules: a sample is an
// 8-byte header, a u32 raw size and the raw bytes, padded so that size and bytes end on 8;
// a ring of N bytes holds at most N - 1; a full ring fails with -ENOSPC and the count of
// lost records comes, as a 24-byte PERF_RECORD_LOST, before the next record that fits).
// test/kernel/perf-output.test.ts compares the same with the kernel's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_TYPE } from '../../core/map-types.js';
import { PerfEventArrayMap, type PerfRecord } from '../../runtime/maps/index.js';
import { fixture } from '../support/maps-fixture.js';

const E2BIG = -7;
const ENOENT = -2;
const ENOSPC = -28;
const EOPNOTSUPP = -95;

function events(maxEntries = 6): PerfEventArrayMap {
  const f = fixture([{ name: 'events', type: MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries }], 4);
  return f.map('events') as unknown as PerfEventArrayMap;
}

const drain = (map: PerfEventArrayMap): PerfRecord[] => {
  const out: PerfRecord[] = [];
  map.drain((r) => out.push(r));
  return out;
};

test('slots: one per CPU up to max_entries; the errors of each kind of slot', () => {
  const map = events(6);
  assert.is(map.slots, 4, 'four CPUs, six entries');
  const bytes = [new Uint8Array([1, 2, 3])];
  assert.is(map.output(6, 0, bytes), E2BIG, 'beyond max_entries');
  assert.is(map.output(5, 0, bytes), ENOENT, 'an entry no CPU can have');
  assert.is(map.output(4, 4, bytes), ENOENT, 'the first entry past the CPUs');
  assert.is(map.output(1, 0, bytes), EOPNOTSUPP, "another CPU's slot");
  map.close(2);
  assert.is(map.output(2, 2, bytes), ENOENT, 'a closed slot');
  assert.is(map.output(3, 3, bytes), 0, "the CPU's own slot");
  assert.equal(drain(map), [{ cpu: 3, data: new Uint8Array([1, 2, 3, 0]) }], '3 bytes: raw size round_up(4 + 3, 8) - 4 = 4');
});

test('raw sizes pad size word and bytes to 8; parts are concatenated', () => {
  const map = events();
  const sizes = [0, 4, 5, 12, 13];
  for (const n of sizes) assert.is(map.output(0, 0, [new Uint8Array(n).fill(n), new Uint8Array([0xee])]), 0);
  const got = drain(map).map((r) => ('data' in r ? r.data.length : -1));
  // n + 1 bytes: round_up(4 + n + 1, 8) - 4
  assert.equal(got, [4, 12, 12, 20, 20]);
});

test('a full buffer: -ENOSPC, then the lost count before the next record that fits', () => {
  const map = events();
  map.open(0, 4096);
  const record = [new Uint8Array(20)]; // 8 + 4 + 20 = 32 bytes a record
  for (let i = 0; i < 127; i++) assert.is(map.output(0, 0, record), 0, `record ${i}`);
  assert.is(map.output(0, 0, record), ENOSPC, '127 * 32 = 4064 used; 32 more would leave no byte free');
  assert.is(map.output(0, 0, record), ENOSPC);
  assert.is(drain(map).length, 127);
  assert.is(map.output(0, 0, [new Uint8Array([9])]), 0, 'room again: the lost record (24) and this one (16)');
  assert.equal(drain(map), [
    { cpu: 0, lost: 2 },
    { cpu: 0, data: new Uint8Array([9, 0, 0, 0]) },
  ]);
  // The ring's positions run on past its end: records keep coming out whole.
  for (let round = 0; round < 300; round++) {
    assert.is(map.output(0, 0, [new Uint8Array([round & 0xff, 1, 2, 3, 4, 5, 6])]), 0);
    const [r] = drain(map);
    assert.equal(r, { cpu: 0, data: new Uint8Array([round & 0xff, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0]) }, `round ${round}`);
  }
});

test('open() checks the size', () => {
  const map = events();
  assert.throws(() => map.open(0, 1000), /EINVAL/);
  assert.throws(() => map.open(0, 6000), /EINVAL/);
  assert.throws(() => map.open(4, 4096), /E2BIG/);
});

test.run();
