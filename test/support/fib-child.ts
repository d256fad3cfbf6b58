// The engines of the bpf_fib_lookup differential, run inside the test's network namespace
// (`ip netns exec NS node fib-child.js OBJECT`): the kernel's BPF_PROG_TEST_RUN looks up in
// the namespace of the calling process, and so do our tables (rtnetlink from this
// process). Reads the frames as JSON hex strings on stdin, writes each engine's verdict and
// output bytes per frame as JSON on stdout; the test compares them.

import { readFileSync } from 'node:fs';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { KernelObject } from '../../native/kernel.js';
import { hostRouteTables } from '../../native/fib.js';

const object = process.argv[2]!;
const frames = (JSON.parse(readFileSync(0, 'utf8')) as string[]).map((h) => new Uint8Array(Buffer.from(h, 'hex')));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const routeTables = hostRouteTables();
const workers = {
  wasm: BpfMachine.create(loaded).worker(0, { engine: 'wasm', routeTables }),
  interp: BpfMachine.create(loaded).worker(0, { engine: 'interp', routeTables }),
};
const kernel = KernelObject.load(object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
try {
  const results = frames.map((frame) => {
    const k = kernel.testRun('fib_lookup', frame);
    const ours = Object.fromEntries(
      Object.entries(workers).map(([engine, w]) => {
        const r = w.runXdp('fib_lookup', frame);
        return [engine, { action: r.action, data: hex(r.packet), fault: r.fault }];
      }),
    );
    return { kernel: { action: k.retval, data: hex(k.data) }, ...ours };
  });
  process.stdout.write(JSON.stringify(results));
} finally {
  kernel.close();
}
