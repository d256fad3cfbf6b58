// The key hash is written four times on purpose — the definition (core/key-hash.ts), the
// runtime's word-at-a-time version over linear memory, the compiled module's wasm version,
// and its version unrolled for one key size (codegen-map-lookup.ts) — and all must put every
// key in the same bucket. Each is checked against
// the pinned vectors, at aligned and unaligned addresses, and against each other on
// random keys.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KEY_HASH_VECTORS, keyHash } from '../../core/key-hash.js';
import { hashKey } from '../../runtime/maps/base.js';
import { MemView } from '../../runtime/memory.js';
import { keyHashProbeModule } from '../../compiler/codegen-maps.js';
import { unrolledKeyHashProbeModule } from '../../compiler/codegen-map-lookup.js';

const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
const view = new MemView(memory, 0);
const probe = new WebAssembly.Instance(new WebAssembly.Module(keyHashProbeModule()), { env: { memory } });
const wasmHash = probe.exports['hash'] as (key: number, len: number) => number;

function place(key: readonly number[], addr: number): void {
  new Uint8Array(memory.buffer).set(key, addr);
}

test('the definition gives the pinned hashes', () => {
  for (const { key, hash } of KEY_HASH_VECTORS) assert.is(keyHash(Uint8Array.from(key)), hash, `key [${key.join(',')}]`);
});

test('the runtime and the wasm hash give the pinned hashes, aligned and unaligned', () => {
  for (const { key, hash } of KEY_HASH_VECTORS) {
    for (const addr of [256, 257, 258, 259]) {
      place(key, addr);
      assert.is(hashKey(view, addr, key.length), hash, `runtime, key [${key.join(',')}] at ${addr}`);
      assert.is(wasmHash(addr, key.length) >>> 0, hash, `wasm, key [${key.join(',')}] at ${addr}`);
    }
  }
});

test('all three agree on 2000 random keys of 0 to 64 bytes', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  for (let n = 0; n < 2000; n++) {
    const key = Array.from({ length: next() % 65 }, () => next() & 255);
    const addr = 1024 + (n & 7);
    place(key, addr);
    const want = keyHash(Uint8Array.from(key));
    assert.is(hashKey(view, addr, key.length), want);
    assert.is(wasmHash(addr, key.length) >>> 0, want);
  }
});

test('the hash unrolled for one key size agrees with the definition, every size 0 to 64', () => {
  let seed = 777;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  for (let len = 0; len <= 64; len++) {
    const probe = new WebAssembly.Instance(new WebAssembly.Module(unrolledKeyHashProbeModule(len)), { env: { memory } });
    const unrolled = probe.exports['hash'] as (key: number) => number;
    for (let n = 0; n < 20; n++) {
      const key = Array.from({ length: len }, () => next() & 255);
      const addr = 2048 + (n & 7);
      place(key, addr);
      assert.is(unrolled(addr) >>> 0, keyHash(Uint8Array.from(key)), `length ${len}, key [${key.join(',')}]`);
    }
  }
  for (const { key, hash } of KEY_HASH_VECTORS) {
    const probe = new WebAssembly.Instance(new WebAssembly.Module(unrolledKeyHashProbeModule(key.length)), { env: { memory } });
    place(key, 3001);
    assert.is((probe.exports['hash'] as (key: number) => number)(3001) >>> 0, hash, `key [${key.join(',')}]`);
  }
});

test.run();
