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
import { UNSAFE_ON_PURPOSE } from '../support/unsafe-fixtures.js';

const examples = readdirSync(join(packageRoot, 'examples'))
  .filter((f) => f.endsWith('.bpf.c'))
  .map((f) => f.replace(/\.bpf\.c$/, ''));
const fixtures = ['kernel', 'wasm'].flatMap((d) =>
  readdirSync(join(packageRoot, 'test/fixtures', d))
    .filter((f) => f.endsWith('.c') && !UNSAFE_ON_PURPOSE.has(f))
    .map((f) => join(packageRoot, 'test/fixtures', d, f)),
);

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

const map = (name: string, keySize: number, valueSize: number, type: number): MapSpec => ({
  name,
  type,
  keySize,
  valueSize,
  maxEntries: 16,
  flags: 0,
  section: '.maps',
});
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

test('pointer minus pointer is a scalar in 64 and in 32 bits (as the kernel lets root do); pointer plus pointer is refused', () => {
  const head = 'ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\n';
  assert.is(reason(`${head}sub %r3, %r2\nmov %r0, %r3\nexit`), 'accepted');
  assert.is(reason(`${head}sub32 %r3, %r2\nmov %r0, %r3\nexit`), 'accepted');
  // A 32-bit copy of a pointer is a scalar; pointer minus scalar in 32 bits is still allowed, plus is not.
  assert.is(reason(`${head}mov32 %r4, %r2\nsub32 %r3, %r4\nmov %r0, %r3\nexit`), 'accepted');
  assert.match(reason(`${head}mov32 %r4, %r2\nadd32 %r3, %r4\nmov %r0, 0\nexit`), /R3 32-bit pointer arithmetic prohibited/);
  assert.match(reason(`${head}add %r3, %r2\nmov %r0, 0\nexit`), /pointer \+= pointer prohibited|pointer .* pointer prohibited/);
});

test('a null check refines every copy of the lookup result', () => {
  const lookup = 'stw [%r10-4], 0\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\n';
  assert.is(reason(`${lookup}jeq %r0, 0, +2\nldxdw %r0, [%r6+0]\nexit\nmov %r0, 0\nexit`), 'accepted');
  assert.match(reason(`${lookup}jeq %r0, 0, +2\nldxdw %r0, [%r6+4]\nexit\nmov %r0, 0\nexit`), /value_size=8 off=4 size=8/);
});

test('a bounded index into a map value is accepted, an unbounded one refused', () => {
  const lookup = 'stw [%r10-4], 0\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +5\n';
  assert.is(reason(`${lookup}ldxw %r1, [%r0+0]\nand %r1, 7\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`), 'accepted');
  assert.match(
    reason(`${lookup}ldxw %r1, [%r0+0]\nand %r1, 15\nadd %r0, %r1\nldxb %r0, [%r0+0]\nexit\nmov %r0, 0\nexit`),
    /max value is outside of the allowed memory range/,
  );
});

test('bounded loops are walked to their end and reported', () => {
  const r = verify(program('mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\nexit'), MAPS, { memorySafety: true });
  assert.equal(r.boundedLoops, [{ from: 4, to: 2, taken: 9 }]);
});

// Two paths meet at `join` with r6 = 4 (walked first, its state kept there) and r6 = 100.
// Whether the second path is pruned depends on whether r6 matters after the join. The
// padding and jumps before the join satisfy the kernel's heuristic for keeping a state.
const joined = (a: string, b: string, after: string): string => `call 7
jeq %r0, 0, other
${a}
${'mov %r7, 0\n'.repeat(8)}ja +0
join:
ja lookup
other:
${b}
ja join
lookup:
stw [%r10-4], 0
lddw %r1, 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, none
${after}
none:
mov %r0, 0
exit`;
const useAsOffset = 'add %r0, %r6\nldxb %r0, [%r0+0]\nexit';

test('precision: a value used as a pointer offset after a join keeps the other path from being pruned', () => {
  assert.match(reason(joined('mov %r6, 4', 'mov %r6, 100', useAsOffset)), /invalid access to map value, value_size=8 off=100 size=1/);
  // Through a stack slot: spilled before the join, reloaded after it.
  assert.match(
    reason(joined('mov %r6, 4\nstxdw [%r10-16], %r6', 'mov %r6, 100\nstxdw [%r10-16], %r6', `ldxdw %r6, [%r10-16]\n${useAsOffset}`)),
    /invalid access to map value, value_size=8 off=100 size=1/,
  );
  // The same programs with the two sides swapped are refused on the first path walked.
  assert.match(reason(joined('mov %r6, 100', 'mov %r6, 4', useAsOffset)), /off=100 size=1/);
});

test('precision: a value that decides nothing lets the second path be pruned at the join', () => {
  const text = joined('mov %r6, 4', 'mov %r6, 100', 'stxdw [%r0+0], %r6\nmov %r0, 1\nexit');
  const r = verify(program(text), MAPS, { memorySafety: true });
  // Pruned at the join, every instruction is walked once; otherwise the lookup and what
  // follows it are walked twice.
  assert.is(r.processed, program(text).insns.length);
  assert.is(reason(text), 'accepted');
});

test.run();
