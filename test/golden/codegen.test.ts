// Golden codegen: each program of test/golden/programs/*.s compiled at the default level,
// its final module as binaryen prints it, against test/golden/expected/NAME.wat. These are
// the shapes per-packet speed depends on (an array lookup as pointer arithmetic, the i32
// helper imports, the i32 entry, the loop budget, local calls, 32-bit ALU); a change to
// any of them shows up here as a diff to review, not as a slower benchmark weeks later.
// `UPDATE_GOLDEN=1 node dist/test/golden/codegen.test.js` rewrites the expected files.
// Both folders are read from the source tree, not dist/.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileObject } from '../../compiler/compile.js';
import { packageRoot } from '../../core/package-root.js';
import { readGoldenProgram, type GoldenProgram } from './program-file.js';

const GOLDEN = join(packageRoot, 'test', 'golden');
const PROGRAMS = join(GOLDEN, 'programs');
const EXPECTED = join(GOLDEN, 'expected');
const update = process.env.UPDATE_GOLDEN === '1';

const names = readdirSync(PROGRAMS)
  .filter((f) => f.endsWith('.s'))
  .map((f) => f.slice(0, -2))
  .sort();

const program = (name: string): GoldenProgram => readGoldenProgram(name, readFileSync(join(PROGRAMS, `${name}.s`), 'utf8'));

const wat = (name: string): string => {
  // Shape programs read r1 as a plain buffer, as raw programs do: structural verification
  // only, unless the program asks for the memory-safety model (#! verifier kernel).
  const { object, memorySafety } = program(name);
  const { text } = compileObject(object, { wantText: true, memorySafety });
  if (text === undefined) throw new Error('compileObject gave no text with wantText');
  return text;
};

test('every program has its expected module and every expected module its program', () => {
  assert.ok(names.length > 0, `programs in ${PROGRAMS}`);
  if (update) mkdirSync(EXPECTED, { recursive: true });
  const expected = existsSync(EXPECTED)
    ? readdirSync(EXPECTED)
        .filter((f) => f.endsWith('.wat'))
        .map((f) => f.slice(0, -4))
        .sort()
    : [];
  if (!update) assert.equal(expected, names, 'test/golden/expected/*.wat against test/golden/programs/*.s');
});

for (const name of names) {
  test(`${name}.s compiles to expected/${name}.wat`, () => {
    const actual = wat(name);
    const path = join(EXPECTED, `${name}.wat`);
    if (update) writeFileSync(path, actual);
    const { watHas, watLacks } = program(name);
    assert.ok(watHas.length + watLacks.length > 0, `${name}.s says what its module must show (#! wat-has / wat-lacks)`);
    for (const text of watHas) assert.ok(actual.includes(text), `${name}: the module has ${text}`);
    for (const text of watLacks) assert.not.ok(actual.includes(text), `${name}: the module has no ${text}`);
    assert.fixture(
      actual,
      readFileSync(path, 'utf8'),
      `${name}: run UPDATE_GOLDEN=1 node dist/test/golden/codegen.test.js if the change is meant`,
    );
  });
}

test('compiling twice gives the same text', () => {
  for (const name of names) assert.is(wat(name), wat(name), name);
});

test.run();
