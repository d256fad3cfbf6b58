// The conformance-vector reader: sections of a synthetic file, and facts about the real
// files checked by eye (mem of mem-len.data, the C source of prime.data, ...).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode } from '../../core/isa.js';
import { listVectors, parseVector, rawBytes, readVector, vectorInsns } from '../support/conformance-vectors.js';

const byName = (name: string) => readVector(listVectors().find((p) => p.endsWith(`/${name}.data`))!);

test('a synthetic vector with every section', () => {
  const v = parseVector(
    [
      '# SPDX-License-Identifier: MIT',
      '-- c',
      'int x; // -- not a header',
      '-- asm',
      'mov %r0, 1 # one',
      'exit',
      '-- mem',
      '00 01 ff',
      '0a',
      '-- raw',
      '0xb700000000000001 0x95',
      'b7 00 00 00 02 00 00 00',
      '-- result',
      '0xffffffffffffffff',
      '-- error',
      'Invalid # comment',
      '-- no register offset',
      'call instruction',
    ].join('\r\n'),
    '/x/synthetic.data',
  );
  assert.is(v.name, 'synthetic');
  assert.is(v.c, 'int x; // -- not a header');
  assert.is(v.asm, 'mov %r0, 1 # one\nexit');
  assert.equal([...v.mem], [0, 1, 255, 10]);
  assert.equal(v.raw, [0xb700000000000001n, 0x95n, 0x2000000b7n]);
  assert.is(v.result, (1n << 64n) - 1n);
  assert.is(v.error, 'Invalid');
  assert.is(v.noRegisterOffset, 'call instruction');
});

test('absent sections stay absent', () => {
  const v = parseVector('-- asm\nexit\n-- result\n42\n');
  assert.is(v.result, 42n);
  assert.is(v.mem.length, 0);
  for (const k of ['error', 'raw', 'c', 'noRegisterOffset'] as const) assert.is(v[k], undefined, k);
});

test('the real vectors: 313 files, each with a result and a program', () => {
  const all = listVectors().map(readVector);
  assert.is(all.length, 313);
  for (const v of all) {
    assert.ok(v.asm.trim().length > 0, v.name);
    assert.ok(typeof v.result === 'bigint', v.name);
  }
  assert.is(all.filter((v) => v.mem.length > 0).length, 40);
});

test('facts read off individual files', () => {
  const memLen = byName('mem-len');
  assert.equal([...memLen.mem], [0, 0, 0, 1, 0, 0, 0, 2]);
  assert.is(memLen.result, 8n);
  assert.is(memLen.noRegisterOffset, '');
  assert.is(byName('callx').noRegisterOffset, 'call instruction');
  assert.match(byName('prime').c!, /uint64_t entry\(uint64_t arg\)/);
  assert.is(byName('subnet').mem.length, 74);
  assert.is(byName('lddw').result, 0x1122334455667788n);
  const lddw = byName('lddw');
  assert.equal(lddw.raw, [0x5566778800000018n, 0x1122334400000000n, 0x95n]);
  assert.equal([...rawBytes(lddw.raw!)], [...encode(vectorInsns(lddw))]);
});

test.run();
