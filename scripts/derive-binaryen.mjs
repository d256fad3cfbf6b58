// Derives a faster-loading copy of binaryen from node_modules/binaryen/index.js into
// dist/binaryen/ (`node scripts/derive-binaryen.mjs [BUILD_ROOT]`, after tsc and the
// examples; run by `npm run build` and scripts/build-test.mjs). node_modules is never modified.
//
// binaryen.js ships as one 14.8 MB ES module whose 9.9 MB of wasm is a string literal:
// importing it costs V8 ~0.2 s to parse the literal and ~0.13 s to decode it, on every
// run (Node 20 has no compile cache for ES modules). The derived copy is
//   binaryen.wasm      the wasm bytes, decoded once here, plus a compilationHints section
//                      (V8's experimental format: one byte per function) marking eager the
//                      functions that compiling the build's examples calls, lazy the rest;
//                      the compile command compiles those on V8's background threads up
//                      front (compiler/v8-flags.ts). Found by compiling the examples once
//                      here with V8 tracing what it compiles; with no examples, or no trace,
//                      there is no section and every function compiles on first call;
//   binaryen.js        the remaining 180 KB of JS as a function expression, for vm.Script:
//                      `(function (url, nodeModule, wasmBytes) { ...; return factory; })`;
//   binaryen.v8cache   V8's code cache of binaryen.js, produced here under the flags a
//                      compile runs with (compiler/v8-flags.ts), after a load;
//   binaryen.json      what it was derived from (binaryen's version, index.js's size and
//                      sha256), the Node/V8 and V8 flags the cache was made by, and how many
//                      functions the hints mark eager.
// compiler/binaryen-load.ts uses it when binaryen.json matches the installed binaryen and
// falls back to the plain import otherwise. If index.js does not have the expected shape
// (a new binaryen release), this prints why and derives nothing: compiles stay correct,
// only slower, and test/compiler/binaryen-load.test.ts fails to say so.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentManifest, makeCodeCache, tracedCompiles, withCompilationHints } from './wasm-hints.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildRoot = process.argv[2] ? resolve(process.argv[2]) : root;
const outDir = join(buildRoot, 'dist', 'binaryen');
const require = createRequire(join(root, 'package.json'));
const indexPath = require.resolve('binaryen');
const version = JSON.parse(readFileSync(join(dirname(indexPath), 'package.json'), 'utf8')).version;

function giveUp(why) {
  console.error(`derive-binaryen: ${why}; compiles will import binaryen directly (slower start-up)`);
  rmSync(outDir, { recursive: true, force: true });
  process.exit(0);
}

/** Replaces the one occurrence of `from` (exactly `count` of them) in `text`. */
function replaceExactly(text, from, to, count = 1) {
  const found = text.split(from).length - 1;
  if (found !== count) giveUp(`expected ${count} × ${JSON.stringify(from)} in binaryen ${version}'s index.js, found ${found}`);
  return text.split(from).join(to);
}

const flagsModule = pathToFileURL(join(buildRoot, 'dist', 'compiler', 'v8-flags.js')).href;
const { COMPILER_V8_FLAGS, BASELINE_V8_FLAGS } = await import(flagsModule);
const examplesDir = join(buildRoot, 'build', 'examples');
const examples = existsSync(examplesDir)
  ? readdirSync(examplesDir)
      .filter((f) => f.endsWith('.o'))
      .sort()
      .map((f) => join(examplesDir, f))
  : [];
const examplesNewest = Math.max(0, ...examples.map((f) => statSync(f).mtimeMs));
const source = readFileSync(indexPath, 'utf8');
const indexSha256 = createHash('sha256').update(source).digest('hex');

// Up to date: derived from this very index.js, cache made by this Node, hints from these examples.
const upToDate = currentManifest(outDir, 'binaryen', {
  indexSha256,
  node: process.version,
  v8: process.versions.v8,
  v8Flags: COMPILER_V8_FLAGS,
  hintedFrom: examples.length,
  examplesNewest,
});
if (upToDate) process.exit(0);

// The wasm: the template literal passed to the decoder at `bA??=x6(\`...\`)` (emscripten's
// single-file build: one char per byte, escapes for the rest).
const opening = 'bA??=x6(`';
if (source.split(opening).length !== 2) giveUp(`no single ${JSON.stringify(opening)} in binaryen ${version}'s index.js`);
const start = source.indexOf(opening) + opening.length;
let end = start;
for (; end < source.length; end++) {
  const c = source[end];
  if (c === '\\') end++;
  else if (c === '`') break;
  else if (c === '$' && source[end + 1] === '{') giveUp('the wasm literal has a substitution');
}
if (source.slice(end, end + 2) !== '`)') giveUp('the wasm literal does not end where expected');
const text = (0, eval)(source.slice(start - 1, end + 1)); // the literal's value, as V8 reads it
const wasm = new Uint8Array(text.length);
for (let i = 0; i < text.length; i++) {
  const code = text.charCodeAt(i);
  if (code > 0xff) giveUp(`the wasm literal has char ${code} at ${i}`);
  wasm[i] = code;
}
if (!WebAssembly.validate(wasm)) giveUp('the decoded wasm does not validate');

let js = source.slice(0, start - opening.length) + 'bA??=__wasmBytes' + source.slice(end + 2);
// A classic script has neither import.meta nor static imports; the loader passes them in.
js = replaceExactly(js, 'await import("node:module")', '__nodeModule');
js = replaceExactly(js, 'import.meta.url', '__url', 2);
js = replaceExactly(js, 'var S6=Ar;var jr=await S6(),$r=jr;export{$r as default};', 'return Ar;');
if (/\bimport\s*[.(]|\bexport\s*\{/.test(js)) giveUp('module syntax left in the derived script');
js = `(function (__url, __nodeModule, __wasmBytes) {${js}\n})`;

mkdirSync(outDir, { recursive: true });
rmSync(join(outDir, 'binaryen.json'), { force: true }); // the loader ignores a half-written folder
writeFileSync(join(outDir, 'binaryen.wasm'), wasm);
writeFileSync(join(outDir, 'binaryen.js'), js);
rmSync(join(outDir, 'binaryen.v8cache'), { force: true });
const manifest = {
  binaryen: version,
  indexBytes: Buffer.byteLength(source),
  indexSha256,
  node: process.version,
  v8: process.versions.v8,
  v8Flags: COMPILER_V8_FLAGS,
};
writeFileSync(join(outDir, 'binaryen.json'), JSON.stringify(manifest, null, 2) + '\n');

// The compilation hints: compile every example once, with lazy compilation (every function
// compiled on its first call) and V8 tracing each function it compiles, from the copy
// written above; the module with the most compiled functions is binaryen.
const compileModule = pathToFileURL(join(buildRoot, 'dist', 'compiler', 'compile.js')).href;
const objectModule = pathToFileURL(join(buildRoot, 'dist', 'compiler', 'object.js')).href;
const traced = tracedCompiles(
  BASELINE_V8_FLAGS,
  `import { readFileSync } from 'node:fs';
   const { loadObject } = await import(${JSON.stringify(objectModule)});
   const { compileObject } = await import(${JSON.stringify(compileModule)});
   for (const file of ${JSON.stringify(examples)}) compileObject(loadObject(readFileSync(file), file));`,
);
const called = traced.called;
if (traced.status !== 0)
  console.error(
    `derive-binaryen: compiling the examples for the compilation hints failed (exit ${traced.status ?? traced.signal}); no hints`,
  );
else if (examples.length > 0 && called.size === 0) console.error('derive-binaryen: V8 traced no compiled function; no compilation hints');
const hinted = traced.status === 0 ? withCompilationHints(wasm, called) : undefined;
if (hinted) {
  if (!WebAssembly.validate(hinted.wasm)) giveUp('the wasm with compilation hints does not validate');
  writeFileSync(join(outDir, 'binaryen.wasm'), hinted.wasm);
}
manifest.hintedFrom = examples.length;
manifest.examplesNewest = examplesNewest;
manifest.compilationHints = hinted?.eager ?? 0;
writeFileSync(join(outDir, 'binaryen.json'), JSON.stringify(manifest, null, 2) + '\n');

// The code cache, made by the built loader in a fresh process with the compile's flags.
const loader = pathToFileURL(join(buildRoot, 'dist', 'compiler', 'binaryen-load.js')).href;
const cacheProblem = makeCodeCache(flagsModule, loader, 'writeBinaryenCodeCache');
if (cacheProblem) giveUp(cacheProblem);
