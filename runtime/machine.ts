// A loaded object in userspace: the shared memory, its maps, and workers that run its
// XDP programs on packets — on the compiled module or on the reference interpreter, over
// the very same memory, maps and helpers. A run-time fault aborts only that packet.

import { BATCH_DESC_SIZE, ETH_HLEN, STACK_AREA } from '../core/abi.js';
import { HELPER_ID } from '../core/helper-ids.js';
import { XdpBatch } from './batch.js';
import { lockOwnerOfCpu } from '../core/map-layout.js';
import type { Manifest } from '../core/manifest.js';
import { manifestBudgetedBackEdges, manifestPrograms } from '../core/manifest.js';
import type { Program } from '../core/model.js';
import { UserError } from '../core/errors.js';
import { packetFault } from './fault.js';
import { makeHelpers, makeI32Helpers, type HelperEnv } from './helpers.js';
import type { RouteTables } from './fib.js';
import { releaseSpinLock, type HeldSpinLock } from './spin-lock.js';
import { Interpreter } from './interp.js';
import { createMaps, openMaps, type MapTable } from './maps/index.js';
import { createMemory, instantiate, type LoadedModule, type ProgramInstance } from './program.js';
import { XDP_ACTION, XDP_ACTION_NAME, XDP_CTX_SIZE, XDP_FRAME_SIZE, XDP_HEADROOM, XDP_MAX_PACKET, XdpContext } from './xdp.js';

/** Packets per batch when the runtime copies packets in itself (runPackets). */
export const PACKET_BATCH = 64;
const NO_META = new Uint8Array(0);

export { XdpBatch };

export type Engine = 'wasm' | 'interp';

export interface WorkerOptions {
  engine?: Engine;
  /** Back-edges per packet before the run is aborted; 0 = unlimited. */
  budget?: number;
  /** Monotonic nanoseconds for ktime_get_ns: read once per batch (or single run) unless preciseClock. */
  clock?: () => bigint;
  /** ktime_get_ns reads `clock` on every call, through JS (default: the batch's value). */
  preciseClock?: boolean;
  /** get_prandom_u32's xorshift32 seed (default: random). Both engines give the same sequence. */
  seed?: number;
  trace?: (line: string) => void;
  /** The host's routing tables for bpf_fib_lookup (native/fib.ts hostRouteTables). */
  routeTables?: RouteTables;
}

import { DEFAULT_BUDGET } from './budget.js';

export { DEFAULT_BUDGET };

export interface XdpResult {
  action: number;
  actionName: string;
  /** The packet as the program left it (the input for aborted runs); a view valid until the worker's next run. */
  packet: Uint8Array;
  /**
   * The metadata the program left in front of the packet (bpf_xdp_adjust_meta; empty when
   * none or aborted), held like `packet`. BPF_PROG_TEST_RUN's data_out is meta + packet.
   */
  meta: Uint8Array;
  /** Where the packet starts after the frame's start (data - data_hard_start; the headroom before any metadata). */
  headroom: number;
  fault?: string;
  redirect?: XdpContext['redirect'];
}

export class BpfMachine {
  readonly memory: WebAssembly.Memory;
  readonly maps: MapTable;
  readonly programs: Program[];
  /** Per program, the back-edges that count against the loop budget (for the interpreter). */
  readonly budgetedBackEdges: Map<string, ReadonlySet<number>>;

  private constructor(
    readonly loaded: LoadedModule,
    memory?: WebAssembly.Memory,
  ) {
    const { maps, layout, programs } = loaded.manifest;
    this.memory = memory ?? createMemory(layout);
    this.maps = memory ? openMaps(memory, maps, layout) : createMaps(this.memory, maps, layout, { programs });
    this.programs = manifestPrograms(loaded.manifest);
    this.budgetedBackEdges = manifestBudgetedBackEdges(loaded.manifest);
  }

  /** A new memory with the object's maps created in it. */
  static create(loaded: LoadedModule): BpfMachine {
    return new BpfMachine(loaded);
  }

  /** Another thread's view of a machine created elsewhere: same memory, same maps. */
  static attach(loaded: LoadedModule, memory: WebAssembly.Memory): BpfMachine {
    return new BpfMachine(loaded, memory);
  }

  get manifest(): Manifest {
    return this.loaded.manifest;
  }

  program(name?: string): Program {
    const p = name === undefined ? this.programs[0] : this.programs.find((x) => x.name === name || x.section === name);
    if (!p) throw new UserError(`${this.loaded.label}: no program '${name}' (programs: ${this.programs.map((x) => x.name).join(', ')})`);
    return p;
  }

  worker(cpu: number, opts: WorkerOptions = {}): XdpWorker {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.manifest.layout.maxCpus) {
      throw new UserError(`worker ${cpu}: the module was compiled for ${this.manifest.layout.maxCpus} CPUs (--max-cpus)`);
    }
    return new XdpWorker(this, cpu, opts);
  }
}

export class XdpWorker {
  readonly xdp: XdpContext;
  readonly engine: Engine;
  private readonly frame: number;
  private readonly clock: () => bigint;
  /** Whether any program reads ktime_get_ns from the value the worker refreshes. */
  private readonly refreshesClock: boolean;
  private readonly instance?: ProgramInstance;
  private readonly interp?: Interpreter;
  /** Packets this worker aborted (faults). */
  aborted = 0;
  /** Map locks freed after faults (held by this worker's compiled map code, or a bpf_spin_lock, when it trapped). */
  locksReleased = 0;
  /** The bpf_spin_lock a run of this worker holds (runtime/spin-lock.ts). */
  private readonly spinLock: HeldSpinLock = { address: 0 };
  private resolvedName: string | undefined;
  private resolvedRun: () => number = () => 0;
  private batchName: string | undefined;
  /** runPackets' descriptors and frames, made on first use. */
  private packetBatch: { batch: XdpBatch; frames: number } | undefined;
  private batchRun: (descriptors: number, count: number, batch: XdpBatch) => void = () => {};

  constructor(
    readonly machine: BpfMachine,
    readonly cpu: number,
    opts: WorkerOptions,
  ) {
    const heap = machine.maps.heap;
    const stackBase = heap.alloc(STACK_AREA, 4096);
    const ctx = heap.alloc(XDP_CTX_SIZE, 64);
    this.frame = heap.alloc(XDP_FRAME_SIZE, 4096);
    if (!stackBase || !ctx || !this.frame) throw new UserError('out of linear memory for a worker');
    const stackTop = stackBase + STACK_AREA;
    this.xdp = new XdpContext(machine.memory, ctx);
    this.xdp.seedRandom(opts.seed ?? (Math.random() * 2 ** 32) >>> 0);
    this.clock = opts.clock ?? (() => process.hrtime.bigint());
    const preciseClock = opts.preciseClock ?? false;
    this.refreshesClock = !preciseClock && machine.manifest.helpers.includes(HELPER_ID.ktime_get_ns);
    const env: HelperEnv = {
      memory: machine.memory,
      maps: machine.maps,
      cpu,
      xdp: this.xdp,
      clock: this.clock,
      preciseClock,
      trace: opts.trace ?? ((line) => process.stderr.write(`trace: ${line}\n`)),
      routeTables: opts.routeTables,
      spinLock: this.spinLock,
    };
    const helpers = makeHelpers(env);
    const budget = opts.budget ?? DEFAULT_BUDGET;
    if (!Number.isInteger(budget) || budget < 0 || budget > 0x7fffffff) {
      throw new UserError(`--budget must be an integer in 0..2147483647 (0 = unlimited), got ${budget}`);
    }
    this.engine = opts.engine ?? 'wasm';
    if (this.engine === 'wasm') {
      this.instance = instantiate(
        machine.loaded,
        machine.memory,
        helpers,
        { cpu, stackTop, budget, xdpCtx: ctx, preciseClock },
        makeI32Helpers(env),
      );
    } else {
      this.interp = new Interpreter({
        memory: machine.memory,
        helpers,
        placements: machine.manifest.maps.map((m) => m.placement),
        programs: machine.programs,
        cpu,
        stackTop,
        budget,
        budgetedBackEdges: machine.budgetedBackEdges,
      });
    }
  }

  /** Run an XDP program on one packet, as BPF_PROG_TEST_RUN does. */
  runXdp(programName: string, packet: Uint8Array, ifindex = 1, rxQueue = 0): XdpResult {
    this.xdp.load(this.frame, XDP_FRAME_SIZE, packet, ifindex, rxQueue);
    if (this.refreshesClock) this.xdp.clockNs = this.clock();
    const r = this.execute(programName);
    if (typeof r === 'string')
      return {
        action: XDP_ACTION.ABORTED,
        actionName: 'XDP_ABORTED',
        packet: packet.slice(),
        meta: NO_META,
        headroom: XDP_HEADROOM,
        fault: r,
      };
    return {
      action: r,
      actionName: XDP_ACTION_NAME[r] ?? `XDP_${r}`,
      packet: this.xdp.packet(),
      meta: this.xdp.metadata(),
      headroom: this.xdp.data - this.xdp.hardStart,
      redirect: this.xdp.redirect,
    };
  }

  /**
   * Run an XDP program on a frame already in linear memory (an AF_XDP UMEM chunk at
   * `frame`, the packet at `data`): the live datapath's path, with no copy and no result
   * object. Returns the action (XDP_ABORTED on a fault); the packet is then at
   * this.xdp.data .. this.xdp.dataEnd. `egressIfindex` is for xdp/devmap programs;
   * `metaLength` bytes before `data` are metadata the frame carries (data_meta).
   */
  runXdpInPlace(
    programName: string,
    frame: number,
    frameSize: number,
    data: number,
    length: number,
    ifindex: number,
    rxQueue: number,
    egressIfindex = 0,
    metaLength = 0,
  ): number {
    this.xdp.loadInPlace(frame, frameSize, data, length, ifindex, rxQueue, metaLength);
    // A program run from a devmap entry sees the device it is about to go out of.
    if (egressIfindex) this.xdp.egressIfindex = egressIfindex;
    if (this.refreshesClock) this.xdp.clockNs = this.clock();
    const r = this.execute(programName);
    return typeof r === 'string' ? XDP_ACTION.ABORTED : r;
  }

  /**
   * Run an XDP program on copies of `packets`, in order, as runXdp would one by one, but
   * PACKET_BATCH at a time through runBatch. A packet the kernel's test run refuses
   * (shorter than an Ethernet header, or too long for a frame and its fragments) gets the
   * UserError runXdp throws; multi-buffer packets take runXdp itself (their fragments
   * live in JS). Results hold copies of the packets.
   */
  runPackets(programName: string, packets: readonly Uint8Array[], ifindex = 1, rxQueue = 0): (XdpResult | UserError)[] {
    const { batch, frames } = (this.packetBatch ??= this.makePacketBatch());
    const out: (XdpResult | UserError)[] = [];
    const memory = (): Uint8Array => new Uint8Array(this.machine.memory.buffer);
    let pending: Uint8Array[] = [];
    const flush = (): void => {
      if (pending.length === 0) return;
      const mem = memory();
      pending.forEach((p, i) => {
        const frame = frames + i * XDP_FRAME_SIZE;
        mem.set(p, frame + XDP_HEADROOM);
        batch.set(i, frame, XDP_FRAME_SIZE, frame + XDP_HEADROOM, p.length, ifindex, rxQueue);
      });
      this.runBatch(programName, batch, pending.length);
      const after = memory();
      pending.forEach((p, i) => {
        const action = batch.action(i);
        const fault = batch.faults.get(i);
        const data = batch.data(i);
        out.push({
          action,
          actionName: XDP_ACTION_NAME[action] ?? `XDP_${action}`,
          packet: fault === undefined ? after.slice(data, data + batch.length(i)) : p.slice(),
          meta: fault === undefined ? after.slice(data - batch.metaLength(i), data) : NO_META,
          headroom: fault === undefined ? data - batch.frame(i) : XDP_HEADROOM,
          ...(fault === undefined ? { redirect: batch.redirect(i) } : { fault }),
        });
      });
      pending = [];
    };
    for (const p of packets) {
      if (p.length >= ETH_HLEN && p.length <= XDP_MAX_PACKET) {
        pending.push(p);
        if (pending.length === PACKET_BATCH) flush();
        continue;
      }
      flush();
      try {
        const r = this.runXdp(programName, p, ifindex, rxQueue);
        out.push({ ...r, packet: r.packet.slice(), meta: r.meta.slice() });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        out.push(e);
      }
    }
    flush();
    return out;
  }

  private makePacketBatch(): { batch: XdpBatch; frames: number } {
    const frames = this.machine.maps.heap.alloc(PACKET_BATCH * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
    if (!frames) throw new UserError('out of linear memory for packet frames');
    return { batch: this.batch(PACKET_BATCH), frames };
  }

  /** Descriptors for `capacity` packets in linear memory, for runBatch on this worker. */
  batch(capacity: number): XdpBatch {
    if (!Number.isInteger(capacity) || capacity < 1) throw new UserError(`batch capacity must be a positive integer, got ${capacity}`);
    const base = this.machine.maps.heap.alloc(capacity * BATCH_DESC_SIZE, 64);
    if (!base) throw new UserError('out of linear memory for batch descriptors');
    return new XdpBatch(this.machine.memory, base, capacity);
  }

  /**
   * Run an XDP program on the first `count` packets of `batch`, in place, with one call into
   * the module (its batch driver; the interpreter walks the same descriptors in JS). Each
   * descriptor gets its verdict, the packet's new data and length, and its redirect. The
   * clock ktime_get_ns reads is taken once for the batch. A fault aborts that packet only:
   * the trap unwinds the driver, so it is caught here, the packet marked XDP_ABORTED (its
   * fault in batch.faults), this worker's map locks freed, and the driver entered again
   * at the next descriptor.
   */
  runBatch(programName: string, batch: XdpBatch, count = batch.capacity): void {
    if (count > batch.capacity) throw new UserError(`batch of ${count} packets exceeds its capacity ${batch.capacity}`);
    const run = this.resolveBatch(programName);
    batch.faults.clear();
    if (this.refreshesClock) this.xdp.clockNs = this.clock();
    let start = 0;
    while (start < count) {
      try {
        run(batch.base + start * BATCH_DESC_SIZE, count - start, batch);
        return;
      } catch (e) {
        const at = start + this.xdp.batchIndex;
        this.locksReleased +=
          this.machine.maps.releaseLocksOf(lockOwnerOfCpu(this.cpu)) + releaseSpinLock(this.machine.memory, this.cpu, this.spinLock);
        this.aborted++;
        batch.abort(at, packetFault(e).message);
        start = at + 1;
      }
    }
  }

  private resolveBatch(programName: string): (descriptors: number, count: number, batch: XdpBatch) => void {
    if (programName !== this.batchName) {
      if (this.instance) {
        const fn = this.instance.batch(programName);
        this.batchRun = (descriptors, count) => fn(descriptors, count);
      } else {
        this.batchRun = this.interpBatch(this.resolve(programName));
      }
      this.batchName = programName;
    }
    return this.batchRun;
  }

  /** The compiled batch driver's loop (compiler/codegen-batch.ts), in JS over the interpreter. */
  private interpBatch(run: () => number): (descriptors: number, count: number, batch: XdpBatch) => void {
    const xdp = this.xdp;
    return (descriptors, count, batch) => {
      const first = (descriptors - batch.base) / BATCH_DESC_SIZE;
      for (let k = 0; k < count; k++) {
        const i = first + k;
        xdp.batchIndex = k;
        const length = batch.length(i);
        if (length < ETH_HLEN) {
          batch.setOutcome(i, XDP_ACTION.ABORTED, batch.data(i), length, 0, undefined);
          continue;
        }
        xdp.loadInPlace(batch.frame(i), batch.frameSize(i), batch.data(i), length, batch.ifindex(i), batch.rxQueue(i));
        const action = run();
        batch.setOutcome(i, action, xdp.data, xdp.dataEnd - xdp.data, xdp.data - xdp.dataMeta, xdp.redirect);
      }
    };
  }

  /**
   * The program's action, or the fault's message (the fault is counted in `aborted`).
   * Anything the run throws aborts this packet only: the locks this worker's compiled map
   * code held when it trapped are freed (JS map code frees its own in `finally`), so the
   * next packet, the other workers and the control plane find the maps usable.
   */
  private execute(programName: string): number | string {
    const run = this.resolve(programName); // an unknown name is the caller's error, not a fault
    this.xdp.tailCalls = 0;
    try {
      return run();
    } catch (e) {
      this.locksReleased +=
        this.machine.maps.releaseLocksOf(lockOwnerOfCpu(this.cpu)) + releaseSpinLock(this.machine.memory, this.cpu, this.spinLock);
      this.aborted++;
      return packetFault(e).message;
    }
  }

  private resolve(programName: string): () => number {
    if (programName !== this.resolvedName) {
      const ctx = this.xdp.ctx;
      if (this.instance) {
        const fn = this.instance.entry32(programName);
        this.resolvedRun = () => fn(ctx);
      } else {
        const program = this.machine.program(programName);
        const interp = this.interp!;
        this.resolvedRun = () => Number(interp.run(program, BigInt(ctx)) & 0xffffffffn);
      }
      this.resolvedName = programName;
    }
    return this.resolvedRun;
  }
}
