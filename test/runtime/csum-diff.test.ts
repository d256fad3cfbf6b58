// bpf_csum_diff with results computed by hand, by the kernel's rules (net/core/filter.c,
// as of 6.12, where the helper became the same on every architecture; this machine's
// kernel confirms them): csum_partial(to, seed) - csum_partial(from, 0) in 32-bit one's
// complement when both sizes are given, csum_partial(to, seed) for `to` only,
// ~csum_partial(from, ~seed) for `from` only, the seed for neither; the result folded to
// 16 bits (halves added with end-around carry, not complemented). Words are read as the
// CPU loads them (little-endian); a 1-3 byte tail adds as a u16 and then a byte. Any
// sizes are taken (kernels before 6.12 returned -EINVAL unless both were multiples of 4
// and at most 512 bytes together). On compiled wasm and the interpreter, and on the
// kernel when here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { compileBpf } from '../support/clang.js';
import { fixtureEngines, readS64, u32le } from '../support/fixture-engines.js';
import { skip } from '../support/skip.js';

const BUF = 512;
const bytes = (...b: number[]): number[] => b;

interface Case {
  name: string;
  from: number[];
  to: number[];
  seed: number;
  /** Sizes when they are not the buffers' lengths. */
  fromSize?: number;
  toSize?: number;
  result: number;
}

const CASES: Case[] = [
  // 0x1234 + 0x5678.
  { name: 'nothing to sum: the seed, folded', from: [], to: [], seed: 0x12345678, result: 0x68ac },
  // 0x04030201 -> 0x0403 + 0x0201.
  { name: 'one `to` word, seed 0', from: [], to: bytes(1, 2, 3, 4), seed: 0, result: 0x0604 },
  // 0x14030201 -> 0x1403 + 0x0201.
  { name: 'one `to` word plus a seed', from: [], to: bytes(1, 2, 3, 4), seed: 0x10000000, result: 0x1604 },
  // 0xffffffff + 1 = 0x1_00000000: the carry folds back in, giving 1.
  { name: 'the carry out of bit 31 is added back', from: [], to: bytes(0xff, 0xff, 0xff, 0xff), seed: 1, result: 1 },
  // 0x04030201 + ~0x04030201 = 0xffffffff -> 0xffff + 0xffff = 0x1fffe -> 0xffff.
  { name: 'the same word removed and added', from: bytes(1, 2, 3, 4), to: bytes(1, 2, 3, 4), seed: 0, result: 0xffff },
  // ~(0xffffffff + 0) = 0.
  { name: 'one `from` word of zeros', from: bytes(0, 0, 0, 0), to: [], seed: 0, result: 0 },
  // 0xffffffff + 0x04030201 = 0x1_04030200 -> 0x04030201; ~ = 0xfbfcfdfe -> 0xfbfc + 0xfdfe = 0x1f9fa -> 0xf9fb.
  { name: 'one `from` word', from: bytes(1, 2, 3, 4), to: [], seed: 0, result: 0xf9fb },
  // ~seed = 0xeffffffe; + 0x04030201 = 0xf40301ff; ~ = 0x0bfcfe00 -> 0x0bfc + 0xfe00 = 0x109fc -> 0x09fd.
  { name: 'one `from` word and a seed', from: bytes(1, 2, 3, 4), to: [], seed: 0x10000001, result: 0x09fd },
  // 0x7fffffff + 0x80000000 + 0x80000001 = 0x1_80000000 -> 0x80000001 -> 0x8001.
  { name: 'two `to` words and a seed with a carry', from: [], to: bytes(0, 0, 0, 0x80, 1, 0, 0, 0x80), seed: 0x7fffffff, result: 0x8001 },
  // 10.0.0.1 -> 10.0.0.2: 0x0200000a + ~0x0100000a = 0x1_00ffffff -> 0x01000000 -> 0x0100.
  { name: 'an address rewrite, 10.0.0.1 to 10.0.0.2', from: bytes(10, 0, 0, 1), to: bytes(10, 0, 0, 2), seed: 0, result: 0x0100 },
  // (0x00010101 + 0x0000ff00) + ~0x01000000 = 0x00020001 + 0xfeffffff = 0xff020000 -> 0xff02.
  { name: 'seed, `to` and `from` without carry', from: bytes(0, 0, 0, 1), to: bytes(0, 0xff, 0, 0), seed: 0x00010101, result: 0xff02 },
  // 5 + ~0 = 0x1_00000004 -> 5.
  { name: '256 + 256 bytes, the most the kernel takes', from: new Array(256).fill(0), to: new Array(256).fill(0), seed: 5, result: 5 },
  { name: '256 + 260 bytes, past the old 512-byte limit', from: new Array(256).fill(0), to: new Array(260).fill(0), seed: 5, result: 5 },
  // 0x04030201 + 0x0605 = 0x04030806 -> 0x0403 + 0x0806.
  { name: '`to` of 6 bytes: a u16 tail', from: [], to: [1, 2, 3, 4, 5, 6], seed: 0, result: 0x0c09 },
  // 0x0201 + 0x03.
  { name: '`to` of 3 bytes: a u16 and a byte', from: [], to: [1, 2, 3], seed: 0, result: 0x0204 },
  // 0x04030201 + ~0x0201 = 0x04030201 + 0xfffffdfe = 0x1_0402ffff -> 0x04030000 -> 0x0403.
  { name: '`from` of 2 bytes', from: [1, 2], to: bytes(1, 2, 3, 4), seed: 0, result: 0x0403 },
];

const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'kernel', 'csum_diff.c'));
const engines = fixtureEngines(object);

function input(c: Case): Uint8Array {
  const value = new Uint8Array(16 + 2 * BUF);
  const view = new DataView(value.buffer);
  view.setUint32(0, c.fromSize ?? c.from.length, true);
  view.setUint32(4, c.toSize ?? c.to.length, true);
  view.setUint32(8, c.seed >>> 0, true);
  value.set(c.from, 16);
  value.set(c.to, 16 + BUF);
  return value;
}

for (const engine of engines) {
  for (const c of CASES) {
    test(`${engine.name}: ${c.name}`, () => {
      if (engine.missing) return void skip(`${engine.name}: ${c.name}`, engine.missing);
      engine.set('csum_in', u32le(0), input(c));
      const r = engine.run('csum_diff', new Uint8Array(60));
      assert.is(r.actionName, 'XDP_PASS', r.fault);
      const got = readS64(engine.get('csum_out', u32le(0)))!;
      const want = BigInt(c.result);
      assert.is(`0x${got.toString(16)}`, `0x${want.toString(16)}`);
    });
  }
}

test.after(() => engines.forEach((e) => e.close()));
test.run();
