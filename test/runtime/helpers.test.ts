// The BPF helpers called directly, with results worked out by hand from the kernel's
// definitions: bpf_csum_diff's 32-bit one's complement sum (sizes multiples of 4, at most
// 512), xdp_load/store_bytes bounds, bpf_redirect's flags, jiffies at HZ=250, the pointer
// check's exact edge, and the answers for a map handle that names no map.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAULT } from '../../core/abi.js';
import { BpfFault } from '../../runtime/fault.js';
import { csumDiff, makeHelpers, makeI32Helpers, pointerCheck, type HelperEnv } from '../../runtime/helpers.js';
import type { MapTable, RingbufMap } from '../../runtime/maps/index.js';
import { MAP_TYPE } from '../../core/map-types.js';
import { fixture, hex } from '../support/maps-fixture.js';
import { XDP_ACTION, XdpContext } from '../../runtime/xdp.js';

const EINVAL = -22n;
const FRAME = 8192;
const BUF = 4096;

function setup(): { env: HelperEnv; mem: Uint8Array } {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const noMaps = { get: () => undefined, maps: [] } as unknown as MapTable;
  const xdp = new XdpContext(memory, 64);
  const env: HelperEnv = {
    memory,
    maps: noMaps,
    cpu: 0,
    xdp,
    clock: () => 10_000_000_123n,
    preciseClock: true,
    trace: () => {},
  };
  return { env, mem: new Uint8Array(memory.buffer) };
}

/** Little-endian u32 words written at `at`. */
function words(mem: Uint8Array, at: number, values: number[]): void {
  const view = new DataView(mem.buffer);
  values.forEach((v, i) => view.setUint32(at + 4 * i, v >>> 0, true));
}

test('csum_diff: to words plus complemented from words plus the seed, carries folded back', () => {
  const { env, mem } = setup();
  const h = makeHelpers(env);
  words(mem, 100, [0xffffffff]); // from: its complement is 0
  words(mem, 200, [16]);
  // The seed is a u32: its high bits are ignored.
  assert.is(h.csum_diff!(100n, 4n, 200n, 4n, 0x1_0000_0003n), 19n);
  words(mem, 300, [0xffffffff, 2]); // 0x1_0000_0001 folds to 2
  assert.is(h.csum_diff!(0n, 0n, 300n, 8n, 0n), 2n);
  words(mem, 400, [5]); // ~5 = 0xfffffffa; + 5 = 0xffffffff, folded to 16 bits (kernels since 6.13)
  assert.is(h.csum_diff!(400n, 4n, 400n, 4n, 0n), 0xffffn);
  assert.is(csumDiff(mem, 300, 0, 300, 8, 7n), 9n);
});

test('xdp_load_bytes / xdp_store_bytes: inside data..data_end only', () => {
  const { env, mem } = setup();
  const h = makeHelpers(env);
  env.xdp.load(
    FRAME,
    4096,
    Uint8Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.is(h.xdp_load_bytes!(0n, 0n, BigInt(BUF), 1n, 0n), 0n);
  assert.is(mem[BUF], 1);
  assert.is(h.xdp_load_bytes!(0n, 19n, BigInt(BUF), 1n, 0n), 0n);
  assert.is(mem[BUF], 20);
  assert.is(h.xdp_load_bytes!(0n, 16n, BigInt(BUF), 4n, 0n), 0n);
  assert.equal([...mem.subarray(BUF, BUF + 4)], [17, 18, 19, 20]);
  assert.is(h.xdp_load_bytes!(0n, 19n, BigInt(BUF), 2n, 0n), EINVAL, 'one byte past data_end');
  assert.is(h.xdp_load_bytes!(0n, -1n, BigInt(BUF), 1n, 0n), -14n, 'an offset above 0xffff is -EFAULT, as bpf_xdp_pointer answers');
  mem.set([0xa1, 0xa2], BUF);
  assert.is(h.xdp_store_bytes!(0n, 18n, BigInt(BUF), 2n, 0n), 0n);
  assert.equal([...env.xdp.packet().subarray(16)], [17, 18, 0xa1, 0xa2]);
  assert.is(h.xdp_store_bytes!(0n, 19n, BigInt(BUF), 2n, 0n), EINVAL);
});

test('xdp_get_buff_len and the adjust helpers act on the context (both helper sets)', () => {
  const { env } = setup();
  const h = makeHelpers(env);
  const h32 = makeI32Helpers(env);
  env.xdp.load(FRAME, 4096, new Uint8Array(60));
  assert.is(h.xdp_get_buff_len!(0n, 0n, 0n, 0n, 0n), 60n);
  assert.is(h.xdp_adjust_head!(0n, 0xffff_fff0n, 0n, 0n, 0n), 0n, 'the delta is a signed 32-bit int: -16');
  assert.is(env.xdp.length, 76);
  assert.is(h32.xdp_adjust_head!(0, 16), 0);
  assert.is(h.xdp_adjust_tail!(0n, 0xffff_fff6n, 0n, 0n, 0n), 0n);
  assert.is(env.xdp.length, 50);
  assert.is(h32.xdp_adjust_tail!(0, -50), -22);
  assert.is(h.xdp_adjust_meta!(0n, 0xffff_fffcn, 0n, 0n, 0n), 0n);
  assert.is(env.xdp.data - env.xdp.dataMeta, 4);
  assert.is(h32.xdp_adjust_meta!(0, -2), -13);
});

test('redirect: flags must be 0 (else XDP_ABORTED); the target is the low 32 bits', () => {
  const { env } = setup();
  const h = makeHelpers(env);
  env.xdp.load(FRAME, 4096, new Uint8Array(60));
  assert.is(h.redirect!(5n, 1n, 0n, 0n, 0n), BigInt(XDP_ACTION.ABORTED));
  assert.is(env.xdp.redirect, undefined);
  assert.is(h.redirect!(0x1_0000_0007n, 0n, 0n, 0n, 0n), BigInt(XDP_ACTION.REDIRECT));
  assert.equal(env.xdp.redirect, { kind: 'ifindex', target: 7 });
});

test('a handle that names no map: lookup NULL, update/delete -EINVAL, redirect_map the fallback action, tail call -ENOENT', () => {
  const { env } = setup();
  const h = makeHelpers(env);
  const h32 = makeI32Helpers(env);
  assert.is(h.map_lookup_elem!(8n, 100n, 0n, 0n, 0n), 0n);
  assert.is(h.map_update_elem!(8n, 100n, 200n, 0n, 0n), EINVAL);
  assert.is(h.map_delete_elem!(8n, 100n, 0n, 0n, 0n), EINVAL);
  assert.is(h.map_lookup_percpu_elem!(8n, 100n, 0n, 0n, 0n), 0n);
  assert.is(h32.map_lookup_elem!(8, 100), 0);
  assert.is(h32.map_update_elem!(8, 100, 200, 0), -22);
  assert.is(h32.map_delete_elem!(8, 100), -22);
  assert.is(h.redirect_map!(8n, 0n, 6n, 0n, 0n), 2n, 'the low two bits of flags');
  assert.is(h.tail_call!(0n, 8n, 0n, 0n, 0n), -2n);
  assert.is(h.ringbuf_output!(8n, 100n, 8n, 0n, 0n), EINVAL);
  assert.is(h.ringbuf_reserve!(8n, 8n, 0n, 0n, 0n), 0n);
});

test('clock, jiffies (HZ=250), random, cpu', () => {
  const { env } = setup();
  const h = makeHelpers(env);
  assert.is(h.ktime_get_ns!(0n, 0n, 0n, 0n, 0n), 10_000_000_123n);
  assert.is(h.jiffies64!(0n, 0n, 0n, 0n, 0n), 2500n);
  // xorshift32 (13, 17, 5) from seed 1, by hand: 0x2001, then 0x2001, then 0x2001 ^ 0x40020.
  env.xdp.seedRandom(1);
  assert.is(h.get_prandom_u32!(0n, 0n, 0n, 0n, 0n), 0x42021n);
  assert.is(h.get_smp_processor_id!(0n, 0n, 0n, 0n, 0n), 0n);
});

// Each ring's data area is twice its size (the wrap-around copy); 'b' starts a page after 'a''s ends.
test('ringbuf_submit / ringbuf_discard find the ring a sample lies in, with two rings side by side', () => {
  const f = fixture([
    { name: 'a', type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 8192 },
    { name: 'b', type: MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 8192 },
  ]);
  const a = f.map('a') as RingbufMap;
  const b = f.map('b') as RingbufMap;
  const env: HelperEnv = {
    memory: f.memory,
    maps: f.table,
    cpu: 0,
    xdp: new XdpContext(f.memory, f.room(64)),
    clock: () => 0n,
    preciseClock: true,
    trace: () => {},
  };
  const h = makeHelpers(env);
  const drained = (rb: RingbufMap): string[] => {
    const out: string[] = [];
    rb.drain((r) => out.push(hex(r)));
    return out;
  };
  for (const [ring, other, byte] of [
    [b, a, 0xbb],
    [a, b, 0xaa],
  ] as const) {
    const sample = Number(h.ringbuf_reserve!(BigInt(ring.handle), 4n, 0n, 0n, 0n));
    assert.ok(sample >= ring.data && sample < ring.data + 8192, 'the sample lies in its ring');
    new Uint8Array(f.memory.buffer).fill(byte, sample, sample + 4);
    assert.is(h.ringbuf_submit!(BigInt(sample), 0n, 0n, 0n, 0n), 0n);
    assert.equal(drained(ring), [hex(new Uint8Array(4).fill(byte))]);
    assert.equal(drained(other), []);
    const discarded = Number(h.ringbuf_reserve!(BigInt(ring.handle), 4n, 0n, 0n, 0n));
    h.ringbuf_discard!(BigInt(discarded), 0n, 0n, 0n, 0n);
    assert.equal(drained(ring), [], 'a discarded record is skipped');
    assert.is(ring.query(0), 0n, 'and the consumer has passed it');
  }
});

test('the i32 map helpers pass key, value and flags through unchanged', () => {
  const f = fixture([{ name: 'arr', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 }]);
  const arr = f.map('arr');
  const env: HelperEnv = {
    memory: f.memory,
    maps: f.table,
    cpu: 0,
    xdp: new XdpContext(f.memory, f.room(64)),
    clock: () => 0n,
    preciseClock: true,
    trace: () => {},
  };
  const h32 = makeI32Helpers(env);
  const key = f.put(Uint8Array.of(2, 0, 0, 0));
  const value = f.put(Uint8Array.of(7, 0, 0, 0));
  // Array elements always exist: BPF_NOEXIST (1) is -EEXIST, BPF_EXIST (2) and BPF_ANY (0) write.
  assert.is(h32.map_update_elem!(arr.handle, key, value, 1), -17);
  assert.is(h32.map_update_elem!(arr.handle, key, value, 2), 0);
  assert.is(hex(arr.lookupBytes(Uint8Array.of(2, 0, 0, 0))), '07000000');
  assert.is(h32.map_lookup_elem!(arr.handle, key), arr.lookup(key, 0));
  assert.is(h32.map_update_elem!(arr.handle, key, value, 8), -22, 'unknown flags');
  assert.is(h32.map_delete_elem!(arr.handle, key), -22, 'array elements cannot be deleted');
});

test('pointer check: a range ending at the end of memory passes, one byte more faults', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
  const check = pointerCheck(memory);
  check('h', 'key', 65536 - 8, 8);
  check('h', 'key', 0, 65536);
  try {
    check('h', 'key', 65536 - 8, 9);
    assert.unreachable('no fault');
  } catch (e) {
    assert.instance(e, BpfFault);
    assert.is((e as BpfFault).kind, FAULT.BAD_POINTER);
  }
  memory.grow(1); // the check sees the memory grown since
  check('h', 'key', 65536 - 8, 9);
});

test.run();
