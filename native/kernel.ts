// The kernel oracle: load an object with libbpf, read and write its maps, and run its
// programs with BPF_PROG_TEST_RUN. Used by the differential tests, katran's kernel backend
// and as the baseline of benchmarks. Everything is pinned under a unique directory in
// /sys/fs/bpf that close() removes, so a crashed run leaves names to clean, not leaks.
//
// All of it goes through the native addon (native/), the one place that speaks to
// the kernel: a syscall per operation instead of a bpftool process, which is what lets
// katran be provisioned with millions of entries and benchmarks time single runs. The
// semantics are bpftool's (`prog loadall ... type xdp pinmaps`, its map commands), which
// this oracle used before and the tests were written against.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { ATTACH_MODE, nativeAddon, nativeAddonIfBuilt, type NativeAddon } from './addon.js';

export interface KernelMapEntry {
  key: Uint8Array;
  /** One value, or one per possible CPU for per-CPU maps. */
  values: Uint8Array[];
}

export type KernelPerfRecord = { cpu: number; data: Uint8Array } | { cpu: number; lost: number };

export interface KernelRun {
  retval: number;
  data: Uint8Array;
  /** Mean ns per run as the kernel measured it. */
  durationNs: number;
}

const BPFFS = '/sys/fs/bpf';
const UPDATE_FLAGS = { any: 0, noexist: 1, exist: 2 } as const;
/** An update's flags: a name, or the number itself (e.g. with BPF_F_LOCK, 4). */
type UpdateFlags = keyof typeof UPDATE_FLAGS | number;
const updateFlags = (flags: UpdateFlags): number => (typeof flags === 'number' ? flags : UPDATE_FLAGS[flags]);
let counter = 0;

/** What the kernel oracle needs that this machine lacks: its kind (for tests' skips) and why. */
export interface KernelMissing {
  need: 'root' | 'native-addon' | 'kernel-bpf';
  detail: string;
}

export function kernelMissing(): KernelMissing | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { need: 'root', detail: 'needs root for the bpf() syscall' };
  if (!nativeAddonIfBuilt()) return { need: 'native-addon', detail: 'needs the native addon (node scripts/build-native.mjs)' };
  if (!existsSync(BPFFS)) return { need: 'kernel-bpf', detail: `needs ${BPFFS}` };
  return undefined;
}

/** Why the kernel cannot be used here, or undefined when it can. */
export const kernelUnavailable = (): string | undefined => kernelMissing()?.detail;

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** The addon's errors carry an errno name in `code`. */
const errnoOf = (e: unknown): string | undefined => (e as { code?: string }).code;

export class KernelObject {
  private closed = false;
  /** fds of pinned programs and maps by pin path, opened on first use. */
  private readonly fds = new Map<string, number>();

  private constructor(
    readonly path: string,
    readonly pinDir: string,
    private readonly addon: NativeAddon,
  ) {}

  /**
   * Load every program of `path` as XDP (programs pinned by name, maps under maps/).
   * `deviceIfindex`: bound to that device (BPF_F_XDP_DEV_BOUND_ONLY), as programs calling the
   * XDP metadata kfuncs must be; they still run under BPF_PROG_TEST_RUN.
   */
  static load(path: string, opts: { deviceIfindex?: number } = {}): KernelObject {
    const addon = nativeAddon();
    const dir = `${BPFFS}/bpf2wasm-${process.pid}-${Date.now()}-${counter++}`;
    try {
      addon.ensureBpffs(BPFFS);
      mkdirSync(`${dir}/maps`, { recursive: true });
      addon.loadObject(path, dir, `${dir}/maps`, opts.deviceIfindex ?? 0);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw new UserError(`kernel: ${(e as Error).message}`);
    }
    return new KernelObject(path, dir, addon);
  }

  /** Runs one addon call, turning its error into a UserError naming the operation. */
  private kernel<T>(what: string, call: () => T): T {
    try {
      return call();
    } catch (e) {
      throw new UserError(`kernel: ${what}: ${(e as Error).message}`);
    }
  }

  private fd(pin: string): number {
    let fd = this.fds.get(pin);
    if (fd === undefined) this.fds.set(pin, (fd = this.addon.openPinned(pin)));
    return fd;
  }

  private mapFd(map: string, what: string): number {
    return this.kernel(`${what} ${map}`, () => this.fd(this.mapPath(map)));
  }

  /** The fd of program `program` of this object (open while the object is). */
  programFd(program: string, what = 'fd of'): number {
    return this.kernel(`${what} ${program}`, () => this.fd(`${this.pinDir}/${program}`));
  }

  private mapPath(map: string): string {
    return `${this.pinDir}/maps/${map}`;
  }

  /** True when `map` is not among this object's pins (lookups and deletes answer "absent"). */
  private missing(map: string): boolean {
    return !this.fds.has(this.mapPath(map)) && !existsSync(this.mapPath(map));
  }

  update(map: string, key: Uint8Array, value: Uint8Array, flags: UpdateFlags = 'any'): void {
    const fd = this.mapFd(map, 'update of');
    this.kernel(`update of ${map}`, () => this.addon.mapUpdate(fd, key, value, updateFlags(flags)));
  }

  /**
   * An update whose refusal is an answer, not an error: undefined when the kernel took it,
   * else its errno name (E2BIG, EEXIST, ENOENT, ...). Other failures still throw.
   */
  tryUpdate(map: string, key: Uint8Array, value: Uint8Array, flags: UpdateFlags = 'any'): string | undefined {
    const fd = this.mapFd(map, 'update of');
    try {
      this.addon.mapUpdate(fd, key, value, updateFlags(flags));
      return undefined;
    } catch (e) {
      const code = errnoOf(e);
      if (code && code !== 'EUNKNOWN') return code;
      throw new UserError(`kernel: update of ${map}: ${(e as Error).message}`);
    }
  }

  /** BPF_MAP_GET_NEXT_KEY: the key after `key` (the first without one), undefined after the last. */
  nextKey(map: string, key?: Uint8Array): Uint8Array | undefined {
    const fd = this.mapFd(map, 'get_next_key in');
    return this.kernel(`get_next_key in ${map}`, () => this.addon.mapNextKey(fd, key));
  }

  /** The kernel's view of a map of this object, with bpftool's names for the fields. */
  info(map: string): { type: string; bytes_key: number; bytes_value: number; max_entries: number; flags: number } | undefined {
    if (this.missing(map)) return undefined;
    const fd = this.mapFd(map, 'info of');
    const i = this.kernel(`info of ${map}`, () => this.addon.mapInfo(fd));
    return { type: i.typeName, bytes_key: i.keySize, bytes_value: i.valueSize, max_entries: i.maxEntries, flags: i.flags };
  }

  /**
   * A lookup whose refusal is an answer: the value(s), undefined when absent, or the errno
   * name (EINVAL, ...). `flags`: BPF_F_LOCK (4) copies the value holding its bpf_spin_lock.
   */
  tryLookup(map: string, key: Uint8Array, flags: number): Uint8Array[] | string | undefined {
    const fd = this.mapFd(map, 'lookup in');
    try {
      return this.addon.mapLookup(fd, key, flags);
    } catch (e) {
      const code = errnoOf(e);
      if (code && code !== 'EUNKNOWN') return code;
      throw new UserError(`kernel: lookup in ${map}: ${(e as Error).message}`);
    }
  }

  /** One entry's value(s), or undefined when the key (or the map) is absent. */
  lookup(map: string, key: Uint8Array): Uint8Array[] | undefined {
    if (this.missing(map)) return undefined;
    const fd = this.mapFd(map, 'lookup in');
    return this.kernel(`lookup in ${map}`, () => this.addon.mapLookup(fd, key));
  }

  /** Returns false when the key was absent, or the map cannot delete (arrays). */
  delete(map: string, key: Uint8Array): boolean {
    if (this.missing(map)) return false;
    const fd = this.mapFd(map, 'delete in');
    try {
      return this.addon.mapDelete(fd, key);
    } catch (e) {
      if (errnoOf(e) === 'EINVAL') return false;
      throw new UserError(`kernel: delete in ${map}: ${(e as Error).message}`);
    }
  }

  /**
   * A new map pinned beside this object's maps (inner maps of map-in-maps); returns its pin
   * name. `type` as bpftool spells it; a map-in-map needs `innerMap`, a pinned map shaping its values.
   */
  createMap(name: string, type: string, keySize: number, valueSize: number, maxEntries: number, flags: number, innerMap?: string): string {
    const pin = `inner-${counter++}`;
    const innerFd = innerMap === undefined ? undefined : this.mapFd(innerMap, 'creating a map-in-map of');
    this.kernel(`creating map ${name}`, () => {
      const fd = this.addon.mapCreate(type, name.slice(0, 15), keySize, valueSize, maxEntries, flags, innerFd);
      this.fds.set(this.mapPath(pin), fd);
      this.addon.pinObject(fd, this.mapPath(pin));
    });
    return pin;
  }

  /** Store the map pinned as `inner` at `key` of map-in-map `outer`. */
  setInnerMap(outer: string, key: Uint8Array, inner: string): void {
    const value = u32(this.mapFd(inner, 'storing map'));
    const fd = this.mapFd(outer, 'update of');
    this.kernel(`update of ${outer}`, () => this.addon.mapUpdate(fd, key, value, UPDATE_FLAGS.any));
  }

  /** Put program `program` of this object into slot `index` of a prog_array. */
  setProgram(map: string, index: number, program: string): void {
    const value = u32(this.programFd(program, 'storing program'));
    const fd = this.mapFd(map, 'update of');
    this.kernel(`update of ${map}`, () => this.addon.mapUpdate(fd, u32(index), value, UPDATE_FLAGS.any));
  }

  /**
   * A devmap / cpumap entry whose value names a second program of this object: `first` (the
   * ifindex or the queue size), then the program's fd, as the kernel takes it. Returns the
   * errno name when the kernel refuses it, undefined when it took it.
   */
  tryUpdateWithProgram(map: string, key: Uint8Array, first: number, program: string): string | undefined {
    const value = new Uint8Array(8);
    value.set(u32(first), 0);
    value.set(u32(this.programFd(program, 'storing program')), 4);
    return this.tryUpdate(map, key, value);
  }

  /** The kernel's id of program `name` (what a devmap or cpumap value reports). */
  programId(name: string): number {
    const fd = this.programFd(name, 'id of');
    return this.kernel(`id of ${name}`, () => this.addon.programInfo(fd).id);
  }

  /**
   * Attach program `name` to interface `iface` (XDP native or generic), inside the named
   * network namespace when given (`ip netns`); returns the detach function.
   */
  attachXdp(name: string, iface: string, mode: 'native' | 'generic', netns?: string): () => void {
    const fd = this.programFd(name, 'attaching');
    this.kernel(`attaching ${name} to ${iface}`, () => this.addon.xdpAttach(iface, fd, ATTACH_MODE[mode], netns ?? ''));
    return () => this.kernel(`detaching ${name} from ${iface}`, () => this.addon.xdpDetach(iface, ATTACH_MODE[mode], netns ?? ''));
  }

  /** How many times program `name` ran (needs kernel.bpf_stats_enabled=1). */
  runCount(name: string): number {
    const fd = this.programFd(name, 'run count of');
    return this.kernel(`run count of ${name}`, () => this.addon.programInfo(fd).runCount);
  }

  /** Many updates in one call (one BPF_MAP_UPDATE_BATCH where the map type has it). */
  updateMany(map: string, entries: Iterable<[Uint8Array, Uint8Array]>): void {
    const list = [...entries];
    if (list.length === 0) return;
    const fd = this.mapFd(map, 'update of');
    const keys = Buffer.concat(list.map(([k]) => k));
    const values = Buffer.concat(list.map(([, v]) => v));
    this.kernel(`update of ${map}`, () => this.addon.mapUpdateMany(fd, keys, values, list.length, UPDATE_FLAGS.any));
  }

  /** Every entry; empty slots of fd arrays (devmap, prog_array) are not entries. Map-in-map
   *  and prog_array values are the id of what they hold (u32 LE). */
  dump(map: string): KernelMapEntry[] {
    const fd = this.mapFd(map, 'dump of');
    return this.kernel(`dump of ${map}`, () => this.addon.mapDump(fd));
  }

  /**
   * Consumes ring buffer `map` as a reader would: the bytes of every record submitted since
   * the last drain, in order, discarded ones skipped. The programs get the room back.
   */
  drainRingbuf(map: string): Uint8Array[] {
    const fd = this.mapFd(map, 'draining');
    return this.kernel(`draining ${map}`, () => this.addon.ringbufDrain(fd));
  }

  /**
   * A reader of perf event array `map`, as libbpf's perf_buffer: an event per CPU with a
   * ring of `pages` pages in the map's slot of that CPU. consume() returns every record since
   * the last call, CPU by CPU: samples' raw bytes (padded to 8 with their size word) and lost counts.
   */
  openPerfBuffer(map: string, pages: number): { consume(): KernelPerfRecord[]; close(): void } {
    const fd = this.mapFd(map, 'opening perf buffers of');
    const id = this.kernel(`opening perf buffers of ${map}`, () => this.addon.perfBufferOpen(fd, pages));
    let open = true;
    return {
      consume: () => this.kernel(`reading perf buffers of ${map}`, () => this.addon.perfBufferConsume(id)),
      close: () => {
        if (open) this.addon.perfBufferClose(id);
        open = false;
      },
    };
  }

  /** BPF_PROG_TEST_RUN of program `name` on `data`. */
  testRun(name: string, data: Uint8Array, repeat = 1): KernelRun {
    const fd = this.programFd(name, 'test run of');
    // Room for what a program can add: the headroom it may claim, and a grown tail.
    const out = new Uint8Array(data.length + 4096);
    const r = this.kernel(`test run of ${name}`, () => this.addon.testRun(fd, data, repeat, out));
    return { retval: r.retval, durationNs: r.durationNs, data: out.slice(0, r.length) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds.values()) this.addon.closeFd(fd);
    rmSync(this.pinDir, { recursive: true, force: true });
  }
}
