// The compiled module's own hash-map code (compiler/codegen-maps.ts: lookups, updates,
// LRU lists and eviction, EEXIST / ENOENT / E2BIG) against the runtime's maps, which the
// interpreter uses: a seeded random sequence of updates and lookups from a program, with
// results, map contents and LRU lists compared after every packet.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine, type Engine } from '../../runtime/machine.js';
import { HashMap } from '../../runtime/maps/hash.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const root = packageRoot;
const object = compileBpf(join(root, 'test', 'fixtures', 'wasm', 'map_updates.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** xorshift32: the same sequence every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function state(m: BpfMachine): string {
  const dump = (name: string): string[] => [...m.maps.byNameOrThrow(name).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
  const lru = m.maps.byNameOrThrow('lru') as HashMap;
  return JSON.stringify({
    results: dump('results'),
    lru: dump('lru'),
    hash: dump('hash'),
    lists: Object.fromEntries(Object.entries(lru.lruListKeys()).map(([name, keys]) => [name, keys.map(hex)])),
  });
}

test('updates and lookups: wasm and the runtime agree after every packet', () => {
  const next = random(7);
  const machines = Object.fromEntries((['wasm', 'interp'] as Engine[]).map((e) => [e, BpfMachine.create(loaded)])) as Record<
    Engine,
    BpfMachine
  >;
  const workers = Object.fromEntries((['wasm', 'interp'] as Engine[]).map((e) => [e, machines[e].worker(0, { engine: e })])) as Record<
    Engine,
    ReturnType<BpfMachine['worker']>
  >;
  const codes = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const frame = new Uint8Array(60);
    frame[14] = Math.floor(next() * 9); // 9 keys for maps of 4: evictions and E2BIG happen
    frame[15] = Math.floor(next() * 3);
    frame[16] = Math.floor(next() * 3);
    frame[17] = Math.floor(next() * 256);
    for (const e of ['wasm', 'interp'] as Engine[]) assert.is(workers[e].runXdp('map_updates', frame).actionName, 'XDP_PASS');
    assert.is(state(machines.wasm), state(machines.interp), `after packet ${i} (${hex(frame.subarray(14, 18))})`);
    codes.add(JSON.parse(state(machines.wasm)).results[0]);
  }
  // The sequence must have reached every outcome: 0, -EEXIST, -ENOENT, -E2BIG.
  const results = [...codes].map((r) => Number(Buffer.from(r.split('=')[1]!, 'hex').readBigInt64LE()));
  for (const code of [0, -17, -2, -7]) assert.ok(results.includes(code), `outcome ${code} seen (${results})`);
});

test.run();
