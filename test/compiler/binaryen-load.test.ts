// The compiler loads binaryen from the copy scripts/derive-binaryen.mjs made at build time
// (compiler/binaryen-load.ts: wasm as a file, JS with V8's code cache). The oracle is the
// plain `import('binaryen')` (BPF2WASM_BINARYEN=import): the same module, byte for byte, for
// every example object (-O1 and -O0), every golden program and katran's balancer; and the
// fast path is the one a compile takes, with V8 accepting the code cache under the compile's
// flags. And binaryen is loaded once: a codegen module importing the package itself gets a
// second instance, whose interned types (createType of a tuple) mean nothing to the first's
// modules: binaryen then crashed with "memory access out of bounds" (katran, i32_helpers)
// when the first instance was the derived copy. The derived wasm's compilation hints
// (which functions V8 compiles up front) are read by V8 under the compile's flags.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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

/** An ELF object file, or a golden program (test/golden/programs/<name>.s). */
type Job = { elf: string } | { golden: string };

/** sha256 of each job's module, compiled in one fresh process (binaryen loaded once per process, as the CLI does), by `level`. */
function modulesInChild(jobs: Job[], level: number, env: Record<string, string>): string[] {
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
       const { readGoldenProgram } = await import(${JSON.stringify(dist + 'test/golden/program-file.js')});
       const load = (job) => {
         if (job.elf) return { object: loadObject(readFileSync(job.elf), job.elf), memorySafety: false };
         const path = ${JSON.stringify(join(packageRoot, 'test', 'golden', 'programs'))} + '/' + job.golden + '.s';
         return readGoldenProgram(job.golden, readFileSync(path, 'utf8'));
       };
       const sums = ${JSON.stringify(jobs)}.map((job) => {
         const { object, memorySafety } = load(job);
         const { wasm } = compileObject(object, { optimize: ${level}, memorySafety });
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

function sameModules(jobs: Job[], names: string[], level: number): void {
  const derived = modulesInChild(jobs, level, {});
  const plain = modulesInChild(jobs, level, { BPF2WASM_BINARYEN: 'import' });
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
  const objects = sources.map((source) => ({ elf: compileBpf(join(packageRoot, 'examples', source)) }));
  sameModules(objects, sources, 1);
  sameModules(objects, sources, 0);
});

test("katran's balancer compiles to the same bytes with the derived binaryen as with the plain import", () => {
  const katran = process.env['KATRAN_BPF_OBJ'];
  if (!katran) return void skip("katran's balancer through both binaryen loads", 'katran-object');
  sameModules([{ elf: katran }], ['katran'], 1);
});

test('every golden program compiles to the same bytes with the derived binaryen as with the plain import', () => {
  // i32_helpers' specialised hash lookup crashed the derived load while codegen-map-lookup.ts imported a second binaryen.
  const names = readdirSync(join(packageRoot, 'test', 'golden', 'programs'))
    .filter((f) => f.endsWith('.s'))
    .map((f) => f.slice(0, -'.s'.length));
  assert.ok(names.includes('i32_helpers'), 'the golden program that crashed is there');
  sameModules(
    names.map((golden) => ({ golden })),
    names,
    1,
  );
});

test("the derived wasm's compilation hints are read by V8 under the compile's flags", () => {
  // V8 (Node 20) fails a module whose compilationHints section it reads and finds invalid,
  // and ignores one it does not read (misplaced, or the flag unset): so the derived wasm
  // must compile, and a copy with one hint made invalid (a top tier below the baseline
  // tier, 0x1a) must not.
  const dir = join(buildRoot, 'dist', 'binaryen');
  const manifest = JSON.parse(readFileSync(join(dir, 'binaryen.json'), 'utf8')) as { compilationHints?: number };
  assert.ok((manifest.compilationHints ?? 0) > 500, `hints for the functions a compile calls: ${manifest.compilationHints}`);
  const flags = new URL('../../compiler/v8-flags.js', import.meta.url).href;
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { readFileSync } from 'node:fs';
       const { setCompilerV8Flags } = await import(${JSON.stringify(flags)});
       setCompilerV8Flags();
       const bytes = readFileSync(${JSON.stringify(join(dir, 'binaryen.wasm'))});
       const name = Buffer.from('compilationHints');
       const at = bytes.indexOf(name);
       let p = at + name.length;
       while (bytes[p] & 0x80) p++; // the hint count (LEB128)
       const broken = Buffer.from(bytes);
       broken[p + 1] = 0x1a;
       const outcome = (b) => WebAssembly.compile(b).then(() => 'compiles', (e) => 'rejected: ' + e.message);
       console.log(JSON.stringify({ found: at > 0, derived: await outcome(bytes), broken: await outcome(broken) }));`,
    ],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  const { found, derived, broken } = JSON.parse(r.stdout) as { found: boolean; derived: string; broken: string };
  assert.ok(found, 'a compilationHints section');
  assert.is(derived, 'compiles');
  assert.match(broken, /rejected: .*compilation hint/);
});

/** The TypeScript sources outside test/ (what dist/ is built from besides the tests). */
function productSources(dir = packageRoot): string[] {
  const skipped = new Set(['node_modules', 'dist', 'build', 'test', '.git', '.test-build']);
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return skipped.has(entry) || entry.startsWith('.') ? [] : productSources(path);
    return entry.endsWith('.ts') && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

test('only compiler/binaryen-load.ts loads the binaryen package; everything else takes compiler/binaryen.js', () => {
  const loader = join(packageRoot, 'compiler', 'binaryen-load.ts');
  const sources = productSources();
  assert.ok(sources.includes(loader), `the sources are under ${packageRoot}`);
  // A value import (a type-only one loads nothing) or a dynamic import, outside comments.
  const loadsPackage =
    /^(?!\s*(?:\/\/|\/\*|\*))(?:\s*import\s+(?!type\b)[^;]*\bfrom\s*['"]binaryen['"]|.*\bimport\(\s*['"]binaryen['"]\s*\))/m;
  const offenders = sources.filter((path) => path !== loader && loadsPackage.test(readFileSync(path, 'utf8')));
  assert.equal(offenders, [], 'modules that load a second binaryen instead of importing compiler/binaryen.js');
  assert.ok(loadsPackage.test(readFileSync(loader, 'utf8')), "the pattern recognises the loader's own import");
});

test.run();
