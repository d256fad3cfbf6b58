// What the harness (support/harness.ts) tells the runner about one test file, as JSON on a
// dedicated file descriptor: counts from uvu's own results and the skips as data.

import type { Need } from './needs.js';

export interface SkipEntry {
  /** The uvu test that skipped: `suite › name`, or the name in the default suite. */
  test: string;
  what: string;
  need: Need;
  detail: string;
}

export interface FileSummary {
  passed: number;
  failed: number;
  skipped: number;
  skips: SkipEntry[];
  /** uvu's formatted failures, and the harness's own (no tests ran, import failed, ...). */
  failures: string[];
  reports: string[];
}

/** The environment variable naming the fd the harness writes its summary line to. */
export const RESULT_FD_ENV = 'BPF2WASM_RESULT_FD';

export const emptySummary = (): FileSummary => ({ passed: 0, failed: 0, skipped: 0, skips: [], failures: [], reports: [] });

/** Parses the harness's line, or undefined when there is none or it is not a summary. */
export function parseSummary(text: string): FileSummary | undefined {
  const line = text.trim();
  if (!line) return undefined;
  try {
    const s = JSON.parse(line) as FileSummary;
    const counts = [s.passed, s.failed, s.skipped].every((n) => Number.isInteger(n) && n >= 0);
    return counts && Array.isArray(s.skips) && Array.isArray(s.failures) && Array.isArray(s.reports) ? s : undefined;
  } catch {
    return undefined;
  }
}
