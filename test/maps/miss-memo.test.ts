// A missed lookup's hash, reused by the next update of the same key (compiler/codegen-maps.ts
// map_update_hash$wasm), against the runtime, which hashes every time: 40-byte keys that
// differ from one another in a single 8-byte word, any of the five, looked up and inserted
// in a seeded random order, so that an update often follows a miss of a key that differs
// from its own in one word only — a reuse that compared fewer words would file the entry
// under another key's hash, and the lookups after would disagree. Two maps with the same
// key size share the reuse (the hash is the key's alone).
// Results, contents and LRU lists compared after every packet.

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
import { Rng } from '../support/fuzz/rng.js';
import { packageRoot } from '../../core/package-root.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'miss_memo.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function state(m: BpfMachine): string {
  const dump = (name: string): string[] => [...m.maps.byNameOrThrow(name).entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
  const lru = m.maps.byNameOrThrow('lru') as HashMap;
  const lists = Object.fromEntries(Object.entries(lru.lruListKeys()).map(([name, keys]) => [name, keys.map(hex)]));
  return JSON.stringify({ results: dump('results'), lru: dump('lru'), hash: dump('hash'), lists });
}

test('40-byte keys differing in one word: wasm (reusing a miss hash) and the runtime agree after every packet', () => {
  const rng = new Rng(0x6d656d6f);
  const machines = Object.fromEntries((['wasm', 'interp'] as Engine[]).map((e) => [e, BpfMachine.create(loaded)])) as Record<
    Engine,
    BpfMachine
  >;
  const workers = { wasm: machines.wasm.worker(0, { engine: 'wasm' }), interp: machines.interp.worker(0, { engine: 'interp' }) };
  let previous: { op: number; map: number; key: string; found: boolean } | undefined;
  let updatesAfterMissOfOther = 0;
  let updatesAfterMissOfSame = 0;
  for (let i = 0; i < 2000; i++) {
    const frame = new Uint8Array(64);
    const op = rng.below(2);
    const map = rng.below(2);
    const key = frame.subarray(16, 56);
    if (previous && rng.chance(0.4)) key.set(Buffer.from(previous.key, 'hex'));
    else {
      key.fill(0x5a);
      key[rng.below(5) * 8 + rng.below(8)] = rng.below(3); // one word of five differs, in one byte
    }
    frame[14] = op;
    frame[15] = map;
    frame[56] = rng.below(256);
    for (const e of ['wasm', 'interp'] as Engine[]) assert.is(workers[e].runXdp('miss_memo', frame).actionName, 'XDP_PASS');
    const now = state(machines.interp);
    assert.is(state(machines.wasm), now, `after packet ${i}: op ${op} map ${map} key ${hex(key)}`);
    if (op === 1 && previous?.op === 0 && !previous.found && previous.map === map) {
      if (previous.key === hex(key)) updatesAfterMissOfSame++;
      else updatesAfterMissOfOther++;
    }
    const looked = machines.interp.maps.byNameOrThrow('results').entries();
    const found = [...looked].some(([k, v]) => k[0] === 1 && Buffer.from(v).readBigInt64LE() !== -1n);
    previous = { op, map, key: hex(key), found };
  }
  // The sequence must have had both: an update of the key just missed, and of another.
  assert.ok(updatesAfterMissOfSame > 40, `updates after a miss of the same key: ${updatesAfterMissOfSame}`);
  assert.ok(updatesAfterMissOfOther > 40, `updates after a miss of another key: ${updatesAfterMissOfOther}`);
});

test.run();
