// bpf_spin_lock against the kernel. The verifier's rules: each fixture in
// test/fixtures/spin-lock/ is refused by the kernel (its verdict taken here) and by our
// memory-safety model with the same reason, or accepted by both. The run: the counter
// program (accept_counter.c) counts the packet corpus under its value locks on the kernel
// (BPF_PROG_TEST_RUN), on wasm and on the interpreter; the maps must be equal after.

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
import { corpus, jumboFrame } from '../../packets/corpus.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { report } from '../support/report.js';

const dir = join(packageRoot, 'test/fixtures/spin-lock');
const unavailable = kernelMissing();

/** The kernel's reason, which ours must also give (undefined: both load it). */
const CASES: { file: string; reason?: RegExp }[] = [
  { file: 'accept_counter' },
  // Calls to subprograms are allowed with a lock held (helpers are not).
  { file: 'subprog_while_locked' },
  // bpf_spin_lock is a helper call like any other: the second one is refused as such.
  { file: 'double_lock', reason: /function calls are not allowed while holding a lock/ },
  { file: 'call_while_locked', reason: /function calls are not allowed while holding a lock/ },
  { file: 'unlock_without_lock', reason: /bpf_spin_unlock without taking a lock/ },
  { file: 'unlock_different', reason: /bpf_spin_unlock of different lock/ },
  { file: 'exit_locked', reason: /BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region/ },
  { file: 'direct_access', reason: /bpf_spin_lock cannot be accessed directly by load\/store/ },
  { file: 'no_lock_in_value', reason: /map 'plain' has no valid bpf_spin_lock/ },
  { file: 'wrong_offset', reason: /off 8 doesn't point to 'struct bpf_spin_lock' that is at 0/ },
  { file: 'lock_on_stack', reason: /R1 type=fp expected=map_value, ptr_/ },
  { file: 'lock_maybe_null', reason: /R1 type=map_value_or_null expected=map_value, ptr_/ },
];

const objects = new Map<string, string>();
const objectOf = (file: string): string => {
  let path = objects.get(file);
  if (!path) objects.set(file, (path = compileBpf(join(dir, `${file}.c`))));
  return path;
};

function ourVerdict(path: string): string | undefined {
  const obj = loadObject(new Uint8Array(readFileSync(path)), path);
  try {
    verify(obj.programs[0]!, obj.maps, { memorySafety: true });
    return undefined;
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
    return e.message;
  }
}

function kernelVerdict(path: string): string | undefined {
  try {
    KernelObject.load(path).close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

for (const c of CASES) {
  test(`${c.file}: ${c.reason ? 'refused' : 'accepted'} by the kernel`, () => {
    if (unavailable) return void skip(`kernel verdict on ${c.file}`, unavailable);
    const verdict = kernelVerdict(objectOf(c.file));
    if (c.reason === undefined) assert.is(verdict, undefined, `kernel refused: ${verdict}`);
    else assert.match(verdict ?? 'accepted', c.reason);
  });
  test(`${c.file}: ${c.reason ? 'refused' : 'accepted'} by bpf2wasm's verifier`, () => {
    const verdict = ourVerdict(objectOf(c.file));
    if (c.reason === undefined) assert.is(verdict, undefined, `refused: ${verdict}`);
    else assert.match(verdict ?? 'accepted', c.reason);
  });
}

test('the counter under value locks: wasm, interpreter and kernel leave the same maps', () => {
  if (unavailable) return void skip('spin-lock differential', unavailable);
  const object = objectOf('accept_counter');
  const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
  const machines = { wasm: BpfMachine.create(loaded), interp: BpfMachine.create(loaded) };
  const workers = { wasm: machines.wasm.worker(0, { engine: 'wasm' }), interp: machines.interp.worker(0, { engine: 'interp' }) };
  const kernel = KernelObject.load(object);
  const frames = [...corpus(), jumboFrame()].filter((f) => f.bytes.length >= 14);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  try {
    for (let round = 0; round < 3; round++) {
      for (const frame of frames) {
        const want = kernel.testRun('accept_counter', frame.bytes).retval;
        for (const engine of ['wasm', 'interp'] as const) {
          const r = workers[engine].runXdp('accept_counter', frame.bytes);
          assert.is(r.fault, undefined, `${engine} on '${frame.name}'`);
          assert.is(r.action, want, `${engine} verdict on '${frame.name}'`);
        }
      }
    }
    for (const map of ['counters', 'slots']) {
      const theirs = kernel
        .dump(map)
        .map((e) => `${hex(e.key)}=${hex(e.values[0]!)}`)
        .sort();
      assert.ok(theirs.length > 1 || map === 'slots', `${map}: several keys counted`);
      for (const engine of ['wasm', 'interp'] as const) {
        const ours = [...machines[engine].maps.byNameOrThrow(map).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
        assert.equal(ours, theirs, `${engine}: ${map}`);
      }
    }
    report(`spin-lock differential: ${frames.length * 3} packets counted under value locks, maps equal on wasm, interpreter and kernel`);
  } finally {
    kernel.close();
  }
});

test.run();
