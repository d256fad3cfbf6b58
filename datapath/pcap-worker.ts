// A pcap-mode worker: its share of a capture (packets i ≡ w mod workers) through the
// program, in batches, and each verdict's frame where the live datapath would send it —
// TX out of the receiving device, XDP_REDIRECT through the same Redirector as live runs
// (devmap programs, broadcast copies, cpumap programs). Nothing leaves the process: each
// frame that would is reported with its destination and the capture index it came from.
//
// cpumap hops run in rounds, for a result that does not depend on thread timing: a frame
// redirected into a cpumap entry is reported, not run; once every worker has finished a
// round, the main thread hands each frame to the worker that plays its CPU (cpu mod
// workers, as live), which runs the entry's program on it as that CPU. A cpumap program
// that redirects into a cpumap again queues for the next round; after MAX_CPU_ROUNDS
// rounds such frames are dropped (and counted), where the kernel would keep them circling.
// Queue sizes (qsize) are not modelled: offline there is no CPU falling behind.

import { parentPort } from 'node:worker_threads';
import { readInputFile } from '../core/files.js';
import { UserError } from '../core/errors.js';
import { PACKET_BATCH, type BpfMachine, type XdpWorker } from '../runtime/machine.js';
import { readPcap } from '../packets/pcap.js';
import { XDP_ACTION, XDP_FRAME_SIZE, XDP_TAILROOM } from '../runtime/xdp.js';
import { Redirector } from './redirect.js';
import { fitsFrame, type CpuQueues, type Posted, type QueuedFrame } from './cpu-queues.js';
import type { PcapCommand, PcapCpuFrame, PcapFrameOut, WorkerReport, WorkerSetup } from './protocol.js';
import { SLOT, countAction } from './stats.js';

/** Rounds of cpumap hops a frame may take (a cpumap program redirecting into a cpumap again). */
export const MAX_CPU_ROUNDS = 8;

/** The cpumap frames of a pcap worker: collected for the next round, taken from the current one. */
class RoundQueues implements CpuQueues {
  /** Capture index of the packet being delivered (what ports and post tag frames with). */
  current = 0;
  round = 0;
  queued: PcapCpuFrame[] = [];
  private incoming: PcapCpuFrame[] = [];
  private next = 0;

  runsHere(): boolean {
    return false; // every cpumap frame waits for its round
  }

  post(cpu: number, _qsize: number, frame: QueuedFrame, ingress: number, program: number): boolean {
    if (this.round >= MAX_CPU_ROUNDS || !fitsFrame(frame)) return false;
    const { headroom, metaLength } = frame;
    this.queued.push({ index: this.current, cpu, ingress, program, headroom, metaLength, data: frame.bytes.slice() });
    return true;
  }

  /** As the first program's frame: a zeroed headroom, then the metadata and packet where they were. */
  take(into: Uint8Array): Posted | undefined {
    const f = this.incoming[this.next];
    if (!f) return undefined;
    this.next++;
    this.current = f.index;
    const at = f.headroom - f.metaLength;
    into.fill(0, 0, at);
    into.set(f.data, at);
    return {
      cpu: f.cpu,
      ingress: f.ingress,
      program: f.program,
      length: f.data.length - f.metaLength,
      headroom: f.headroom,
      metaLength: f.metaLength,
    };
  }

  startRound(round: number, frames: PcapCpuFrame[]): void {
    this.round = round;
    this.incoming = frames;
    this.next = 0;
  }
}

export function runPcap(
  setup: WorkerSetup,
  machine: BpfMachine,
  worker: XdpWorker,
  row: Float64Array,
  report: (r: WorkerReport) => void,
  stopping: () => boolean,
): void {
  const { path, workers } = setup.pcap!;
  const records = readPcap(readInputFile(path), path);
  const frame = machine.maps.heap.alloc(XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  if (!frame) throw new UserError('out of linear memory for the redirect frame');
  const out: PcapFrameOut[] = [];
  const queues = new RoundQueues();
  const leave = (to: PcapFrameOut['to'], data: Uint8Array): true => {
    out.push({ index: queues.current, to, data: data.slice() });
    return true;
  };
  const redirector = new Redirector(
    machine,
    worker,
    setup.ifindex,
    { send: (device, data) => leave({ device }, data), pass: (data, cpu) => leave({ cpu }, data) },
    queues,
  );
  const finishRound = (): void => {
    row[SLOT.faults] = worker.aborted;
    report({ type: 'done', out: out.splice(0), cpu: queues.queued.splice(0) });
  };
  report({ type: 'ready', zeroCopy: false, affinity: false });

  const mine: number[] = [];
  for (let index = setup.worker; index < records.length; index += workers) mine.push(index);
  const memory = (): Uint8Array => new Uint8Array(setup.memory.buffer);
  for (let at = 0; at < mine.length && !stopping(); at += PACKET_BATCH) {
    const indexes = mine.slice(at, at + PACKET_BATCH);
    const results = worker.runPackets(
      setup.program,
      indexes.map((i) => records[i]!.data),
      setup.ifindex,
      setup.queue,
    );
    results.forEach((result, k) => {
      if (result instanceof UserError) throw result; // a record the kernel's test run would refuse
      const length = result.packet.length;
      countAction(row, result.action, length);
      queues.current = indexes[k]!;
      if (result.action === XDP_ACTION.TX) leave({ device: setup.ifindex }, result.packet);
      if (result.action !== XDP_ACTION.REDIRECT) return;
      // The packet as the program left it, in a frame of its own for the second program:
      // the same headroom and metadata in front (the kernel's xdp_frame keeps both), the
      // rest of the headroom zeroed as the test run's buffer was.
      const meta = result.meta.length;
      if (result.headroom + length > XDP_FRAME_SIZE - XDP_TAILROOM) {
        row[SLOT.redirectDropped]!++; // a multi-buffer frame: the live datapath has none either
        return;
      }
      const data = frame + result.headroom;
      const bytes = memory();
      bytes.fill(0, frame, data - meta);
      bytes.set(result.meta, data - meta);
      bytes.set(result.packet, data);
      const delivery = redirector.deliver(result.redirect, frame, XDP_FRAME_SIZE, data, length, meta);
      if (delivery === 'dropped') row[SLOT.redirectDropped]!++;
      else if (delivery !== 'sent') leave({ device: setup.ifindex }, memory().subarray(delivery.data, delivery.data + delivery.length));
    });
  }
  finishRound();

  parentPort!.on('message', (m: PcapCommand) => {
    if (m.type === 'stop') {
      parentPort!.close();
      return;
    }
    try {
      queues.startRound(m.round, m.frames);
      // Every frame of the round: this worker's cpumap programs queue for the next one.
      const { dropped } = redirector.drainInbox(Infinity);
      row[SLOT.redirectDropped]! += dropped;
      finishRound();
    } catch (e) {
      report({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
}
