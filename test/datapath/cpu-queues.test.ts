// cpumap queue size: the kernel gives each cpumap entry a ptr_ring of qsize frames and
// drops what a full ring cannot take. The inboxes hold at most qsize frames per CPU (each
// CPU its own count, even two CPUs played by one worker), in order, and take more once the
// target has drained some; a Redirector reads qsize from the entry's first word. A cpumap
// program's own redirect into a cpumap is queued (as the kernel's kthread enqueues it),
// even for the worker's own CPU, and a frame circling between cpumaps leaves the worker
// free after a bounded number of hops per drain.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CpuInboxes, type QueuedFrame } from '../../datapath/cpu-queues.js';
import { Redirector } from '../../datapath/redirect.js';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { packageRoot } from '../../core/package-root.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { XDP_FRAME_SIZE, XDP_FRAME_STRUCT, XDP_HEADROOM, XDP_TAILROOM } from '../../runtime/xdp.js';
import { compileBpf } from '../support/clang.js';
import { applyUpdates } from '../../runtime/map-commands.js';
import { SEL, XDP, commandFrame, stamped } from '../support/redirect-command.js';

const packet = (n: number): Uint8Array => new Uint8Array(60).fill(n);
/** A 60-byte packet of byte n, no metadata, at the usual headroom. */
const frame = (n: number): QueuedFrame => ({ bytes: packet(n), headroom: XDP_HEADROOM, metaLength: 0 });

test('a CPU takes qsize frames, then drops until its worker takes one', () => {
  // Two workers, four CPUs: worker 1 plays CPUs 1 and 3.
  const q = CpuInboxes.create(2, 4);
  const posted = [1, 2, 3, 4, 5].map((n) => q.post(1, 3, frame(n), 7, 0));
  assert.equal(posted, [true, true, true, false, false], 'qsize 3: the fourth and fifth dropped');
  assert.is(q.queued(1), 3);
  // CPU 3 shares the worker, not the count.
  assert.equal([q.post(3, 1, frame(9), 7, 0), q.post(3, 1, frame(10), 7, 0)], [true, false]);
  const into = new Uint8Array(XDP_FRAME_SIZE);
  const first = q.take(1, into);
  assert.equal(first && { length: first.length, ingress: first.ingress, byte: into[XDP_HEADROOM] }, { length: 60, ingress: 7, byte: 1 });
  assert.is(q.queued(1), 2);
  assert.ok(q.post(1, 3, frame(6), 7, 0), 'room again after a take');
  const order: number[] = [];
  while (q.take(1, into)) order.push(into[XDP_HEADROOM]!);
  assert.equal(order, [2, 3, 9, 6], 'first in, first out');
  assert.equal([q.queued(1), q.queued(3)], [0, 0]);
  assert.not.ok(q.post(4, 100, frame(1), 7, 0), 'a CPU beyond the cpumap');
});

test('a queued frame keeps its headroom and metadata; one that does not fit a frame is refused', () => {
  const q = CpuInboxes.create(1, 1);
  // The first program moved data 16 bytes back and reserved 8 bytes of metadata.
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, ...packet(9)]);
  assert.ok(q.post(0, 4, { bytes, headroom: XDP_HEADROOM - 16, metaLength: 8 }, 3, 0));
  const into = new Uint8Array(XDP_FRAME_SIZE);
  const taken = q.take(0, into);
  assert.equal(taken && { ...taken }, { length: 60, cpu: 0, ingress: 3, program: 0, headroom: XDP_HEADROOM - 16, metaLength: 8 });
  assert.equal([...into.subarray(XDP_HEADROOM - 24, XDP_HEADROOM - 16 + 60)], [...bytes], 'metadata, then the packet, where they were');
  // Metadata reaching into the xdp_frame the kernel keeps at the frame's start, or a packet past the tailroom.
  assert.not.ok(q.post(0, 4, { bytes, headroom: XDP_FRAME_STRUCT + 4, metaLength: 8 }, 3, 0));
  assert.not.ok(q.post(0, 4, { bytes, headroom: XDP_FRAME_SIZE - XDP_TAILROOM - 40, metaLength: 8 }, 3, 0));
});

test("one worker's inbox holds 128 frames whatever the queue sizes", () => {
  const q = CpuInboxes.create(1, 2);
  let taken = 0;
  for (let i = 0; i < 100; i++) taken += Number(q.post(0, 16384, frame(i), 1, 0));
  for (let i = 0; i < 100; i++) taken += Number(q.post(1, 16384, frame(i), 1, 0));
  assert.is(taken, 128);
});

test("a Redirector follows the cpumap entry's qsize", () => {
  const object = compileBpf(join(packageRoot, 'test/fixtures/redirect/redirect_maps.c'));
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object), { maxCpus: 2 }).wasm, object);
  const machine = BpfMachine.create(loaded);
  const cpuMap = machine.maps.byNameOrThrow('cpu_map');
  const qsize = 2;
  cpuMap.updateBytes(new Uint8Array([1, 0, 0, 0]), new Uint8Array([qsize, 0, 0, 0, 0, 0, 0, 0]));
  const queues = CpuInboxes.create(2, cpuMap.spec.maxEntries);
  const passed: number[] = [];
  const ports = { send: () => false, pass: (f: Uint8Array) => passed.push(f[0]!) > 0 };
  const from = new Redirector(machine, machine.worker(0), 1, ports, queues.of(0));
  const to = new Redirector(machine, machine.worker(1), 1, ports, queues.of(1));
  const at = machine.maps.heap.alloc(XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  const data = at + XDP_HEADROOM;
  const redirect = (n: number): string => {
    new Uint8Array(machine.memory.buffer).set(packet(n), data);
    const d = from.deliver({ kind: 'map', target: cpuMap.handle, key: 1 }, at, XDP_FRAME_SIZE, data, 60);
    return typeof d === 'string' ? d : 'local';
  };
  assert.equal([1, 2, 3].map(redirect), ['sent', 'sent', 'dropped']);
  assert.equal(to.drainInbox(), { delivered: 2, dropped: 0 });
  assert.equal(passed, [1, 2], 'the stack gets the queued frames, in order');
  assert.equal([4, 5, 6].map(redirect), ['sent', 'sent', 'dropped'], 'qsize again once drained');
});

test("a cpumap program's redirect into a cpumap waits in the inbox, even for its own CPU", () => {
  const object = compileBpf(join(packageRoot, 'test/fixtures/redirect/redirect_maps.c'));
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object), { maxCpus: 2 }).wasm, object);
  const machine = BpfMachine.create(loaded);
  applyUpdates(machine, ['cpu_map=00000000:0800000000000000+stamp_cpu']);
  const cpuMap = machine.maps.byNameOrThrow('cpu_map');
  const queues = CpuInboxes.create(1, cpuMap.spec.maxEntries);
  const passed: string[] = [];
  const ports = { send: () => false, pass: (f: Uint8Array, cpu: number) => passed.push(`${cpu} ${Buffer.from(f).toString('hex')}`) > 0 };
  const redirector = new Redirector(machine, machine.worker(0), 1, ports, queues.of(0));
  const at = machine.maps.heap.alloc(XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  const data = at + XDP_HEADROOM;
  const toCpu0 = (f: Uint8Array): string => {
    new Uint8Array(machine.memory.buffer).set(f, data);
    const d = redirector.deliver({ kind: 'map', target: cpuMap.handle, key: 0 }, at, XDP_FRAME_SIZE, data, f.length);
    return typeof d === 'string' ? d : 'local';
  };
  // CPU 0 is this worker's: the first hop runs at once, its redirect into CPU 0 waits.
  const once = commandFrame({ n: 1, sel: SEL.cpumap, key: 0, verdict: XDP.REDIRECT, sel2: SEL.cpumap, key2: 0, then: XDP.PASS });
  assert.is(toCpu0(once), 'sent');
  assert.equal([queues.queued(0), passed.length], [1, 0], 'queued, not run inside the first hop');
  assert.equal(redirector.drainInbox(), { delivered: 1, dropped: 0 });
  const hex = Buffer.from(stamped(once, { ingress: 1, rxQueue: 0, redirected: true })).toString('hex');
  assert.equal(passed, [`0 ${hex}`], "the second hop's XDP_PASS: CPU 0's stack");
  // Redirecting into CPU 0 for ever: each drain takes at most its limit, the frame still circles.
  const forever = commandFrame({
    n: 2,
    sel: SEL.cpumap,
    key: 0,
    verdict: XDP.REDIRECT,
    sel2: SEL.cpumap,
    key2: 0,
    then: XDP.REDIRECT,
    sel3: SEL.cpumap,
    key3: 0,
  });
  assert.is(toCpu0(forever), 'sent');
  assert.equal(redirector.drainInbox(5), { delivered: 5, dropped: 0 });
  assert.is(queues.queued(0), 1);
});

test.run();
