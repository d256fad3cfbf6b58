// The XDP frame geometry and the pointer moves of bpf_xdp_adjust_head/meta/tail, on the
// context alone, against the kernel's rules worked out by hand: 256 bytes of headroom, a
// 40-byte struct xdp_frame at the start of the frame that data_meta may not reach, 320
// bytes of skb_shared_info at the end that data_end may not reach, at least an Ethernet
// header between data and data_end. (Every boundary below gives the same result on Linux
// 6.18 under BPF_PROG_TEST_RUN with a 64-byte packet: adjust_head -216/-217, +50/+51, and
// -208/-209 after 8 bytes of metadata; adjust_tail +3456/+3457, -50/-51; adjust_meta by a
// non-multiple of 4 is -EACCES. 6.18 allows more than 32 bytes of metadata, older kernels
// do not; that limit is left untested.)

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UserError } from '../../core/errors.js';
import { XDP_ACTION, XDP_ACTION_NAME, XDP_MD, XdpContext } from '../../runtime/xdp.js';

const EINVAL = -22;
const EACCES = -13;
const CTX = 64;
const FRAME = 4096;
const FRAME_SIZE = 4096;
/** Usable bytes after the headroom: 4096 - 256 - 320. */
const LINEAR_MAX = 3520;

function context(): { xdp: XdpContext; mem: Uint8Array; words: DataView } {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const mem = new Uint8Array(memory.buffer);
  mem.fill(0xaa); // garbage everywhere: what the context must overwrite or zero, it does
  return { xdp: new XdpContext(memory, CTX), mem, words: new DataView(memory.buffer) };
}

const packetOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

test('the action names are the kernel enum xdp_action', () => {
  assert.equal(XDP_ACTION, { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 });
  assert.equal(XDP_ACTION_NAME, { 0: 'XDP_ABORTED', 1: 'XDP_DROP', 2: 'XDP_PASS', 3: 'XDP_TX', 4: 'XDP_REDIRECT' });
});

test('load: the packet after 256 bytes of headroom, xdp_md words written', () => {
  const { xdp, words } = context();
  const packet = packetOf(64);
  xdp.load(FRAME, FRAME_SIZE, packet, 7, 3);
  const word = (off: number): number => words.getUint32(CTX + off, true);
  assert.is(word(XDP_MD.data), FRAME + 256);
  assert.is(word(XDP_MD.dataEnd), FRAME + 256 + 64);
  assert.is(word(XDP_MD.dataMeta), FRAME + 256);
  assert.is(word(XDP_MD.ingressIfindex), 7);
  assert.is(word(XDP_MD.rxQueueIndex), 3);
  assert.is(word(XDP_MD.egressIfindex), 0);
  assert.equal([...xdp.packet()], [...packet]);
  assert.is(xdp.length, 64);
  assert.is(xdp.hardStart, FRAME);
  assert.is(xdp.frameEnd, FRAME + FRAME_SIZE - 320);
});

test('load: 14 bytes is the least (an Ethernet header); 13 is refused with a user error', () => {
  const { xdp } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(14));
  assert.is(xdp.length, 14);
  assert.throws(
    () => xdp.load(FRAME, FRAME_SIZE, packetOf(13)),
    (e: unknown) => e instanceof UserError,
  );
});

test('load: beyond 3520 bytes the rest goes to fragments, up to 17 pages of them', () => {
  const { xdp, mem } = context();
  const big = packetOf(LINEAR_MAX + 100);
  xdp.load(FRAME, FRAME_SIZE, big);
  assert.ok(
    mem.subarray(FRAME + 256 + LINEAR_MAX, FRAME + FRAME_SIZE + 200).every((b) => b === 0xaa),
    'nothing written past the linear area',
  );
  assert.is(xdp.dataEnd - xdp.data, LINEAR_MAX);
  assert.is(xdp.fragments.length, 100);
  assert.is(xdp.length, LINEAR_MAX + 100);
  assert.equal([...xdp.packet()], [...big]);
  xdp.load(FRAME, FRAME_SIZE, packetOf(LINEAR_MAX));
  assert.is(xdp.fragments.length, 0, 'exactly the linear area: no fragments');
  xdp.load(FRAME, FRAME_SIZE, packetOf(LINEAR_MAX + 17 * 4096));
  assert.is(xdp.length, LINEAR_MAX + 17 * 4096);
  assert.throws(
    () => xdp.load(FRAME, FRAME_SIZE, packetOf(LINEAR_MAX + 17 * 4096 + 1)),
    (e: unknown) => e instanceof UserError,
  );
});

test("a new packet forgets the last one's fragments and redirect", () => {
  const { xdp } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(LINEAR_MAX + 10));
  xdp.redirect = { kind: 'ifindex', target: 3 };
  xdp.load(FRAME, FRAME_SIZE, packetOf(60));
  assert.is(xdp.fragments.length, 0);
  assert.is(xdp.redirect, undefined);
  assert.is(xdp.length, 60);
});

test('adjust_head: down to the end of struct xdp_frame (40 bytes), up to an Ethernet header before data_end', () => {
  const { xdp } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(64));
  assert.is(xdp.adjustHead(-217), EINVAL);
  assert.is(xdp.data, FRAME + 256, 'a refused move moves nothing');
  assert.is(xdp.adjustHead(-216), 0);
  assert.is(xdp.data, FRAME + 40);
  assert.is(xdp.dataMeta, FRAME + 40, 'data_meta moves with data');
  assert.is(xdp.length, 64 + 216);
  xdp.load(FRAME, FRAME_SIZE, packetOf(64));
  assert.is(xdp.adjustHead(64 - 13), EINVAL);
  assert.is(xdp.adjustHead(64 - 14), 0);
  assert.is(xdp.length, 14);
  assert.equal([...xdp.packet()], [...packetOf(64).slice(50)]);
});

test('adjust_head with metadata: the metadata moves along and counts against the headroom', () => {
  const { xdp, mem } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(64));
  assert.is(xdp.adjustMeta(-8), 0);
  mem.set([1, 2, 3, 4, 5, 6, 7, 8], xdp.dataMeta);
  assert.is(xdp.adjustHead(-209), EINVAL);
  assert.is(xdp.adjustHead(-208), 0);
  assert.is(xdp.data, FRAME + 48);
  assert.is(xdp.dataMeta, FRAME + 40);
  assert.equal([...mem.subarray(xdp.dataMeta, xdp.data)], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('adjust_meta: before data, a multiple of 4 (else -EACCES), never into struct xdp_frame', () => {
  const { xdp } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(64));
  assert.is(xdp.adjustMeta(4), EINVAL, 'data_meta after data');
  assert.is(xdp.adjustMeta(-2), EACCES);
  assert.is(xdp.adjustMeta(-6), EACCES);
  assert.is(xdp.dataMeta, xdp.data, 'refused moves move nothing');
  assert.is(xdp.adjustMeta(-4), 0);
  assert.is(xdp.data - xdp.dataMeta, 4);
  assert.is(xdp.adjustMeta(-28), 0);
  assert.is(xdp.data - xdp.dataMeta, 32);
  assert.is(xdp.adjustMeta(32), 0, 'back to no metadata');
  assert.is(xdp.dataMeta, xdp.data);
  assert.is(xdp.adjustHead(-216), 0);
  assert.is(xdp.adjustMeta(-4), EINVAL, 'the headroom is used up');
});

test('adjust_tail: up to the tailroom (growth zeroed), down to an Ethernet header', () => {
  const { xdp, mem } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(64));
  assert.is(xdp.adjustTail(LINEAR_MAX - 64 + 1), EINVAL);
  assert.is(xdp.adjustTail(LINEAR_MAX - 64), 0);
  assert.is(xdp.dataEnd, FRAME + FRAME_SIZE - 320);
  assert.ok(
    mem.subarray(xdp.data + 64, xdp.dataEnd).every((b) => b === 0),
    'the new bytes are zero',
  );
  assert.equal([...mem.subarray(xdp.data, xdp.data + 64)], [...packetOf(64)], 'the old bytes stay');
  assert.is(xdp.adjustTail(-(LINEAR_MAX - 13)), EINVAL);
  assert.is(xdp.adjustTail(-(LINEAR_MAX - 14)), 0);
  assert.is(xdp.length, 14);
});

test('adjust_tail on a multi-buffer packet grows into the fragment page and shrinks the fragments first', () => {
  const { xdp } = context();
  xdp.load(FRAME, FRAME_SIZE, packetOf(LINEAR_MAX + 100));
  assert.is(xdp.adjustTail(1), 0, 'the last fragment page has room');
  assert.is(xdp.adjustTail(-41), 0);
  assert.is(xdp.length, LINEAR_MAX + 60);
  assert.equal([...xdp.packet()], [...packetOf(LINEAR_MAX + 60)]);
  assert.is(xdp.dataEnd - xdp.data, LINEAR_MAX, 'the linear part is untouched');
});

test.run();
