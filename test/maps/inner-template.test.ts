// What a map-in-map's slot takes, against the kernel: the same object loaded both ways,
// the same candidate inner maps created on both sides, each stored into a slot of an
// outer map. A slot takes a map shaped like the outer map's inner-map template (type, key
// and value size, flags; max_entries too for arrays unless the template has
// BPF_F_INNER_MAP) and refuses anything else with EINVAL, with a reason naming what differs.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { MapError } from '../../runtime/errors.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { MAP_FLAG, MAP_TYPE } from '../../core/map-types.js';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { packageRoot } from '../../core/package-root.js';

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'control_maps.c'));
const loaded = loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object);
const SLOT = new Uint8Array(4);

interface Candidate {
  outer: string;
  type: keyof typeof MAP_TYPE;
  key: number;
  value: number;
  max: number;
  flags: number;
}
const candidates: Candidate[] = [
  // lru_mapping's template: lru_hash, 40-byte keys, 8-byte values, 1000 entries.
  { outer: 'lru_mapping', type: 'LRU_HASH', key: 40, value: 8, max: 1000, flags: 0 },
  { outer: 'lru_mapping', type: 'LRU_HASH', key: 40, value: 8, max: 10, flags: 0 },
  { outer: 'lru_mapping', type: 'PERCPU_ARRAY', key: 4, value: 8, max: 1, flags: 0 },
  { outer: 'lru_mapping', type: 'LRU_HASH', key: 40, value: 8, max: 1000, flags: 2 /* BPF_F_NO_COMMON_LRU */ },
  { outer: 'lru_mapping', type: 'LRU_HASH', key: 40, value: 16, max: 1000, flags: 0 },
  { outer: 'lru_mapping', type: 'HASH', key: 40, value: 8, max: 1000, flags: 0 },
  // arrays' template: array 4/8, 8 entries.
  { outer: 'arrays', type: 'ARRAY', key: 4, value: 8, max: 8, flags: 0 },
  { outer: 'arrays', type: 'ARRAY', key: 4, value: 8, max: 16, flags: 0 },
  // sized_arrays' template: array 4/8, 8 entries, BPF_F_INNER_MAP.
  { outer: 'sized_arrays', type: 'ARRAY', key: 4, value: 8, max: 16, flags: MAP_FLAG.INNER_MAP },
  { outer: 'sized_arrays', type: 'ARRAY', key: 4, value: 8, max: 16, flags: 0 },
  // hashes' template: hash 4/4, 64 entries.
  { outer: 'hashes', type: 'HASH', key: 4, value: 4, max: 128, flags: 0 },
  { outer: 'hashes', type: 'LRU_HASH', key: 4, value: 4, max: 64, flags: 0 },
];
const describe = (c: Candidate): string =>
  `${c.outer} <- ${c.type.toLowerCase()} ${c.key}/${c.value} max ${c.max} flags 0x${c.flags.toString(16)}`;

function ours(machine: BpfMachine, c: Candidate): { result: string; message: string } {
  const handle = machine.maps.createInnerMap({
    name: 'candidate',
    type: MAP_TYPE[c.type],
    keySize: c.key,
    valueSize: c.value,
    maxEntries: c.max,
    flags: c.flags,
  });
  try {
    machine.maps.byNameOrThrow(c.outer).updateBytes(SLOT, new Uint8Array(new Uint32Array([handle]).buffer));
    return { result: 'ok', message: '' };
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    return { result: e.errno, message: e.message };
  }
}

function kernels(k: KernelObject, c: Candidate): string {
  const pin = k.createMap('candidate', c.type.toLowerCase(), c.key, c.value, c.max, c.flags);
  try {
    k.setInnerMap(c.outer, SLOT, pin);
    return 'ok';
  } catch (e) {
    return /Invalid argument/.test((e as Error).message) ? 'EINVAL' : (e as Error).message;
  }
}

test('a slot takes what the kernel takes: the template decides', () => {
  const missing = kernelMissing();
  if (missing) return void skip('inner-map templates against the kernel', missing);
  const machine = BpfMachine.create(loaded);
  const k = KernelObject.load(object);
  try {
    let refused = 0;
    for (const c of candidates) {
      const expected = kernels(k, c);
      const got = ours(machine, c);
      assert.is(got.result, expected, describe(c));
      if (expected === 'EINVAL') {
        refused++;
        assert.match(got.message, /^map '\w+': update: EINVAL: the inner map does not match the template: /, describe(c));
      }
    }
    assert.ok(refused >= 6 && refused < candidates.length, `the kernel refused ${refused} of ${candidates.length}: both kinds are covered`);
  } finally {
    k.close();
  }
});

test('the refusal names what differs', () => {
  const machine = BpfMachine.create(loaded);
  const wrong = ours(machine, candidates[2]!); // katran's incident: a per-CPU array into lru_mapping
  assert.is(wrong.result, 'EINVAL');
  assert.ok(wrong.message.includes('type percpu_array, not lru_hash; key size 4, not 40'), wrong.message);
  const bound = ours(machine, candidates[7]!);
  assert.ok(bound.message.endsWith('max_entries 16, not 8'), bound.message);
  // The slot still holds nothing: a refused update writes nothing.
  assert.is(machine.maps.byNameOrThrow('lru_mapping').lookupBytes(SLOT), undefined);
});

test.run();
