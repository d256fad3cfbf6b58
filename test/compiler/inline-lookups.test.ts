// Hash-map lookups of a known shape run inline at their call (codegen-map-lookup.ts
// inlineLookup), the first 16 of a function; later ones call the shape's function. One
// program looks keys 0..17 up in turn in a hash, a per-CPU hash and an LRU hash map (so
// keys 0..4 and h's 5 inline, the rest through the functions) and adds up the first 8 bytes
// of every value found (on this CPU): both forms, hits and misses, on wasm and on the
// interpreter, against the sum worked out from what was stored.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { BpfMachine } from '../../runtime/machine.js';
import { loadWasm } from '../../runtime/program.js';
import { readGoldenProgram } from '../golden/program-file.js';
import { R6_FROM_RESULT, lookupAndAdd, storeR6AndPass } from '../support/lookup-asm.js';

const LOOKUPS = 18;
const MAPS = ['h', 'ph', 'lh'] as const;

const TEXT = `#! verifier kernel
#! map h hash key=4 value=8 entries=64
#! map ph percpu_hash key=4 value=8 entries=64
#! map lh lru_hash key=4 value=8 entries=64
#! map out array key=4 value=8 entries=1
  mov %r6, 0
${Array.from({ length: LOOKUPS }, (_, key) => MAPS.map((map, m) => lookupAndAdd(map, key, key * MAPS.length + m)).join('')).join('')}
${storeR6AndPass(0, 8)}`;

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);

test('the first 16 lookups inline, the rest through the functions', () => {
  const { text } = compileObject(readGoldenProgram('inline_lookups', TEXT).object, { wantText: true });
  // Only the lookups past the 16th call the shapes' functions (hash 1, per-CPU hash 5, LRU hash 9; key 4).
  for (const type of [1, 5, 9]) assert.match(text!, `(call $map_lookup$t${type}$k4`);
  assert.is(text!.match(/\(call \$map_lookup\$t\d+\$k4/g)?.length, 18 * 3 - 16);
});

test('wasm and the interpreter add up the values stored, on CPUs 0 and 1', () => {
  const { object } = readGoldenProgram('inline_lookups', TEXT);
  const machine = BpfMachine.create(loadWasm(compileObject(object, { maxCpus: 2 }).wasm, 'inline_lookups'));
  // Every third key is present in each map: 0 and 3 inline, 6 to 15 through the functions.
  const want = [0n, 0n];
  for (let key = 0; key < LOOKUPS; key += 3) {
    machine.maps.byNameOrThrow('h').updateBytes(u32(key), u64(BigInt(key + 1)));
    machine.maps.byNameOrThrow('lh').updateBytes(u32(key), u64(BigInt(1000 * (key + 1))));
    machine.maps
      .byNameOrThrow('ph')
      .updateBytes(u32(key), new Uint8Array([...u64(BigInt(100 * (key + 1))), ...u64(BigInt(10000 * (key + 1)))]));
    for (const cpu of [0, 1]) want[cpu]! += BigInt(key + 1) * (1n + 1000n + (cpu === 0 ? 100n : 10000n));
  }
  for (const engine of ['wasm', 'interp'] as const) {
    for (const cpu of [0, 1]) {
      const r = machine.worker(cpu, { engine }).runXdp('inline_lookups', new Uint8Array(60));
      assert.is(r.actionName, 'XDP_PASS', `${engine}: ${r.fault}`);
      const out = machine.maps.byNameOrThrow('out').lookupBytes(u32(0))!;
      assert.is(new DataView(out.buffer, out.byteOffset).getBigUint64(0, true), want[cpu], `${engine} on CPU ${cpu}`);
    }
  }
});

// A 20-byte key written as katran writes its VIP key: an 8-byte store, a 4-byte one, a
// 2-byte port and a 1-byte protocol, and byte 19 from before the helper call that ends
// what the block knows. Its loads are split along those stores (codegen-map-lookup.ts
// splitLoad); the bytes are the same, so the lookup finds the same entry, or none.
const SPLIT_KEY = `#! verifier kernel
#! map vips hash key=20 value=8 entries=8
#! map out array key=4 value=8 entries=1
  stdw [%r10-8], 0
  call 7
  stdw [%r10-24], 0x0a0b0c0d
  stw [%r10-16], 0x01020304
  stw [%r10-12], 0x05060708
  sth [%r10-8], 80
  stb [%r10-6], PROTO
  mov %r2, %r10
  add %r2, -24
  lddw %r1, map:vips
  call 1
${R6_FROM_RESULT}
${storeR6AndPass(0, 32)}`;

/** The key SPLIT_KEY builds, from its stores (little-endian), with protocol `proto`. */
const splitKey = (proto: number): Uint8Array =>
  Uint8Array.from([0x0d, 0x0c, 0x0b, 0x0a, 0, 0, 0, 0, 4, 3, 2, 1, 8, 7, 6, 5, 80, 0, proto, 0]);

test('a key from several stores: the slot of each byte', async () => {
  const { buildCfg } = await import('../../compiler/cfg.js');
  const { planBlockKeys } = await import('../../compiler/constant-keys.js');
  const prog = readGoldenProgram('split_key', SPLIT_KEY.replace('PROTO', '6')).object.programs[0]!;
  const fn = buildCfg(prog)[0]!;
  const block = fn.blocks[0]!;
  const stores = planBlockKeys(prog.insns, block.first, block.end).stores.get(11)!;
  // Slots: stdw 2, stw 3, stw 4, sth 5, stb 6; byte 19 written before the call (slot 0): not known.
  assert.equal(stores.slice(0, 20), [...Array(8).fill(2), ...Array(4).fill(3), ...Array(4).fill(4), 5, 5, 6, undefined]);
});

test('a key from several stores: wasm and the interpreter find the entry for its bytes', () => {
  for (const proto of [6, 17]) {
    const { object } = readGoldenProgram('split_key', SPLIT_KEY.replace('PROTO', String(proto)));
    const machine = BpfMachine.create(loadWasm(compileObject(object).wasm, 'split_key'));
    machine.maps.byNameOrThrow('vips').updateBytes(splitKey(6), u64(42n));
    for (const engine of ['wasm', 'interp'] as const) {
      machine.maps.byNameOrThrow('out').updateBytes(u32(0), u64(0n));
      const r = machine.worker(0, { engine }).runXdp('split_key', new Uint8Array(60));
      assert.is(r.actionName, 'XDP_PASS', `${engine}: ${r.fault}`);
      const out = machine.maps.byNameOrThrow('out').lookupBytes(u32(0))!;
      assert.is(
        new DataView(out.buffer, out.byteOffset).getBigUint64(0, true),
        proto === 6 ? 42n : 0xdeadn,
        `${engine}, protocol ${proto}`,
      );
    }
  }
});

test.run();
