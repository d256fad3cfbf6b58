// Runs one test file in this process and reports its results as data:
//   node --enable-source-maps dist/test/support/harness.js FILE
// uvu is told to defer (UVU_DEFER), so the file's suites only queue themselves in
// UVU_QUEUE when they call run(); the harness then runs that queue itself and counts from
// what each suite's run returns: [errors, passed, skipped, total], errors already in uvu's
// own formatting. Tests that called skip() count as skipped, not passed; under
// REQUIRE_KERNEL=1 a skip for something CI has (root, the addon, ...) is a failure. A file
// that throws at import, or queues no tests, fails. The summary goes as one JSON line to the
// fd named by BPF2WASM_RESULT_FD (support/run-file.ts), or readably to stdout without it.

import { writeSync } from 'node:fs';
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { emptySummary, RESULT_FD_ENV, type FileSummary } from './file-summary.js';
import { failsWhenKernelRequired, NEEDS } from './needs.js';
import { fileRecord, type TestRecord } from './test-record.js';

/** What uvu's queued suite run resolves to. */
type SuiteRun = () => Promise<[errors: string | true, passed: number, skipped: number, total: number]>;
const uvuGlobals = globalThis as unknown as { UVU_DEFER?: number; UVU_INDEX?: number; UVU_QUEUE?: unknown[][] };

const describe = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : inspect(e));
const testName = (r: TestRecord): string => (r.suite ? `${r.suite} › ${r.name}` : r.name);
const kernelRequired = process.env.REQUIRE_KERNEL === '1';

async function runFile(file: string): Promise<FileSummary> {
  const summary = emptySummary();
  summary.reports = fileRecord.reports;
  const fail = (message: string): void => {
    summary.failed++;
    summary.failures.push(message);
  };

  register('./uvu-hooks.js', import.meta.url);
  // One queue group, as uvu's own CLI makes per file; its first element is the group's name.
  uvuGlobals.UVU_DEFER = 1;
  uvuGlobals.UVU_INDEX = 0;
  uvuGlobals.UVU_QUEUE = [[null]];
  try {
    await import(pathToFileURL(resolve(file)).href);
  } catch (e) {
    fail(`${file} threw at import: ${describe(e)}`);
    return summary;
  }

  let total = 0;
  for (const group of uvuGlobals.UVU_QUEUE) {
    for (const run of group.slice(1) as SuiteRun[]) {
      const firstTest = fileRecord.tests.length;
      const firstHookError = fileRecord.hookErrors.length;
      let result: Awaited<ReturnType<SuiteRun>>;
      try {
        result = await run();
      } catch (e) {
        // uvu runs after-hooks outside its catch: their error ends the suite's run.
        fail(fileRecord.hookErrors.slice(firstHookError).join('\n') || describe(e));
        continue;
      }
      const [errors, passed, notRun, tests] = result;
      total += tests;
      summary.failed += tests - passed;
      if (errors !== true) summary.failures.push(errors);
      // A before-hook's error: uvu counts its tests failed but drops the error itself.
      for (const hookError of fileRecord.hookErrors.slice(firstHookError)) summary.failures.push(hookError);
      if (notRun) fail(`${notRun} test(s) not run because of test.only or test.skip; use skip() from test/support/skip.ts, which says why`);

      let skipping = 0;
      for (const record of fileRecord.tests.slice(firstTest)) {
        if (record.failed || record.skips.length === 0) continue;
        skipping++;
        const strict = kernelRequired ? record.skips.filter((s) => failsWhenKernelRequired(s.need)) : [];
        if (strict.length) {
          fail(
            `"${testName(record)}" skipped under REQUIRE_KERNEL=1 for want of ${strict.map((s) => `${NEEDS[s.need].says}${s.detail ? ` (${s.detail})` : ''}`).join(', ')}`,
          );
          continue;
        }
        summary.skipped++;
        for (const s of record.skips) summary.skips.push({ test: testName(record), ...s });
      }
      summary.passed += passed - skipping;
    }
  }

  for (const { suite, tests } of fileRecord.unrun.values()) {
    fail(`${tests} test(s)${suite ? ` of suite "${suite}"` : ''} registered but never run: the file does not call run() after them`);
  }
  for (const stray of fileRecord.strays) fail(`skip("${stray.what}") was called outside any test`);
  if (total === 0 && summary.failed === 0) fail(`no tests ran: ${file} queued none`);
  return summary;
}

function printReadably(s: FileSummary): void {
  for (const f of s.failures) console.log(f);
  for (const k of s.skips) console.log(`skipped "${k.test}": ${k.what}: ${k.detail || NEEDS[k.need].says} [${k.need}]`);
  console.log(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/test/support/harness.js FILE');
  process.exit(2);
}
const summary = await runFile(file);
const fd = process.env[RESULT_FD_ENV];
if (fd) writeSync(Number(fd), `${JSON.stringify(summary)}\n`);
else printReadably(summary);
process.exitCode = summary.failed ? 1 : 0;
