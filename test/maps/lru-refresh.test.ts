// LRU refresh on lookup, through a program: an LRU_HASH of 4 is filled with keys 1..4
// from the program, some old keys are looked up from the program, and more keys are
// inserted; which keys get evicted is derived by hand from the kernel's LRU rules
// (runtime/maps/lru.ts): with 4 entries target_free is 1, so each insert into the full
// map flushes the previous insert to the inactive list, rotation moves the referenced
// (looked-up) entries to the active list, and the inactive tail goes. On compiled wasm
// (the module's own map code), the interpreter (the runtime's) and the kernel.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';
import { fixtureEngines, type FixtureEngine } from '../support/fixture-engines.js';
import { possibleCpus } from '../support/cpus.js';
import { skip } from '../support/skip.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'map_updates.c'));
// map_updates: byte 14 = key, 15 = flags, 16 = target (0 update the LRU, 2 look up), 17 = value.
const frame = (key: number, target: 0 | 2): Uint8Array => {
  const f = new Uint8Array(60);
  f[14] = key;
  f[16] = target;
  f[17] = key;
  return f;
};

const SCENARIOS: { name: string; ops: ['insert' | 'lookup', number][]; left: number[] }[] = [
  { name: 'without lookups the oldest insert goes first', ops: [['insert', 5]], left: [2, 3, 4, 5] },
  {
    name: 'a looked-up old key survives; the next oldest goes',
    ops: [
      ['lookup', 1],
      ['insert', 5],
    ],
    left: [1, 3, 4, 5],
  },
  {
    name: 'two looked-up keys survive two inserts',
    ops: [
      ['lookup', 2],
      ['lookup', 1],
      ['insert', 5],
      ['insert', 6],
    ],
    left: [1, 2, 5, 6],
  },
  // Strict LRU would keep 5 over 2; a reference bit is one bit: both survive the rotation.
  {
    name: 'a reference is one bit: a second lookup adds nothing',
    ops: [
      ['lookup', 1],
      ['lookup', 2],
      ['lookup', 1],
      ['insert', 5],
      ['insert', 6],
      ['insert', 7],
    ],
    left: [1, 2, 6, 7],
  },
  {
    name: 'a lookup of a missing key refreshes nothing',
    ops: [
      ['lookup', 9],
      ['insert', 5],
    ],
    left: [2, 3, 4, 5],
  },
];

function keysOf(engine: FixtureEngine): number[] {
  return [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((k) => engine.get('lru', new Uint8Array(new Uint32Array([k]).buffer)) !== undefined);
}

for (const scenario of SCENARIOS) {
  test(`${scenario.name}`, () => {
    for (const engine of fixtureEngines(object, { maxCpus: possibleCpus() })) {
      if (engine.missing) {
        skip(`${scenario.name} (kernel)`, engine.missing);
        continue;
      }
      for (const key of [1, 2, 3, 4]) assert.is(engine.run('map_updates', frame(key, 0)).actionName, 'XDP_PASS');
      for (const [op, key] of scenario.ops) engine.run('map_updates', frame(key, op === 'insert' ? 0 : 2));
      assert.equal(keysOf(engine), scenario.left, engine.name);
      engine.close();
    }
  });
}

test.run();
