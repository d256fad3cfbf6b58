// ARRAY, PERCPU_ARRAY and the fd arrays (prog array, devmap, xskmap): kernel semantics of
// flags, ranges and errno results, the compile-time layout compiled code relies on, and
// the per-CPU userspace view. Expected values are worked out by hand from the kernel's
// rules (kernel/bpf/arraymap.c, devmap.c, xskmap.c).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_TYPE } from '../../core/map-types.js';
import { ArrayMap, BPF_ANY, BPF_EXIST, BPF_NOEXIST, FdArrayMap, FROM_USER } from '../../runtime/maps/index.js';
import { MapError } from '../../runtime/errors.js';
import { UserError } from '../../core/errors.js';
import { bytes, errnoOf, fixture, hex, readU32, u32, u64 } from '../support/maps-fixture.js';

const specs = [
  { name: 'arr', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 12, maxEntries: 4 },
  { name: 'pca', type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 },
  { name: 'progs', type: MAP_TYPE.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 8 },
  { name: 'devs', type: MAP_TYPE.DEVMAP, keySize: 4, valueSize: 4, maxEntries: 4 },
  { name: 'xsks', type: MAP_TYPE.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 4 },
];

test('array: values sit where planMemory placed them; lookup is storage + key*stride', () => {
  const f = fixture(specs);
  const arr = f.map('arr') as ArrayMap;
  const place = f.manifest[0]!.placement;
  assert.is(arr.handle, place.handle);
  assert.is(arr.storage, place.storage);
  assert.is(place.valueStride, 16);
  assert.is(arr.lookup(f.put(u32(2)), 0), place.storage! + 32);
  assert.is(arr.lookup(f.put(u32(4)), 0), 0, 'key == max_entries misses');
  assert.is(arr.lookup(f.put(u32(0xffffffff)), 0), 0);
  // Fresh arrays read as zeros from the control plane.
  assert.is(hex(arr.lookupBytes(u32(3))), '000000000000000000000000');
  assert.is(arr.lookupBytes(u32(9)), undefined);
});

test('array: update flags and ranges give the kernel errnos', () => {
  const f = fixture(specs);
  const arr = f.map('arr');
  const k1 = f.put(u32(1));
  const val = f.put(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  assert.is(arr.update(k1, val, BPF_ANY, 0), 0);
  assert.is(arr.update(k1, val, BPF_EXIST, 0), 0, 'elements always exist');
  assert.is(arr.update(k1, val, BPF_NOEXIST, 0), -17, '-EEXIST');
  assert.is(arr.update(k1, val, 3, 0), -22, 'unknown flag: -EINVAL');
  assert.is(arr.update(k1, val, 1n << 40n, 0), -22, 'bigint flags are read whole');
  assert.is(arr.update(f.put(u32(4)), val, BPF_ANY, 0), -7, 'index out of range: -E2BIG');
  // BPF_F_LOCK (4) needs a bpf_spin_lock in the value, which no map here has; the kernel
  // checks it after the index and NOEXIST (arraymap.c), so those errnos come first.
  assert.is(arr.update(f.put(u32(4)), val, 4, 0), -7, 'F_LOCK, index out of range: -E2BIG first');
  assert.is(arr.update(k1, val, 4 | BPF_NOEXIST, 0), -17, 'F_LOCK|NOEXIST: -EEXIST first');
  assert.is(arr.update(k1, val, 4, 0), -22, 'F_LOCK without a spin lock: -EINVAL');
  assert.is(arr.update(k1, val, 0xffffffff, 0), -22, 'every flag bit: -EINVAL');
  assert.is(arr.delete(k1), -22, 'array elements cannot be deleted');
  assert.is(hex(arr.lookupBytes(u32(1))), '0102030405060708090a0b0c');
  // The value is written in place: a program's pointer sees control-plane writes.
  const ptr = arr.lookup(k1, 0);
  arr.updateBytes(u32(1), new Uint8Array(12).fill(0xee));
  assert.is(hex(f.read(ptr, 12)), 'ee'.repeat(12));

  assert.is(
    errnoOf(() => arr.updateBytes(u32(1), new Uint8Array(12), BPF_NOEXIST)),
    'EEXIST',
  );
  assert.is(
    errnoOf(() => arr.updateBytes(u32(7), new Uint8Array(12))),
    'E2BIG',
  );
  assert.is(
    errnoOf(() => arr.updateBytes(u32(1), new Uint8Array(8))),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => arr.updateBytes(bytes(1, 0), new Uint8Array(12))),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => arr.deleteBytes(u32(1))),
    'EINVAL',
  );
  try {
    arr.updateBytes(u32(7), new Uint8Array(12));
  } catch (e) {
    assert.ok(e instanceof MapError && e instanceof UserError);
    assert.match((e as Error).message, /^map 'arr': update: E2BIG: /);
    assert.not.match((e as Error).message, /\n/);
  }
});

test('array: get_next_key counts up, restarts at 0 for a missing key, ends with ENOENT', () => {
  const f = fixture(specs);
  const arr = f.map('arr');
  const next = f.room(4);
  assert.is(arr.getNextKey(0, next), 0);
  assert.is(readU32(f.read(next, 4)), 0);
  assert.is(arr.getNextKey(f.put(u32(2)), next), 0);
  assert.is(readU32(f.read(next, 4)), 3);
  assert.is(arr.getNextKey(f.put(u32(3)), next), -2);
  assert.is(arr.getNextKey(f.put(u32(99)), next), 0);
  assert.is(readU32(f.read(next, 4)), 0);
  assert.equal(
    [...arr.keys()].map((k) => readU32(k)),
    [0, 1, 2, 3],
  );
  assert.is([...arr.entries()].length, 4);
});

test('percpu array: each CPU its own copy; userspace sees all CPUs padded to 8 bytes', () => {
  const f = fixture(specs, 3);
  const pca = f.map('pca') as ArrayMap;
  const place = f.manifest[1]!.placement;
  assert.is(pca.cpus, 3);
  assert.is(place.cpuStride, 8 * 3);
  const k = f.put(u32(1));
  assert.is(pca.lookup(k, 2), place.storage! + 8 + 2 * place.cpuStride!, 'storage + key*stride + cpu*cpuStride');
  assert.is(pca.lookup(k, 3), 0, 'no such CPU');
  // A program on CPU 1 writes its own copy only.
  assert.is(pca.update(k, f.put(u32(0x11)), BPF_ANY, 1), 0);
  assert.is(hex(pca.lookupBytes(u32(1))), '00000000' + '00000000' + '11000000' + '00000000' + '00000000' + '00000000');
  // One value from the control plane goes to every CPU.
  pca.updateBytes(u32(0), u32(7));
  assert.is(hex(pca.lookupBytes(u32(0))), '0700000000000000'.repeat(3));
  // The full buffer sets each CPU's copy.
  pca.updateBytes(u32(2), new Uint8Array([...u64(1n), ...u64(2n), ...u64(3n)]));
  const view = new DataView(f.memory.buffer);
  for (let c = 0; c < 3; c++) assert.is(view.getUint32(pca.lookup(f.put(u32(2)), c), true), c + 1);
  assert.is(
    errnoOf(() => pca.updateBytes(u32(2), new Uint8Array(16))),
    'EINVAL',
  );
});

test('prog array, devmap, xskmap: empty slots, control-plane writes only, kernel flag rules', () => {
  const f = fixture(specs);
  const progs = f.map('progs') as FdArrayMap;
  const devs = f.map('devs') as FdArrayMap;
  const xsks = f.map('xsks') as FdArrayMap;
  const k2 = f.put(u32(2));
  const v5 = f.put(u32(5));
  assert.is(progs.target(2), -1);
  assert.is(progs.update(k2, v5, BPF_ANY, 0), -22, 'programs may not update a prog array');
  assert.is(progs.update(k2, v5, BPF_NOEXIST, FROM_USER), -22, 'prog arrays take BPF_ANY only');
  progs.updateBytes(u32(2), u32(0));
  assert.is(progs.target(2), 0, 'program index 0 is a real target');
  assert.is(progs.lookup(k2, 0), 0, 'programs only tail-call through a prog array');
  assert.is(hex(progs.lookupBytes(u32(2))), '00000000');
  assert.is(progs.lookupBytes(u32(3)), undefined);
  assert.is(
    errnoOf(() => progs.updateBytes(u32(8), u32(1))),
    'E2BIG',
  );
  progs.deleteBytes(u32(2));
  assert.is(progs.target(2), -1);
  assert.is(
    errnoOf(() => progs.deleteBytes(u32(2))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => progs.deleteBytes(u32(8))),
    'E2BIG',
  );

  assert.is(
    errnoOf(() => devs.updateBytes(u32(1), u32(3), BPF_NOEXIST)),
    'EEXIST',
    'devmap: all slots "exist"',
  );
  devs.updateBytes(u32(1), u32(3), BPF_EXIST);
  assert.is(devs.target(1), 3);
  assert.is(readU32(f.read(devs.lookup(f.put(u32(1)), 0), 4)), 3, 'a program gets the value address');
  devs.deleteBytes(u32(0));
  assert.is(
    errnoOf(() => devs.deleteBytes(u32(4))),
    'EINVAL',
  );

  assert.is(
    errnoOf(() => xsks.updateBytes(u32(1), u32(9), BPF_EXIST)),
    'ENOENT',
  );
  xsks.updateBytes(u32(1), u32(9), BPF_NOEXIST);
  assert.is(
    errnoOf(() => xsks.updateBytes(u32(1), u32(9), BPF_NOEXIST)),
    'EEXIST',
  );
  assert.is(xsks.target(1), 9);
});

test('map creation refuses what the kernel refuses', () => {
  assert.is(
    errnoOf(() => fixture([{ name: 'a', type: MAP_TYPE.ARRAY, keySize: 8, valueSize: 4, maxEntries: 1 }])),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => fixture([{ name: 'a', type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 0 }])),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => fixture([{ name: 'l', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 4 }])),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => fixture([{ name: 'r', type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 5000 }])),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => fixture([{ name: 's', type: MAP_TYPE.STACK_TRACE, keySize: 4, valueSize: 8, maxEntries: 1 }])),
    'EINVAL',
  );
});

test('control-plane refusals name their cause: the value size wanted, BPF_ANY, the index range', () => {
  const f = fixture(specs);
  const message = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.instance(e, MapError);
      return (e as Error).message;
    }
    return assert.unreachable('no error') as never;
  };
  assert.match(
    message(() => f.map('arr').updateBytes(u32(1), new Uint8Array(4))),
    /value is 4 bytes, the map wants 12$/,
  );
  assert.match(
    message(() => f.map('pca').updateBytes(u32(1), new Uint8Array(2))),
    /the map wants 4 or \d+ \(all CPUs\)$/,
  );
  const progs = f.map('progs');
  assert.match(
    message(() => progs.updateBytes(u32(8), u32(1))),
    /index out of range \(max_entries 8\)/,
  );
  const flags = message(() => progs.updateBytes(u32(1), u32(1), BPF_NOEXIST));
  assert.match(flags, /flags must be BPF_ANY/);
  assert.not.match(flags, /handle of a map/, 'a prog array holds programs, not maps');
});

test.run();
