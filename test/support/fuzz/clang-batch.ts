// Compiles many generated C programs with as few clang processes as possible: one clang
// per -mcpu, all sources of a batch as its inputs (one object per source), which saves the
// start-up of a process per program. A source clang refuses is a bug of the generator.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { scratchDir } from '../clang.js';
import type { BpfCpu, XdpSource } from './xdp-source.js';

const multiarch = arch() === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

/** Object path per program name. Throws naming the source clang refused. */
export function compileSources(sources: readonly XdpSource[]): Map<string, string> {
  const dir = mkdtempSync(join(scratchDir(), 'kfuzz-'));
  const objects = new Map<string, string>();
  for (const cpu of ['v2', 'v3'] as BpfCpu[]) {
    const group = sources.filter((s) => s.cpu === cpu);
    if (group.length === 0) continue;
    for (const s of group) writeFileSync(join(dir, `${s.name}.c`), s.source);
    const args = ['-O2', '-g', '-target', 'bpf', `-mcpu=${cpu}`, `-I/usr/include/${multiarch}`, '-c'];
    try {
      execFileSync('clang', [...args, ...group.map((s) => `${s.name}.c`)], { cwd: dir, stdio: 'pipe' });
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
      const first = /^([\w]+)\.c:/m.exec(stderr)?.[1];
      const culprit = group.find((s) => s.name === first);
      throw new Error(`clang refused a generated program${culprit ? ` (seed ${culprit.seed})` : ''}:\n${stderr.slice(0, 2000)}${culprit ? `\n${culprit.source}` : ''}`);
    }
    for (const s of group) objects.set(s.name, join(dir, `${s.name}.o`));
  }
  return objects;
}
