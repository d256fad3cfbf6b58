// The XDP dynptr functions (runtime/dynptr.ts) on hand-built packets, with the answers
// derived from the kernel's code (kernel/bpf/helpers.c: bpf_dynptr_check_off_len and the
// functions' own checks; net/core/filter.c: bpf_xdp_pointer, bpf_xdp_copy_buf). The
// kernel itself is the oracle of test/kernel/diff (test/fixtures/kernel/xdp_dynptr.c);
// this runs without it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeHelpers, type HelperEnv } from '../../runtime/helpers.js';
import type { MapTable } from '../../runtime/maps/index.js';
import { XdpContext } from '../../runtime/xdp.js';

const EINVAL = -22n;
const E2BIG = -7n;
const ERANGE = -34n;
const FRAME = 8192;
const PTR = 4096n;
const BAD = 4160n;
const BUF = 4200;

function setup(packet: Uint8Array) {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const xdp = new XdpContext(memory, 64);
  const env: HelperEnv = {
    memory,
    maps: { get: () => undefined, maps: [] } as unknown as MapTable,
    cpu: 0,
    xdp,
    clock: () => 0n,
    preciseClock: true,
    trace: () => {},
  };
  xdp.load(FRAME, 4096, packet);
  const helpers = makeHelpers(env);
  // Registers the function does not read are 0, as the call leaves them for it.
  const h = new Proxy(helpers, {
    get:
      (t, name: string) =>
      (...args: bigint[]) =>
        t[name]!(...([...args, 0n, 0n, 0n, 0n, 0n].slice(0, 5) as [bigint, bigint, bigint, bigint, bigint])),
  }) as unknown as Record<string, (...args: bigint[]) => bigint>;
  return { h, xdp, mem: new Uint8Array(memory.buffer) };
}

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

test('from_xdp: the packet length as size; flags make a NULL dynptr every function refuses', () => {
  const { h, xdp } = setup(bytes(40));
  assert.is(h.bpf_dynptr_from_xdp!(64n, 0n, PTR), 0n);
  assert.is(h.bpf_dynptr_size!(PTR), 40n);
  assert.is(h.bpf_dynptr_is_null!(PTR), 0n);
  assert.is(h.bpf_dynptr_from_xdp!(64n, 1n, BAD), EINVAL);
  assert.is(h.bpf_dynptr_is_null!(BAD), 1n);
  assert.is(h.bpf_dynptr_size!(BAD), 0xffffffean, '-EINVAL as a __u32');
  assert.is(h.dynptr_read!(BigInt(BUF), 4n, BAD, 0n, 0n), EINVAL);
  assert.is(h.dynptr_write!(BAD, 0n, BigInt(BUF), 4n, 0n), EINVAL);
  assert.is(h.bpf_dynptr_slice!(BAD, 0n, BigInt(BUF), 4n), 0n);
  assert.is(h.bpf_dynptr_adjust!(BAD, 0n, 4n), EINVAL);
  assert.is(h.dynptr_data!(PTR, 0n, 4n), 0n, 'never a direct pointer into an XDP dynptr');
  void xdp;
});

test('slices: direct into the linear area, NULL beyond the dynptr, buffers untouched when direct', () => {
  const { h, xdp, mem } = setup(bytes(40));
  h.bpf_dynptr_from_xdp!(64n, 0n, PTR);
  assert.is(h.bpf_dynptr_slice!(PTR, 4n, BigInt(BUF), 8n), BigInt(xdp.data + 4));
  assert.is(h.bpf_dynptr_slice_rdwr!(PTR, 32n, 0n, 8n), BigInt(xdp.data + 32), 'no buffer needed');
  assert.is(h.bpf_dynptr_slice!(PTR, 33n, BigInt(BUF), 8n), 0n, 'one byte past the end');
  assert.is(mem[BUF], 0);
});

test('read / write: -E2BIG outside the dynptr, -EINVAL with flags, zero bytes at the end', () => {
  const { h, xdp, mem } = setup(bytes(40));
  h.bpf_dynptr_from_xdp!(64n, 0n, PTR);
  assert.is(h.dynptr_read!(BigInt(BUF), 4n, PTR, 36n, 0n), 0n);
  assert.equal([...mem.subarray(BUF, BUF + 4)], [...bytes(40).subarray(36)]);
  assert.is(h.dynptr_read!(BigInt(BUF), 4n, PTR, 37n, 0n), E2BIG);
  assert.is(h.dynptr_read!(BigInt(BUF), 0n, PTR, 40n, 0n), 0n);
  assert.is(h.dynptr_read!(BigInt(BUF), 4n, PTR, 0n, 1n), EINVAL);
  mem.set([0xaa, 0xbb], BUF);
  assert.is(h.dynptr_write!(PTR, 38n, BigInt(BUF), 2n, 0n), 0n);
  assert.equal([...xdp.packet().subarray(38)], [0xaa, 0xbb]);
  assert.is(h.dynptr_write!(PTR, 39n, BigInt(BUF), 2n, 0n), E2BIG);
  assert.is(h.dynptr_write!(PTR, 0n, BigInt(BUF), 2n, 1n), EINVAL, 'flags are checked after the range');
  assert.is(h.dynptr_write!(PTR, 40n, BigInt(BUF), 2n, 1n), E2BIG);
});

test('adjust: -EINVAL when start > end, -ERANGE past the size, else a window the slices see', () => {
  const { h, xdp } = setup(bytes(40));
  h.bpf_dynptr_from_xdp!(64n, 0n, PTR);
  assert.is(h.bpf_dynptr_adjust!(PTR, 5n, 4n), EINVAL);
  assert.is(h.bpf_dynptr_adjust!(PTR, 0n, 41n), ERANGE);
  assert.is(h.bpf_dynptr_adjust!(PTR, 14n, 30n), 0n);
  assert.is(h.bpf_dynptr_size!(PTR), 16n);
  assert.is(h.bpf_dynptr_slice!(PTR, 0n, 0n, 4n), BigInt(xdp.data + 14));
  assert.is(h.bpf_dynptr_slice!(PTR, 13n, 0n, 4n), 0n, 'the window ends at 30');
});

test('multi-buffer: slices reaching the fragments are copied into the buffer, writes reach them', () => {
  // 3520 bytes fill a 4096-byte frame's linear area; the other 80 are a fragment.
  const packet = bytes(3600);
  const { h, xdp, mem } = setup(packet);
  assert.is(xdp.dataEnd - xdp.data, 3520);
  h.bpf_dynptr_from_xdp!(64n, 0n, PTR);
  assert.is(h.bpf_dynptr_size!(PTR), 3600n);
  assert.is(h.bpf_dynptr_slice!(PTR, 3516n, BigInt(BUF), 8n), BigInt(BUF));
  assert.equal([...mem.subarray(BUF, BUF + 8)], [...packet.subarray(3516, 3524)]);
  assert.is(h.bpf_dynptr_slice!(PTR, 3516n, 0n, 8n), 0n, 'no buffer to copy into');
  assert.is(h.bpf_dynptr_slice!(PTR, 3590n, BigInt(BUF), 8n), BigInt(BUF), 'inside the fragment: copied here');
  assert.equal([...mem.subarray(BUF, BUF + 8)], [...packet.subarray(3590, 3598)]);
  mem.set([1, 2, 3, 4, 5, 6], BUF);
  assert.is(h.dynptr_write!(PTR, 3517n, BigInt(BUF), 6n), 0n);
  assert.equal([...xdp.packet().subarray(3517, 3523)], [1, 2, 3, 4, 5, 6]);
});

test('a packet shorter than the dynptr: reads fail as bpf_xdp_load_bytes does, slices copy what is left', () => {
  const packet = bytes(40);
  const { h, xdp, mem } = setup(packet);
  h.bpf_dynptr_from_xdp!(64n, 0n, PTR);
  assert.is(xdp.adjustTail(-10), 0);
  assert.is(h.bpf_dynptr_size!(PTR), 40n, 'the size stays what it was');
  assert.is(h.dynptr_read!(BigInt(BUF), 8n, PTR, 26n, 0n), EINVAL);
  mem.fill(0xee, BUF, BUF + 8);
  assert.is(h.bpf_dynptr_slice!(PTR, 26n, BigInt(BUF), 8n), BigInt(BUF));
  assert.equal([...mem.subarray(BUF, BUF + 8)], [...packet.subarray(26, 30), 0xee, 0xee, 0xee, 0xee]);
});

test.run();
