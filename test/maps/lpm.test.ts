// LPM_TRIE: longest-prefix match for IPv4, IPv6 and katran's 24-byte CIDR VIP key, exact
// prefix update/delete with the kernel's flag rules and ENOSPC when full, intermediate
// nodes that hold no value, and get_next_key's post-order (the kernel's own example from
// the top of kernel/bpf/lpm_trie.c). Expected values are worked out by hand.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAP_FLAG, MAP_TYPE } from '../../core/map-types.js';
import { BPF_EXIST, BPF_NOEXIST, type LpmTrieMap } from '../../runtime/maps/index.js';
import { errnoOf, fixture, hex, readU32, u32 } from '../support/maps-fixture.js';

const NO_PREALLOC = MAP_FLAG.NO_PREALLOC;

function v4(cidr: string): Uint8Array {
  const [addr, len] = cidr.split('/');
  return new Uint8Array([...u32(Number(len ?? 32)), ...addr!.split('.').map(Number)]);
}

function v6(cidr: string): Uint8Array {
  const [addr, len] = cidr.split('/');
  const [head, tail] = addr!.split('::');
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return new Uint8Array([...u32(Number(len ?? 128)), ...all.flatMap((g) => [g >> 8, g & 0xff])]);
}

const show = (k: Uint8Array | undefined): string => {
  if (!k) return 'none';
  const d = k.subarray(4);
  return `${[...d].join('.')}/${readU32(k)}`;
};

test('ipv4: the longest stored prefix wins (10.0.0.0/8 vs 10.1.0.0/16 vs 10.1.2.0/24)', () => {
  const f = fixture([{ name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 8, flags: NO_PREALLOC }]);
  const t = f.map('t');
  t.updateBytes(v4('10.0.0.0/8'), u32(1));
  t.updateBytes(v4('10.1.0.0/16'), u32(2));
  t.updateBytes(v4('10.1.2.0/24'), u32(3));
  t.updateBytes(v4('192.168.0.0/16'), u32(4));
  const find = (cidr: string): number | undefined => {
    const ptr = t.lookup(f.put(v4(cidr)), 0);
    return ptr ? readU32(f.read(ptr, 4)) : undefined;
  };
  assert.is(find('10.1.2.3'), 3);
  assert.is(find('10.1.3.1'), 2);
  assert.is(find('10.2.0.1'), 1);
  assert.is(find('10.255.255.255'), 1);
  assert.is(find('11.0.0.1'), undefined);
  assert.is(find('192.168.77.1'), 4);
  assert.is(find('192.169.0.0'), undefined);
  // A lookup key with a shorter prefix matches only stored prefixes at most that long.
  assert.is(find('10.1.2.3/16'), 2);
  assert.is(find('10.1.2.3/15'), 1);
  // The control plane's lookup is a longest-prefix match too, like the kernel's syscall.
  assert.is(hex(t.lookupBytes(v4('10.1.2.200'))), '03000000');
  assert.is(t.count(), 4);
});

test('a shorter prefix stored after longer ones becomes their parent, each on its own side', () => {
  const f = fixture([{ name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 8, flags: NO_PREALLOC }]);
  const t = f.map('t');
  // Bit 8 (the top bit of the second byte) is 1 for 10.128/16 and 0 for 10.1/16: the /8
  // stored last must hang each below the side that bit names.
  t.updateBytes(v4('10.128.0.0/16'), u32(1));
  t.updateBytes(v4('10.0.0.0/8'), u32(2));
  const find = (cidr: string): number | undefined => {
    const ptr = t.lookup(f.put(v4(cidr)), 0);
    return ptr ? readU32(f.read(ptr, 4)) : undefined;
  };
  assert.is(find('10.128.5.5'), 1);
  assert.is(find('10.1.5.5'), 2);
  t.updateBytes(v4('10.1.0.0/16'), u32(3));
  t.updateBytes(v4('0.0.0.0/0'), u32(4));
  assert.is(find('10.128.5.5'), 1);
  assert.is(find('10.1.5.5'), 3);
  assert.is(find('10.2.5.5'), 2);
  assert.is(find('11.0.0.1'), 4);
  assert.is(t.count(), 4);
});

test('update/delete act on exact prefixes with the kernel errnos; intermediate nodes hold nothing', () => {
  const f = fixture([{ name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 3, flags: NO_PREALLOC }]);
  const t = f.map('t');
  t.updateBytes(v4('10.1.0.0/16'), u32(1));
  t.updateBytes(v4('10.2.0.0/16'), u32(2));
  // 10.1/16 and 10.2/16 diverge after 14 bits: an intermediate 10.0.0.0/14 joins them.
  assert.is(t.lookupBytes(v4('10.3.0.1')), undefined, 'the intermediate node is not a prefix');
  assert.is(t.count(), 2);
  assert.is(
    errnoOf(() => t.updateBytes(v4('10.1.0.0/16'), u32(9), BPF_NOEXIST)),
    'EEXIST',
  );
  assert.is(
    errnoOf(() => t.updateBytes(v4('10.3.0.0/16'), u32(9), BPF_EXIST)),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => t.updateBytes(v4('10.0.0.0/14'), u32(9), BPF_EXIST)),
    'ENOENT',
    'intermediate = absent',
  );
  assert.is(
    errnoOf(() => t.updateBytes(v4('10.0.0.0/33'), u32(9))),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => t.updateBytes(v4('10.0.0.0/8'), u32(9), 3)),
    'EINVAL',
  );
  // Storing the intermediate node's own prefix turns it into a real entry.
  t.updateBytes(v4('10.0.0.0/14'), u32(14));
  assert.is(hex(t.lookupBytes(v4('10.3.0.1'))), '0e000000');
  assert.is(t.count(), 3);
  assert.is(
    errnoOf(() => t.updateBytes(v4('172.16.0.0/12'), u32(5))),
    'ENOSPC',
    'full trie: ENOSPC as in the kernel',
  );
  t.updateBytes(v4('10.2.0.0/16'), u32(22), BPF_EXIST);
  assert.is(hex(t.lookupBytes(v4('10.2.9.9'))), '16000000');
  // Delete needs the exact prefix.
  assert.is(
    errnoOf(() => t.deleteBytes(v4('10.1.0.0/17'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => t.deleteBytes(v4('10.1.0.0/33'))),
    'EINVAL',
  );
  t.deleteBytes(v4('10.0.0.0/14')); // has two children: becomes intermediate again
  assert.is(t.lookupBytes(v4('10.3.0.1')), undefined);
  assert.is(hex(t.lookupBytes(v4('10.1.0.1'))), '01000000');
  t.deleteBytes(v4('10.1.0.0/16')); // leaf under an intermediate: the sibling moves up
  assert.is(t.lookupBytes(v4('10.1.0.1')), undefined);
  assert.is(hex(t.lookupBytes(v4('10.2.0.1'))), '16000000');
  assert.equal([...t.keys()].map(show), ['10.2.0.0/16']);
  t.deleteBytes(v4('10.2.0.0/16'));
  assert.is(t.count(), 0);
  assert.equal([...t.keys()], []);
  // Freed nodes are reused: many insert/delete rounds never exhaust the pool.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 3; i++) t.updateBytes(v4(`10.${round}.${i}.0/24`), u32(i));
    for (let i = 0; i < 3; i++) t.deleteBytes(v4(`10.${round}.${i}.0/24`));
  }
  assert.is(t.count(), 0);
});

test('get_next_key walks in post-order, as the kernel documents', () => {
  const f = fixture([{ name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 8, flags: NO_PREALLOC }]);
  const t = f.map('t');
  for (const c of ['192.168.0.0/16', '192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24']) t.updateBytes(v4(c), u32(1));
  assert.equal([...t.keys()].map(show), ['192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24', '192.168.0.0/16']);
  // A key not in the trie starts again at the first key.
  assert.is(show(t.getNextKeyBytes(v4('1.2.3.4/32'))), '192.168.0.0/24');
  assert.is(t.getNextKeyBytes(v4('192.168.0.0/16')), undefined);
});

test('ipv6: default route, /32 and /48', () => {
  const f = fixture([{ name: 't6', type: MAP_TYPE.LPM_TRIE, keySize: 20, valueSize: 4, maxEntries: 8, flags: NO_PREALLOC }]);
  const t = f.map('t6') as LpmTrieMap;
  assert.is(t.maxPrefix, 128);
  t.updateBytes(v6('2001:db8::/32'), u32(1));
  t.updateBytes(v6('2001:db8:1::/48'), u32(2));
  t.updateBytes(v6('::/0'), u32(3));
  const find = (a: string): string => hex(t.lookupBytes(v6(a)));
  assert.is(find('2001:db8:1::5'), '02000000');
  assert.is(find('2001:db8:1:ffff::1'), '02000000');
  assert.is(find('2001:db8:2::1'), '01000000');
  assert.is(find('fe80::1'), '03000000');
  assert.is(find('2001:db9::1'), '03000000');
  t.deleteBytes(v6('::/0'));
  assert.is(find('fe80::1'), 'absent');
  assert.is(find('2001:db8:1::5'), '02000000');
});

test("katran's CIDR VIP key (24 bytes: prefixlen, port, proto, pad, addr[16])", () => {
  const f = fixture([{ name: 'vip_lpm_map', type: MAP_TYPE.LPM_TRIE, keySize: 24, valueSize: 8, maxEntries: 16, flags: NO_PREALLOC }]);
  const t = f.map('vip_lpm_map');
  const key = (bits: number, port: number, proto: number, addr: number[]): Uint8Array => {
    const k = new Uint8Array(24);
    new DataView(k.buffer).setUint32(0, bits, true);
    new DataView(k.buffer).setUint16(4, port, false);
    k[6] = proto;
    k.set(addr, 8);
    return k;
  };
  // prefixlen = 32 (port, proto, pad) + CIDR bits.
  t.updateBytes(key(32 + 8, 80, 6, [10]), new Uint8Array(8).fill(1));
  t.updateBytes(key(32 + 24, 80, 6, [10, 1, 2]), new Uint8Array(8).fill(2));
  assert.is(hex(t.lookupBytes(key(160, 80, 6, [10, 1, 2, 3]))), '0202020202020202');
  assert.is(hex(t.lookupBytes(key(160, 80, 6, [10, 9, 9, 9]))), '0101010101010101');
  assert.is(t.lookupBytes(key(160, 443, 6, [10, 1, 2, 3])), undefined, 'other port');
  assert.is(t.lookupBytes(key(160, 80, 17, [10, 1, 2, 3])), undefined, 'other protocol');
});

test('ENOMEM when the intermediate node cannot be had: the count and the trie are as before', () => {
  // The pool carves 64 nodes at a time (capacity 2 * 64). ::/1 .. ::/63 nest, one node
  // each, no intermediates: 63 of the first 64. Then the heap is used up. 8000::/1
  // diverges from ::/1 at bit 0, so it needs its own node (the 64th) and an intermediate
  // (a new chunk, which the heap cannot give): ENOMEM, the node goes back to the pool and
  // the count back to 63. ::/64 then fits (count 64 = max_entries, the freed node reused);
  // had the count stayed at 64 it would be ENOSPC.
  const f = fixture([{ name: 't', type: MAP_TYPE.LPM_TRIE, keySize: 20, valueSize: 4, maxEntries: 64, flags: NO_PREALLOC }], 4, {
    extraPages: 4,
  });
  const t = f.map('t') as LpmTrieMap;
  for (let len = 1; len <= 63; len++) t.updateBytes(v6(`::/${len}`), u32(len));
  assert.is(t.count(), 63);
  const heap = f.table.heap;
  assert.ok(heap.alloc(f.layout.maxPages * 65536 - heap.cursor, 8), 'the rest of the heap taken');
  assert.is(heap.alloc(8, 8), 0, 'the heap is used up');
  const find = (addr: string): number | undefined => {
    const v = t.lookupBytes(v6(addr));
    return v ? readU32(v) : undefined;
  };
  assert.is(
    errnoOf(() => t.updateBytes(v6('8000::/1'), u32(99))),
    'ENOMEM',
  );
  assert.is(t.count(), 63, 'count rolled back');
  assert.is(find('8000::1'), undefined);
  assert.is(find('::1'), 63);
  assert.is(find('4000::1'), 1);
  assert.is(
    errnoOf(() => t.updateBytes(v6('::/64'), u32(64))),
    'no error',
  );
  assert.is(t.count(), 64);
  assert.is(find('::1'), 64);
  assert.is(
    errnoOf(() => t.updateBytes(v6('::/65'), u32(65))),
    'ENOSPC',
  );
});

test.run();
