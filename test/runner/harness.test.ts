// The runner's verdicts, on fixture files (test/fixtures/runner/*.fixture.ts, which the
// runner never picks up as tests) whose outcome is known by construction: each file runs
// through the same harness and run-file code as `npm test`.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileSummary } from '../support/file-summary.js';
import { runTestFile, type RunOptions } from '../support/run-file.js';
import { packageRoot } from '../../core/package-root.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => join(here, '..', 'fixtures', 'runner', `${name}.fixture.js`);
const run = async (name: string, options: RunOptions = {}): Promise<FileSummary> =>
  (await runTestFile(fixture(name), { ...options, env: { REQUIRE_KERNEL: '', ...options.env } })).summary;
const counts = (s: FileSummary): [number, number, number] => [s.passed, s.failed, s.skipped];
const mentions = (s: FileSummary, text: string): boolean => s.failures.some((f) => f.includes(text));

test('passing tests in two suites all count', async () => {
  const s = await run('pass');
  assert.equal(counts(s), [3, 0, 0]);
  assert.equal(s.failures, []);
});

test("a failing assertion fails its test, with uvu's formatting", async () => {
  const s = await run('fail');
  assert.equal(counts(s), [1, 1, 0]);
  assert.ok(mentions(s, 'fails on purpose'), s.failures.join('\n'));
  assert.ok(mentions(s, 'arithmetic'), 'the assertion message is in the failure');
});

test('a file that queues no tests fails', async () => {
  const s = await run('empty');
  assert.equal(counts(s), [0, 1, 0]);
  assert.ok(mentions(s, 'no tests ran'), s.failures.join('\n'));
});

test('a file that never calls run() fails, naming the unrun tests', async () => {
  const s = await run('no-run');
  assert.equal(counts(s), [0, 1, 0]);
  assert.ok(mentions(s, '1 test(s) registered but never run'), s.failures.join('\n'));
});

test('a file that throws at import fails, even with a passing test queued', async () => {
  const s = await run('throws');
  assert.equal(counts(s), [0, 1, 0]);
  assert.ok(mentions(s, 'fixture broken at import'), s.failures.join('\n'));
});

test('skips are data: reasons listed per test, not counted as passed', async () => {
  const s = await run('skips');
  assert.equal(counts(s), [1, 1, 2]);
  assert.equal(
    s.skips.map((k) => [k.test, k.need, k.what]),
    [
      ['needs root', 'root', 'root part'],
      ['needs katran', 'katran-object', 'katran part'],
    ],
  );
  assert.ok(mentions(s, 'fails after skipping'), 'a test that skips and then fails is a failure');
});

test('REQUIRE_KERNEL=1 turns the root skip into a failure naming root; katran stays a skip', async () => {
  const s = await run('skips', { env: { REQUIRE_KERNEL: '1' } });
  assert.equal(counts(s), [1, 2, 1]);
  assert.equal(
    s.skips.map((k) => k.need),
    ['katran-object'],
  );
  assert.ok(mentions(s, '"needs root" skipped under REQUIRE_KERNEL=1 for want of root'), s.failures.join('\n'));
});

test('test.only leaving a test unrun is a failure', async () => {
  const s = await run('only');
  assert.equal(counts(s), [1, 1, 0]);
  assert.ok(mentions(s, 'test.only or test.skip'), s.failures.join('\n'));
});

test("a throwing before-hook fails its suite's tests and its error is shown", async () => {
  const s = await run('hooks');
  assert.equal(counts(s), [0, 1, 0]);
  assert.ok(mentions(s, 'before hook broken'), s.failures.join('\n'));
});

test('a process that exits mid-test fails: no summary came', async () => {
  const s = await run('crash');
  assert.equal(counts(s), [0, 1, 0]);
  assert.ok(mentions(s, 'ended without reporting its results'), s.failures.join('\n'));
});

test('a process that does not exit after its tests fails', async () => {
  const s = await run('lingers', { exitGraceMs: 500 });
  assert.equal(counts(s), [1, 1, 0]);
  assert.ok(mentions(s, 'did not exit'), s.failures.join('\n'));
});

test('a file that hangs is killed at its timeout and fails', async () => {
  const s = await run('lingers', { timeoutMs: 300, exitGraceMs: 60_000 });
  assert.is(s.failed >= 1, true);
  assert.ok(mentions(s, 'timed out'), s.failures.join('\n'));
});

// The command line: exact names, folders, unknown names.
const runner = join(here, '..', 'run.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [runner, ...args], { encoding: 'utf8', env: { ...process.env, REQUIRE_KERNEL: '' } });

test('an unknown name is an error and nothing runs', () => {
  const r = cli('maps/arr');
  assert.is(r.status, 1);
  assert.match(r.stdout, /no test file or folder "maps\/arr".*nothing ran/);
  assert.not.match(r.stdout, /passed/);
});

test('a name selects exactly that file; a folder selects its files', () => {
  const one = cli('maps/array');
  assert.is(one.status, 0, one.stdout);
  assert.equal(
    one.stdout
      .split('\n')
      .filter((l) => /^(ok  |FAIL) /.test(l))
      .map((l) => l.split(/\s+/)[1]),
    ['maps/array'],
  );
  assert.match(one.stdout, /\n\d+ passed, 0 failed, 0 skipped\n$/);
  const folder = cli('conformance/');
  const inFolder = readdirSync(join(packageRoot, 'test', 'conformance'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `conformance/${f.replace(/\.test\.ts$/, '')}`)
    .sort();
  assert.ok(inFolder.length >= 2, 'the conformance folder has several test files');
  assert.equal(
    folder.stdout
      .split('\n')
      .filter((l) => /^(ok  |FAIL) /.test(l))
      .map((l) => l.split(/\s+/)[1]),
    inFolder,
  );
});

test.run();
