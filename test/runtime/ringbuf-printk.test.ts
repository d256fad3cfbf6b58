// Ring buffer and trace_printk from inside a program (test/fixtures/kernel/ringbuf_printk.c),
// on compiled wasm and on the interpreter: the records drained in JS are exactly the ones
// computed here from the input frames (output always, reserve+submit for even MACs,
// discarded ones absent, in order), a ring that is never drained fills up and then output
// fails with -EAGAIN and reserve with NULL; drained between bursts, records run across the
// end of the ring and come back whole. "Full" is decided as the kernel does: the producer
// may run at most size - 1 bytes ahead of the consumer (kernel/bpf/ringbuf.c,
// `new_prod_pos - cons_pos > rb->mask`), which ringbuf_exact's 64-byte records hit
// exactly (63 fit in 4096 bytes, not 64). Every trace line is the format filled in as
// vsnprintf would, field widths and flags included. The kernel, running the same object
// over the same frames, delivers the same records, counts the same failures and writes
// the same trace lines.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine, type Engine } from '../../runtime/machine.js';
import type { RingbufMap } from '../../runtime/maps/index.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { packageRoot } from '../../core/package-root.js';

const root = packageRoot;
const object = compileBpf(join(root, 'test', 'fixtures', 'kernel', 'ringbuf_printk.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const EAGAIN = -11;
const RING = 4096;
const HDR = 8;
/** Bytes a record of `size` takes in the ring: the header, rounded up to 8. */
const slot = (size: number): number => (size + HDR + 7) & ~7;

/** 100 frames, destination MACs ending 0..99 (even ones get their reserved record submitted). */
const frames = Array.from({ length: 100 }, (_, i) => {
  const f = new Uint8Array(60 + (i % 7) * 10);
  f.set([2, 0, 0, 0, 0x10, i], 0);
  f.set([2, 0, 0, 0, 0x20, 0x30], 6);
  f.set(i % 3 === 0 ? [0x86, 0xdd] : [0x08, 0x00], 12);
  for (let j = 14; j < f.length; j++) f[j] = (i * 7 + j) & 0xff;
  return f;
});

/** The ring's fill level as the kernel counts it: bytes produced and not yet consumed. */
class RingModel {
  used = 0;
  /** Room for a record of `size` bytes, taken if there is. */
  take(size: number): boolean {
    if (this.used + slot(size) > RING - 1) return false;
    this.used += slot(size);
    return true;
  }
}

interface Expected {
  records: string[];
  failedOutputs: number;
  failedReserves: number;
  lines: string[];
}

/** What ringbuf_printk should deliver, and how many outputs and reserves fail, by hand. */
function expectPrintk(ring: RingModel): Expected {
  const out: Expected = { records: [], failedOutputs: 0, failedReserves: 0, lines: [] };
  for (const f of frames) {
    const record = (len: number): string => {
      const r = new Uint8Array(16);
      r.set(f.subarray(0, 14));
      new DataView(r.buffer).setUint16(14, len, true);
      return hex(r);
    };
    if (ring.take(16)) out.records.push(record(f.length));
    else out.failedOutputs++;
    // A discarded record keeps its space until the consumer passes it.
    if (ring.take(16)) {
      if (f[5]! % 2 === 0) out.records.push(record(0xffff));
    } else out.failedReserves++;
    out.lines.push(`b2w len=${f.length} proto=${((f[12]! << 8) | f[13]!).toString(16)} first=${f[5]! - 10}`);
  }
  return out;
}

/** ringbuf_exact: the first 56 bytes of each frame, and its printk with widths and flags. */
function expectExact(ring: RingModel): { records: string[]; ok: number; failed: number; lines: string[] } {
  const out = { records: [] as string[], ok: 0, failed: 0, lines: [] as string[] };
  for (const f of frames) {
    if (ring.take(56)) {
      out.ok++;
      out.records.push(hex(f.subarray(0, 56)));
    } else out.failed++;
    const d = String(f[5]! - 10).padStart(5); // %5d
    const x = f.length.toString(16).padEnd(6); // %-6x
    const u = String(f[5]!).padStart(4, '0'); // %04u
    out.lines.push(`b2w w=[${d}] [${x}] [${u}]`);
  }
  return out;
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const s64 = (b: Uint8Array | undefined): number => Number(new DataView(b!.buffer, b!.byteOffset).getBigInt64(0, true));

function drain(machine: BpfMachine, map: string): string[] {
  const got: string[] = [];
  (machine.maps.byNameOrThrow(map) as RingbufMap).drain((r) => got.push(hex(r)));
  return got;
}

for (const engine of ['wasm', 'interp'] as Engine[]) {
  test(`${engine}: records, discards, a full ring and trace lines`, () => {
    const want = expectPrintk(new RingModel());
    assert.ok(want.failedOutputs > 0 && want.failedReserves > 0, 'the frames overfill the ring');
    const machine = BpfMachine.create(loaded);
    const lines: string[] = [];
    const worker = machine.worker(0, { engine, trace: (l) => lines.push(l) });
    for (const f of frames) assert.is(worker.runXdp('ringbuf_printk', f).actionName, 'XDP_PASS');
    assert.equal(drain(machine, 'events'), want.records);
    const results = machine.maps.byNameOrThrow('results');
    assert.is(s64(results.lookupBytes(u32(0))), EAGAIN, 'a full ring: output fails with -EAGAIN');
    assert.is(s64(results.lookupBytes(u32(1))), want.failedOutputs);
    assert.is(s64(results.lookupBytes(u32(2))), want.failedReserves);
    assert.equal(lines, want.lines);
  });

  test(`${engine}: drained between bursts, records run across the end of the ring`, () => {
    const machine = BpfMachine.create(loaded);
    const worker = machine.worker(0, { engine, trace: () => {} });
    const ring = new RingModel();
    const first = expectPrintk(ring);
    for (const f of frames) worker.runXdp('ringbuf_printk', f);
    assert.equal(drain(machine, 'events'), first.records);
    // Draining passes over every record, discarded ones too: the ring is empty again but
    // the producer stays where it was, 8-byte aligned and (with 24-byte records) not on a
    // record boundary of the ring's size, so the next burst straddles the end.
    assert.ok((ring.used % RING) + slot(16) > RING, 'the first record of the second burst straddles the end');
    ring.used = 0;
    const second = expectPrintk(ring);
    assert.ok(second.records.length > 0 && second.failedOutputs > 0);
    for (const f of frames) worker.runXdp('ringbuf_printk', f);
    assert.equal(drain(machine, 'events'), second.records);
    const results = machine.maps.byNameOrThrow('results');
    assert.is(s64(results.lookupBytes(u32(1))), first.failedOutputs + second.failedOutputs);
    assert.is(s64(results.lookupBytes(u32(2))), first.failedReserves + second.failedReserves);
  });

  test(`${engine}: a ring filled to its exact size, and printk with widths and flags`, () => {
    const want = expectExact(new RingModel());
    assert.is(want.ok, Math.floor((RING - 1) / slot(56)), 'the model stops one record short of 4096 bytes');
    const machine = BpfMachine.create(loaded);
    const lines: string[] = [];
    const worker = machine.worker(0, { engine, trace: (l) => lines.push(l) });
    for (const f of frames) worker.runXdp('ringbuf_exact', f);
    assert.equal(drain(machine, 'exact'), want.records);
    const results = machine.maps.byNameOrThrow('results');
    assert.is(s64(results.lookupBytes(u32(3))), want.ok);
    assert.is(s64(results.lookupBytes(u32(4))), want.failed);
    assert.equal(lines, want.lines);
    assert.is(s64(results.lookupBytes(u32(5))), want.lines.at(-1)!.length, 'printk returns the bytes it wrote');
  });
}

/** tracefs, mounted if it is not (the kernel's trace_printk lines are read from it). */
function traceDir(): string | undefined {
  const dir = '/sys/kernel/tracing';
  if (!existsSync(join(dir, 'trace'))) {
    mkdirSync(dir, { recursive: true });
    spawnSync('mount', ['-t', 'tracefs', 'tracefs', dir]);
  }
  if (!existsSync(join(dir, 'trace'))) return undefined;
  // Until something enables a tracer the kernel keeps a 7 KB buffer ("7 (expanded: 1408)"),
  // too small for 100 lines; expand it to the size the kernel itself would.
  const size = readFileSync(join(dir, 'buffer_size_kb'), 'utf8');
  const expanded = /expanded: (\d+)/.exec(size)?.[1];
  if (expanded) writeFileSync(join(dir, 'buffer_size_kb'), expanded);
  return dir;
}

/** The kernel's trace_printk lines that start with `prefix` (other programs may print too). */
function kernelTrace(trace: string, prefix: string): string[] {
  return readFileSync(join(trace, 'trace'), 'utf8')
    .split('\n')
    .map((l) => /bpf_trace_printk: (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && l.startsWith(prefix));
}

test('the kernel agrees: records and failure counts from its own ring, and its trace lines', () => {
  const why = kernelMissing();
  if (why) return void skip('ringbuf/trace_printk vs kernel', why);
  const trace = traceDir();
  if (!trace) return void skip('ringbuf/trace_printk vs kernel', 'kernel-bpf', 'tracefs (/sys/kernel/tracing)');
  const want = expectPrintk(new RingModel());
  const exact = expectExact(new RingModel());
  const kernel = KernelObject.load(object);
  try {
    writeFileSync(join(trace, 'trace'), ''); // clears the buffer
    for (const f of frames) assert.is(kernel.testRun('ringbuf_printk', f).retval, 2);
    const printkLines = kernelTrace(trace, 'b2w len=');
    writeFileSync(join(trace, 'trace'), '');
    for (const f of frames) assert.is(kernel.testRun('ringbuf_exact', f).retval, 2);
    assert.equal(kernel.drainRingbuf('events').map(hex), want.records, 'the kernel delivers the records derived here');
    assert.equal(kernel.drainRingbuf('exact').map(hex), exact.records);
    const value = (slot: number): number => s64(kernel.lookup('results', u32(slot))![0]);
    assert.is(value(0), EAGAIN);
    assert.is(value(1), want.failedOutputs);
    assert.is(value(2), want.failedReserves);
    assert.is(value(3), exact.ok, 'records that fit a 4096-byte ring exactly');
    assert.is(value(4), exact.failed);
    assert.is(value(5), exact.lines.at(-1)!.length);
    assert.equal(printkLines, want.lines);
    assert.equal(kernelTrace(trace, 'b2w w='), exact.lines);
  } finally {
    kernel.close();
  }
});

test.run();
