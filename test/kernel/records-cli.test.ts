// Records through the real command line: `bpf2wasm test-run --json` lists, in each packet's
// line, the records its run sent through perf event arrays and ring buffers. The kernel's
// records for the same program and packets (BPF_PROG_TEST_RUN, its buffers read after each
// packet: libbpf's perf_buffer, a ring-buffer reader) must be those, packet by packet; the
// summary counts them per map. `bpf2wasm run --records` streams the same records.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePcap } from '../../packets/pcap.js';
import { corpus, jumboFrame } from '../../packets/corpus.js';
import { packageRoot } from '../../core/package-root.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { compileBpf, scratchDir } from '../support/clang.js';
import { pinMainThread } from '../support/cpus.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';

const cli = join(packageRoot, 'bin', 'bpf2wasm.js');
// perf_flood's lines run to megabytes.
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const frames = [...corpus(), jumboFrame()].filter((f) => f.bytes.length >= 14);
const pcap = join(scratchDir(), 'records.pcap');
writeFileSync(pcap, writePcap(frames.map((f) => ({ timestampNs: 1_000_000n, originalLength: f.bytes.length, data: f.bytes }))));

interface Line {
  index: number;
  records?: { map: string; cpu?: number; data?: string; lost?: number }[];
}

function cliLines(object: string): Line[] {
  const r = run('test-run', object, '--pcap', pcap, '--json');
  assert.is(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** The bytes perf_output.c gave a sample (the kernel pads to 8 with whatever its ring held). */
function perfOutputGiven(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset);
  const seq = view.getUint32(0, true);
  const len = view.getUint32(4, true);
  return 8 + (seq & 15) + (seq % 9 === 2 || seq % 9 === 3 ? Math.min(len, 1400) : 0);
}

// perf_output: one sample or none per packet, every flag case; perf_flood: 40 samples of
// 1000 bytes a packet, more than the 8-page (32 KiB) buffers hold, so lost counts too.
const PERF_CASES = [
  { program: 'perf_output', given: perfOutputGiven },
  { program: 'perf_flood', given: () => 1000 },
];

for (const { program, given } of PERF_CASES) {
  test(`perf event records of ${program}: test-run --json per packet, as the kernel gives them`, () => {
    const unavailable = kernelMissing();
    if (unavailable) return void skip('perf records through the CLI against the kernel', unavailable);
    const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'helpers', `${program}.c`));
    const lines = cliLines(object);
    assert.is(lines.length, frames.length);
    const kernel = KernelObject.load(object);
    // test-run runs as CPU 0 (--cpu); so does the kernel's test run here. 8 pages: our default 32 KiB.
    const unpin = pinMainThread(0);
    const reader = kernel.openPerfBuffer('events', 8);
    const shown = (cpu: number, data: Uint8Array): string => `events cpu ${cpu} raw ${data.length} ${hex(data.subarray(0, given(data)))}`;
    let samples = 0;
    let lost = 0;
    try {
      frames.forEach((frame, i) => {
        kernel.testRun(program, frame.bytes);
        const theirs = reader.consume().map((r) => ('lost' in r ? `events cpu ${r.cpu} lost ${r.lost}` : shown(r.cpu, r.data)));
        const ours = (lines[i]!.records ?? []).map((r) =>
          r.lost !== undefined ? `${r.map} cpu ${r.cpu} lost ${r.lost}` : shown(r.cpu!, Buffer.from(r.data!, 'hex')),
        );
        assert.equal(ours, theirs, `packet ${i} ('${frame.name}')`);
        for (const r of theirs) {
          const m = / lost (\d+)$/.exec(r);
          if (m) lost += Number(m[1]);
          else samples++;
        }
      });
    } finally {
      reader.close();
      unpin();
      kernel.close();
    }
    // What makes the comparison worth having: perf_output sends nothing for some packets
    // (another CPU's slot, bad flags), perf_flood loses samples.
    if (program === 'perf_output') assert.ok(samples > 0 && samples < frames.length, `${samples} samples`);
    else assert.ok(lost > 0 && samples > frames.length, `${samples} samples, ${lost} lost`);
    const summary = run('test-run', object, '--pcap', pcap);
    assert.is(summary.status, 0, summary.stderr);
    assert.match(summary.stdout, new RegExp(`^  records of events: ${samples}${lost ? `, \\d+ lost` : ''} \\(`, 'm'));
    report(`${program} through test-run --json: ${samples} samples, ${lost} lost over ${frames.length} packets, as the kernel's`);
  });
}

test('run --records streams perf records as JSON lines, in the order the kernel gives them', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('perf records through `run --records` against the kernel', unavailable);
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'helpers', 'perf_output.c'));
  // One worker over the capture: CPU 0, as the kernel's test run pinned to CPU 0 below.
  const r = run('run', object, '--mode', 'pcap', '--pcap', pcap, '--queues', '1', '--records', '--stats-interval', '0');
  assert.is(r.status, 0, r.stderr);
  const ours = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { map: string; cpu: number; data: string })
    .map((x) => `${x.map} cpu ${x.cpu} raw ${x.data.length / 2} ${x.data.slice(0, 2 * perfOutputGiven(Buffer.from(x.data, 'hex')))}`);
  const kernel = KernelObject.load(object);
  const unpin = pinMainThread(0);
  const reader = kernel.openPerfBuffer('events', 8);
  const theirs: string[] = [];
  try {
    for (const frame of frames) {
      kernel.testRun('perf_output', frame.bytes);
      for (const x of reader.consume()) {
        if ('lost' in x) theirs.push(`lost ${x.lost}`);
        else theirs.push(`events cpu ${x.cpu} raw ${x.data.length} ${hex(x.data.subarray(0, perfOutputGiven(x.data)))}`);
      }
    }
  } finally {
    reader.close();
    unpin();
    kernel.close();
  }
  assert.ok(theirs.length > 0);
  assert.equal(ours, theirs);
  // Without a map records come through, --records is a mistake.
  const plain = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'parse_count.c'));
  const refused = run('run', plain, '--mode', 'pcap', '--pcap', pcap, '--records');
  assert.is(refused.status, 1);
  assert.is(refused.stderr, 'bpf2wasm: --records: the module has no ring buffer or perf event array\n');
});

test('ring buffer records: test-run --json per packet, as the kernel gives them', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('ring buffer records through the CLI against the kernel', unavailable);
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'ringbuf_diff.c'));
  const lines = cliLines(object);
  assert.is(lines.length, frames.length);
  const kernel = KernelObject.load(object);
  let total = 0;
  try {
    frames.forEach((frame, i) => {
      kernel.testRun('ringbuf_diff', frame.bytes);
      const theirs = kernel.drainRingbuf('records').map((r) => `records ${hex(r)}`);
      const ours = (lines[i]!.records ?? []).map((r) => `${r.map} ${r.data}`);
      assert.equal(ours, theirs, `packet ${i} ('${frame.name}')`);
      total += theirs.length;
    });
  } finally {
    kernel.close();
  }
  assert.ok(total > 0, 'records were sent');
  report(`ring buffer records through test-run --json: ${total} over ${frames.length} packets, as the kernel's`);
});

test.run();
