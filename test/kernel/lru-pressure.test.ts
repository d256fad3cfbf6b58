// LRU maps under pressure against the kernel: lru_hash (common LRU), lru_hash with
// BPF_F_NO_COMMON_LRU and lru_percpu_hash (common and per-CPU LRU), 16 to 1024 entries,
// driven by thousands of keys in a seeded random mix of program lookups, updates (ANY,
// NOEXIST, EXIST) and deletes with a hot set, one operation per packet
// (test/fixtures/kernel/lru_pressure.c). Every packet's result (verdict, update/delete
// errno, lookup hit and value) must be the kernel's, on compiled wasm and the interpreter,
// and at the end each map's contents. The kernel runs on CPU 0 (the test pins itself),
// our engines as worker 0 with maps laid out for the kernel's possible CPUs, so both
// keep the same per-CPU LRU lists (runtime/maps/lru.ts).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';
import { possibleCpus } from '../support/cpus.js';
import { fixtureEngines } from '../support/fixture-engines.js';
import { Rng } from '../support/fuzz/rng.js';
import { report } from '../support/report.js';
import { skip } from '../support/skip.js';
import { mapOpFrame } from '../support/map-op-frame.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'lru_pressure.c'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const MAPS = [
  { name: 'common_16', keys: 2000, ops: 3000 },
  { name: 'common_1024', keys: 5000, ops: 12000 },
  { name: 'nocommon_16', keys: 2000, ops: 3000 },
  { name: 'nocommon_999', keys: 5000, ops: 12000 },
  { name: 'percpu_64', keys: 3000, ops: 4000 },
  { name: 'percpu_1024', keys: 5000, ops: 12000 },
  { name: 'percpu_nocommon_32', keys: 2000, ops: 3000 },
] as const;
const SIZES: Record<string, number> = {
  common_16: 16,
  common_1024: 1024,
  nocommon_16: 16,
  nocommon_999: 999,
  percpu_64: 64,
  percpu_1024: 1024,
  percpu_nocommon_32: 32,
};
const OP_NAMES = ['lookup', 'update', 'delete'];

MAPS.forEach(({ name, keys, ops }, index) => {
  test(`${name}: ${ops} operations over ${keys} keys, packet by packet as the kernel`, () => {
    const engines = fixtureEngines(object, { maxCpus: possibleCpus() });
    const kernel = engines.find((e) => e.name === 'kernel')!;
    if (kernel.missing) {
      skip(name, kernel.missing);
      return;
    }
    try {
      const rng = new Rng(0x1e0 + index);
      const size = SIZES[name]!;
      const hot = Math.max(2, size >> 1);
      const counts = { lookups: 0, hits: 0, updates: 0, refused: 0, deletes: 0 };
      for (let i = 0; i < ops; i++) {
        const roll = rng.below(100);
        const op = roll < 55 ? 0 : roll < 95 ? 1 : 2;
        const key = rng.chance(0.4) ? rng.below(hot) : rng.below(keys);
        const flagRoll = rng.below(100);
        const flags = flagRoll < 80 ? 0 : flagRoll < 95 ? 1 : 2;
        const packet = mapOpFrame(op, index, key, BigInt(i + 1), flags);
        const outs = engines.map((e) => {
          const r = e.run('lru_pressure', packet);
          return `${r.actionName} ${hex(r.packet.subarray(32, 48))}`;
        });
        const want = outs[outs.length - 1]!;
        for (const [j, e] of engines.entries()) {
          assert.is(outs[j], want, `${e.name} at packet ${i}: ${OP_NAMES[op]} key ${key} flags ${flags}`);
        }
        const result = new DataView(Buffer.from(want.split(' ')[1]!, 'hex').buffer).getBigInt64(0, true);
        if (op === 0) {
          counts.lookups++;
          if (result === 1n) counts.hits++;
        } else if (op === 1) {
          counts.updates++;
          if (result !== 0n) counts.refused++;
        } else counts.deletes++;
      }
      const final = kernel.dump(name);
      for (const e of engines) assert.equal(e.dump(name), final, `${e.name}: final contents of ${name}`);
      assert.ok(final.length <= Math.ceil(size / possibleCpus()) * possibleCpus(), 'no more entries than nodes');
      assert.ok(counts.hits < counts.lookups, 'the table is under pressure: lookups miss');
      report(
        `LRU pressure ${name}: ${ops} packets (${counts.lookups} lookups, ${counts.hits} hits; ${counts.updates} updates, ${counts.refused} refused; ${counts.deletes} deletes), ${final.length} entries left: equal on wasm, interpreter and kernel`,
      );
    } finally {
      for (const e of engines) e.close();
    }
  });
});

test.run();
