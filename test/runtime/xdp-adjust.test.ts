// bpf_xdp_adjust_head / _meta / _tail at every limit, with expectations derived by hand
// from the kernel's rules (net/core/filter.c) and the test-run frame geometry: a 4096-byte
// frame, 256 bytes of headroom whose first 40 hold struct xdp_frame (data and data_meta may
// not move into them), 320 bytes of skb_shared_info tailroom at the end. A 64-byte packet
// therefore has 216 bytes to grow into at the front and 3456 at the back.
//   adjust_head: data + delta must lie in [frame + 40 + metadata length, data_end - 14];
//                the metadata moves with data.
//   adjust_meta: data_meta + delta must lie in [frame + 40, data] (else -EINVAL); then the
//                metadata length must be a multiple of 4 and fit xdp_frame's u8 metasize
//                (else -EACCES). Older kernels capped it at 32; the kernel here (6.18)
//                takes all the headroom there is, which these cases pin.
//   adjust_tail: data_end + delta must lie in [data + 14, frame end - tailroom]; grown
//                bytes are zero.
// Runs the xdp_adjust fixture on compiled wasm and the interpreter (no root needed), and
// on the kernel where it is available, which must agree with the same hand-derived table.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';
import { fixtureEngines, readS64, s32le, s64le, u32le } from '../support/fixture-engines.js';
import { skip } from '../support/skip.js';

const EINVAL = -22;
const EACCES = -13;
const HEAD = 1;
const META = 2;
const TAIL = 3;
const WRITE_META = 4;
const STEPS = 6;
const LEN = 64;
const original = Uint8Array.from({ length: LEN }, (_, i) => (i * 7 + 1) & 0xff);
const zeros = (n: number): Uint8Array => new Uint8Array(n);
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

interface Case {
  name: string;
  steps: [number, number][];
  /** Each step's return value. */
  returns: number[];
  /** data_end - data afterwards. */
  length: number;
  /** data - data_meta afterwards (0 unless given). */
  meta?: number;
  /** The first metadata word afterwards, when there is one. */
  metaWord?: number;
  /** The whole packet afterwards, or (`suffix`) only its last bytes (grown headroom is not defined). */
  packet?: Uint8Array;
  suffix?: Uint8Array;
}

const CASES: Case[] = [
  // adjust_head
  { name: 'head: grow by the whole usable headroom (216)', steps: [[HEAD, -216]], returns: [0], length: 280, suffix: original },
  { name: 'head: one byte into struct xdp_frame', steps: [[HEAD, -217]], returns: [EINVAL], length: LEN, packet: original },
  {
    name: 'head: the metadata area counts against the headroom',
    steps: [
      [META, -8],
      [HEAD, -208],
    ],
    returns: [0, 0],
    length: 272,
    meta: 8,
    suffix: original,
  },
  {
    name: 'head: one byte more with 8 bytes of metadata',
    steps: [
      [META, -8],
      [HEAD, -209],
    ],
    returns: [0, EINVAL],
    length: LEN,
    meta: 8,
    packet: original,
  },
  { name: 'head: shrink to exactly an Ethernet header', steps: [[HEAD, 50]], returns: [0], length: 14, packet: original.slice(50) },
  { name: 'head: shrink below an Ethernet header', steps: [[HEAD, 51]], returns: [EINVAL], length: LEN, packet: original },
  {
    name: 'head: limit follows a shrunk tail',
    steps: [
      [TAIL, -40],
      [HEAD, 10],
    ],
    returns: [0, 0],
    length: 14,
    packet: original.slice(10, 24),
  },
  {
    name: 'head: one past the limit after a shrunk tail',
    steps: [
      [TAIL, -40],
      [HEAD, 11],
    ],
    returns: [0, EINVAL],
    length: 24,
    packet: original.slice(0, 24),
  },
  {
    name: 'head: metadata moves with data',
    steps: [
      [META, -4],
      [WRITE_META, 0x1234abcd],
      [HEAD, 10],
      [HEAD, -30],
    ],
    // Moving data forward by 10 copies the metadata over packet bytes 6..9, which the grown
    // head then shows again.
    returns: [0, 0, 0, 0],
    length: 84,
    meta: 4,
    metaWord: 0x1234abcd,
    suffix: concat(original.slice(0, 6), u32le(0x1234abcd), original.slice(10)),
  },
  // adjust_tail
  {
    name: 'tail: grow to the end of the frame (3456)',
    steps: [[TAIL, 3456]],
    returns: [0],
    length: 3520,
    packet: concat(original, zeros(3456)),
  },
  { name: 'tail: one byte into the tailroom', steps: [[TAIL, 3457]], returns: [EINVAL], length: LEN, packet: original },
  { name: 'tail: shrink to exactly an Ethernet header', steps: [[TAIL, -50]], returns: [0], length: 14, packet: original.slice(0, 14) },
  { name: 'tail: shrink below an Ethernet header', steps: [[TAIL, -51]], returns: [EINVAL], length: LEN, packet: original },
  {
    name: 'tail: the frame end does not move with data',
    steps: [
      [HEAD, -100],
      [TAIL, 3456],
    ],
    returns: [0, 0],
    length: 3620,
    suffix: concat(original, zeros(3456)),
  },
  {
    name: 'tail: one past the frame end after a grown head',
    steps: [
      [HEAD, -100],
      [TAIL, 3457],
    ],
    returns: [0, EINVAL],
    length: 164,
    suffix: original,
  },
  {
    name: 'tail: the minimum follows data',
    steps: [
      [HEAD, 10],
      [TAIL, -40],
    ],
    returns: [0, 0],
    length: 14,
    packet: original.slice(10, 24),
  },
  {
    name: 'tail: one below the minimum after a shrunk head',
    steps: [
      [HEAD, 10],
      [TAIL, -41],
    ],
    returns: [0, EINVAL],
    length: 54,
    packet: original.slice(10),
  },
  // adjust_meta
  {
    name: 'meta: reserve 4 bytes and write them',
    steps: [
      [META, -4],
      [WRITE_META, 0x55667788],
    ],
    returns: [0, 0],
    length: LEN,
    meta: 4,
    metaWord: 0x55667788,
    packet: original,
  },
  {
    name: 'meta: reserve all the usable headroom, 216 bytes',
    steps: [[META, -216]],
    returns: [0],
    length: LEN,
    meta: 216,
    packet: original,
  },
  { name: 'meta: 220 bytes reach into struct xdp_frame', steps: [[META, -220]], returns: [EINVAL], length: LEN, packet: original },
  {
    name: 'meta: more than 32 bytes in two steps',
    steps: [
      [META, -32],
      [META, -4],
    ],
    returns: [0, 0],
    length: LEN,
    meta: 36,
    packet: original,
  },
  { name: 'meta: 2 bytes is not a multiple of 4', steps: [[META, -2]], returns: [EACCES], length: LEN, packet: original },
  { name: 'meta: 6 bytes is not a multiple of 4', steps: [[META, -6]], returns: [EACCES], length: LEN, packet: original },
  {
    name: 'meta: shrinking 8 to 6 bytes is refused',
    steps: [
      [META, -8],
      [META, 2],
    ],
    returns: [0, EACCES],
    length: LEN,
    meta: 8,
    packet: original,
  },
  { name: 'meta: bounds are checked before alignment', steps: [[META, 3]], returns: [EINVAL], length: LEN, packet: original },
  { name: 'meta: data_meta may not pass data', steps: [[META, 4]], returns: [EINVAL], length: LEN, packet: original },
  {
    name: 'meta: back to exactly data',
    steps: [
      [META, -8],
      [META, 8],
    ],
    returns: [0, 0],
    length: LEN,
    meta: 0,
    packet: original,
  },
  {
    name: 'meta: one word past data',
    steps: [
      [META, -8],
      [META, 12],
    ],
    returns: [0, EINVAL],
    length: LEN,
    meta: 8,
    packet: original,
  },
  {
    name: 'meta: none left below a head grown to the limit',
    steps: [
      [HEAD, -216],
      [META, -4],
    ],
    returns: [0, EINVAL],
    length: 280,
    suffix: original,
  },
  {
    name: 'meta: exactly the headroom that is left',
    steps: [
      [HEAD, -212],
      [META, -4],
    ],
    returns: [0, 0],
    length: 276,
    meta: 4,
    suffix: original,
  },
  {
    name: 'meta: one word more than the headroom left',
    steps: [
      [HEAD, -212],
      [META, -8],
    ],
    returns: [0, EINVAL],
    length: 276,
    suffix: original,
  },
  { name: 'meta: no room to write without metadata', steps: [[WRITE_META, 1]], returns: [-1], length: LEN, packet: original },
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'xdp_adjust.c'));
const engines = fixtureEngines(object);

for (const engine of engines) {
  for (const c of CASES) {
    test(`${engine.name}: ${c.name}`, () => {
      if (engine.missing) return void skip(`${engine.name}: ${c.name}`, engine.missing);
      for (let i = 0; i < STEPS; i++) {
        const [op, arg] = c.steps[i] ?? [0, 0];
        engine.set('steps', u32le(2 * i), s32le(op));
        engine.set('steps', u32le(2 * i + 1), s32le(arg));
      }
      for (let i = 0; i < STEPS + 3; i++) engine.set('results', u32le(i), s64le(0x7777n));
      const r = engine.run('xdp_adjust', original);
      assert.is(r.actionName, 'XDP_PASS', r.fault);
      const result = (i: number): number => Number(readS64(engine.get('results', u32le(i))));
      // The kernel's test run returns the metadata in front of the packet.
      if (engine.name === 'kernel') r.packet = r.packet.subarray(result(STEPS + 1));
      assert.equal(
        c.steps.map((_, i) => result(i)),
        c.returns,
        'return values',
      );
      assert.is(result(STEPS), c.length, 'data_end - data');
      assert.is(r.packet.length, c.length, 'output length');
      assert.is(result(STEPS + 1), c.meta ?? 0, 'data - data_meta');
      if (c.metaWord !== undefined) assert.is(result(STEPS + 2), c.metaWord, 'first metadata word');
      if (c.packet) assert.is(hex(r.packet), hex(c.packet), 'packet');
      if (c.suffix) assert.is(hex(r.packet.subarray(r.packet.length - c.suffix.length)), hex(c.suffix), 'packet end');
    });
  }
}

test.after(() => engines.forEach((e) => e.close()));
test.run();
