// Compiles every examples/*.bpf.c to build/examples/<name>.o with clang's BPF target
// (`node scripts/build-examples.mjs [BUILD_ROOT]`: under BUILD_ROOT instead of the
// checkout, as the test build does with .test-build/).
// Outputs newer than their source (and than every header under examples/include) are
// left alone, so `npm run build` stays quick (a change of the flags below rebuilds them all).
// The objects do not depend on where the checkout lives: debug info names paths relative
// to the repository (-fdebug-prefix-map, run from the root), so every checkout builds the
// same bytes and tests that mutate them (test/fuzz/object.test.ts) see the same inputs.
// Any failure is one line naming the file.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'examples');
const includeDir = join(sourceDir, 'include');
const outDir = join(process.argv[2] ? resolve(process.argv[2]) : root, 'build', 'examples');
// Debian's asm/ headers (pulled in by linux/bpf.h) live under the host's multiarch path.
const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

function fail(message) {
  console.error(`build-examples: ${message}`);
  process.exit(1);
}

function mtime(path) {
  return statSync(path).mtimeMs;
}

/** Newest modification time of the shared headers: a header change rebuilds everything. */
function newestHeader() {
  if (!existsSync(includeDir)) return 0;
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [mtime(join(dir, e.name))]));
  return Math.max(0, ...walk(includeDir));
}

/** Flags of every compile; paths in them are the checkout's, mapped away in the output. */
const flags = ['-O2', '-g', '-target', 'bpf', `-fdebug-prefix-map=${root}=.`, `-I/usr/include/${multiarch}`, `-I${includeDir}`];
/** The flags with the checkout's path taken out: what decides whether old objects are still right. */
const flagsStamp = JSON.stringify(flags.map((f) => f.split(root).join('<root>')));
const stampFile = join(outDir, '.flags');

const sources = readdirSync(sourceDir)
  .filter((f) => f.endsWith('.bpf.c'))
  .sort();
mkdirSync(outDir, { recursive: true });
const headers = newestHeader();
const sameFlags = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === flagsStamp;
let built = 0;

for (const file of sources) {
  const source = join(sourceDir, file);
  const object = join(outDir, file.replace(/\.bpf\.c$/, '.o'));
  if (sameFlags && existsSync(object) && mtime(object) >= Math.max(mtime(source), headers)) continue;
  // Run from the root, so the compilation directory recorded in the debug info maps to '.' too.
  const r = spawnSync('clang', [...flags, '-c', relative(root, source), '-o', object], { encoding: 'utf8', cwd: root });
  if (r.error) {
    const why = r.error.code === 'ENOENT' ? 'clang not found on PATH (apt-get install clang)' : r.error.message;
    fail(`cannot compile ${relative(root, source)}: ${why}`);
  }
  if (r.status !== 0) {
    // clang's first diagnostic line names file, line and cause; the rest is context.
    const first = r.stderr.split('\n').find((l) => l.includes('error')) ?? r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`;
    fail(`clang failed on ${relative(root, source)}: ${first.replace(root + '/', '')}`);
  }
  built += 1;
}

writeFileSync(stampFile, flagsStamp);
if (built > 0) console.log(`build-examples: compiled ${built} of ${sources.length} examples into ${relative(root, outDir)}/`);
