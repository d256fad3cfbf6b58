// RINGBUF: reserve/submit/discard/output from the program side, records drained in order
// to a JS callback, a record still being written holding back those after it, space
// accounting (8-byte header, 8-byte alignment) and records that wrap around the end.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_TYPE } from '../../core/map-types.js';
import { RINGBUF_QUERY, type RingbufMap } from '../../runtime/maps/index.js';
import { fixture, hex, u32 } from '../support/maps-fixture.js';

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
  // 4096 bytes hold 3 records of 1016 + 8 = 1024 bytes and one of 1008 + 8: as in the
  // kernel, the producer may run at most size - 1 bytes ahead of the consumer.
  const got = [1016, 1016, 1016, 1008].map((n) => rb.reserve(n, 0));
  assert.ok(got.every((x) => x));
  assert.is(rb.reserve(1, 0), 0, 'full');
  assert.is(rb.output(f.put(u32(1)), 4, 0), -11, '-EAGAIN');
  got.forEach((x) => rb.submit(x));
  assert.is(
    rb.drain(() => {}, 2),
    2,
    'limit respected',
  );
  // Positions 2048..4087 are still unconsumed; the producer is at 4088, 8 bytes before
  // the end, so the next record runs on past the end of the ring.
  const r1 = rb.reserve(1500, 0);
  assert.is(r1, got[0]! + 4088, 'the header takes the last 8 bytes, the data runs on past the end');
  assert.is(rb.reserve(1000, 0), 0, 'only 4095 - (4088 + 1512 - 2048) bytes left');
  new Uint8Array(f.memory.buffer).fill(0x11, r1, r1 + 1500);
  rb.submit(r1);
  const drainedRecords: Uint8Array[] = [];
  rb.drain((r) => drainedRecords.push(r));
  assert.equal(
    drainedRecords.map((r) => r.length),
    [1016, 1008, 1500],
  );
  assert.ok(
    drainedRecords[2]!.every((b) => b === 0x11),
    'the record across the end reads back whole',
  );
  // The consumer is at 5600 (offset 1504): the next record runs 3008 bytes, past the end again.
  const wrap = rb.reserve(3000, 0);
  assert.is(wrap, got[0]! + 1504);
  const u8 = new Uint8Array(f.memory.buffer);
  for (let i = 0; i < 3000; i++) u8[wrap + i] = i & 0xff;
  rb.submit(wrap);
  const records: Uint8Array[] = [];
  rb.drain((r) => records.push(r));
  assert.is(records.length, 1);
  assert.ok(
    records[0]!.every((b, i) => b === (i & 0xff)),
    'the wrapped record reads back whole',
  );
  const largest = rb.reserve(4080, 0);
  assert.ok(largest, 'empty again: the largest record fits (4080 + 8 < 4096)');
  rb.discard(largest);
  assert.is(
    rb.drain(() => {}),
    0,
    'discarded, and passed over',
  );
  assert.is(rb.reserve(4081, 0), 0, 'empty, yet 4081 + 8 rounds up to 4096: one byte too many');
});

test('ringbuf maps have no keys', () => {
  const { rb } = ring();
  assert.is(rb.lookup(), 0);
  assert.is(rb.update(), -95);
  assert.is(rb.getNextKey(), -95);
});

test.run();
