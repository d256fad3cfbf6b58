// Loading an object into the kernel with bpftool, to read back what the kernel made of its
// maps. Pins go to a unique directory under /sys/fs/bpf that is always removed.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import type { Missing } from './needs.js';
import { isRoot } from './skip.js';

export interface KernelMapInfo {
  name: string;
  type: string;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  flags: number;
}

/** What loading into the kernel needs that this machine lacks, or undefined when it has all. */
export function kernelLoadMissing(): Missing | undefined {
  if (!isRoot()) return { need: 'root', detail: 'needs root to load BPF objects into the kernel' };
  if (spawnSync('bpftool', ['version']).status !== 0) return { need: 'host-tool', detail: 'needs bpftool (apt-get install bpftool)' };
  if (!existsSync('/sys/fs/bpf')) return { need: 'kernel-bpf', detail: 'needs the BPF filesystem at /sys/fs/bpf' };
  return undefined;
}

function ensureBpffs(): void {
  const mounted = spawnSync('findmnt', ['-t', 'bpf', '/sys/fs/bpf']).status === 0;
  if (!mounted) execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
}

/** Load every program of `object` (as XDP), return its maps as the kernel reports them. */
export function kernelMaps(object: string, mapNames: readonly string[]): Map<string, KernelMapInfo> {
  ensureBpffs();
  const dir = `/sys/fs/bpf/bpf2wasm-test-${process.pid}-${Date.now()}`;
  try {
    execFileSync('bpftool', ['prog', 'loadall', object, dir, 'type', 'xdp', 'pinmaps', `${dir}/maps`], { stdio: 'pipe' });
    const out = new Map<string, KernelMapInfo>();
    for (const name of mapNames) {
      const json = execFileSync('bpftool', ['-j', 'map', 'show', 'pinned', `${dir}/maps/${name}`], { encoding: 'utf8' });
      out.set(name, JSON.parse(json) as KernelMapInfo);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
