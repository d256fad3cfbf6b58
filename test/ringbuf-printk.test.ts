// Ring buffer and trace_printk from inside a program (test/fixtures/kernel/ringbuf_printk.c),
// on compiled wasm and on the interpreter: the records drained in JS are exactly the ones
// computed here from the input frames (output always, reserve+submit for even MACs,
// discarded ones absent, in order), a ring that is never drained fills up after 170
// records of 24 bytes and then output fails with -EAGAIN and reserve with NULL — the
// kernel, running the same object over the same frames, counts the same failures — and
// every trace line is the format filled in as printf would, as the kernel's trace shows it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObject } from '../compiler/object.js';
import { compileObject } from '../compiler/compile.js';
import { loadWasm } from '../runtime/program.js';
import { BpfMachine, type Engine } from '../runtime/machine.js';
import type { RingbufMap } from '../runtime/maps/index.js';
import { KernelObject, kernelUnavailable } from '../runtime/kernel.js';
import { compileBpf } from './support/clang.js';
import { skip } from './support/skip.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const object = compileBpf(join(root, 'test', 'fixtures', 'kernel', 'ringbuf_printk.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const EAGAIN = -11;
/** 8-byte header + 16-byte record: the ring's 4096 bytes hold 170 of them. */
const RECORDS_THAT_FIT = Math.floor(4096 / 24);

/** 100 frames, destination MACs ending 0..99 (even ones get their reserved record submitted). */
const frames = Array.from({ length: 100 }, (_, i) => {
  const f = new Uint8Array(60 + (i % 7) * 10);
  f.set([2, 0, 0, 0, 0x10, i], 0);
  f.set([2, 0, 0, 0, 0x20, 0x30], 6);
  f.set(i % 3 === 0 ? [0x86, 0xdd] : [0x08, 0x00], 12);
  return f;
});

/** What the ring should deliver, and how many outputs and reserves fail, modelled by hand. */
function expectation(): { records: string[]; failedOutputs: number; failedReserves: number; lines: string[] } {
  const records: string[] = [];
  let used = 0;
  let failedOutputs = 0;
  let failedReserves = 0;
  const lines: string[] = [];
  for (const f of frames) {
    const record = (len: number): string => {
      const r = new Uint8Array(16);
      r.set(f.subarray(0, 14));
      new DataView(r.buffer).setUint16(14, len, true);
      return hex(r);
    };
    if (used + 24 <= 4096) {
      used += 24;
      records.push(record(f.length));
    } else failedOutputs++;
    if (used + 24 <= 4096) {
      used += 24; // a discarded record keeps its space until the consumer passes it
      if (f[5]! % 2 === 0) records.push(record(0xffff));
    } else failedReserves++;
    lines.push(`b2w len=${f.length} proto=${((f[12]! << 8) | f[13]!).toString(16)} first=${f[5]! - 10}`);
  }
  return { records, failedOutputs, failedReserves, lines };
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const s64 = (b: Uint8Array | undefined): number => Number(new DataView(b!.buffer, b!.byteOffset).getBigInt64(0, true));

for (const engine of ['wasm', 'interp'] as Engine[]) {
  test(`${engine}: records, discards, a full ring and trace lines`, () => {
    const want = expectation();
    assert.is(want.records.length > RECORDS_THAT_FIT / 2 && want.failedOutputs > 0, true, 'the frames overfill the ring');
    const machine = BpfMachine.create(loaded);
    const lines: string[] = [];
    const worker = machine.worker(0, { engine, trace: (l) => lines.push(l) });
    for (const f of frames) assert.is(worker.runXdp('ringbuf_printk', f).actionName, 'XDP_PASS');
    const got: string[] = [];
    (machine.maps.byNameOrThrow('events') as RingbufMap).drain((r) => got.push(hex(r)));
    assert.equal(got, want.records);
    const results = machine.maps.byNameOrThrow('results');
    assert.is(s64(results.lookupBytes(u32(0))), EAGAIN, 'a full ring: output fails with -EAGAIN');
    assert.is(s64(results.lookupBytes(u32(1))), want.failedOutputs);
    assert.is(s64(results.lookupBytes(u32(2))), want.failedReserves);
    assert.equal(lines, want.lines);
  });
}

/** tracefs, mounted if it is not (the kernel's trace_printk lines are read from it). */
function traceDir(): string | undefined {
  const dir = '/sys/kernel/tracing';
  if (!existsSync(join(dir, 'trace'))) {
    mkdirSync(dir, { recursive: true });
    spawnSync('mount', ['-t', 'tracefs', 'tracefs', dir]);
  }
  return existsSync(join(dir, 'trace')) ? dir : undefined;
}

test('the kernel agrees: failure counts from its own ring, and its trace lines', () => {
  const why = kernelUnavailable();
  if (why) return void skip('ringbuf/trace_printk vs kernel', why);
  const trace = traceDir();
  if (!trace) return void skip('ringbuf/trace_printk vs kernel', 'tracefs (/sys/kernel/tracing)');
  const want = expectation();
  const kernel = KernelObject.load(object);
  try {
    writeFileSync(join(trace, 'trace'), ''); // clears the buffer
    for (const f of frames) assert.is(kernel.testRun('ringbuf_printk', f).retval, 2);
    const value = (slot: number): number => s64(kernel.lookup('results', u32(slot))![0]);
    assert.is(value(0), EAGAIN);
    assert.is(value(1), want.failedOutputs);
    assert.is(value(2), want.failedReserves);
    const kernelLines = readFileSync(join(trace, 'trace'), 'utf8').split('\n')
      .map((l) => /bpf_trace_printk: (b2w .*)$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
    assert.equal(kernelLines, want.lines);
  } finally {
    kernel.close();
  }
});

test.run();
