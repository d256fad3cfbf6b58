// What the main thread hands a datapath worker, and what the worker reports back.

import type { XskStatistics } from '../native/addon.js';

export type LiveMode = 'afxdp' | 'afpacket' | 'pcap';

export interface WorkerSetup {
  /** The compiled module's bytes; each worker compiles its own instance over `memory`. */
  wasm: Uint8Array;
  label: string;
  memory: WebAssembly.Memory;
  stats: SharedArrayBuffer;
  /** Int32 slot 0: non-zero asks the worker to stop. */
  control: SharedArrayBuffer;
  worker: number;
  queue: number;
  mode: LiveMode;
  iface: string;
  ifindex: number;
  program: string;
  engine: 'wasm' | 'interp';
  budget: number;
  /** ktime_get_ns reads the clock on every call (WorkerOptions.preciseClock). */
  preciseClock: boolean;
  /** AF_XDP: the prefilter's xskmap fd (same process, so valid in every thread). */
  xskMapFd: number;
  bindMode: number;
  frames: number;
  /** AF_XDP: frames taken from the RX ring per call into the program. */
  batch: number;
  ringSize: number;
  /** AF_XDP: the TAP queue XDP_PASS frames re-enter the kernel through; none = dropped and counted. */
  passTap?: { name: string; mac: Uint8Array };
  /** AF_PACKET with several workers: the fanout group that spreads frames over them. */
  fanoutGroup: number;
  pcap?: { path: string; workers: number };
  pinCpu?: number;
  /** The workers' cpumap inboxes (cpu-queues.ts), when the object has a cpumap. */
  cpuInboxes?: { buffer: SharedArrayBuffer; workers: number };
  /** AF_XDP: no program; the addon's C loop drops or transmits every frame (a benchmark's ceiling). */
  ceiling?: 'drop' | 'tx';
}

export type WorkerReport =
  | { type: 'ready'; zeroCopy: boolean; affinity: boolean }
  | { type: 'error'; message: string }
  | { type: 'socket'; statistics: XskStatistics }
  /** pcap mode: packets that left (TX or REDIRECT), by their index in the capture. */
  | { type: 'done'; out: { index: number; data: Uint8Array }[] };
