// Runs inside a network namespace for test/datapath/xsk-audit: one AF_XDP socket (copy
// mode, our prefilter) on IFACE with a 64-frame UMEM. Prints {ready}, then takes HOLD frames
// from the RX ring and keeps them, audits; hands them back, audits; then recycles one of
// them a second time (a deliberate double), audits; then recycles another one more times
// than the fill ring has room for, audits. One JSON line per step. The frames it
// does not take stay on the RX ring, where the audit finds them.
//
//   node xsk-audit-child.js IFACE HOLD

import { ATTACH_MODE, BIND_MODE, nativeAddon, PREFILTER_OBJECT } from '../../native/addon.js';

const FRAMES = 64;
const FRAME_SIZE = 4096;
const [iface, holdArg] = process.argv.slice(2);
const hold = Number(holdArg);
const addon = nativeAddon();
const prefilter = new addon.Prefilter(PREFILTER_OBJECT, iface!, ATTACH_MODE.auto);
// WebAssembly memory starts on a page boundary, as the UMEM must.
const memory = new WebAssembly.Memory({ initial: (FRAMES * FRAME_SIZE) / 65536 });
const socket = new addon.XskSocket(iface!, 0, new Uint8Array(memory.buffer), FRAME_SIZE, FRAMES, BIND_MODE.copy, prefilter.xskMapFd);
const say = (o: object): void => console.log(JSON.stringify(o));
say({ ready: true });

const descriptors = new Uint32Array(2 * hold);
const taken: number[] = [];
const deadline = Date.now() + 20_000;
while (taken.length < hold && Date.now() < deadline) {
  const n = socket.receive(descriptors.subarray(0, 2 * (hold - taken.length)), 100);
  for (let i = 0; i < n; i++) taken.push(descriptors[2 * i]! - (descriptors[2 * i]! % FRAME_SIZE));
}
// The audit reads the rings one after another, so it wants them still: the rest of the
// generator's second of traffic lands (on the RX ring, left there) before it looks.
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
const held = socket.statistics().held;
say({ step: 'holding', taken, held, ...socket.audit() });
socket.recycle(Uint32Array.from(taken), taken.length);
say({ step: 'returned', held: socket.statistics().held, ...socket.audit() });
socket.recycle(Uint32Array.of(taken[0]!), 1);
say({ step: 'doubled', ...socket.audit() });
// Past a full fill ring: a recycle bigger than the ring's room. The frames that do not fit
// must wait with us (the audit sees them), not be written over entries the kernel has yet to read.
const room = FRAMES - socket.statistics().fillQueued;
const extra = room + 2;
socket.recycle(new Uint32Array(extra).fill(taken[1]!), extra);
say({ step: 'overflow', extra, fillQueued: socket.statistics().fillQueued, ...socket.audit() });
socket.close();
prefilter.close();
