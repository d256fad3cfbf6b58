// Runs the test files, each in its own process through the harness (support/harness.ts,
// support/run-file.ts), and sums what the harnesses report as data. The test files are the
// source tree's test/**/*.test.ts (so a stale compiled file in dist/ never runs), compiled
// in the build this runner belongs to (.test-build/dist/ under `npm test`, dist/ when run as
// `node dist/test/run.js` after `npm run build`); names on
// the command line select exactly: `maps/array` is test/maps/array.test.ts, `maps` every
// file under test/maps/, and a name that matches nothing is an error before anything runs.
// Each skip is shown with what it needs; REQUIRE_KERNEL=1 (CI) fails skips for root, the
// kernel or the addon. The last line is `N passed, N failed, N skipped`.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { buildRoot, packageRoot } from '../core/package-root.js';
import { NEEDS } from './support/needs.js';
import { runTestFile } from './support/run-file.js';

const SOURCE = join(packageRoot, 'test');
const COMPILED = join(buildRoot, 'dist', 'test');
const SUFFIX = '.test.ts';

/** Test names, relative to test/ without the suffix, with / separators: `maps/array`. */
function findTests(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return findTests(path);
      return entry.endsWith(SUFFIX) ? [relative(SOURCE, path).slice(0, -SUFFIX.length).split(sep).join('/')] : [];
    })
    .sort();
}

/** `test/maps/array.test.ts`, `dist/test/maps/`, `maps/array.test.js` all mean what they say. */
const normalise = (arg: string): string =>
  arg
    .replace(/\\/g, '/')
    .replace(/^(\.\/)?(\.test-build\/)?(dist\/)?test\//, '')
    .replace(/\.test\.(ts|js)$/, '')
    .replace(/\/+$/, '');

function select(all: string[], args: string[]): string[] {
  if (args.length === 0) return all;
  const chosen = new Set<string>();
  const unknown: string[] = [];
  for (const arg of args) {
    const name = normalise(arg);
    const matches = all.filter((t) => t === name || t.startsWith(`${name}/`));
    if (matches.length === 0) unknown.push(arg);
    for (const m of matches) chosen.add(m);
  }
  if (unknown.length) {
    const folders = [...new Set(all.map((t) => t.split('/')[0]!))].join(', ');
    process.stdout.write(
      `no test file or folder ${unknown.map((u) => `"${u}"`).join(', ')} under test/ (folders: ${folders}); nothing ran\n`,
    );
    process.exit(1);
  }
  return all.filter((t) => chosen.has(t));
}

const indent = (text: string, prefix: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n') + '\n';
const out = (text: string): boolean => process.stdout.write(text);

/** Twenty minutes a file, or more when a long soak is asked for (SOAK_S seconds for each of its runs, datapath/soak). */
const fileTimeoutMs = Math.max(20 * 60, 3 * Number(process.env.SOAK_S ?? 0) + 600) * 1000;
const names = select(findTests(SOURCE), process.argv.slice(2));
let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles: string[] = [];

for (const name of names) {
  const compiled = join(COMPILED, `${name}.test.js`);
  if (!existsSync(compiled)) {
    out(`FAIL ${name}  (not compiled: no ${relative(packageRoot, compiled)}; run npm test or npm run build)\n`);
    failed++;
    failedFiles.push(name);
    continue;
  }
  const { summary: s, output, seconds } = await runTestFile(compiled, { timeoutMs: fileTimeoutMs });
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped;
  const counts = `${s.passed} passed${s.failed ? `, ${s.failed} failed` : ''}${s.skipped ? `, ${s.skipped} skipped` : ''}`;
  out(`${s.failed ? 'FAIL' : 'ok  '} ${name}  (${counts}, ${seconds.toFixed(1)}s)\n`);
  for (const k of s.skips) out(`     SKIP ${k.what}: ${k.detail || NEEDS[k.need].says}  [${k.need}]\n`);
  for (const r of s.reports) out(`     REPORT ${r}\n`);
  if (s.failed) {
    failedFiles.push(name);
    for (const f of s.failures) out(indent(f, '     ! '));
    if (output.trim()) out(indent(output, '     | '));
  }
}

if (names.length === 0) out('no test files found under test/\n');
if (failedFiles.length) out(`failed files: ${failedFiles.join(', ')}\n`);
out(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || names.length === 0 ? 1 : 0);
