// Compiles every examples/*.bpf.c to build/examples/<name>.o with clang's BPF target.
// Outputs newer than their source (and than every header under examples/include) are
// left alone, so `npm run build` stays quick. Any failure is one line naming the file.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'examples');
const includeDir = join(sourceDir, 'include');
const outDir = join(root, 'build', 'examples');
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
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [mtime(join(dir, e.name))]);
  return Math.max(0, ...walk(includeDir));
}

const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.bpf.c')).sort();
mkdirSync(outDir, { recursive: true });
const headers = newestHeader();
let built = 0;

for (const file of sources) {
  const source = join(sourceDir, file);
  const object = join(outDir, file.replace(/\.bpf\.c$/, '.o'));
  if (existsSync(object) && mtime(object) >= Math.max(mtime(source), headers)) continue;
  const args = ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${multiarch}`, `-I${includeDir}`, '-c', source, '-o', object];
  const r = spawnSync('clang', args, { encoding: 'utf8' });
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

if (built > 0) console.log(`build-examples: compiled ${built} of ${sources.length} examples into ${relative(root, outDir)}/`);
