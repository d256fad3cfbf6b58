// The memory-safety model (verify with memorySafety: true) on programs the kernel loads:
// every example object and kernel/wasm test fixture must be accepted (the kernel accepts
// them all: test/kernel/diff and object tests load them). Plus facts of the model itself.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../compiler/asm.js';
import { loadObject } from '../../compiler/object.js';
import { programFromInsns } from '../../compiler/raw-program.js';
import { verify } from '../../compiler/verifier/index.js';
import { packageRoot } from '../../core/package-root.js';
import { MAP_TYPE } from '../../core/map-types.js';
import type { MapSpec } from '../../core/model.js';
import { compileBpf } from '../support/clang.js';
import { examplePath } from '../support/examples.js';

/** xdp_lb takes ~11 s on the model (weak pruning); it is accepted, but too slow for this test. */
const SLOW = new Set(['xdp_lb']);
const examples = readdirSync(join(packageRoot, 'examples')).filter((f) => f.endsWith('.bpf.c'))
  .map((f) => f.replace(/\.bpf\.c$/, '')).filter((n) => !SLOW.has(n));
/**
 * Fixtures that are unsafe on purpose, so the kernel refuses them too: containment.c hands
 * helpers bad pointers to test run-time containment of what a verifier lets through;
 * batch.c faults on some packets on purpose (a fault in the middle of a batch).
 */
const UNSAFE_ON_PURPOSE = new Set(['containment.c', 'batch.c']);
const fixtures = ['kernel', 'wasm'].flatMap((d) => readdirSync(join(packageRoot, 'test/fixtures', d))
  .filter((f) => f.endsWith('.c') && !UNSAFE_ON_PURPOSE.has(f)).map((f) => join(packageRoot, 'test/fixtures', d, f)));

function acceptsObject(path: string): void {
  const obj = loadObject(new Uint8Array(readFileSync(path)), path);
  for (const prog of obj.programs) {
    try {
      verify(prog, obj.maps, { memorySafety: true });
    } catch (e) {
      assert.unreachable(`${path} ${prog.name}: ${(e as Error).message}`);
    }
  }
}

test('every example the kernel loads is accepted', () => {
  for (const name of examples) acceptsObject(examplePath(name));
});

test('every kernel/wasm test fixture is accepted', () => {
  for (const source of fixtures) acceptsObject(compileBpf(source));
});

const map = (name: string, keySize: number, valueSize: number, type: number): MapSpec =>
  ({ name, type, keySize, valueSize, maxEntries: 16, flags: 0, section: '.maps' });
const MAPS = [map('flows', 4, 8, MAP_TYPE.HASH)];
const program = (text: string) => {
  const insns = assemble(text);
  const lddw = insns.find((i) => i.opcode === 0x18);
  if (lddw) Object.assign(lddw, { src: 5, imm: 0, imm64: 0n });
  return { ...programFromInsns('t', insns), section: 'xdp' };
};
const reason = (text: string): string => {
  try {
    verify(program(text), MAPS, { memorySafety: true });
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
};

test('packet ranges are learnt from comparisons in all four directions', () => {
  const head = 'ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\n';
  // pkt + 8 > end (exit) / end < pkt + 8 / pkt + 8 <= end / end >= pkt + 8 (reach the access)
  assert.is(reason(`${head}jgt %r4, %r3, +2\nldxdw %r0, [%r2+0]\nexit\nmov %r0, 0\nexit`), 'accepted');
  assert.is(reason(`${head}jlt %r3, %r4, +2\nldxdw %r0, [%r2+0]\nexit\nmov %r0, 0\nexit`), 'accepted');
  assert.is(reason(`${head}jle %r4, %r3, +2\nmov %r0, 0\nexit\nldxdw %r0, [%r2+0]\nexit`), 'accepted');
  assert.is(reason(`${head}jge %r3, %r4, +2\nmov %r0, 0\nexit\nldxdw %r0, [%r2+0]\nexit`), 'accepted');
  assert.match(reason(`${head}jgt %r4, %r3, +2\nldxdw %r0, [%r2+1]\nexit\nmov %r0, 0\nexit`), /invalid access to packet, off=1 size=8/);
});

test('a null check refines every copy of the lookup result', () => {
  const lookup = 'stw [%r10-4], 0\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\n';
  assert.is(reason(`${lookup}jeq %r0, 0, +2\nldxdw %r0, [%r6+0]\nexit\nmov %r0, 0\nexit`), 'accepted');
  assert.match(reason(`${lookup}jeq %r0, 0, +2\nldxdw %r0, [%r6+4]\nexit\nmov %r0, 0\nexit`), /value_size=8 off=4 size=8/);
});

test('a bounded index into a map value is accepted, an unbounded one refused', () => {
  const lookup = 'stw [%r10-4], 0\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +5\n';
  assert.is(reason(`${lookup}ldxw %r1, [%r0+0]\nand %r1, 7\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`), 'accepted');
  assert.match(reason(`${lookup}ldxw %r1, [%r0+0]\nand %r1, 15\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`),
    /max value is outside of the allowed memory range/);
});

test('bounded loops are walked to their end and reported', () => {
  const r = verify(program('mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\nexit'), MAPS, { memorySafety: true });
  assert.equal(r.boundedLoops, [{ from: 4, to: 2, taken: 9 }]);
});

test.run();
