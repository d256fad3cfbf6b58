// uvu as test files see it under the harness (support/harness.ts redirects their `uvu`
// imports here): the same suite/test API, with each test's body run as the current test
// of support/test-record.ts, so skips are attributed to it and its outcome is known per
// test, and with hook errors kept (uvu drops a throwing before-hook's error silently).
// Counting stays uvu's: the harness runs uvu's own queue.

import * as uvu from 'uvu';
import type { Callback, Test } from 'uvu';
import { inspect } from 'node:util';
import { fileRecord, runAsTest, type TestRecord } from './test-record.js';

type Hook<T> = Test<T>['before'];

const describe = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : inspect(e));

export function suite<T = Record<string, unknown>>(title = '', context?: T): Test<T> {
  const inner = uvu.suite<T>(title, context);
  let last: TestRecord | undefined;
  const token = {};
  let pending = 0;
  const registered = (): void => {
    pending++;
    fileRecord.unrun.set(token, { suite: title, tests: pending });
  };
  const tracked =
    (name: string, body: Callback<T>): Callback<T> =>
    (state) => {
      last = { suite: title, name, skips: [], failed: false };
      const record = last;
      return runAsTest(record, async () => {
        try {
          await body(state);
        } catch (e) {
          record.failed = true;
          throw e;
        }
      });
    };
  /** A before/after hook: its error is kept, since uvu loses or misplaces it. */
  const guarded =
    (where: string, hook: Callback<T>): Callback<T> =>
    async (state) => {
      try {
        await hook(state);
      } catch (e) {
        fileRecord.hookErrors.push(`${title ? `${title} ` : ''}${where} hook: ${describe(e)}`);
        throw e;
      }
    };
  /** An each-hook's failure fails the test it ran for. */
  const guardedEach =
    (hook: Callback<T>): Callback<T> =>
    async (state) => {
      try {
        await hook(state);
      } catch (e) {
        if (last) last.failed = true;
        throw e;
      }
    };
  const hooks = (hook: Hook<T>, where: string): Hook<T> =>
    Object.assign((h: Callback<T>) => hook(guarded(where, h)), { each: (h: Callback<T>) => hook.each(guardedEach(h)) });

  const test = ((name: string, body: Callback<T>) => {
    registered();
    inner(name, tracked(name, body));
  }) as Test<T>;
  test.only = (name, body) => {
    registered();
    inner.only(name, tracked(name, body));
  };
  test.skip = inner.skip;
  test.before = hooks(inner.before, 'before');
  test.after = hooks(inner.after, 'after');
  test.run = () => {
    pending = 0;
    fileRecord.unrun.delete(token);
    inner.run();
  };
  return test;
}

export const test = suite();
export const exec = uvu.exec;
