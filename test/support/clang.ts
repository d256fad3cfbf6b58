// Compiles test fixtures (C) at test time, for the bpf target or the host.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir, arch } from 'node:os';
import { basename, join } from 'node:path';

const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
let scratch: string | undefined;

export function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'bpf2wasm-test-'));
  return scratch;
}

export function compileBpf(source: string): string {
  const out = join(scratchDir(), basename(source).replace(/\.c$/, '.o'));
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', source, '-o', out]);
  return out;
}

export function compileHost(source: string): string {
  const out = join(scratchDir(), basename(source).replace(/\.c$/, '.host.o'));
  execFileSync('cc', ['-c', source, '-o', out]);
  return out;
}
