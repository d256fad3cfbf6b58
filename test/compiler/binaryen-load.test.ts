// The compiler loads binaryen from the copy scripts/derive-binaryen.mjs made at build time
// (compiler/binaryen-load.ts: wasm as a file, JS with V8's code cache). The oracle is the
// plain `import('binaryen')` (BPF2WASM_BINARYEN=import): the same module, byte for byte, for
// every example object (-O1 and -O0) and katran's balancer; and the fast path is the one a
// compile takes, with V8 accepting the code cache under the compile's flags.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileBpf } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { buildRoot, packageRoot } from '../../core/package-root.js';

/** binaryenSource of a fresh process importing compiler/binaryen.js, with the compile command's V8 flags set first when `asCompile` (as cli/compile.ts does). */
function sourceInChild(asCompile: boolean, env: Record<string, string> = {}): string {
  const url = new URL('../../compiler/binaryen.js', import.meta.url).href;
  const flags = new URL('../../compiler/v8-flags.js', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { setCompilerV8Flags } = await import(${JSON.stringify(flags)});
       if (${asCompile}) setCompilerV8Flags();
       const { binaryenSource } = await import(${JSON.stringify(url)});
       console.log(binaryenSource);`,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** sha256 of each object's module, compiled in one fresh process (binaryen loaded once per process, as the CLI does), by `level`. */
function modulesInChild(objects: string[], level: number, env: Record<string, string>): string[] {
  const dist = new URL('../../', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { readFileSync } from 'node:fs';
       import { createHash } from 'node:crypto';
       const { loadObject } = await import(${JSON.stringify(dist + 'compiler/object.js')});
       const { compileObject } = await import(${JSON.stringify(dist + 'compiler/compile.js')});
       const { binaryenSource } = await import(${JSON.stringify(dist + 'compiler/binaryen.js')});
       const sums = ${JSON.stringify(objects)}.map((path) => {
         const { wasm } = compileObject(loadObject(readFileSync(path), path), { optimize: ${level} });
         return createHash('sha256').update(wasm).digest('hex') + ' ' + wasm.length;
       });
       console.log(JSON.stringify({ binaryenSource, sums }));`,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  assert.is(r.status, 0, r.stderr);
  const { binaryenSource, sums } = JSON.parse(r.stdout) as { binaryenSource: string; sums: string[] };
  assert.is(binaryenSource, env['BPF2WASM_BINARYEN'] === 'import' ? 'import' : 'derived', 'the load under test');
  return sums;
}

function sameModules(objects: string[], names: string[], level: number): void {
  const derived = modulesInChild(objects, level, {});
  const plain = modulesInChild(objects, level, { BPF2WASM_BINARYEN: 'import' });
  names.forEach((name, i) =>
    assert.is(derived[i], plain[i], `${name} -O${level}: the derived binaryen and the plain import build different modules`),
  );
}

test('a compile takes the derived copy with its code cache; other flags, the copy without; the switch, the import', () => {
  assert.is(sourceInChild(true), 'derived+cache', `no usable derived copy under ${join(buildRoot, 'dist', 'binaryen')}`);
  assert.is(sourceInChild(false), 'derived'); // V8 rejects a cache made under other flags, and compiles the source
  assert.is(sourceInChild(true, { BPF2WASM_BINARYEN: 'import' }), 'import');
});

test('every example compiles to the same bytes with the derived binaryen as with the plain import, -O1 and -O0', () => {
  const sources = readdirSync(join(packageRoot, 'examples')).filter((f) => f.endsWith('.bpf.c'));
  assert.ok(sources.length >= 5, 'the examples are there');
  const objects = sources.map((source) => compileBpf(join(packageRoot, 'examples', source)));
  sameModules(objects, sources, 1);
  sameModules(objects, sources, 0);
});

test("katran's balancer compiles to the same bytes with the derived binaryen as with the plain import", () => {
  const katran = process.env['KATRAN_BPF_OBJ'];
  if (!katran) return void skip("katran's balancer through both binaryen loads", 'katran-object');
  sameModules([katran], ['katran'], 1);
});

test.run();
