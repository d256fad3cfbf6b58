// bpf_perf_event_output against the kernel: test/fixtures/helpers/perf_output.c runs over the
// packet corpus in bursts on compiled wasm, on the interpreter and in the kernel
// (BPF_PROG_TEST_RUN, with libbpf's perf_buffer reading the kernel's per-CPU buffers), with
// one-page buffers on every possible CPU on both sides. After every burst each side's
// buffers are drained: the records (CPU, raw size, bytes) and the lost counts, in order,
// must be equal, and so must each side's count of every return code (success, -ENOSPC for a
// full buffer, -EOPNOTSUPP for another CPU's slot, -ENOENT for a slot without a reader,
// -E2BIG beyond max_entries, -EFAULT for more packet bytes than the packet, -EINVAL).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { verify } from '../../compiler/verifier/index.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { PerfEventArrayMap, type PerfRecord } from '../../runtime/maps/index.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { corpus, jumboFrame } from '../../packets/corpus.js';
import { compileBpf } from '../support/clang.js';
import { pinMainThread, possibleCpus } from '../support/cpus.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';
import { packageRoot } from '../../core/package-root.js';

const PAGE = 4096;
const BURSTS = 3;
const ERRNO = { ENOENT: 2, E2BIG: 7, EFAULT: 14, EINVAL: 22, ENOSPC: 28, EOPNOTSUPP: 95 };
const corpusFrames = [...corpus(), jumboFrame()].filter((f) => f.bytes.length >= 14);
/** A burst: the corpus three times over, enough to overfill one-page buffers. */
const frames = [...corpusFrames, ...corpusFrames, ...corpusFrames];
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (b: Uint8Array | undefined): number => Number(new DataView(b!.buffer, b!.byteOffset).getBigUint64(0, true));

/** A record as compared: the bytes the program gave (the kernel's padding is whatever its ring held). */
function comparable(r: PerfRecord): string {
  if ('lost' in r) return `cpu ${r.cpu} lost ${r.lost}`;
  const view = new DataView(r.data.buffer, r.data.byteOffset);
  const seq = view.getUint32(0, true);
  const len = view.getUint32(4, true);
  const given = 8 + (seq & 15) + (seq % 9 === 2 || seq % 9 === 3 ? Math.min(len, 1400) : 0);
  return `cpu ${r.cpu} raw ${r.data.length} ${Buffer.from(r.data.subarray(0, given)).toString('hex')}`;
}

test('perf event output: records, lost counts and return codes agree with the kernel burst by burst', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('perf event output differential', unavailable);
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'helpers', 'perf_output.c'));
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
  const cpus = possibleCpus();
  const machines = { wasm: BpfMachine.create(loaded), interp: BpfMachine.create(loaded) };
  for (const machine of Object.values(machines)) {
    // As the kernel's reader: a one-page buffer on each possible CPU, no reader in the other slots.
    const events = machine.maps.byNameOrThrow('events') as PerfEventArrayMap;
    for (let slot = 0; slot < events.slots; slot++) {
      if (slot < cpus) events.open(slot, PAGE);
      else events.close(slot);
    }
  }
  const workers = { wasm: machines.wasm.worker(0, { engine: 'wasm' }), interp: machines.interp.worker(0, { engine: 'interp' }) };
  const kernel = KernelObject.load(object);
  const unpin = pinMainThread(0);
  const reader = kernel.openPerfBuffer('events', 1);
  try {
    let records = 0;
    let lost = 0;
    let fullBefore = 0;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (const frame of frames) {
        const want = kernel.testRun('perf_output', frame.bytes).retval;
        for (const engine of ['wasm', 'interp'] as const) {
          const r = workers[engine].runXdp('perf_output', frame.bytes);
          assert.is(r.fault, undefined, `${engine} on '${frame.name}'`);
          assert.is(r.action, want, `${engine} verdict on '${frame.name}'`);
        }
      }
      const theirs = reader.consume().map(comparable);
      for (const engine of ['wasm', 'interp'] as const) {
        const ours: string[] = [];
        (machines[engine].maps.byNameOrThrow('events') as PerfEventArrayMap).drain((r) => ours.push(comparable(r)));
        assert.equal(ours, theirs, `${engine}: records of burst ${burst}`);
      }
      const codes = Array.from({ length: 64 }, (_, k) => u64(kernel.lookup('rcs', u32(k))?.[0]));
      for (const engine of ['wasm', 'interp'] as const) {
        const ours = Array.from({ length: 64 }, (_, k) => u64(machines[engine].maps.byNameOrThrow('rcs').lookupBytes(u32(k))));
        assert.equal(ours, codes, `${engine}: return codes after burst ${burst}`);
      }
      // What makes the comparison worth having: every outcome happened, buffers overflowed.
      for (const [name, errno] of Object.entries(ERRNO)) assert.ok(codes[errno & 63]! > 0, `the kernel answered -${name}`);
      assert.ok(codes[0]! > 0, 'records were written');
      assert.ok(codes[ERRNO.ENOSPC]! > fullBefore, `burst ${burst} overfilled a buffer`);
      fullBefore = codes[ERRNO.ENOSPC]!;
      records += theirs.filter((r) => r.includes(' raw ')).length;
      lost += theirs.reduce((n, r) => n + (/ lost (\d+)$/.exec(r) ? Number(/ lost (\d+)$/.exec(r)![1]) : 0), 0);
    }
    assert.ok(lost > 0, 'lost counts were delivered');
    report(
      `perf event differential: ${records} records and ${lost} lost over ${BURSTS} bursts of ${frames.length} frames, equal on wasm, interpreter and kernel`,
    );
  } finally {
    reader.close();
    unpin();
    kernel.close();
  }
});

test('a perf event array is refused to other helpers, as by the kernel', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'helpers', 'perf_lookup.c'));
  const reason = /cannot pass map_type 4 into func bpf_map_lookup_elem#1/;
  const obj = loadObject(new Uint8Array(readFileSync(object)), object);
  assert.throws(
    () => verify(obj.programs[0]!, obj.maps, { memorySafety: true }),
    (e: Error) => reason.test(e.message),
    'ours',
  );
  if (kernelMissing()) return void skip('kernel verdict on perf_lookup', kernelMissing()!);
  let verdict = 'accepted';
  try {
    KernelObject.load(object).close();
  } catch (e) {
    verdict = (e as Error).message;
  }
  assert.match(verdict, reason, "the kernel's");
});

test.run();
