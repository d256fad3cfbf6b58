// What happens inside one test file's process, as data for the harness (support/harness.ts):
// which test is running (carried through its awaits by AsyncLocalStorage, so a skip() deep
// in a helper lands on the right test), what each test skipped, what failed in hooks, and
// the REPORT lines. Test files never use this directly: skip(), report() and the tracked
// uvu (support/uvu-tracked.ts) feed it.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Need } from './needs.js';

export interface SkipRecord {
  what: string;
  need: Need;
  detail: string;
}

export interface TestRecord {
  suite: string;
  name: string;
  skips: SkipRecord[];
  /** Set when the test or one of its each-hooks threw (uvu counts it failed too). */
  failed: boolean;
}

export interface FileRecord {
  tests: TestRecord[];
  /** skip() called outside any test: nothing to attribute it to, so the file fails. */
  strays: SkipRecord[];
  /** Errors uvu would swallow or not name (a before/after hook's). */
  hookErrors: string[];
  reports: string[];
  /** Per suite (keyed by its own token): tests registered since its last run() call. */
  unrun: Map<object, { suite: string; tests: number }>;
}

export const fileRecord: FileRecord = { tests: [], strays: [], hookErrors: [], reports: [], unrun: new Map() };

const current = new AsyncLocalStorage<TestRecord>();

/** Runs a test's body with `record` as the current test. */
export function runAsTest<R>(record: TestRecord, body: () => R): R {
  fileRecord.tests.push(record);
  return current.run(record, body);
}

export function recordSkip(skip: SkipRecord): void {
  const test = current.getStore();
  if (test) test.skips.push(skip);
  else fileRecord.strays.push(skip);
}
