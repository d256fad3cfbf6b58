// bpf_loop's count limit, by the kernel's rule (kernel/bpf/bpf_iter.c): nr_loops above
// BPF_MAX_LOOPS (1 << 23) returns -E2BIG (-7) without calling the callback (non-zero flags:
// -EINVAL, checked first); otherwise the callback runs for index 0.. until it returns
// non-zero (bpf_loop then returns index + 1) or the count is done (bpf_loop returns it). The fixture's callback stops at index
// stop - 1, so a count of 1 << 23 costs one call. On compiled wasm and the interpreter,
// and on the kernel when here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';
import { fixtureEngines, readS64, u32le } from '../support/fixture-engines.js';
import { skip } from '../support/skip.js';

const MAX_LOOPS = 1 << 23;

interface Case {
  name: string;
  nrLoops: number;
  stop: number;
  ret: bigint;
  calls: bigint;
  flags?: number;
}

const CASES: Case[] = [
  { name: '5 loops, never stopped: returns 5 after 5 calls', nrLoops: 5, stop: 100, ret: 5n, calls: 5n },
  { name: '5 loops, stopped at index 2: returns 3 after 3 calls', nrLoops: 5, stop: 3, ret: 3n, calls: 3n },
  { name: '0 loops: returns 0, no call', nrLoops: 0, stop: 1, ret: 0n, calls: 0n },
  { name: '1 << 23 loops (the limit), stopped at index 0: returns 1', nrLoops: MAX_LOOPS, stop: 1, ret: 1n, calls: 1n },
  { name: '(1 << 23) + 1 loops: -E2BIG, no call', nrLoops: MAX_LOOPS + 1, stop: 1, ret: -7n, calls: 0n },
  { name: '0xffffffff loops: -E2BIG, no call', nrLoops: 0xffffffff, stop: 1, ret: -7n, calls: 0n },
  // Flags are checked first (-EINVAL), whatever the count.
  { name: 'flags 1: -EINVAL, no call', nrLoops: 5, stop: 100, flags: 1, ret: -22n, calls: 0n },
];

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'loop_limit.c'));
const engines = fixtureEngines(object);

for (const engine of engines) {
  for (const c of CASES) {
    test(`${engine.name}: ${c.name}`, () => {
      if (engine.missing) return void skip(`${engine.name}: ${c.name}`, engine.missing);
      engine.set('loop_in', u32le(0), new Uint8Array([...u32le(c.nrLoops), ...u32le(c.stop), ...u32le(c.flags ?? 0)]));
      const r = engine.run('loop_limit', new Uint8Array(60));
      assert.is(r.actionName, 'XDP_PASS', r.fault);
      assert.is(readS64(engine.get('loop_out', u32le(0))), c.ret, 'return value');
      assert.is(readS64(engine.get('loop_out', u32le(1))), c.calls, 'callback calls');
    });
  }
}

test.after(() => engines.forEach((e) => e.close()));
test.run();
