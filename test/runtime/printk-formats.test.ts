// bpf_trace_printk's format rules against the kernel's: test/fixtures/kernel/printk_formats.c
// prints 24 formats — accepted ones (integer widths and flags, %c, %s, %%, px, pI4, pi4,
// pI6, pi6, a NULL %p) and ones the kernel refuses with -EINVAL (a precision, %f, a fourth
// conversion, a trailing %, a control character, %s followed by a letter, %pQ, %hd, %lll,
// no NUL within the size) — and keeps each return value. On wasm and on the interpreter the
// return values and the trace lines must be the kernel's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { packageRoot } from '../../core/package-root.js';

const root = packageRoot;
const object = compileBpf(join(root, 'test', 'fixtures', 'kernel', 'printk_formats.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const FORMATS = 24;
const EINVAL = -22;
const PREFIX = 'b2wf';
const frame = new Uint8Array(64);
const slotKey = (i: number): Uint8Array => new Uint8Array(new Uint32Array([i]).buffer);
const s64 = (v: Uint8Array): number => Number(new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true));

function runOurs(engine: 'wasm' | 'interp'): { rets: number[]; lines: string[] } {
  const machine = BpfMachine.create(loaded);
  const lines: string[] = [];
  const worker = machine.worker(0, { engine, trace: (l) => lines.push(l) });
  assert.is(worker.runXdp('printk_formats', frame).actionName, 'XDP_PASS');
  const rets = machine.maps.byNameOrThrow('rets');
  return { rets: Array.from({ length: FORMATS }, (_, i) => s64(rets.lookupBytes(slotKey(i))!)), lines };
}

test('refused formats return -EINVAL and print nothing; accepted ones return their length (both engines)', () => {
  for (const engine of ['wasm', 'interp'] as const) {
    const { rets, lines } = runOurs(engine);
    const accepted = rets.filter((r) => r !== EINVAL);
    // Every accepted format printed one line, and returned that line's length with its newline.
    assert.equal(
      accepted,
      lines.map((l) => l.length + 1),
      `${engine}: return values of the printed lines`,
    );
    // printk_formats.c puts the formats the kernel refuses in slots 11-19 and 23.
    assert.equal(
      rets.flatMap((r, i) => (r === EINVAL ? [i] : [])),
      [11, 12, 13, 14, 15, 16, 17, 18, 19, 23],
      `${engine}: the refused formats`,
    );
    assert.ok(lines.includes(`${PREFIX} pI4=10.200.1.1 pi4=010.200.001.001`), `${engine}: %pI4 / %pi4`);
  }
});

/** tracefs, mounted if it is not. */
function traceDir(): string | undefined {
  const dir = '/sys/kernel/tracing';
  if (!existsSync(join(dir, 'trace'))) spawnSync('mount', ['-t', 'tracefs', 'tracefs', dir]);
  return existsSync(join(dir, 'trace')) ? dir : undefined;
}

test("the kernel agrees: each format's return value and every trace line", () => {
  const why = kernelMissing();
  if (why) return void skip('trace_printk formats vs kernel', why);
  const trace = traceDir();
  if (!trace) return void skip('trace_printk formats vs kernel', 'kernel-bpf', 'tracefs (/sys/kernel/tracing)');
  const kernel = KernelObject.load(object);
  try {
    writeFileSync(join(trace, 'trace'), ''); // clears the buffer
    assert.is(kernel.testRun('printk_formats', frame).retval, 2);
    const theirs = {
      rets: Array.from({ length: FORMATS }, (_, i) => s64(kernel.lookup('rets', slotKey(i))![0]!)),
      lines: readFileSync(join(trace, 'trace'), 'utf8')
        .split('\n')
        .map((l) => /bpf_trace_printk: (.*)$/.exec(l)?.[1])
        .filter((l): l is string => l !== undefined && l.startsWith(PREFIX)),
    };
    for (const engine of ['wasm', 'interp'] as const) {
      const ours = runOurs(engine);
      assert.equal(ours.rets, theirs.rets, `${engine}: return values`);
      assert.equal(ours.lines, theirs.lines, `${engine}: trace lines`);
    }
  } finally {
    kernel.close();
  }
});

test.run();
