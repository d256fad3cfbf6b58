// Which map definitions the runtime refuses to create, at the edges of the kernel's rules
// for BPF_MAP_CREATE (from the kernel's map_alloc_check functions, by hand): arrays take
// 4-byte keys and a value; hash maps a key and a value; an LPM trie a u32 prefix length
// plus 1..256 data bytes, a value, and BPF_F_NO_PREALLOC; an LRU map never NO_PREALLOC; a
// ring buffer no key or value and a power-of-two size that is a multiple of the page.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_FLAG, MAP_TYPE } from '../../core/map-types.js';
import { specProblem } from '../../runtime/maps/index.js';

const spec = (type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0) => ({
  name: 'm',
  type,
  keySize,
  valueSize,
  maxEntries,
  flags,
});
const ok = (s: ReturnType<typeof spec>, why: string): void => assert.is(specProblem(s), undefined, why);
const refused = (s: ReturnType<typeof spec>, why: string): void => assert.type(specProblem(s), 'string', why);

test('arrays: 4-byte keys, a value of at least 1 byte, at least one entry', () => {
  ok(spec(MAP_TYPE.ARRAY, 4, 1, 1), 'smallest array');
  refused(spec(MAP_TYPE.ARRAY, 4, 1, 0), 'no entries');
  refused(spec(MAP_TYPE.ARRAY, 4, 0, 1), 'no value');
  refused(spec(MAP_TYPE.ARRAY, 8, 4, 1), '8-byte key');
  refused(spec(MAP_TYPE.PERCPU_ARRAY, 3, 4, 1), '3-byte key');
});

test('hash maps: a key and a value of at least 1 byte; LRU without NO_PREALLOC', () => {
  ok(spec(MAP_TYPE.HASH, 1, 1, 1), 'smallest hash');
  refused(spec(MAP_TYPE.HASH, 0, 1, 1), 'no key');
  refused(spec(MAP_TYPE.HASH, 1, 0, 1), 'no value');
  ok(spec(MAP_TYPE.HASH, 4, 4, 8, MAP_FLAG.NO_PREALLOC), 'hash with NO_PREALLOC');
  ok(spec(MAP_TYPE.LRU_HASH, 4, 4, 8), 'LRU');
  refused(spec(MAP_TYPE.LRU_HASH, 4, 4, 8, MAP_FLAG.NO_PREALLOC), 'LRU with NO_PREALLOC');
});

test('fd arrays: 4-byte keys and values (devmap values may be 8)', () => {
  ok(spec(MAP_TYPE.PROG_ARRAY, 4, 4, 4), 'prog array');
  refused(spec(MAP_TYPE.PROG_ARRAY, 4, 8, 4), 'prog array with 8-byte values');
  ok(spec(MAP_TYPE.DEVMAP, 4, 8, 4), 'devmap with bpf_devmap_val');
  refused(spec(MAP_TYPE.PROG_ARRAY, 8, 4, 4), '8-byte key');
});

test('LPM tries: key = u32 prefix length + 1..256 data bytes, a value, NO_PREALLOC', () => {
  const lpm = (key: number, value = 4, flags: number = MAP_FLAG.NO_PREALLOC) => spec(MAP_TYPE.LPM_TRIE, key, value, 16, flags);
  ok(lpm(5), 'one data byte');
  ok(lpm(4 + 256), '256 data bytes');
  refused(lpm(4), 'no data bytes');
  refused(lpm(4 + 257), '257 data bytes');
  refused(lpm(8, 0), 'no value');
  refused(lpm(8, 4, 0), 'preallocated');
});

test('ring buffers: no key or value; a power of two, a multiple of 4096', () => {
  ok(spec(MAP_TYPE.RINGBUF, 0, 0, 4096), 'one page');
  ok(spec(MAP_TYPE.RINGBUF, 0, 0, 1 << 16), '64 KiB');
  refused(spec(MAP_TYPE.RINGBUF, 0, 0, 2048), 'half a page');
  refused(spec(MAP_TYPE.RINGBUF, 0, 0, 4096 * 3), 'three pages');
  refused(spec(MAP_TYPE.RINGBUF, 4, 0, 4096), 'a key');
  refused(spec(MAP_TYPE.RINGBUF, 0, 4, 4096), 'a value');
});

test('a type this runtime does not have is refused', () => {
  refused(spec(MAP_TYPE.STACK_TRACE, 4, 8, 16), 'stack trace');
});

test.run();
