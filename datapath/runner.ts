// The main thread of a live run: owns the shared memory and maps (through BpfMachine),
// the kernel side (prefilter on the interface), the control plane, and the datapath
// workers, one per RX queue. Teardown undoes everything it set up, in reverse order, on
// stop(), on a worker's failure, and — since the prefilter hangs on a bpf_link whose fd
// dies with the process — even when the process is killed.

import { MAP_TYPE } from '../core/map-types.js';
import { CpuInboxes } from './cpu-queues.js';
import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import { writeOutputFile } from '../core/files.js';
import { UserError } from '../core/errors.js';
import { BpfMachine, DEFAULT_BUDGET, type Engine } from '../runtime/machine.js';
import { loadWasm } from '../runtime/program.js';
import { compileOptimised } from '../runtime/tier.js';
import { writePcap } from '../packets/pcap.js';
import { applyUpdates } from '../runtime/map-commands.js';
import { hasDevmap, hostDeviceExists } from '../native/devices.js';
import { setDeviceExists } from '../runtime/maps/redirect-value.js';
import {
  ATTACH_MODE,
  BIND_MODE,
  PREFILTER_OBJECT,
  explainNativeError,
  nativeAddon,
  type Prefilter,
  type XskStatistics,
} from '../native/addon.js';
import { hostAddresses, interfaceIndex, interfaceMac, requireInterface, rxQueueCount } from './interfaces.js';
import { LiveStats, formatStatsLine, totals, type ActionTotals, type StatsSnapshot } from './stats.js';
import type { LiveMode, PcapCommand, PcapCpuFrame, PcapFrameOut, WorkerReport, WorkerSetup } from './protocol.js';
import { pcapOutputs } from './pcap-outputs.js';
import { startKatran, type KatranAttachment, type KatranLiveOptions } from './katran.js';
import { startControlServer } from './control.js';

export interface LiveOptions {
  /** The compiled module (bytes) and a label for messages. */
  wasm: Uint8Array;
  label: string;
  mode: LiveMode;
  iface?: string;
  queues?: number;
  program?: string;
  engine?: Engine;
  budget?: number;
  /** ktime_get_ns reads the clock on every call instead of once per batch. */
  preciseClock?: boolean;
  bindMode?: keyof typeof BIND_MODE;
  xdpMode?: keyof typeof ATTACH_MODE;
  /** AF_XDP: what happens to XDP_PASS frames. */
  pass?: 'tap' | 'drop';
  /** UMEM frames per queue (power of two). */
  frames?: number;
  /** AF_XDP: frames taken from the RX ring per batch (default AF_XDP_BATCH). */
  batch?: number;
  pcap?: string;
  out?: string;
  updates?: string[];
  katran?: KatranLiveOptions;
  /** Unix socket for `bpf2wasm map ... <socket>` against this instance. */
  control?: string;
  pin?: boolean;
  statsIntervalMs?: number;
  log?: (line: string) => void;
  /**
   * AF_XDP, benchmarks only (bench/live-bench.ts): run no program; each worker's socket
   * drops or transmits every frame in the addon's C loop, the ceiling of this path.
   */
  ceiling?: 'drop' | 'tx';
}

/**
 * Frames per AF_XDP batch. A worker the shared machine descheduled for a few ms comes
 * back to a ring of up to 2048 frames; draining it 256 at a time spends a quarter of the
 * calls into the addon and the program that 64 would (bench/README.md, live figures).
 */
export const AF_XDP_BATCH = 256;

interface WorkerState {
  thread: Worker;
  exited: Promise<void>;
  socket?: XskStatistics;
}

export class LiveRun {
  readonly stats: LiveStats;
  /** Resolves when the run ends by itself (pcap mode) or by stop(); rejects if a worker fails. */
  readonly finished: Promise<void>;
  katran?: KatranAttachment;
  private controlServer?: { close(): Promise<void> };
  bindings: { zeroCopy: boolean; affinity: boolean }[] = [];
  attachMode?: string;
  private workers: WorkerState[] = [];
  /** Int32 [0]: stop flag; [1]: a slot workers may sleep on. */
  private control = new SharedArrayBuffer(8);
  private prefilter?: Prefilter;
  private timer?: NodeJS.Timeout;
  private last: StatsSnapshot;
  private stopping?: Promise<void>;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  private pcapOut: PcapFrameOut[] = [];
  /** pcap mode: frames waiting for a cpumap round, and the round the workers are in. */
  private pcapCpu: PcapCpuFrame[] = [];
  private pcapRound = 0;
  private pcapDone = 0;
  /** The receiving device's ifindex (1 in pcap mode without --iface). */
  private ingress = 1;

  private constructor(
    readonly machine: BpfMachine,
    readonly options: Required<Pick<LiveOptions, 'mode' | 'queues' | 'program'>> & LiveOptions,
  ) {
    this.stats = new LiveStats(options.queues);
    this.last = this.stats.snapshot();
    this.finished = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.finished.catch(() => undefined); // observed by whoever awaits it
  }

  static async start(options: LiveOptions): Promise<LiveRun> {
    // Before the first compile of the module: V8 may share compiled code between threads.
    compileOptimised();
    const loaded = loadWasm(options.wasm, options.label);
    const machine = BpfMachine.create(loaded);
    // pcap mode's devices are the capture's outputs (out.if<N>.pcap), not the host's: not checked there.
    if (options.mode !== 'pcap' && hasDevmap(machine.manifest)) setDeviceExists(hostDeviceExists());
    const program = machine.program(options.program).name;
    const mode = options.mode;
    if (mode !== 'pcap' && !options.iface) throw new UserError(`--mode ${mode} needs --iface`);
    if (mode === 'pcap' && !options.pcap) throw new UserError('--mode pcap needs --pcap <file>');
    if (options.iface) requireInterface(options.iface);
    const queues = options.queues ?? (mode === 'afxdp' ? rxQueueCount(options.iface!) : 1);
    if (!Number.isInteger(queues) || queues < 1) throw new UserError(`--queues must be a positive integer, got ${options.queues}`);
    if (queues > machine.manifest.layout.maxCpus) {
      throw new UserError(
        `--queues ${queues}: the module was compiled for ${machine.manifest.layout.maxCpus} CPUs (compile with --max-cpus, or pass --max-cpus to run an object)`,
      );
    }
    const frames = options.frames ?? 4096;
    if (!Number.isInteger(frames) || frames < 64 || (frames & (frames - 1)) !== 0)
      throw new UserError(`--frames must be a power of two >= 64, got ${frames}`);
    if (options.batch !== undefined && !(Number.isInteger(options.batch) && options.batch >= 1 && options.batch <= frames))
      throw new UserError(`the AF_XDP batch must be an integer from 1 to --frames (${frames}), got ${options.batch}`);
    const run = new LiveRun(machine, { ...options, queues, program, frames });
    try {
      applyUpdates(machine, options.updates);
      if (options.katran) run.katran = await startKatran(machine, options.katran, queues);
      if (mode === 'afxdp') run.attachPrefilter();
      await run.startWorkers();
      // Last, so that an interface someone else serves is reported as that, not as a busy socket.
      if (options.control) run.controlServer = await startControlServer(machine, options.control);
    } catch (e) {
      await run.teardown();
      throw e;
    }
    run.startStatsTimer();
    return run;
  }

  private attachPrefilter(): void {
    const addon = nativeAddon();
    const iface = this.options.iface!;
    try {
      this.prefilter = new addon.Prefilter(PREFILTER_OBJECT, iface, ATTACH_MODE[this.options.xdpMode ?? 'auto']);
    } catch (e) {
      throw explainNativeError(e, `attaching to ${iface}`);
    }
    this.attachMode = this.prefilter.mode;
    for (const address of hostAddresses()) this.prefilter.addHostAddress(address);
  }

  private async startWorkers(): Promise<void> {
    const o = this.options;
    const ifindex = o.iface ? interfaceIndex(o.iface) : 1;
    this.ingress = ifindex;
    const cpuCount = cpus().length;
    // A TAP device name stays under IFNAMSIZ and is unique per interface.
    const passTap =
      o.mode === 'afxdp' && (o.pass ?? 'tap') === 'tap' ? { name: `bpw${ifindex}pass`, mac: interfaceMac(o.iface!) } : undefined;
    const wasm = o.wasm;
    // cpumap redirects hand frames between workers (cpu-queues.ts); only objects with a cpumap need the inboxes.
    const cpumapCpus = Math.max(0, ...this.machine.manifest.maps.filter((m) => m.type === MAP_TYPE.CPUMAP).map((m) => m.maxEntries));
    const cpuInboxes = cpumapCpus && o.mode !== 'pcap' ? CpuInboxes.create(o.queues, cpumapCpus).buffer : undefined;
    const ready = Array.from({ length: o.queues }, (_, i) => {
      const setup: WorkerSetup = {
        wasm,
        label: o.label,
        memory: this.machine.memory,
        stats: this.stats.buffer,
        control: this.control,
        worker: i,
        queue: i,
        mode: o.mode,
        iface: o.iface ?? '',
        ifindex,
        program: o.program,
        engine: o.engine ?? 'wasm',
        budget: o.budget ?? DEFAULT_BUDGET,
        preciseClock: o.preciseClock ?? false,
        xskMapFd: this.prefilter?.xskMapFd ?? -1,
        bindMode: BIND_MODE[o.bindMode ?? 'auto'],
        frames: o.frames ?? 4096,
        batch: o.batch ?? AF_XDP_BATCH,
        ringSize: Math.min(2048, o.frames ?? 4096),
        passTap,
        fanoutGroup: o.mode === 'afpacket' && o.queues > 1 ? process.pid & 0xffff || 1 : 0,
        pcap: o.pcap ? { path: o.pcap, workers: o.queues } : undefined,
        pinCpu: o.pin === false ? undefined : i % cpuCount,
        ...(cpuInboxes ? { cpuInboxes: { buffer: cpuInboxes, workers: o.queues } } : {}),
        ceiling: o.ceiling,
      };
      const thread = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
      const state: WorkerState = { thread, exited: new Promise((r) => thread.once('exit', () => r())) };
      this.workers.push(state);
      return new Promise<void>((resolve, reject) => {
        thread.on('message', (m: WorkerReport) => {
          if (m.type === 'ready') {
            this.bindings[i] = { zeroCopy: m.zeroCopy, affinity: m.affinity };
            resolve();
          } else if (m.type === 'error') {
            const error = new UserError(m.message);
            reject(error);
            this.fail(error);
          } else if (m.type === 'socket') {
            state.socket = m.statistics;
          } else if (m.type === 'done') {
            this.pcapOut.push(...m.out);
            this.pcapCpu.push(...m.cpu);
            if (++this.pcapDone === o.queues) this.nextPcapRound();
          }
        });
        thread.once('error', (e) => {
          const error = new Error(`worker ${i} crashed: ${e.message}`);
          reject(error);
          this.fail(error);
        });
      });
    });
    await Promise.all(ready);
  }

  private startStatsTimer(): void {
    const interval = this.options.statsIntervalMs ?? 1000;
    if (interval <= 0 || !this.options.log) return;
    this.timer = setInterval(() => this.logStats(), interval);
    this.timer.unref();
  }

  private logStats(): void {
    const now = this.stats.snapshot();
    const lru = this.katranLru();
    const katran = lru ? ` | katran lru ${lru.lookups} lookups ${lru.misses} misses` : '';
    this.options.log?.(formatStatsLine(this.last, now) + katran);
    this.last = now;
  }

  /** katran's LRU counters (stats LRU_CNTRS): connection-table lookups and misses, all CPUs. */
  katranLru(): { lookups: bigint; misses: bigint } | undefined {
    if (!this.katran) return undefined;
    const s = this.katran.lb.stats.getLruStats();
    return { lookups: BigInt(s.v1), misses: BigInt(s.v2) };
  }

  totals(): ActionTotals {
    return totals(this.stats.snapshot());
  }

  /** Each AF_XDP worker's latest socket statistics (ring counters, frames held by the kernel). */
  socketStatistics(): (XskStatistics | undefined)[] {
    return this.workers.map((w) => w.socket);
  }

  /**
   * pcap mode, every worker done with a round: the frames redirected into a cpumap go to
   * the workers that play their CPUs (cpu mod workers, as live), in capture order, for
   * the next round; none left, the outputs are written.
   */
  private nextPcapRound(): void {
    const frames = this.pcapCpu.splice(0).sort((a, b) => a.index - b.index);
    if (frames.length === 0 || this.stopping) {
      void this.finishPcap();
      return;
    }
    this.pcapRound++;
    this.pcapDone = 0;
    const n = this.workers.length;
    this.workers.forEach((w, i) => {
      const command: PcapCommand = { type: 'cpu', round: this.pcapRound, frames: frames.filter((f) => f.cpu % n === i) };
      w.thread.postMessage(command);
    });
  }

  private async finishPcap(): Promise<void> {
    const outputs = pcapOutputs(this.pcapOut, this.ingress, this.options.out);
    if (this.options.out) {
      try {
        for (const o of outputs)
          writeOutputFile(o.path, writePcap(o.frames.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
      } catch (e) {
        this.fail(e as Error); // an unwritable --out ends the run with its one-line error
        return;
      }
    }
    for (const o of outputs) {
      const n = `${o.frames.length} frame${o.frames.length === 1 ? '' : 's'}`;
      this.options.log?.(`out: ${n} ${o.what}${this.options.out ? ` -> ${o.path}` : ''}`);
    }
    await this.stop();
  }

  private fail(error: Error): void {
    void this.teardown().then(() => this.settle.reject(error));
  }

  /** Stops the workers and undoes the set-up; safe to call more than once. */
  async stop(): Promise<void> {
    await this.teardown();
    this.settle.resolve();
  }

  private teardown(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      Atomics.store(new Int32Array(this.control), 0, 1);
      // pcap workers wait for cpumap rounds once their share is done: tell them it is over.
      if (this.options.mode === 'pcap') for (const w of this.workers) w.thread.postMessage({ type: 'stop' } satisfies PcapCommand);
      await Promise.all(
        this.workers.map(async (w) => {
          // A worker polls the stop flag every 100 ms; one stuck longer is ended.
          const timeout = setTimeout(() => void w.thread.terminate(), 2000);
          await w.exited;
          clearTimeout(timeout);
        }),
      );
      this.prefilter?.close();
      await this.katran?.close();
      await this.controlServer?.close();
      if (this.options.log && this.options.statsIntervalMs !== 0) this.logStats();
    })();
    return this.stopping;
  }
}
