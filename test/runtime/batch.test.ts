// The batch entry (XdpWorker.runBatch: one call into the module's `$batch` driver per
// batch, a JS loop on the interpreter) against single runs (runXdp) on the same packets:
// verdicts, bytes, redirects, faults and map contents must be equal, on both engines, and
// the engines must agree with each other. A fault in the middle of a batch aborts that
// packet only: the packets after it run, this worker's map locks are freed. The fixture
// (test/fixtures/wasm/batch.c) picks an op per packet from byte 14.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine, type Engine, type XdpResult } from '../../runtime/machine.js';
import { loadWasm, type LoadedModule } from '../../runtime/program.js';
import { XDP_ACTION, XDP_FRAME_SIZE, XDP_HEADROOM } from '../../runtime/xdp.js';
import { UserError } from '../../core/errors.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const load = (name: string): LoadedModule => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', `${name}.c`));
  // Unsafe on purpose (bad pointers, traps): only the structural verifier lets it through.
  return loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object), { memorySafety: false }).wasm, object);
};
const loaded = load('batch');
const PROGRAM = 'batch';
const ENGINES: Engine[] = ['wasm', 'interp'];
const OP = { COUNT: 0, ADJUST: 1, REDIRECT: 2, TRAP: 3, BAD_POINTER: 4, RANDOM_CLOCK: 5, CSUM: 6, META: 7, LOOP: 8, DROP: 9 } as const;
const CLOCK = 1_234_567_890n;

/** A 64-byte frame: MACs 1..12, IPv4 ethertype, the op, its key, then `extra`. */
function frame(op: number, key = 0, extra: number[] = [], length = 64): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < 12; i++) b[i] = i + 1;
  b[12] = 8;
  b[14] = op;
  b[15] = key;
  if (length >= 16 + extra.length) b.set(extra, 16);
  for (let i = 16 + extra.length; i < length; i++) b[i] = (i * 13) & 0xff;
  return b;
}

const PACKETS: Uint8Array[] = [
  ...Array.from({ length: 70 }, (_, i) => frame(OP.COUNT, i % 5)), // more than one batch of 64
  frame(OP.ADJUST, 14),
  frame(OP.ADJUST, 40),
  frame(OP.ADJUST, 0),
  frame(OP.REDIRECT, 7),
  frame(OP.TRAP),
  frame(OP.COUNT, 1),
  frame(OP.BAD_POINTER, 3),
  frame(OP.RANDOM_CLOCK),
  frame(OP.RANDOM_CLOCK),
  frame(OP.CSUM, 0, [4, 0]),
  frame(OP.CSUM, 0, [8, 0]),
  frame(OP.CSUM, 0, [0, 0]),
  frame(OP.CSUM, 0, [6, 0]),
  frame(OP.META, 2),
  frame(OP.META, 70),
  frame(OP.LOOP),
  frame(OP.DROP),
  frame(OP.COUNT, 2, [], 10), // shorter than an Ethernet header: refused, not run
  frame(OP.COUNT, 3),
  frame(OP.COUNT, 4, [], 3000),
];

const worker = (engine: Engine) => BpfMachine.create(loaded).worker(0, { engine, seed: 42, clock: () => CLOCK, budget: 1000 });

type Outcome = XdpResult | UserError;
const describe = (r: Outcome) =>
  r instanceof UserError
    ? { error: r.message }
    : { action: r.actionName, packet: [...r.packet], meta: [...r.meta], fault: r.fault, redirect: r.redirect };
const counts = (w: ReturnType<typeof worker>) =>
  [...w.machine.maps.byNameOrThrow('counts').entries()].map(([k, v]) => [[...k], [...v]]).sort();

function single(engine: Engine): { results: Outcome[]; w: ReturnType<typeof worker> } {
  const w = worker(engine);
  const results = PACKETS.map((p): Outcome => {
    try {
      const r = w.runXdp(PROGRAM, p);
      return { ...r, packet: r.packet.slice(), meta: r.meta.slice() };
    } catch (e) {
      if (e instanceof UserError) return e;
      throw e;
    }
  });
  return { results, w };
}

for (const engine of ENGINES) {
  test(`${engine}: a batch gives what single runs give (verdicts, bytes, redirects, faults, maps)`, () => {
    const one = single(engine);
    const w = worker(engine);
    const batched = w.runPackets(PROGRAM, PACKETS);
    assert.is(batched.length, PACKETS.length);
    PACKETS.forEach((_, i) => assert.equal(describe(batched[i]!), describe(one.results[i]!), `packet ${i}`));
    assert.equal(counts(w), counts(one.w), 'counts map');
    assert.is(w.aborted, one.w.aborted, 'faults counted');
    // The packets cover what they are meant to: every verdict, faults, a refused packet.
    const actions = new Set(batched.map((r) => (r instanceof UserError ? 'refused' : r.actionName)));
    for (const a of ['XDP_TX', 'XDP_PASS', 'XDP_DROP', 'XDP_REDIRECT', 'XDP_ABORTED', 'refused']) assert.ok(actions.has(a), a);
    assert.is(batched.filter((r) => !(r instanceof UserError) && r.fault).length, 3, 'trap, bad pointer, budget');
    // OP.META with key 2 reserves 8 bytes of metadata; the batch driver reports them.
    const meta = batched[PACKETS.findIndex((p) => p[14] === OP.META && p[15] === 2)]!;
    assert.is(meta instanceof UserError ? -1 : meta.meta.length, 8, 'metadata length from the batch');
  });
}

test('wasm and interpreter batches agree (the wasm helpers against the JS ones: prandom, clock, csum_diff, adjust)', () => {
  // Fault texts differ by engine (a wasm trap names no address); whether a packet faulted may not.
  const [a, b] = ENGINES.map((e) =>
    worker(e)
      .runPackets(PROGRAM, PACKETS)
      .map(describe)
      .map((r) => ({ ...r, fault: r.fault !== undefined })),
  );
  assert.equal(a, b);
  const rc = a![PACKETS.findIndex((p) => p[14] === OP.RANDOM_CLOCK)]!;
  const bytes = Uint8Array.from(rc.packet ?? []);
  assert.is(new DataView(bytes.buffer).getBigUint64(24, true), CLOCK, 'ktime_get_ns is the batch clock');
});

test('csum_diff at the wasm/JS boundary (sizes 0xffff and 0x10000) agrees on both engines', () => {
  // from = key * 256 + byte 16 bytes at frame + 16, to = byte 17 * 512 bytes at frame + 20.
  const edges = [
    frame(OP.CSUM, 0xff, [0xff, 0]), // from 0xffff: in wasm
    frame(OP.CSUM, 0, [0, 0x80]), // to 0x10000: through JS
    frame(OP.CSUM, 0xff, [0xff, 0x7f]), // both in wasm
    frame(OP.CSUM, 0xff, [0xff, 0xff]), // from in wasm range, to above: through JS
    frame(OP.CSUM, 1, [0, 1]),
  ];
  const [a, b] = ENGINES.map((e) => worker(e).runPackets(PROGRAM, edges).map(describe));
  assert.equal(a, b);
  assert.ok(
    a!.every((r) => r.action === 'XDP_PASS'),
    'no packet faulted',
  );
});

for (const engine of ENGINES) {
  test(`${engine}: ktime_get_ns is read once per batch, or on every call with preciseClock`, () => {
    const clockOf = (preciseClock: boolean): bigint[] => {
      let now = 1000n;
      const w = BpfMachine.create(loaded).worker(0, { engine, preciseClock, clock: () => (now += 7n) });
      return w.runPackets(PROGRAM, [frame(OP.RANDOM_CLOCK), frame(OP.RANDOM_CLOCK), frame(OP.RANDOM_CLOCK)]).map((r) => {
        if (r instanceof UserError) throw r;
        return new DataView(r.packet.buffer, r.packet.byteOffset).getBigUint64(24, true);
      });
    };
    assert.equal(clockOf(false), [1007n, 1007n, 1007n]);
    assert.equal(clockOf(true), [1007n, 1014n, 1021n]);
  });
}

/** Packets copied into frames of a batch the test makes itself. */
function batchOf(w: ReturnType<typeof worker>, packets: Uint8Array[]) {
  const batch = w.batch(packets.length);
  const frames = w.machine.maps.heap.alloc(packets.length * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  const mem = new Uint8Array(w.machine.memory.buffer);
  packets.forEach((p, i) => {
    const f = frames + i * XDP_FRAME_SIZE;
    mem.set(p, f + XDP_HEADROOM);
    batch.set(i, f, XDP_FRAME_SIZE, f + XDP_HEADROOM, p.length, 1, 0);
  });
  return batch;
}

for (const engine of ENGINES) {
  test(`${engine}: faults in the middle of a batch abort only their packets`, () => {
    const w = worker(engine);
    const packets = [
      frame(OP.COUNT, 1),
      frame(OP.TRAP),
      frame(OP.COUNT, 1),
      frame(OP.BAD_POINTER, 2),
      frame(OP.LOOP),
      frame(OP.COUNT, 1, [], 12),
      frame(OP.COUNT, 1),
    ];
    const batch = batchOf(w, packets);
    w.runBatch(PROGRAM, batch, packets.length);
    const { TX, ABORTED } = XDP_ACTION;
    assert.equal(
      packets.map((_, i) => batch.action(i)),
      [TX, ABORTED, TX, ABORTED, ABORTED, ABORTED, TX],
    );
    assert.equal([...batch.faults.keys()], [1, 3, 4], 'faults by descriptor (the short packet is refused, not faulted)');
    assert.match(batch.faults.get(4)!, /budget/);
    assert.is(w.aborted, 3);
    assert.equal(
      counts(w),
      [
        [
          [1, 0, 0, 0],
          [3, 0, 0, 0, 0, 0, 0, 0],
        ],
      ],
      'only the three good packets counted',
    );
    // An aborted packet keeps its input bounds; a TX one has its MACs swapped.
    assert.is(batch.length(1), 64);
    const mem = new Uint8Array(w.machine.memory.buffer);
    assert.equal([...mem.subarray(batch.data(2), batch.data(2) + 12)], [7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6]);
  });
}

test('wasm: a trap with a map lock held mid-batch frees the lock, and the next packets update that map', () => {
  const containment = load('containment');
  const w = BpfMachine.create(containment).worker(0, { engine: 'wasm' });
  // containment.c: op 0 updates hash[key] = value (XDP_TX); op 10 traps inside the module's update under the lock.
  const pkt = (op: number, key: number, value: number) =>
    Uint8Array.from({ length: 64 }, (_, i) => (i === 14 ? op : i === 15 ? key : i === 16 ? value : 0));
  const packets = [pkt(0, 1, 5), pkt(10, 9, 9), pkt(0, 1, 6)];
  const batch = batchOf(w, packets);
  w.runBatch('containment', batch, packets.length);
  assert.equal(
    packets.map((_, i) => batch.action(i)),
    [XDP_ACTION.TX, XDP_ACTION.ABORTED, XDP_ACTION.TX],
  );
  assert.is(w.locksReleased, 1);
  assert.equal([...w.machine.maps.byNameOrThrow('hash').lookupBytes(Uint8Array.of(1, 0, 0, 0))!], [6, 0, 0, 0, 0, 0, 0, 0]);
});

test.run();
