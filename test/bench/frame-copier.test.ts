// The bench's frame copier (bench/frame-copier.ts, hand-assembled wasm) puts every packet
// into its frame byte for byte, whatever its length against the copier's 64-byte steps
// (1 byte, one short of a step, exactly one, one past, a full Ethernet frame), and leaves
// the bytes before each frame's packet alone.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameCopier } from '../../bench/frame-copier.js';

const FRAME = 4096;
const HEADROOM = 256;
const LENGTHS = [1, 63, 64, 65, 127, 600, 1514];

test('each packet arrives whole in its frame, the headroom untouched', () => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 64, shared: true });
  const table = 1024;
  const source = table + LENGTHS.length * 12;
  const frames = 65536; // past the source area (packetBytes(packets) bytes from `source`)
  const packets = LENGTHS.map((n, k) => Uint8Array.from({ length: n }, (_, j) => (j * 31 + k * 7 + 1) & 0xff));
  const copier = new FrameCopier(memory, source, table, packets);
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(0xee, frames, frames + packets.length * FRAME);
  // Packets in reverse order, so frame i gets packet (n - 1 - i): a copy from the wrong source shows.
  packets.forEach((_, i) => copier.queue(i, packets.length - 1 - i, frames + i * FRAME + HEADROOM));
  copier.copy(packets.length);
  packets.forEach((_, i) => {
    const want = packets[packets.length - 1 - i]!;
    const frame = frames + i * FRAME;
    assert.equal(Array.from(bytes.subarray(frame + HEADROOM, frame + HEADROOM + want.length)), Array.from(want), `frame ${i}`);
    assert.ok(
      bytes.subarray(frame, frame + HEADROOM).every((b) => b === 0xee),
      `frame ${i}: headroom written`,
    );
  });
});

test('a copy of none does nothing', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const copier = new FrameCopier(memory, 64, 0, [Uint8Array.of(1, 2, 3)]);
  const before = new Uint8Array(memory.buffer).slice();
  copier.copy(0);
  assert.equal(new Uint8Array(memory.buffer), before);
});

test.run();
