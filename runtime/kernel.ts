// The kernel oracle: load an object (libbpf, through bpftool), read and write its maps,
// and run its programs with BPF_PROG_TEST_RUN. Used by the differential tests and as the
// baseline of benchmarks. Everything is pinned under a unique directory in /sys/fs/bpf that
// close() removes.
//
// bpftool is the libbpf front end Debian ships. Test runs go through the native addon
// (runtime/native, one syscall instead of a process) when it is built, since the many-flow
// benchmark times thousands of single runs; bpftool remains the fallback.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../compiler/errors.js';
import { nativeAddonIfBuilt } from './native/index.js';

export interface KernelMapEntry {
  key: Uint8Array;
  /** One value, or one per possible CPU for per-CPU maps. */
  values: Uint8Array[];
}

export interface KernelRun {
  retval: number;
  data: Uint8Array;
  /** Mean ns per run as the kernel measured it. */
  durationNs: number;
}

let counter = 0;

/** Why the kernel cannot be used here, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root for the bpf() syscall';
  if (spawnSync('bpftool', ['version']).status !== 0) return 'needs bpftool (apt-get install bpftool)';
  if (!existsSync('/sys/fs/bpf')) return 'needs /sys/fs/bpf';
  return undefined;
}

function bpftool(args: string[]): string {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    const msg = (r.stderr || r.stdout || '').trim().split('\n').filter((l) => !l.startsWith('libbpf: elf: skipping')).slice(-3).join(' / ');
    throw new UserError(`kernel: bpftool ${args.slice(0, 3).join(' ')} failed: ${msg}`);
  }
  return r.stdout;
}

const hexBytes = (b: Uint8Array): string[] => [...b].map((x) => x.toString(16).padStart(2, '0'));
/** bpftool prints bytes as hex strings, and program / map references as plain ids. */
const fromJson = (a: string[] | number): Uint8Array =>
  typeof a === 'number' ? new Uint8Array(new Uint32Array([a]).buffer) : Uint8Array.from(a.map((x) => parseInt(x, 16)));

export class KernelObject {
  private closed = false;
  private readonly scratch: string;

  private constructor(
    readonly path: string,
    readonly pinDir: string,
  ) {
    this.scratch = mkdtempSync(join(tmpdir(), 'bpf2wasm-kernel-'));
  }

  /** Load every program of `path` as XDP (maps pinned by name). */
  static load(path: string): KernelObject {
    const mounted = spawnSync('findmnt', ['-t', 'bpf', '/sys/fs/bpf']).status === 0;
    if (!mounted) execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
    const dir = `/sys/fs/bpf/bpf2wasm-${process.pid}-${Date.now()}-${counter++}`;
    try {
      bpftool(['prog', 'loadall', path, dir, 'type', 'xdp', 'pinmaps', `${dir}/maps`]);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return new KernelObject(path, dir);
  }

  update(map: string, key: Uint8Array, value: Uint8Array, flags: 'any' | 'exist' | 'noexist' = 'any'): void {
    bpftool(['map', 'update', 'pinned', `${this.pinDir}/maps/${map}`, 'key', 'hex', ...hexBytes(key), 'value', 'hex', ...hexBytes(value), flags]);
  }

  /** The kernel's view of a map of this object: type name and sizes (bpftool map show). */
  info(map: string): { type: string; bytes_key: number; bytes_value: number; max_entries: number; flags: number } | undefined {
    const path = `${this.pinDir}/maps/${map}`;
    if (!existsSync(path)) return undefined;
    return JSON.parse(bpftool(['-j', 'map', 'show', 'pinned', path]));
  }

  /** One entry's value(s), or undefined when the key is absent. */
  lookup(map: string, key: Uint8Array): Uint8Array[] | undefined {
    const r = spawnSync('bpftool', ['-j', 'map', 'lookup', 'pinned', this.mapPath(map), 'key', 'hex', ...hexBytes(key)], { encoding: 'utf8' });
    if (r.status !== 0) {
      if (/No such file or directory|not found/i.test(r.stderr + r.stdout)) return undefined;
      // For an absent key in a map-in-map, bpftool -j prints only `null`.
      if (r.stdout.trim() === 'null' && !r.stderr.trim()) return undefined;
      throw new UserError(`kernel: lookup in ${map} failed: ${(r.stderr || r.stdout).trim()}`);
    }
    const e = JSON.parse(r.stdout) as { value?: string[] | number; values?: { value: string[] }[] };
    return e.values ? e.values.map((v) => fromJson(v.value)) : [fromJson(e.value ?? [])];
  }

  /** Returns false when the key was absent. */
  delete(map: string, key: Uint8Array): boolean {
    const r = spawnSync('bpftool', ['map', 'delete', 'pinned', this.mapPath(map), 'key', 'hex', ...hexBytes(key)], { encoding: 'utf8' });
    return r.status === 0;
  }

  /** A new map pinned beside this object's maps (inner maps of map-in-maps); returns its pin name. */
  createMap(name: string, type: string, keySize: number, valueSize: number, maxEntries: number, flags: number): string {
    const pin = `inner-${counter++}`;
    bpftool(['map', 'create', `${this.pinDir}/maps/${pin}`, 'type', type, 'key', String(keySize), 'value', String(valueSize),
      'entries', String(maxEntries), 'name', name.slice(0, 15), 'flags', String(flags)]);
    return pin;
  }

  /** Store the map pinned as `inner` at `key` of map-in-map `outer`. */
  setInnerMap(outer: string, key: Uint8Array, inner: string): void {
    bpftool(['map', 'update', 'pinned', this.mapPath(outer), 'key', 'hex', ...hexBytes(key), 'value', 'pinned', this.mapPath(inner)]);
  }

  private mapPath(map: string): string {
    return `${this.pinDir}/maps/${map}`;
  }

  /** Put program `program` of this object into slot `index` of a prog_array. */
  setProgram(map: string, index: number, program: string): void {
    const key = hexBytes(new Uint8Array(new Uint32Array([index]).buffer));
    bpftool(['map', 'update', 'pinned', `${this.pinDir}/maps/${map}`, 'key', 'hex', ...key, 'value', 'pinned', `${this.pinDir}/${program}`]);
  }

  /**
   * Attach program `name` to interface `iface` (XDP native or generic), inside the named
   * network namespace when given (`ip netns`); returns the detach function.
   */
  attachXdp(name: string, iface: string, mode: 'native' | 'generic', netns?: string): () => void {
    const flag = mode === 'native' ? 'xdpdrv' : 'xdpgeneric';
    // nsenter switches only the network namespace, so the pinned program stays visible.
    const inNs = (args: string[]): string[] => (netns ? ['nsenter', `--net=/run/netns/${netns}`, 'bpftool', ...args] : ['bpftool', ...args]);
    const run = (args: string[]): void => {
      const [command, ...rest] = inNs(args);
      const r = spawnSync(command!, rest, { encoding: 'utf8' });
      if (r.status !== 0) throw new UserError(`kernel: attaching ${name} to ${iface}: ${(r.stderr || r.stdout).trim()}`);
    };
    run(['net', 'attach', flag, 'pinned', `${this.pinDir}/${name}`, 'dev', iface]);
    return () => run(['net', 'detach', flag, 'dev', iface]);
  }

  /** How many times program `name` ran (needs kernel.bpf_stats_enabled=1). */
  runCount(name: string): number {
    return Number((JSON.parse(bpftool(['-j', 'prog', 'show', 'pinned', `${this.pinDir}/${name}`])) as { run_cnt?: number }).run_cnt ?? 0);
  }

  /** Many updates in one bpftool process (`bpftool batch file`). */
  updateMany(map: string, entries: Iterable<[Uint8Array, Uint8Array]>): void {
    const lines: string[] = [];
    for (const [key, value] of entries) {
      lines.push(`map update pinned ${this.pinDir}/maps/${map} key hex ${hexBytes(key).join(' ')} value hex ${hexBytes(value).join(' ')}`);
    }
    if (lines.length === 0) return;
    const file = join(this.scratch, 'batch');
    writeFileSync(file, lines.join('\n') + '\n');
    bpftool(['batch', 'file', file]);
  }

  dump(map: string): KernelMapEntry[] {
    const json = JSON.parse(bpftool(['-j', 'map', 'dump', 'pinned', `${this.pinDir}/maps/${map}`])) as {
      key: string[];
      value?: string[] | number | { error: string };
      values?: { cpu: number; value: string[] }[];
    }[];
    // Empty slots of fd arrays (devmap, prog_array) come back as {"error": ...}: not entries.
    return json.filter((e) => !(e.value && typeof e.value === 'object' && 'error' in e.value)).map((e) => ({
      key: fromJson(e.key),
      values: e.values ? e.values.map((v) => fromJson(v.value)) : [fromJson((e.value as string[] | number | undefined) ?? [])],
    }));
  }

  private programFds = new Map<string, number>();

  /** BPF_PROG_TEST_RUN of program `name` on `data`. */
  testRun(name: string, data: Uint8Array, repeat = 1): KernelRun {
    const addon = nativeAddonIfBuilt();
    if (addon) {
      let fd = this.programFds.get(name);
      if (fd === undefined) this.programFds.set(name, fd = addon.openPinned(`${this.pinDir}/${name}`));
      // Room for what a program can add: the headroom it may claim, and a grown tail.
      const out = new Uint8Array(data.length + 4096);
      try {
        const r = addon.testRun(fd, data, repeat, out);
        return { retval: r.retval, durationNs: r.durationNs, data: out.slice(0, r.length) };
      } catch (e) {
        throw new UserError(`kernel: ${(e as Error).message}`);
      }
    }
    const input = join(this.scratch, 'in');
    const output = join(this.scratch, 'out');
    writeFileSync(input, data);
    rmSync(output, { force: true });
    const text = bpftool(['prog', 'run', 'pinned', `${this.pinDir}/${name}`, 'data_in', input, 'data_out', output, 'repeat', String(repeat)]);
    const m = text.match(/Return value:\s*(\d+),\s*duration(?:\s*\(average\))?:\s*(\d+)ns/);
    if (!m) throw new Error(`unexpected bpftool output: ${text}`);
    return { retval: Number(m[1]), durationNs: Number(m[2]), data: existsSync(output) ? new Uint8Array(readFileSync(output)) : new Uint8Array(0) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.programFds.values()) nativeAddonIfBuilt()?.closeFd(fd);
    rmSync(this.pinDir, { recursive: true, force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
