// Inlined hash lookups (codegen-map-lookup.ts) test a bucket's first entry before the loop
// that walks the rest. Keys chosen (from core/key-hash.ts) to share one bucket of a
// 4-bucket hash map and of a 4-bucket LRU hash map: present keys sit first, in the middle
// and last in the chain, absent keys walk it to its end. Each present key's value is its
// own bit, so a lookup returning the wrong entry, or none, changes the sum: wasm and the
// interpreter against the sum of the values stored.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { keyHash } from '../../core/key-hash.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';
import { lookupAndAdd, storeR6AndPass } from '../support/lookup-asm.js';

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);

/** The first `count` keys whose hash falls in bucket `bucket` of a 4-bucket map. */
function keysInBucket(bucket: number, count: number): number[] {
  const keys: number[] = [];
  for (let k = 1; keys.length < count; k++) if ((keyHash(u32(k)) & 3) === bucket) keys.push(k);
  return keys;
}

// Four present (a full map of 4 entries) and four absent keys of bucket 2.
const KEYS = keysInBucket(2, 8);
const MAPS = ['h', 'lh'] as const;

const TEXT = `#! verifier kernel
#! map h hash key=4 value=8 entries=4
#! map lh lru_hash key=4 value=8 entries=4
#! map out array key=4 value=8 entries=1
  mov %r6, 0
${KEYS.map((key, k) => MAPS.map((map, m) => lookupAndAdd(map, key, k * MAPS.length + m)).join('')).join('')}
${storeR6AndPass(0, 8)}`;

test('keys of one bucket: hits at every place in the chain, misses past its end', () => {
  const { object } = readGoldenProgram('lookup_chains', TEXT);
  const machine = BpfMachine.create(loadWasm(compileObject(object).wasm, 'lookup_chains'));
  // Every order of insertion puts a different key first in the chain (new entries go in front).
  for (const order of [
    [0, 1, 2, 3],
    [3, 2, 1, 0],
    [1, 3, 0, 2],
  ]) {
    for (const map of MAPS) {
      for (const key of KEYS.slice(0, 4))
        if (machine.maps.byNameOrThrow(map).lookupBytes(u32(key))) machine.maps.byNameOrThrow(map).deleteBytes(u32(key));
    }
    let want = 0n;
    for (const i of order) {
      const key = KEYS[i]!;
      machine.maps.byNameOrThrow('h').updateBytes(u32(key), u64(1n << BigInt(i)));
      machine.maps.byNameOrThrow('lh').updateBytes(u32(key), u64(1n << BigInt(8 + i)));
      want |= (1n << BigInt(i)) | (1n << BigInt(8 + i));
    }
    for (const engine of ['wasm', 'interp'] as const) {
      machine.maps.byNameOrThrow('out').updateBytes(u32(0), u64(0n));
      const r = machine.worker(0, { engine }).runXdp('lookup_chains', new Uint8Array(60));
      assert.is(r.actionName, 'XDP_PASS', `${engine}: ${r.fault}`);
      const out = machine.maps.byNameOrThrow('out').lookupBytes(u32(0))!;
      assert.is(new DataView(out.buffer, out.byteOffset).getBigUint64(0, true), want, `${engine}, order ${order}`);
    }
  }
});

test.run();
