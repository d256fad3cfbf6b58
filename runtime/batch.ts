// A batch of packets for XdpWorker.runBatch: descriptors in linear memory (abi.ts
// BATCH_DESC) that the host fills, one host→wasm call runs, and the host reads back.
// Descriptors belong to one worker; the frames they point at are the caller's (UMEM
// chunks, receive buffers, or frames the caller copied packets into).

import { BATCH_DESC, BATCH_DESC_SIZE, REDIRECT_KIND } from '../core/abi.js';
import { XDP_ACTION, redirectOfWords, redirectWords, type XdpRedirect } from './xdp.js';

const W = {
  frame: BATCH_DESC.frame >>> 2,
  frameSize: BATCH_DESC.frameSize >>> 2,
  data: BATCH_DESC.data >>> 2,
  length: BATCH_DESC.length >>> 2,
  ifindex: BATCH_DESC.ifindex >>> 2,
  rxQueue: BATCH_DESC.rxQueue >>> 2,
  action: BATCH_DESC.action >>> 2,
  redirectKind: BATCH_DESC.redirectKind >>> 2,
  redirectTarget: BATCH_DESC.redirectTarget >>> 2,
  redirectKey: BATCH_DESC.redirectKey >>> 2,
  metaLength: BATCH_DESC.metaLength >>> 2,
} as const;
const STRIDE = BATCH_DESC_SIZE >>> 2;

export class XdpBatch {
  /** u32 view over the descriptors only (they were allocated before it was made, so growth cannot shrink it). */
  private readonly u32: Uint32Array;
  /** Faults of the last run, by descriptor index (their action is XDP_ABORTED). */
  readonly faults = new Map<number, string>();

  constructor(
    memory: WebAssembly.Memory,
    readonly base: number,
    readonly capacity: number,
  ) {
    this.u32 = new Uint32Array(memory.buffer, base, capacity * STRIDE);
    // Outputs a module's programs can never set (a redirect, metadata) are never written
    // by its batch driver (compiler/codegen-batch.ts): they must read as none from the start.
    this.u32.fill(0);
  }

  /** Describe packet `i`: its frame, and the packet at `data` inside it (the outputs are the run's to write). */
  set(i: number, frame: number, frameSize: number, data: number, length: number, ifindex: number, rxQueue: number): void {
    const w = i * STRIDE;
    const u = this.u32;
    u[w + W.frame] = frame;
    u[w + W.frameSize] = frameSize;
    u[w + W.data] = data;
    u[w + W.length] = length;
    u[w + W.ifindex] = ifindex;
    u[w + W.rxQueue] = rxQueue;
  }

  /**
   * Give every descriptor the frame size, ifindex and receive queue that all of a worker's
   * packets share, once; `setPacket` then writes only what changes per packet. No run
   * writes these three (the driver reads them), so they hold until set again.
   */
  setShared(frameSize: number, ifindex: number, rxQueue: number): void {
    const u = this.u32;
    for (let w = 0; w < u.length; w += STRIDE) {
      u[w + W.frameSize] = frameSize;
      u[w + W.ifindex] = ifindex;
      u[w + W.rxQueue] = rxQueue;
    }
  }

  /** Describe packet `i` of a batch whose shared fields are set (setShared): its frame, and the packet at `data` inside it. */
  setPacket(i: number, frame: number, data: number, length: number): void {
    const w = i * STRIDE;
    const u = this.u32;
    u[w + W.frame] = frame;
    u[w + W.data] = data;
    u[w + W.length] = length;
  }

  action(i: number): number {
    return this.u32[i * STRIDE + W.action]!;
  }
  /** The packet's first byte as the program left it (its input when aborted). */
  data(i: number): number {
    return this.u32[i * STRIDE + W.data]!;
  }
  length(i: number): number {
    return this.u32[i * STRIDE + W.length]!;
  }
  /** Bytes of metadata right before data (bpf_xdp_adjust_meta); 0 when aborted. */
  metaLength(i: number): number {
    return this.u32[i * STRIDE + W.metaLength]!;
  }
  frame(i: number): number {
    return this.u32[i * STRIDE + W.frame]!;
  }
  frameSize(i: number): number {
    return this.u32[i * STRIDE + W.frameSize]!;
  }
  ifindex(i: number): number {
    return this.u32[i * STRIDE + W.ifindex]!;
  }
  rxQueue(i: number): number {
    return this.u32[i * STRIDE + W.rxQueue]!;
  }

  /** Where an XDP_REDIRECT of packet `i` goes (undefined for other verdicts or no target). */
  redirect(i: number): XdpRedirect | undefined {
    const w = i * STRIDE;
    if (this.u32[w + W.action] !== XDP_ACTION.REDIRECT) return undefined;
    return redirectOfWords(this.u32[w + W.redirectKind]!, this.u32[w + W.redirectTarget]!, this.u32[w + W.redirectKey]!);
  }

  /** Write a run's outcome the way the compiled driver does (the interpreter's loop). */
  setOutcome(i: number, action: number, data: number, length: number, metaLength: number, redirect: XdpRedirect | undefined): void {
    const w = i * STRIDE;
    const u = this.u32;
    u[w + W.action] = action;
    u[w + W.data] = data;
    u[w + W.length] = length;
    u[w + W.metaLength] = metaLength;
    [u[w + W.redirectKind], u[w + W.redirectTarget], u[w + W.redirectKey]] = redirectWords(redirect);
  }

  /** Packet `i` faulted: XDP_ABORTED, no redirect, no metadata, data and length stay its input. */
  abort(i: number, message: string): void {
    const w = i * STRIDE;
    this.u32[w + W.action] = XDP_ACTION.ABORTED;
    this.u32[w + W.redirectKind] = REDIRECT_KIND.NONE;
    this.u32[w + W.metaLength] = 0;
    this.faults.set(i, message);
  }
}
