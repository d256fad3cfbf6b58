// Tests that need something this machine may lack (root, the kernel's BPF, katran's
// object) call `skip(test, need)`. The need is a kind from a closed list (support/needs.ts)
// plus the particulars; the harness reports it as data, so the runner counts the test as
// skipped (not passed) and, under REQUIRE_KERNEL=1, fails it when the kind is one CI has.

import { isNeed, NEEDS, type Missing, type Need } from './needs.js';
import { recordSkip } from './test-record.js';

/**
 * Records (and prints, for runs without the harness) a skip; returns true so callers can
 * `if (skip(...)) return;`. A test that skips anything counts as skipped, not passed.
 */
export function skip(what: string, missing: Missing): true;
export function skip(what: string, need: Need, detail?: string): true;
export function skip(what: string, need: Missing | Need, detail = ''): true {
  const missing: Missing = typeof need === 'string' ? { need, detail } : need;
  if (!isNeed(missing.need)) throw new Error(`skip(${JSON.stringify(what)}): unknown need ${JSON.stringify(missing.need)}`);
  recordSkip({ what, need: missing.need, detail: missing.detail });
  console.log(`SKIP ${what}: needs ${NEEDS[missing.need].says}${missing.detail ? ` (${missing.detail})` : ''}`);
  return true;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;
