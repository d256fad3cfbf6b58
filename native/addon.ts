// The typed face of the native addon (native/src). Loading is lazy, so commands
// that never touch a live interface work where the addon was not built, and the first
// one that does gets one clear error saying how to build it.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';

export interface XskStatistics {
  rxDropped: number;
  rxInvalidDescriptors: number;
  txInvalidDescriptors: number;
  rxRingFull: number;
  fillRingEmpty: number;
  txRingEmpty: number;
  txDropped: number;
  /** Frames on the fill ring (the kernel's to receive into). */
  fillQueued: number;
  /** Received frames not yet taken by receive(). */
  rxQueued: number;
  /** Frames on the TX ring the kernel has not taken yet. */
  txQueued: number;
  /** Sent frames on the completion ring, not yet back on the fill ring. */
  completionQueued: number;
  /** Frames receive() handed out and transmit()/recycle() did not take back. */
  held: number;
  /** The UMEM's frame count: what the five above add up to when no TX is in flight in the kernel. */
  frames: number;
  /** At exit (XskSocket.audit): UMEM offsets of frames on no ring, and of frames on two (or twice on one). */
  missing?: number[];
  doubled?: number[];
}

export interface XskSocket {
  readonly fd: number;
  readonly zeroCopy: boolean;
  /**
   * Fills `descriptors` with (address, length) pairs relative to the UMEM; waits up to
   * timeoutMs. `recycle` (the first `count` addresses) goes back to the fill ring first.
   */
  receive(descriptors: Uint32Array, timeoutMs: number, recycle?: Uint32Array, count?: number): number;
  /** Queues (address, length) pairs for sending; returns how many fit (the rest are recycled). */
  transmit(descriptors: Uint32Array, count: number): number;
  /** Hands frames back to the kernel for reception. */
  recycle(addresses: Uint32Array, count: number): void;
  /** Kicks pending TX and returns completed frames to the fill ring. */
  reclaim(): void;
  statistics(): XskStatistics;
  /**
   * Which frames (UMEM offsets) are on no ring and which on more than one, from the rings'
   * entries; meaningful once nothing moves (a frame the kernel holds right then is missing).
   */
  audit(): { missing: number[]; doubled: number[] };
  /**
   * A benchmark's ceiling: for `milliseconds`, moves up to `batch` frames at a time from the
   * RX ring to the fill ring (drop) or the TX ring (transmit) in C, with no program.
   * Returns the frames moved.
   */
  forward(transmit: boolean, milliseconds: number, batch: number): number;
  close(): void;
}

export interface Prefilter {
  readonly xskMapFd: number;
  readonly mode: 'native' | 'generic';
  addHostAddress(address: Uint8Array): void;
  close(): void;
}

export interface PacketSocket {
  receive(area: Uint8Array, slotSize: number, offset: number, lengths: Uint32Array, timeoutMs: number): number;
  send(frame: Uint8Array): number;
  /** Sends `frame` `count` times as fast as the device takes it (a traffic generator). */
  sendMany(frame: Uint8Array, count: number): number;
  close(): void;
}

export interface TapDevice {
  readonly name: string;
  write(frame: Uint8Array): number;
  close(): void;
}

/** AF_XDP bind modes, as the addon numbers them. */
export const BIND_MODE = { auto: 0, copy: 1, zerocopy: 2 } as const;
/** XDP attach modes of the prefilter. */
export const ATTACH_MODE = { auto: 0, native: 1, generic: 2 } as const;

export interface NativeAddon {
  XskSocket: new (
    ifname: string,
    queue: number,
    umem: Uint8Array,
    frameSize: number,
    ringSize: number,
    bindMode: number,
    xskMapFd: number,
  ) => XskSocket;
  Prefilter: new (objectPath: string, ifname: string, attachMode: number) => Prefilter;
  PacketSocket: new (ifname: string, listen: boolean, fanoutGroup?: number) => PacketSocket;
  TapDevice: new (name: string, mac: Uint8Array) => TapDevice;
  setAffinity(cpu: number): boolean;
  ifIndex(name: string): number;
  /** fd of a pinned BPF program or map. */
  openPinned(path: string): number;
  closeFd(fd: number): void;
  /** BPF_PROG_TEST_RUN; the output packet lands in `out`. */
  testRun(progFd: number, data: Uint8Array, repeat: number, out: Uint8Array): { retval: number; durationNs: number; length: number };
  /**
   * A traffic generator: sends `repeat` copies of `frame` out of `ifindex` (this thread's
   * namespace) through the driver's XDP transmit path (BPF_PROG_TEST_RUN with live frames
   * and an XDP_TX program), `batchSize` per kernel batch (at most 256). ns: wall time.
   */
  xdpLiveFrames(ifindex: number, frame: Uint8Array, repeat: number, batchSize: number): { sent: number; ns: number };
  // The kernel oracle (runtime/kernel.ts).
  /** Mounts bpffs on `dir` unless one is there. */
  ensureBpffs(dir: string): void;
  /**
   * Loads every program of an object as XDP, pinning programs and maps by name; errors carry
   * libbpf's last warnings. deviceIfindex (nonzero): device-bound to it (BPF_F_XDP_DEV_BOUND_ONLY).
   */
  loadObject(path: string, programDir: string, mapDir: string, deviceIfindex?: number): void;
  programInfo(progFd: number): { id: number; runCount: number; runTimeNs: number };
  /** mode: 1 native, 2 generic; netns: a name under /run/netns, or '' for this one. */
  xdpAttach(ifname: string, progFd: number, mode: number, netns: string): void;
  xdpDetach(ifname: string, mode: number, netns: string): void;
  mapInfo(mapFd: number): KernelMapInfo;
  /** One value per possible CPU for per-CPU maps; undefined when the key is absent. */
  mapLookup(mapFd: number, key: Uint8Array, flags?: number): Uint8Array[] | undefined;
  /** A per-CPU map gets `value` on every CPU; fd maps take a u32 fd. */
  mapUpdate(mapFd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  mapUpdateMany(mapFd: number, keys: Uint8Array, values: Uint8Array, count: number, flags: number): void;
  /** false when the key was absent. */
  mapDelete(mapFd: number, key: Uint8Array): boolean;
  mapDump(mapFd: number): { key: Uint8Array; values: Uint8Array[] }[];
  /** BPF_MAP_GET_NEXT_KEY: the key after `key` (the first without one), undefined after the last. */
  mapNextKey(mapFd: number, key?: Uint8Array): Uint8Array | undefined;
  /** Returns the new map's fd; typeName as libbpf spells it; innerFd shapes a map-in-map's values. */
  mapCreate(
    typeName: string,
    name: string,
    keySize: number,
    valueSize: number,
    maxEntries: number,
    flags: number,
    innerFd?: number,
  ): number;
  pinObject(fd: number, path: string): void;
  /** Consumes a BPF_MAP_TYPE_RINGBUF: the records submitted since the last drain, in order (discarded ones skipped). */
  ringbufDrain(mapFd: number): Uint8Array[];
  /** libbpf perf_buffer__new over a PERF_EVENT_ARRAY (events on every CPU, `pages` pages each); returns its id. */
  perfBufferOpen(mapFd: number, pages: number): number;
  /** Every record since the last call, CPU by CPU: samples (raw bytes, padded) and lost counts. */
  perfBufferConsume(id: number): ({ cpu: number; data: Uint8Array } | { cpu: number; lost: number })[];
  perfBufferClose(id: number): void;
  // rtnetlink questions for bpf_fib_lookup (native/fib.ts), in this process's network namespace.
  /** RTM_GETROUTE (the FIB entry matched, or with chooseSource the route and its source), or the errno name. */
  routeGet(family: number, dst: Uint8Array, query: object): unknown;
  routeDump(family: number, table: number): unknown;
  ruleDump(family: number): unknown;
  /** RTM_GETNEIGH; undefined when there is no entry. */
  neighGet(family: number, ifindex: number, address: Uint8Array): { state: number; lladdr?: Uint8Array } | undefined;
  /** RTM_GETLINK; undefined when there is no such device. */
  linkGet(ifindex: number): { name: string; mtu: number; address?: Uint8Array; master?: number; vrfTable?: number } | undefined;
}

export interface KernelMapInfo {
  id: number;
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

/** The addon if it is built, else undefined (for callers with a fallback). */
export function nativeAddonIfBuilt(): NativeAddon | undefined {
  try {
    return nativeAddon();
  } catch {
    return undefined;
  }
}

const nativeDir = join(packageRoot, 'native');
const addonPath = join(nativeDir, 'build', 'Release', 'bpf2wasm_native.node');
/** The compiled prefilter XDP program loaded by Prefilter. */
export const PREFILTER_OBJECT = join(nativeDir, 'build', 'prefilter.bpf.o');

let addon: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (addon) return addon;
  if (!existsSync(addonPath) || !existsSync(PREFILTER_OBJECT)) {
    throw new UserError('the native addon is not built: run `node scripts/build-native.mjs` (needs g++, libxdp-dev, libbpf-dev, clang)');
  }
  addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  return addon;
}

/** Errors the addon throws carry the errno name; this turns the common ones into advice. */
export function explainNativeError(e: unknown, where: string): UserError {
  const error = e as { message?: string; code?: string };
  const hint =
    error.code === 'EPERM' || error.code === 'EACCES'
      ? ' (needs root or CAP_NET_ADMIN + CAP_BPF)'
      : error.code === 'ENODEV'
        ? ' (no such interface)'
        : error.code === 'EOPNOTSUPP'
          ? ' (the interface or its driver does not support this mode)'
          : '';
  return new UserError(`${where}: ${error.message ?? String(e)}${hint}`);
}
