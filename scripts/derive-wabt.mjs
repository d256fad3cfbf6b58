// Derives a faster-loading copy of wabt (the second opinion on every module a compile
// writes, compiler/validate.ts) from node_modules/wabt/index.js into dist/wabt/
// (`node scripts/derive-wabt.mjs [BUILD_ROOT]`, after tsc; run by `npm run build` and
// scripts/build-test.mjs). node_modules is never modified.
//
// wabt ships as one 690 KB CommonJS file whose ~380 KB of wasm is a string literal: every
// compile parsed the 690 KB and decoded the literal (~40-60 ms of a tiny compile's start-up,
// bench/README.md "Session 7"). The derived copy is
//   wabt.wasm      the wasm bytes, decoded once here (compiled by V8 off the main thread),
//                  with a compilationHints section (scripts/wasm-hints.mjs) marking eager
//                  the functions validating the examples' modules calls, lazy the rest;
//   wabt.js        the rest of the JS, the literal left out, as a CommonJS function
//                  expression for vm.Script: `(function (exports, require, module, __filename, __dirname) {...})`;
//   wabt.v8cache   V8's code cache of wabt.js, made here under the compile's V8 flags
//                  (compiler/v8-flags.ts) after a validation ran;
//   wabt.json      what it was derived from (wabt's version, index.js's size and sha256),
//                  the Node/V8 and flags the cache was made by, how many functions are hinted.
// compiler/wabt-load.ts uses it when wabt.json matches the installed wabt and falls back to
// require('wabt') otherwise. If index.js does not have the expected shape (a new wabt
// release), this prints why and derives nothing: compiles stay correct, only slower.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentManifest, makeCodeCache, tracedCompiles, withCompilationHints } from './wasm-hints.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildRoot = process.argv[2] ? resolve(process.argv[2]) : root;
const outDir = join(buildRoot, 'dist', 'wabt');
const require = createRequire(join(root, 'package.json'));
const indexPath = require.resolve('wabt');
const version = JSON.parse(readFileSync(join(dirname(indexPath), 'package.json'), 'utf8')).version;

function giveUp(why) {
  console.error(`derive-wabt: ${why}; compiles will require wabt directly (slower start-up)`);
  rmSync(outDir, { recursive: true, force: true });
  process.exit(0);
}

const flagsModule = pathToFileURL(join(buildRoot, 'dist', 'compiler', 'v8-flags.js')).href;
const { COMPILER_V8_FLAGS, BASELINE_V8_FLAGS } = await import(flagsModule);
const source = readFileSync(indexPath, 'utf8');
const indexSha256 = createHash('sha256').update(source).digest('hex');

// Up to date: derived from this very index.js, cache made by this Node under these flags, with hints.
const upToDate = currentManifest(outDir, 'wabt', {
  indexSha256,
  node: process.version,
  v8: process.versions.v8,
  v8Flags: COMPILER_V8_FLAGS,
});
if (upToDate?.compilationHints > 0) process.exit(0);

// The wasm: emscripten's single-file build returns it from findWasmBinary() as a string
// literal, one char per byte, through binaryDecode.
const opening = "function findWasmBinary(){return binaryDecode('";
const closing = "')}";
if (source.split(opening).length !== 2) giveUp(`no single ${JSON.stringify(opening)} in wabt ${version}'s index.js`);
const start = source.indexOf(opening) + opening.length;
let end = start;
for (; end < source.length; end++) {
  if (source[end] === '\\') end++;
  else if (source[end] === "'") break;
}
if (source.slice(end, end + closing.length) !== closing) giveUp('the wasm literal does not end where expected');
const text = (0, eval)(source.slice(start - 1, end + 1)); // the literal's value, as V8 reads it
const wasm = new Uint8Array(text.length);
for (let i = 0; i < text.length; i++) {
  const c = text.charCodeAt(i);
  wasm[i] = (~c >> 8) & c; // binaryDecode's own mapping
}
if (!WebAssembly.validate(wasm)) giveUp('the decoded wasm does not validate');
const js = `(function (exports, require, module, __filename, __dirname) {${source.slice(0, start - opening.length)}function findWasmBinary(){throw new Error('derived wabt: instantiateWasm supplies the module')}${source.slice(end + closing.length)}\n})`;

mkdirSync(outDir, { recursive: true });
rmSync(join(outDir, 'wabt.json'), { force: true }); // the loader ignores a half-written folder
writeFileSync(join(outDir, 'wabt.wasm'), wasm);
writeFileSync(join(outDir, 'wabt.js'), js);
rmSync(join(outDir, 'wabt.v8cache'), { force: true });
const manifest = {
  wabt: version,
  indexBytes: Buffer.byteLength(source),
  indexSha256,
  node: process.version,
  v8: process.versions.v8,
  v8Flags: COMPILER_V8_FLAGS,
};
writeFileSync(join(outDir, 'wabt.json'), JSON.stringify(manifest, null, 2) + '\n');

// The compilation hints: the examples compiled to modules by the built compiler, then
// validated by this copy in a second process (so that it traces wabt's functions alone),
// with lazy compilation and V8 tracing each function it compiles.
const examplesDir = join(buildRoot, 'build', 'examples');
const examples = existsSync(examplesDir)
  ? readdirSync(examplesDir)
      .filter((f) => f.endsWith('.o'))
      .map((f) => join(examplesDir, f))
  : [];
const scratch = mkdtempSync(join(tmpdir(), 'derive-wabt-'));
const dist = pathToFileURL(join(buildRoot, 'dist')).href;
const compiledExamples = spawnSync(process.execPath, [
  '--input-type=module',
  '-e',
  `import { readFileSync, writeFileSync } from 'node:fs';
   const { loadObject } = await import(${JSON.stringify(dist + '/compiler/object.js')});
   const { compileObject } = await import(${JSON.stringify(dist + '/compiler/compile.js')});
   ${JSON.stringify(examples)}.forEach((file, i) =>
     writeFileSync(${JSON.stringify(scratch)} + '/' + i + '.wasm', compileObject(loadObject(readFileSync(file), file)).wasm));`,
]);
const traced =
  compiledExamples.status === 0
    ? tracedCompiles(
        BASELINE_V8_FLAGS,
        `import { readFileSync } from 'node:fs';
         const { wabtValidate } = await import(${JSON.stringify(dist + '/compiler/validate.js')});
         for (let i = 0; i < ${examples.length}; i++) {
           const problem = await wabtValidate(new Uint8Array(readFileSync(${JSON.stringify(scratch)} + '/' + i + '.wasm')));
           if (problem) throw new Error(problem);
         }`,
      )
    : undefined;
rmSync(scratch, { recursive: true, force: true });
const hinted = traced?.status === 0 ? withCompilationHints(wasm, traced.called) : undefined;
if (!hinted) console.error('derive-wabt: no compilation hints (no examples, or compiling or validating them failed)');
else {
  if (!WebAssembly.validate(hinted.wasm)) giveUp('the wasm with compilation hints does not validate');
  writeFileSync(join(outDir, 'wabt.wasm'), hinted.wasm);
}
manifest.compilationHints = hinted?.eager ?? 0;
writeFileSync(join(outDir, 'wabt.json'), JSON.stringify(manifest, null, 2) + '\n');

// The code cache, made by the built loader in a fresh process with the compile's flags.
const loader = pathToFileURL(join(buildRoot, 'dist', 'compiler', 'wabt-load.js')).href;
const cacheProblem = makeCodeCache(flagsModule, loader, 'writeWabtCodeCache');
if (cacheProblem) giveUp(cacheProblem);
