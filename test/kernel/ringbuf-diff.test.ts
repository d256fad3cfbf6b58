// Ring-buffer records against the kernel: test/fixtures/kernel/ringbuf_diff.c runs over the
// packet corpus in bursts on compiled wasm, on the interpreter and in the kernel
// (BPF_PROG_TEST_RUN), and after every burst each side's ring is drained as a reader would.
// The records (bytes and order) and the failure counts must be equal. Each burst overfills
// the 4096-byte ring, so the kernel's own decision of "full" is what is compared; draining
// between bursts moves the consumer, so later bursts' records run across the ring's end.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { RINGBUF_QUERY, type RingbufMap } from '../../runtime/maps/index.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { corpus, jumboFrame } from '../../packets/corpus.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';
import { packageRoot } from '../../core/package-root.js';

const RING = 4096;
const BURSTS = 3;
/** Sizes of the reserved record by frame number mod 4, and the discarded ones (ringbuf_diff.c). */
const RESERVED = [4, 13, 60, 101];
const discarded = (seq: number): boolean => seq % 3 === 2;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const s64 = (b: Uint8Array | undefined): bigint => new DataView(b!.buffer, b!.byteOffset).getBigInt64(0, true);
/** Frames BPF_PROG_TEST_RUN takes (it refuses those shorter than an Ethernet header). */
const frames = [...corpus(), jumboFrame()].filter((f) => f.bytes.length >= 14);

/** A record from the reserve branch: it starts with its frame number and has that frame's size. */
function reservedSeq(record: Uint8Array): number | undefined {
  if (record.length < 4) return undefined;
  const seq = new DataView(record.buffer, record.byteOffset).getUint32(0, true);
  return seq < frames.length * BURSTS && RESERVED[seq % 4] === record.length ? seq : undefined;
}

test('ring-buffer records and drops: wasm, interpreter and kernel agree burst by burst', () => {
  const unavailable = kernelMissing();
  if (unavailable) return void skip('ring-buffer differential', unavailable);
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'ringbuf_diff.c'));
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
  const machines = { wasm: BpfMachine.create(loaded), interp: BpfMachine.create(loaded) };
  const workers = { wasm: machines.wasm.worker(0, { engine: 'wasm' }), interp: machines.interp.worker(0, { engine: 'interp' }) };
  const kernel = KernelObject.load(object);
  try {
    let records = 0;
    let wrapped = false;
    let previousDrops = [0n, 0n];
    for (let burst = 0; burst < BURSTS; burst++) {
      const start = Number((machines.wasm.maps.byNameOrThrow('records') as RingbufMap).query(RINGBUF_QUERY.PROD_POS)) % RING;
      for (const frame of frames) {
        const want = kernel.testRun('ringbuf_diff', frame.bytes).retval;
        for (const engine of ['wasm', 'interp'] as const) {
          assert.is(workers[engine].runXdp('ringbuf_diff', frame.bytes).action, want, `${engine} verdict on '${frame.name}'`);
        }
      }
      const theirs = kernel.drainRingbuf('records');
      for (const engine of ['wasm', 'interp'] as const) {
        const ours: string[] = [];
        (machines[engine].maps.byNameOrThrow('records') as RingbufMap).drain((r) => ours.push(hex(r)));
        assert.equal(ours, theirs.map(hex), `${engine}: records of burst ${burst}`);
      }
      const drops = [0, 1, 2].map((slot) => s64(kernel.lookup('drops', u32(slot))?.[0]));
      for (const engine of ['wasm', 'interp'] as const) {
        const ours = [0, 1, 2].map((slot) => s64(machines[engine].maps.byNameOrThrow('drops').lookupBytes(u32(slot))));
        assert.equal(ours, drops, `${engine}: failed outputs, failed reserves, last error after burst ${burst}`);
      }

      // What makes the comparison worth having: the ring overflowed in this burst (outputs
      // and reserves failed, with -EAGAIN), records were discarded, and none leaked out.
      assert.ok(drops[0]! > previousDrops[0]! && drops[1]! > previousDrops[1]!, `burst ${burst} overfills the ring`);
      assert.is(drops[2], -11n, 'a full ring: -EAGAIN');
      const submitted = theirs.map(reservedSeq).filter((s): s is number => s !== undefined);
      assert.ok(submitted.length > 0, 'reserved records were submitted');
      assert.not.ok(submitted.some(discarded), 'no discarded record is read');
      const reservedOk = frames.length - Number(drops[1]! - previousDrops[1]!);
      assert.ok(reservedOk > submitted.length, 'some reserved records were discarded');
      const bytes = theirs.reduce((n, r) => n + ((r.length + 8 + 7) & ~7), 0);
      wrapped ||= start + bytes > RING;
      records += theirs.length;
      previousDrops = drops.slice(0, 2);
    }
    assert.ok(wrapped, 'records ran across the end of the ring');
    report(
      `ringbuf differential: ${records} records over ${BURSTS} bursts of ${frames.length} frames, ${previousDrops.join('/')} failed outputs/reserves, equal on wasm, interpreter and kernel`,
    );
  } finally {
    kernel.close();
  }
});

test.run();
