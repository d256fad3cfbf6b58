// Array lookups from a program at every index up to max_entries, expectations by hand:
// array_edges keys an array of 4 by the packet length modulo 5, counting hits. Lengths
// 60..65 give keys 0, 1, 2, 3, 4, 0: the first four and the last pass and count, key 4
// (= max_entries) finds nothing and drops. On compiled wasm (the inline array lookup),
// the interpreter (the runtime's array map) and the kernel where available.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';
import { fixtureEngines, readS64, s64le, u32le } from '../support/fixture-engines.js';
import { skip } from '../support/skip.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'array_edges.c'));
const engines = fixtureEngines(object);

for (const engine of engines) {
  test(`${engine.name}: keys 0..3 hit their own slot, key 4 misses`, () => {
    if (engine.missing) return void skip(`${engine.name}: array_edges`, engine.missing);
    for (let k = 0; k < 4; k++) engine.set('slots', u32le(k), s64le(0n));
    const verdicts = [60, 61, 62, 63, 64, 65].map((len) => engine.run('array_edges', new Uint8Array(len)).actionName);
    assert.equal(verdicts, ['XDP_PASS', 'XDP_PASS', 'XDP_PASS', 'XDP_PASS', 'XDP_DROP', 'XDP_PASS']);
    assert.equal(
      [0, 1, 2, 3].map((k) => readS64(engine.get('slots', u32le(k)))),
      [2n, 1n, 1n, 1n],
    );
    assert.is(engine.get('slots', u32le(4)), undefined, 'slot 4 does not exist');
  });
}

test.after(() => engines.forEach((e) => e.close()));
test.run();
