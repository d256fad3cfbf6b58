// A test's REPORT line: a figure worth seeing in every run (how many vectors passed, how
// long katran took to compile). Recorded for the runner to show, and printed for runs
// without the harness.

import { fileRecord } from './test-record.js';

export function report(line: string): void {
  fileRecord.reports.push(line);
  console.log(`REPORT ${line}`);
}
