// The batch driver of a memory-safe module writes per packet only what its programs can
// change (compiler/codegen-batch.ts): with no helper at all, no redirect, metadata or
// packet bounds are reset or copied back; with adjust_meta and bpf_redirect, those are
// reset for every packet. Either way every descriptor must read as the interpreter's JS
// loop leaves it (which writes every output of every packet), batch after batch in the
// same descriptors, and as derived by hand from the fixtures (test/fixtures/wasm/batch_plain.c,
// batch_effects.c): a packet never shows an earlier packet's metadata or redirect.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine, type Engine, type XdpBatch, type XdpWorker } from '../../runtime/machine.js';
import { loadWasm, type LoadedModule } from '../../runtime/program.js';
import { XDP_ACTION, XDP_FRAME_SIZE, XDP_HEADROOM, XDP_MAX_PACKET } from '../../runtime/xdp.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const load = (name: string): LoadedModule => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', `${name}.c`));
  return loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
};

/** A packet of `length` bytes whose byte 14 is `op` (the fixtures' selector). */
function packet(op: number, length = 64): Uint8Array {
  const b = new Uint8Array(length);
  b[12] = 8;
  if (length > 14) b[14] = op;
  return b;
}

interface Slot {
  packet: Uint8Array;
  /** The descriptor's length when not the packet's (longer than the frame's room). */
  length?: number;
  ifindex?: number;
  rxQueue?: number;
}

interface Rig {
  w: XdpWorker;
  batch: XdpBatch;
  frames: number;
  memory: () => Uint8Array;
}

function rig(loaded: LoadedModule, engine: Engine): Rig {
  const machine = BpfMachine.create(loaded);
  const w = machine.worker(0, { engine, budget: 0 });
  const frames = machine.maps.heap.alloc(8 * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  return { w, batch: w.batch(8), frames, memory: () => new Uint8Array(machine.memory.buffer) };
}

/** Runs `slots` as one batch on `r` and reads every descriptor's outputs and packet back. */
function run(r: Rig, program: string, slots: Slot[]) {
  slots.forEach((s, i) => {
    const frame = r.frames + i * XDP_FRAME_SIZE;
    r.memory().set(s.packet, frame + XDP_HEADROOM);
    r.batch.set(i, frame, XDP_FRAME_SIZE, frame + XDP_HEADROOM, s.length ?? s.packet.length, s.ifindex ?? 1, s.rxQueue ?? 0);
  });
  r.w.runBatch(program, r.batch, slots.length);
  return slots.map((_, i) => {
    const data = r.batch.data(i);
    return {
      action: r.batch.action(i),
      offset: data - (r.frames + i * XDP_FRAME_SIZE),
      length: r.batch.length(i),
      metaLength: r.batch.metaLength(i),
      redirect: r.batch.redirect(i),
      head: [...r.memory().subarray(data, data + 17)],
    };
  });
}

test('no helpers: verdicts, ctx fields, a cut length and a refused packet, as the interpreter gives them', () => {
  const loaded = load('batch_plain');
  const rigs = (['wasm', 'interp'] as const).map((e) => rig(loaded, e));
  const batches: Slot[][] = [
    [
      { packet: packet(XDP_ACTION.PASS), ifindex: 3, rxQueue: 2 },
      { packet: packet(XDP_ACTION.REDIRECT), ifindex: 5 },
      { packet: packet(XDP_ACTION.TX, XDP_MAX_PACKET + 80) }, // its descriptor says 80 bytes more than the frame holds
      { packet: packet(XDP_ACTION.PASS, 10) }, // shorter than Ethernet
    ],
    [{ packet: packet(XDP_ACTION.REDIRECT, 10) }, { packet: packet(XDP_ACTION.DROP), ifindex: 2, rxQueue: 1 }],
  ];
  batches.forEach((slots, b) => {
    const [wasm, interp] = rigs.map((r) => run(r, 'batch_plain', slots));
    assert.equal(wasm, interp, `batch ${b}: wasm driver against the interpreter's loop`);
    slots.forEach((s, i) => {
      const got = wasm![i]!;
      const length = Math.min(s.length ?? s.packet.length, XDP_MAX_PACKET);
      if (s.packet.length < 14) {
        assert.equal([got.action, got.metaLength, got.redirect], [XDP_ACTION.ABORTED, 0, undefined], `batch ${b} packet ${i} refused`);
        return;
      }
      assert.is(got.action, s.packet[14], `batch ${b} packet ${i} verdict`);
      assert.is(got.redirect, undefined, 'no redirect without bpf_redirect');
      assert.equal([got.offset, got.length, got.metaLength], [XDP_HEADROOM, length, 0], `batch ${b} packet ${i} bounds`);
      assert.equal(got.head.slice(15), [(s.ifindex ?? 1) + 16 * (s.rxQueue ?? 0), length & 0xff], `batch ${b} packet ${i} ctx fields`);
    });
  });
});

/** batch_effects.c's ops (others are the verdict). */
const [META, REDIRECT_7, REDIRECT_9_TX] = [10, 11, 12];

test('adjust_meta and bpf_redirect: reset for every packet, in the same descriptors batch after batch', () => {
  const loaded = load('batch_effects');
  const rigs = (['wasm', 'interp'] as const).map((e) => rig(loaded, e));
  const batches: Slot[][] = [
    [{ packet: packet(META) }, { packet: packet(REDIRECT_7) }, { packet: packet(REDIRECT_9_TX) }, { packet: packet(XDP_ACTION.REDIRECT) }],
    [
      { packet: packet(META, 10) },
      { packet: packet(XDP_ACTION.REDIRECT) },
      { packet: packet(REDIRECT_7) },
      { packet: packet(XDP_ACTION.PASS) },
    ],
  ];
  const want = [
    [
      { action: XDP_ACTION.PASS, metaLength: 8, redirect: undefined },
      { action: XDP_ACTION.REDIRECT, metaLength: 0, redirect: { kind: 'ifindex', target: 7 } },
      { action: XDP_ACTION.TX, metaLength: 0, redirect: undefined },
      { action: XDP_ACTION.REDIRECT, metaLength: 0, redirect: undefined }, // the packet before set one: not this packet's
    ],
    [
      { action: XDP_ACTION.ABORTED, metaLength: 0, redirect: undefined }, // refused where a packet with metadata was
      { action: XDP_ACTION.REDIRECT, metaLength: 0, redirect: undefined },
      { action: XDP_ACTION.REDIRECT, metaLength: 0, redirect: { kind: 'ifindex', target: 7 } },
      { action: XDP_ACTION.PASS, metaLength: 0, redirect: undefined },
    ],
  ];
  batches.forEach((slots, b) => {
    const [wasm, interp] = rigs.map((r) => run(r, 'batch_effects', slots));
    assert.equal(wasm, interp, `batch ${b}: wasm driver against the interpreter's loop`);
    assert.equal(
      wasm!.map(({ action, metaLength, redirect }) => ({ action, metaLength, redirect })),
      want[b],
      `batch ${b}`,
    );
  });
});

test.run();
