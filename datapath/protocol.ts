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
  /**
   * pcap mode, after the capture share or a round of cpumap frames: the frames that left,
   * and the frames queued for a cpumap's CPU (the next round, played by worker cpu mod workers).
   */
  | { type: 'done'; out: PcapFrameOut[]; cpu: PcapCpuFrame[] };

/** pcap mode: what the main thread sends a worker once its share is done. */
export type PcapCommand =
  /** Round `round` of cpumap hops: run these frames (for CPUs this worker plays). */
  { type: 'cpu'; round: number; frames: PcapCpuFrame[] } | { type: 'stop' };

/** pcap mode: where a frame went — out of a device, or to the kernel's stack on a CPU (a cpumap's XDP_PASS). */
export type PcapDestination = { device: number } | { cpu: number };

/** pcap mode: a frame that left, by the index in the capture of the packet it came from. */
export interface PcapFrameOut {
  index: number;
  to: PcapDestination;
  data: Uint8Array;
}

/** pcap mode: a frame redirected into a cpumap entry, waiting for the worker that plays its CPU. */
export interface PcapCpuFrame {
  index: number;
  cpu: number;
  ingress: number;
  /** The entry's program id (redirect-value.ts), 0 for none. */
  program: number;
  /** data - data_hard_start in the frame it left. */
  headroom: number;
  /** Bytes of metadata at the start of `data`, before the packet. */
  metaLength: number;
  /** The metadata, then the packet. */
  data: Uint8Array;
}
