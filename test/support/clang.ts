// Compiles test fixtures (C) at test time, for the bpf target or the host, into one
// scratch folder per process, removed when the process exits. Objects do not depend on
// where the checkout lives (debug info paths are made relative to it), so tests that
// mutate their bytes see the same input in every checkout.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, arch } from 'node:os';
import { basename, join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';

const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
let scratch: string | undefined;

export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-test-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return scratch;
}

export function compileBpf(source: string): string {
  const out = join(scratchDir(), basename(source).replace(/\.c$/, '.o'));
  execFileSync(
    'clang',
    ['-O2', '-g', '-target', 'bpf', `-fdebug-prefix-map=${packageRoot}=.`, `-I/usr/include/${multiarch}`, '-c', source, '-o', out],
    { cwd: packageRoot },
  );
  return out;
}

export function compileHost(source: string): string {
  const out = join(scratchDir(), basename(source).replace(/\.c$/, '.host.o'));
  execFileSync('cc', ['-c', source, '-o', out]);
  return out;
}
