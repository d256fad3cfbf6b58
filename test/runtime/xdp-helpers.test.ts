// The XDP context helpers and bpf_csum_diff where the kernel fuzzer (fuzz/kernel.test.ts)
// found us differing from the kernel's test run. Expected values are worked out by hand
// from the kernel's rules (net/core/filter.c, bpf_prog_test_run_xdp, include/net/xdp_meta.h
// of 6.18): a fresh zeroed buffer per run, metadata of at most 256 - sizeof(struct
// xdp_frame) = 216 bytes (-EACCES beyond), csum_diff folded to 16 bits (since 6.13), and
// multi-buffer tails that grow into the last fragment page.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csumDiff } from '../../runtime/helpers.js';
import { XDP_FRAME_SIZE, XDP_HEADROOM, XDP_MAX_PACKET, XDP_MD_SIZE, XdpContext } from '../../runtime/xdp.js';

const EINVAL = -22;
const EACCES = -13;
const CTX = 64;
const FRAME = 4096;

function context(): { xdp: XdpContext; mem: Uint8Array } {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const xdp = new XdpContext(memory, CTX);
  assert.ok(CTX + XDP_MD_SIZE <= FRAME);
  return { xdp, mem: new Uint8Array(memory.buffer) };
}

test("headroom: an earlier packet's bytes there do not show through (the test run zeroes it)", () => {
  const { xdp, mem } = context();
  xdp.load(FRAME, XDP_FRAME_SIZE, new Uint8Array(60).fill(0xaa));
  assert.is(xdp.adjustHead(-64), 0);
  mem.fill(0x55, xdp.data, xdp.data + 64);
  xdp.load(FRAME, XDP_FRAME_SIZE, new Uint8Array(60).fill(0xbb));
  assert.is(xdp.adjustHead(-64), 0);
  assert.equal([...mem.subarray(xdp.data, xdp.data + 64)], new Array(64).fill(0));
  assert.equal([...xdp.packet().subarray(64)], new Array(60).fill(0xbb));
});

test('adjust_meta: past the xdp_frame -EINVAL; over 255 bytes (a u8 metasize) or unaligned -EACCES', () => {
  const { xdp } = context();
  xdp.load(FRAME, XDP_FRAME_SIZE, new Uint8Array(60));
  assert.is(xdp.adjustMeta(-220), EINVAL, 'meta would reach into the struct xdp_frame');
  assert.is(xdp.adjustMeta(-6), EACCES, 'not a multiple of 4');
  assert.is(xdp.adjustMeta(-216), 0, 'the whole headroom after the xdp_frame');
  assert.is(xdp.data - xdp.dataMeta, 216);
  assert.is(xdp.adjustMeta(216), 0);
  // With data moved up there is room for more: the kernel takes up to 252 (255 rounded
  // down to a multiple of 4) and refuses 256 with -EACCES (checked on 6.18).
  assert.is(xdp.adjustHead(40), 0);
  assert.is(xdp.adjustMeta(-256), EACCES);
  assert.is(xdp.adjustMeta(-252), 0);
  assert.is(xdp.adjustMeta(252), 0);
  assert.is(xdp.adjustMeta(-64), 0, 'beyond the 32 bytes older kernels allowed');
});

test('multi-buffer adjust_tail: grows into the last fragment page, shrinks fragments then the linear part', () => {
  const { xdp } = context();
  const total = XDP_MAX_PACKET + 1480; // the linear area, then one fragment page holding 1480 bytes
  xdp.load(FRAME, XDP_FRAME_SIZE, new Uint8Array(total).fill(7));
  assert.is(xdp.length, total);
  assert.is(xdp.adjustTail(XDP_FRAME_SIZE - 1480 + 1), EINVAL, 'one byte more than the page holds');
  assert.is(xdp.adjustTail(XDP_FRAME_SIZE - 1480), 0);
  assert.is(xdp.length, XDP_MAX_PACKET + XDP_FRAME_SIZE);
  const out = xdp.packet();
  assert.is(out[total - 1], 7);
  assert.is(out[total], 0, 'grown bytes are zeroed');
  assert.is(xdp.adjustTail(-(xdp.length - 14 + 1)), EINVAL, 'less than an Ethernet header would be left');
  assert.is(xdp.adjustTail(-(XDP_FRAME_SIZE + 10)), 0, 'the whole fragment and 10 linear bytes');
  assert.is(xdp.fragments.length, 0);
  assert.is(xdp.dataEnd - xdp.data, XDP_MAX_PACKET - 10);
  assert.is(xdp.adjustTail(10), 0, 'linear again: grows within the frame');
  assert.is(xdp.data - FRAME, XDP_HEADROOM);
});

test('csum_diff: csum(to) - csum(from) from the seed, folded to 16 bits, not complemented', () => {
  const mem = new Uint8Array(64);
  const put = (at: number, bytes: number[]): number => (mem.set(bytes, at), at);
  const one = put(0, [1, 0, 0, 0]);
  const ones = put(8, [0xff, 0xff, 0xff, 0xff]);
  const odd = put(16, [0x12, 0x34, 0x56]);
  assert.is(csumDiff(mem, 0, 0, one, 4, 0n), 1n, 'to only: the sum');
  assert.is(csumDiff(mem, 0, 0, ones, 4, 0n), 0xffffn, 'a non-zero multiple of 0xffff folds to 0xffff');
  assert.is(csumDiff(mem, one, 4, one, 4, 0n), 0xffffn, "equal from and to: 1 + ~1, one's complement zero");
  assert.is(csumDiff(mem, one, 4, 0, 0, 0n), 0xfffen, 'from only: ~csum(from, ~seed)');
  assert.is(csumDiff(mem, 0, 0, odd, 3, 0n), 0x3468n, 'a short last word is zero-padded: 0x3412 + 0x56');
  assert.is(csumDiff(mem, 0, 0, 0, 0, 0x12345n), 0x2346n, 'no words: the seed, folded');
});

test.run();
