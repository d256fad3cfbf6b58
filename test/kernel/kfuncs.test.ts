// The XDP RX-metadata kfuncs (core/kfuncs.ts) against the kernel. The kernel lets only
// device-bound programs call them and BPF_PROG_TEST_RUN refuses device-bound programs, so
// the oracle is a live one: the object loaded bound to a tap device (whose driver gives no
// metadata, like AF_XDP copy mode), attached in native mode, and frames written into the
// tap. The kernel's defaults answer -EOPNOTSUPP and write nothing; the fixture records
// each return value and the outputs afterwards, which wasm and the interpreter must match.
// The kernel's argument checks are the oracle for the verifier's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { verify } from '../../compiler/verifier/index.js';
import { VerifyError } from '../../core/errors.js';
import { packageRoot } from '../../core/package-root.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { nativeAddon, type TapDevice } from '../../native/addon.js';
import { corpus } from '../../packets/corpus.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';

const dir = join(packageRoot, 'test/fixtures/kfuncs');
const unavailable = kernelMissing();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ZERO_KEY = new Uint8Array(4);

/** A tap device for one test, removed after it. */
function withTap<T>(use: (tap: TapDevice, ifindex: number) => T): T {
  const addon = nativeAddon();
  const tap = new addon.TapDevice(`kfunc${process.pid % 100000}`, new Uint8Array([0x02, 0, 0, 0, 0, 0x01]));
  try {
    return use(tap, addon.ifIndex(tap.name));
  } finally {
    tap.close();
  }
}

test('metadata kfuncs: kernel (device-bound, no driver metadata), wasm and interpreter give the same answers and outputs', () => {
  if (unavailable) return void skip('metadata kfuncs against the kernel', unavailable);
  const object = compileBpf(join(dir, 'xdp_metadata.c'));
  const frames = corpus().slice(0, 4);
  const kernelValue = withTap((tap, ifindex) => {
    const kernel = KernelObject.load(object, { deviceIfindex: ifindex });
    try {
      const detach = kernel.attachXdp('xdp_metadata', tap.name, 'native');
      try {
        for (const frame of frames) assert.is(tap.write(frame.bytes), frame.bytes.length, `tap takes '${frame.name}'`);
      } finally {
        detach();
      }
      return kernel.lookup('meta_out', ZERO_KEY)![0]!;
    } finally {
      kernel.close();
    }
  });
  // The kernel ran the program once per frame: the fixture counts them.
  assert.is(new DataView(kernelValue.buffer, kernelValue.byteOffset).getUint32(44, true), frames.length, 'kernel ran every frame');
  const obj = loadObject(new Uint8Array(readFileSync(object)), object);
  const loaded = loadWasm(compileObject(obj).wasm, 'xdp_metadata');
  for (const engine of ['wasm', 'interp'] as const) {
    const machine = BpfMachine.create(loaded);
    const worker = machine.worker(0, { engine });
    for (const frame of frames) {
      const r = worker.runXdp('xdp_metadata', frame.bytes);
      assert.is(r.actionName, 'XDP_PASS', `${engine} on '${frame.name}'${r.fault ? ` (fault: ${r.fault})` : ''}`);
    }
    assert.is(hex(machine.maps.byNameOrThrow('meta_out').lookupBytes(ZERO_KEY)!), hex(kernelValue), `${engine}: meta_out`);
  }
});

/** Argument checks: the kernel's reason (loading bound to a tap) and ours, at the same call. */
const REFUSED: { file: string; reason: RegExp }[] = [
  { file: 'kfunc_null_output', reason: /Possibly NULL pointer passed to trusted arg2/ },
  { file: 'kfunc_small_output', reason: /invalid access to map value, value_size=4 off=0 size=8/ },
  { file: 'kfunc_ctx_arg', reason: /arg#0 expected pointer to ctx, but got fp/ },
];

for (const { file, reason } of REFUSED) {
  test(`metadata kfuncs: ${file} is refused by the kernel and by us, for the same reason`, () => {
    const object = compileBpf(join(dir, `${file}.c`));
    const obj = loadObject(new Uint8Array(readFileSync(object)), object);
    try {
      verify(obj.programs[0]!, obj.maps, { memorySafety: true });
      assert.unreachable('we accept it');
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e;
      assert.match(e.message, /\(call kfunc \d\)/);
      assert.match(e.message, reason);
    }
    if (unavailable) return void skip(`kernel's verdict on ${file}`, unavailable);
    withTap((_tap, ifindex) => {
      assert.throws(
        () => KernelObject.load(object, { deviceIfindex: ifindex }).close(),
        (e: Error) => reason.test(e.message),
        'the kernel refuses it',
      );
    });
  });
}

test('metadata kfuncs: the kernel refuses them in a program that is not device-bound (bpf2wasm binds to no device and runs them)', () => {
  if (unavailable) return void skip('metadata kfuncs against the kernel', unavailable);
  const object = compileBpf(join(dir, 'xdp_metadata.c'));
  assert.throws(() => KernelObject.load(object).close(), /metadata kfuncs require device-bound program/);
});

test.run();
