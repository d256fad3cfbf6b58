// Runs every compiled test file (dist/test/**/*.test.js) in its own process, so one file
// that crashes or hangs cannot take the others with it, and sums uvu's counts. Tests that
// cannot run here print a line `SKIP <what>: <needs>` (see support/skip.ts); those are
// counted as skipped, not passed. The last line is `N passed, N failed`.

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const FILE_TIMEOUT_MS = 20 * 60 * 1000;

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.js') ? [path] : [];
  }).sort();
}

const filter = process.argv.slice(2);
const files = findTests(here).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];

for (const file of files) {
  const name = relative(here, file);
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--enable-source-maps', file], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: FILE_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = `${child.stdout ?? ''}${child.stderr ?? ''}`;
  const count = (label: string): number => Number(out.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
  const total = count('Total');
  const ok = count('Passed');
  // uvu prints progress dots on the same line as a test's output: find the markers anywhere.
  const marked = (kind: string): string[] =>
    out.split('\n').flatMap((l) => {
      const at = l.indexOf(`${kind} `);
      return at >= 0 ? [l.slice(at)] : [];
    });
  const skips = marked('SKIP').length;
  const bad = child.status !== 0 || child.error ? Math.max(total - ok, 1) : total - ok;
  passed += ok - Math.min(skips, ok);
  skipped += skips;
  failed += bad;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${bad ? 'FAIL' : 'ok  '} ${name}  (${ok}/${total}${skips ? `, ${skips} skipped` : ''}, ${seconds}s)\n`);
  for (const line of [...marked('SKIP'), ...marked('REPORT')]) process.stdout.write(`     ${line}\n`);
  if (bad) {
    failures.push(name);
    process.stdout.write(out.split('\n').map((l) => `     | ${l}`).join('\n') + '\n');
    if (child.error) process.stdout.write(`     | ${child.error.message}\n`);
  }
}

if (files.length === 0) process.stdout.write('no test files found under dist/test\n');
if (failures.length) process.stdout.write(`failed files: ${failures.join(', ')}\n`);
process.stdout.write(`${skipped} skipped\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
