// RINGBUF: reserve/submit/discard/output from the program side, records drained in order
// to a JS callback, a record still being written holding back those after it, space
// accounting (8-byte header, 8-byte alignment) and records that wrap around the end.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_TYPE } from '../compiler/model.js';
import { RINGBUF_QUERY, type RingbufMap } from '../runtime/maps/index.js';
import { fixture, hex, u32 } from './maps-fixture.js';

const ring = () => {
  const f = fixture([{ name: 'rb', type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }]);
  return { f, rb: f.map('rb') as RingbufMap };
};

const drained = (rb: RingbufMap): string[] => {
  const out: string[] = [];
  rb.drain((r) => out.push(hex(r)));
  return out;
};

test('records come out in order; discarded ones are skipped; a busy one holds back the rest', () => {
  const { f, rb } = ring();
  const u8 = () => new Uint8Array(f.memory.buffer);
  const a = rb.reserve(3, 0);
  assert.ok(a);
  assert.is(rb.query(RINGBUF_QUERY.PROD_POS), 16n, '8-byte header + 3 bytes, rounded up to 8');
  const b = rb.reserve(8, 0);
  const c = rb.reserve(1, 0);
  assert.is(b, a + 16);
  u8().set([1, 2, 3], a);
  u8().set([9, 9, 9, 9, 9, 9, 9, 9], b);
  u8()[c] = 7;
  rb.submit(c);
  rb.discard(b);
  assert.equal(drained(rb), [], 'the first record is still reserved');
  rb.submit(a);
  assert.equal(drained(rb), ['010203', '07']);
  assert.is(rb.query(RINGBUF_QUERY.CONS_POS), rb.query(RINGBUF_QUERY.PROD_POS));
  assert.is(rb.query(RINGBUF_QUERY.AVAIL_DATA), 0n);
  assert.is(rb.query(RINGBUF_QUERY.RING_SIZE), 4096n);
  assert.is(rb.output(f.put(u32(0xdeadbeef)), 4, 0), 0);
  assert.is(rb.output(f.put(u32(1)), 4, 4), -22, 'unknown flags');
  assert.is(rb.reserve(4, 1), 0, 'reserve takes no flags');
  assert.equal(drained(rb), ['efbeadde']);
});

test('a full ring refuses reservations until the consumer catches up; records wrap contiguously', () => {
  const { f, rb } = ring();
  // 4096 bytes hold 4 records of 1016 + 8 = 1024 bytes.
  const got = [0, 1, 2, 3].map(() => rb.reserve(1016, 0));
  assert.ok(got.every((x) => x));
  assert.is(rb.reserve(1, 0), 0, 'full');
  assert.is(rb.output(f.put(u32(1)), 4, 0), -11, '-EAGAIN');
  got.forEach((x) => rb.submit(x));
  assert.is(rb.drain(() => {}, 2), 2, 'limit respected');
  // Positions 2048..4095 are still unconsumed: 2048 bytes are free.
  const r1 = rb.reserve(1500, 0);
  assert.is(r1, got[0], 'the ring starts over at offset 0');
  assert.is(rb.reserve(1000, 0), 0, 'only 2048 - 1512 bytes left');
  new Uint8Array(f.memory.buffer).fill(0x11, r1, r1 + 1500);
  rb.submit(r1);
  const sizes: number[] = [];
  rb.drain((r) => sizes.push(r.length));
  assert.equal(sizes, [1016, 1016, 1500]);
  // The next record starts at offset 1512 and runs 3008 bytes, past the end of the ring.
  const wrap = rb.reserve(3000, 0);
  assert.is(wrap, got[0]! + 1512);
  const u8 = new Uint8Array(f.memory.buffer);
  for (let i = 0; i < 3000; i++) u8[wrap + i] = i & 0xff;
  rb.submit(wrap);
  const records: Uint8Array[] = [];
  rb.drain((r) => records.push(r));
  assert.is(records.length, 1);
  assert.ok(records[0]!.every((b, i) => b === (i & 0xff)), 'the wrapped record reads back whole');
  assert.ok(rb.reserve(4088, 0), 'empty again: the largest record fits');
  assert.is(rb.reserve(4089, 0), 0);
});

test('ringbuf maps have no keys', () => {
  const { rb } = ring();
  assert.is(rb.lookup(), 0);
  assert.is(rb.update(), -95);
  assert.is(rb.getNextKey(), -95);
});

test.run();
