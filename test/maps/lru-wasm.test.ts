// The kernel LRU in the compiled module (compiler/codegen-lru.ts) against the runtime's
// (runtime/maps/lru.ts, which the interpreter uses and test/kernel/lru-pressure holds
// against the kernel), with several workers on different CPUs — what the kernel tests
// cannot do from one pinned CPU: refills and steals across CPUs' local lists, one list
// set per CPU for BPF_F_NO_COMMON_LRU. Every map of test/fixtures/kernel/lru_pressure.c,
// a seeded mix of lookups, updates and deletes from random CPUs of maps laid out for 32:
// more CPUs than common_16 has nodes, so refills find nothing and steal from other CPUs'
// local lists. Results after every packet, contents and every LRU list at the end must
// be equal. And
// the point of having it in wasm: once a map's node pool is fully carved, no update of it
// reaches the runtime.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine, type Engine } from '../../runtime/machine.js';
import { HashMap } from '../../runtime/maps/hash.js';
import { POOL_WORD } from '../../core/map-layout.js';
import { compileBpf } from '../support/clang.js';
import { Rng } from '../support/fuzz/rng.js';
import { packageRoot } from '../../core/package-root.js';
import { mapOpFrame } from '../support/map-op-frame.js';

const CPUS = 32;
const MAPS = ['common_16', 'common_1024', 'nocommon_16', 'nocommon_999', 'percpu_64', 'percpu_1024', 'percpu_nocommon_32'];
const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'lru_pressure.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object), { maxCpus: CPUS }).wasm, object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function lruState(m: BpfMachine, name: string): string {
  const map = m.maps.byNameOrThrow(name) as HashMap;
  const entries = [...map.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
  const lists = Object.fromEntries(Object.entries(map.lruListKeys()).map(([list, keys]) => [list, keys.map(hex)]));
  return JSON.stringify({ entries, lists });
}

/** Whether the map's pool has carved every node it will ever have (pool.ts). */
function fullyCarved(m: BpfMachine, name: string): boolean {
  const map = m.maps.byNameOrThrow(name) as HashMap;
  const i32 = new Int32Array(m.memory.buffer);
  return i32[(map.pool >>> 2) + POOL_WORD.CARVED] === i32[(map.pool >>> 2) + POOL_WORD.CAPACITY];
}

test(`lru_pressure's maps from ${CPUS} CPUs: wasm and the runtime keep the same entries and lists; carved maps stay in wasm`, () => {
  const machines = Object.fromEntries((['wasm', 'interp'] as Engine[]).map((e) => [e, BpfMachine.create(loaded)])) as Record<
    Engine,
    BpfMachine
  >;
  const workers = (e: Engine) => Array.from({ length: CPUS }, (_, cpu) => machines[e].worker(cpu, { engine: e }));
  const engines = { wasm: workers('wasm'), interp: workers('interp') };
  // Updates of the wasm machine's maps that reach the runtime (the module's fallback import).
  let runtimeUpdates = 0;
  for (const name of MAPS) {
    const map = machines.wasm.maps.byNameOrThrow(name) as HashMap;
    const update = map.update.bind(map);
    map.update = (...args: Parameters<HashMap['update']>) => {
      runtimeUpdates++;
      return update(...args);
    };
  }
  const rng = new Rng(0x4c5255);
  let carvedUpdates = 0;
  for (let i = 0; i < 24000; i++) {
    const index = rng.below(MAPS.length);
    const roll = rng.below(100);
    const op = roll < 45 ? 0 : roll < 92 ? 1 : 2;
    const key = rng.chance(0.3) ? rng.below(24) : rng.below(3000);
    const flagRoll = rng.below(100);
    const flags = flagRoll < 80 ? 0 : flagRoll < 92 ? 1 : 2;
    const cpu = rng.below(CPUS);
    const packet = mapOpFrame(op, index, key, BigInt(i + 1), flags);
    const carved = fullyCarved(machines.wasm, MAPS[index]!);
    const before = runtimeUpdates;
    const [w, r] = [engines.wasm[cpu]!.runXdp('lru_pressure', packet), engines.interp[cpu]!.runXdp('lru_pressure', packet)];
    const at = `packet ${i}: cpu ${cpu} op ${op} ${MAPS[index]} key ${key} flags ${flags}`;
    assert.is(`${w.actionName} ${hex(w.packet.subarray(32, 48))}`, `${r.actionName} ${hex(r.packet.subarray(32, 48))}`, at);
    if (op === 1 && carved) {
      carvedUpdates++;
      assert.is(runtimeUpdates, before, `${at}: the update of a fully carved map left wasm`);
    }
  }
  for (const name of MAPS) assert.is(lruState(machines.wasm, name), lruState(machines.interp, name), `${name}: entries and LRU lists`);
  assert.ok(carvedUpdates > 1000, `updates of fully carved maps happened (${carvedUpdates})`);
  assert.ok(runtimeUpdates > 0, 'the first inserts of a map carve a new chunk through the runtime');
});

test.run();
