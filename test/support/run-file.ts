// Runs one compiled test file through the harness in its own process, so a file that
// crashes or hangs cannot take the others with it, and reads the harness's summary from
// fd 3. The verdict never comes from printed text: no summary (a crash, a timeout, an
// exit before the tests finished) is a failure, and so is a process that reports all
// passed but exits non-zero, or does not exit after its tests (a handle left open).

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptySummary, parseSummary, RESULT_FD_ENV, type FileSummary } from './file-summary.js';

const HARNESS = join(dirname(fileURLToPath(import.meta.url)), 'harness.js');
const RESULT_FD = 3;

export interface RunOptions {
  /** Added to the environment (REQUIRE_KERNEL, ...). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** How long the process may take to exit once its summary is in. */
  exitGraceMs?: number;
}

export interface FileResult {
  summary: FileSummary;
  /** stdout and stderr as they came, for showing a failure. */
  output: string;
  seconds: number;
}

export function runTestFile(file: string, options: RunOptions = {}): Promise<FileResult> {
  const { timeoutMs = 20 * 60 * 1000, exitGraceMs = 60 * 1000 } = options;
  const started = Date.now();
  const child = spawn(process.execPath, ['--enable-source-maps', HARNESS, file], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env, [RESULT_FD_ENV]: String(RESULT_FD) },
  });
  let output = '';
  let result = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const resultStream = child.stdio[RESULT_FD] as NodeJS.ReadableStream;
  let killedFor: string | undefined;
  const kill = (why: string): void => {
    killedFor ??= why;
    child.kill('SIGKILL');
  };
  const deadline = setTimeout(() => kill(`timed out after ${timeoutMs / 1000}s`), timeoutMs);
  let grace: NodeJS.Timeout | undefined;
  resultStream.on('data', (b: Buffer) => {
    result += b.toString();
    if (result.includes('\n') && !grace) {
      grace = setTimeout(
        () => kill(`its tests finished but it did not exit within ${exitGraceMs / 1000}s (a handle left open?)`),
        exitGraceMs,
      );
    }
  });

  // A grandchild that inherited stdout would hold 'close' back for ever: let it go soon after exit.
  child.on('exit', () => {
    setTimeout(
      () => [child.stdout!, child.stderr!, resultStream as unknown as { destroy(): void }].forEach((s) => s.destroy()),
      10_000,
    ).unref();
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(grace);
      const parsed = parseSummary(result);
      const summary = parsed ?? emptySummary();
      const problem =
        killedFor ??
        (!parsed ? `ended without reporting its results (${signal ? `signal ${signal}` : `exit status ${code}`})` : undefined) ??
        (code !== 0 && summary.failed === 0 ? `exited with status ${code ?? signal} although its tests passed` : undefined);
      if (problem) {
        summary.failed++;
        summary.failures.push(`${file}: ${problem}`);
      }
      resolve({ summary, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}
