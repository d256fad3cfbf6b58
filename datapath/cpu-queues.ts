// The workers' inboxes for cpumap redirects. In the kernel, bpf_redirect_map(&cpumap, cpu)
// queues the frame for a kthread on that CPU, which runs the entry's xdp/cpumap program
// and hands XDP_PASS frames to the network stack. Here each worker is a CPU: a frame
// redirected to CPU k is copied into worker k's inbox (k modulo the workers, as a
// cpumap may name CPUs the run has no worker for), and worker k runs the entry's program on
// it between its own batches. One SharedArrayBuffer holds every inbox: a ring of slots
// behind a spin lock (any worker may post, only the owner takes).
//
// The kernel gives each cpumap entry a ptr_ring of its qsize frames and drops (and counts)
// what a full ring cannot take. So here: a frame for CPU k is refused once k has qsize
// frames waiting (a count per CPU, kept under the lock of the worker playing k, behind the
// inboxes), or when that worker's ring is full (SLOTS frames for all its CPUs together).
//
//
// A frame keeps what the kernel's xdp_frame keeps: its headroom (where data sits after the
// frame's start) and the metadata in front of the packet (bpf_xdp_adjust_meta's), which the
// entry's program sees again as data_meta; the bytes travel as metadata then packet.
//
//   inbox: i32 [lock, head, tail] in a 64-byte header, then SLOTS slots of SLOT_BYTES:
//          u32 length, u32 ingress ifindex, u32 program id, u32 target CPU, u32 headroom,
//          u32 metadata length, 8 spare, then the metadata and packet bytes
//   then:  i32 frames waiting, per CPU

import { XDP_FRAME_SIZE, XDP_FRAME_STRUCT, XDP_TAILROOM } from '../runtime/xdp.js';

const SLOTS = 128;
const HEADER = 64;
const SLOT_HEADER = 32;
/** Metadata and packet together fill at most a frame past its xdp_frame, before its tailroom. */
const SLOT_DATA = XDP_FRAME_SIZE - XDP_TAILROOM - XDP_FRAME_STRUCT;
const SLOT_BYTES = SLOT_HEADER + SLOT_DATA;
const INBOX_BYTES = HEADER + SLOTS * SLOT_BYTES;
const LOCK = 0;
const HEAD = 1; // next slot to take
const TAIL = 2; // next slot to fill

export interface Posted {
  /** The CPU the frame was redirected to (the cpumap key). */
  cpu: number;
  ingress: number;
  /** The cpumap entry's program id (redirect-value.ts), 0 for none. */
  program: number;
  /** Packet bytes (after the metadata). */
  length: number;
  /** Where the packet starts after the frame's start (data - data_hard_start). */
  headroom: number;
  /** Bytes of metadata in front of the packet (data - data_meta). */
  metaLength: number;
}

/** A frame as it is queued: its metadata and packet bytes, and where they sit in a frame. */
export interface QueuedFrame {
  /** The metadata, then the packet. */
  bytes: Uint8Array;
  /** data - data_hard_start. */
  headroom: number;
  /** data - data_meta. */
  metaLength: number;
}

/** False when a frame of this geometry does not fit a frame (past its xdp_frame, before its tailroom). */
export function fitsFrame(f: QueuedFrame): boolean {
  return (
    f.metaLength >= 0 &&
    f.metaLength <= f.bytes.length &&
    f.headroom - f.metaLength >= XDP_FRAME_STRUCT &&
    f.headroom - f.metaLength + f.bytes.length <= XDP_FRAME_SIZE - XDP_TAILROOM
  );
}

/** Where frames redirected into a cpumap wait for the worker that plays their CPU. */
export interface CpuQueues {
  /** True when this worker plays CPU `cpu` and may run its frames at once. */
  runsHere(cpu: number): boolean;
  /** Queues a frame for CPU `cpu` (its cpumap entry's qsize and program); false: dropped. */
  post(cpu: number, qsize: number, frame: QueuedFrame, ingress: number, program: number): boolean;
  /**
   * The oldest frame waiting for this worker, copied into `into` (a frame from its start:
   * metadata and packet where its headroom puts them); undefined when none.
   */
  take(into: Uint8Array): Posted | undefined;
}

export class CpuInboxes {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;

  /** The CPUs the buffer keeps a waiting count for (frames to others are refused). */
  readonly cpus: number;
  /** Index in i32 of CPU 0's waiting count. */
  private readonly waiting: number;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly workers: number,
  ) {
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
    this.waiting = (workers * INBOX_BYTES) >>> 2;
    this.cpus = (buffer.byteLength - workers * INBOX_BYTES) >>> 2;
  }

  /** Inboxes for `workers` workers playing CPUs 0..cpus-1 (a cpumap's max_entries). */
  static create(workers: number, cpus: number): CpuInboxes {
    return new CpuInboxes(new SharedArrayBuffer(workers * INBOX_BYTES + cpus * 4), workers);
  }

  /** Frames waiting for CPU `cpu`. */
  queued(cpu: number): number {
    return cpu < this.cpus ? Atomics.load(this.i32, this.waiting + cpu) : 0;
  }

  /** Worker `me`'s view: frames for its own CPUs run at once, others are posted, it takes its own. */
  of(me: number): CpuQueues {
    return {
      runsHere: (cpu) => this.workerOf(cpu) === me,
      post: (cpu, qsize, frame, ingress, program) => this.post(cpu, qsize, frame, ingress, program),
      take: (into) => this.take(me, into),
    };
  }

  /** The worker that plays CPU `cpu`. */
  workerOf(cpu: number): number {
    return cpu % this.workers;
  }

  private lock(w: number): void {
    const at = (w * INBOX_BYTES) >>> 2;
    while (Atomics.compareExchange(this.i32, at + LOCK, 0, 1) !== 0) Atomics.wait(this.i32, at + LOCK, 1, 1);
  }

  private unlock(w: number): void {
    const at = (w * INBOX_BYTES) >>> 2;
    Atomics.store(this.i32, at + LOCK, 0);
    Atomics.notify(this.i32, at + LOCK, 1);
  }

  /**
   * Copies a frame for CPU `cpu` (a cpumap entry of queue size `qsize`) into the inbox of
   * the worker playing it; false when that CPU has qsize frames waiting or the inbox is
   * full (the kernel drops too).
   */
  post(cpu: number, qsize: number, frame: QueuedFrame, ingress: number, program: number): boolean {
    if (!fitsFrame(frame) || cpu >= this.cpus) return false;
    const w = this.workerOf(cpu);
    const base = w * INBOX_BYTES;
    const h = base >>> 2;
    this.lock(w);
    try {
      const head = this.i32[h + HEAD]!;
      const tail = this.i32[h + TAIL]!;
      if (tail - head >= SLOTS || this.i32[this.waiting + cpu]! >= qsize) return false;
      const slot = base + HEADER + (tail % SLOTS) * SLOT_BYTES;
      this.dv.setUint32(slot, frame.bytes.length - frame.metaLength, true);
      this.dv.setUint32(slot + 4, ingress, true);
      this.dv.setUint32(slot + 8, program, true);
      this.dv.setUint32(slot + 12, cpu, true);
      this.dv.setUint32(slot + 16, frame.headroom, true);
      this.dv.setUint32(slot + 20, frame.metaLength, true);
      this.u8.set(frame.bytes, slot + SLOT_HEADER);
      this.i32[this.waiting + cpu]!++;
      this.i32[h + TAIL] = tail + 1;
      return true;
    } finally {
      this.unlock(w);
    }
  }

  /** Takes the oldest frame of worker `w`'s inbox into `into`; undefined when empty. */
  take(w: number, into: Uint8Array): Posted | undefined {
    const base = w * INBOX_BYTES;
    const h = base >>> 2;
    if (Atomics.load(this.i32, h + HEAD) === Atomics.load(this.i32, h + TAIL)) return undefined;
    this.lock(w);
    try {
      const head = this.i32[h + HEAD]!;
      if (head === this.i32[h + TAIL]) return undefined;
      const slot = base + HEADER + (head % SLOTS) * SLOT_BYTES;
      const length = this.dv.getUint32(slot, true);
      const headroom = this.dv.getUint32(slot + 16, true);
      const metaLength = this.dv.getUint32(slot + 20, true);
      into.set(this.u8.subarray(slot + SLOT_HEADER, slot + SLOT_HEADER + metaLength + length), headroom - metaLength);
      this.i32[this.waiting + this.dv.getUint32(slot + 12, true)]!--;
      this.i32[h + HEAD] = head + 1;
      return {
        length,
        cpu: this.dv.getUint32(slot + 12, true),
        ingress: this.dv.getUint32(slot + 4, true),
        program: this.dv.getUint32(slot + 8, true),
        headroom,
        metaLength,
      };
    } finally {
      this.unlock(w);
    }
  }
}
