// Compiles many generated C programs with as few clang processes as possible: one clang
// per -mcpu, all sources of a batch as its inputs (one object per source), which saves the
// start-up of a process per program. When clang refuses a batch, its sources are compiled
// one by one to tell which it refused (a bug of the generator) from those it compiles.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { scratchDir } from '../clang.js';
import type { BpfCpu, XdpSource } from './xdp-source.js';

const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

export interface CompiledBatch {
  /** Object path per program name. */
  objects: Map<string, string>;
  /** What clang said about each source it refused. */
  refused: { source: XdpSource; stderr: string }[];
}

export function compileSources(sources: readonly XdpSource[]): CompiledBatch {
  const dir = mkdtempSync(join(scratchDir(), 'kfuzz-'));
  const batch: CompiledBatch = { objects: new Map(), refused: [] };
  const clang = (cpu: BpfCpu, files: string[]): void => {
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-mcpu=${cpu}`, `-I/usr/include/${multiarch}`, '-c', ...files], {
      cwd: dir,
      stdio: 'pipe',
    });
  };
  for (const cpu of ['v2', 'v3'] as BpfCpu[]) {
    const group = sources.filter((s) => s.cpu === cpu);
    if (group.length === 0) continue;
    for (const s of group) writeFileSync(join(dir, `${s.name}.c`), s.source);
    let compiled = group;
    try {
      clang(
        cpu,
        group.map((s) => `${s.name}.c`),
      );
    } catch {
      compiled = group.filter((s) => {
        try {
          clang(cpu, [`${s.name}.c`]);
          return true;
        } catch (e) {
          batch.refused.push({ source: s, stderr: String((e as { stderr?: Buffer }).stderr ?? e) });
          return false;
        }
      });
    }
    for (const s of compiled) batch.objects.set(s.name, join(dir, `${s.name}.o`));
  }
  return batch;
}
