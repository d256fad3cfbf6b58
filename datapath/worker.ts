// A datapath worker thread: runs the program of a shared BpfMachine on the frames of one
// RX queue. AF_XDP: frames are received into UMEM chunks inside the machine's memory and
// the program runs on them in place; TX (and redirects back out of the same interface)
// send the same chunk, everything else hands the chunk straight back to the fill ring.
// AF_PACKET: the kernel keeps its own copy of each frame; only TX and REDIRECT act.
// pcap: a share of a capture file, for offline runs through the same path; redirects
// follow the same Redirector, cpumap hops in rounds the main thread deals out (pcap-worker.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { BpfMachine, PACKET_BATCH, type XdpWorker } from '../runtime/machine.js';
import { compileOptimised } from '../runtime/tier.js';
import { Redirector } from './redirect.js';
import { CpuInboxes } from './cpu-queues.js';
import { loadWasm } from '../runtime/program.js';
import { runPcap } from './pcap-worker.js';
import { XDP_ACTION, XDP_FRAME_SIZE, XDP_HEADROOM, XDP_MAX_PACKET } from '../runtime/xdp.js';
import { explainNativeError, nativeAddon, type PacketSocket, type XskSocket } from '../native/addon.js';
import { interfaceName } from './interfaces.js';
import { SLOT, SLOTS_PER_WORKER, countAction } from './stats.js';
import type { WorkerReport, WorkerSetup } from './protocol.js';
import { routeTablesFor } from '../native/fib.js';

const POLL_MS = 100;
const setup = workerData as WorkerSetup;
const stop = new Int32Array(setup.control);
const row = new Float64Array(setup.stats, setup.worker * SLOTS_PER_WORKER * 8, SLOTS_PER_WORKER);
const report = (r: WorkerReport): void => parentPort!.postMessage(r);
const stopping = (): boolean => Atomics.load(stop, 0) !== 0;
const inboxes = setup.cpuInboxes ? new CpuInboxes(setup.cpuInboxes.buffer, setup.cpuInboxes.workers).of(setup.worker) : undefined;
// Frames other workers redirect to this one through a cpumap wait at most this long.
const pollMs = inboxes ? 5 : POLL_MS;

/** Runs what other workers posted to this worker's cpumap inbox, and counts it. */
function drainInbox(redirector: Redirector): void {
  const { dropped } = redirector.drainInbox();
  row[SLOT.redirectDropped]! += dropped;
}

function count(action: number, bytes: number): void {
  countAction(row, action, bytes);
}

/** Send-only AF_PACKET sockets for redirects to other interfaces, opened on first use. */
class Egress {
  private sockets = new Map<number, PacketSocket | null>();

  send(ifindex: number, frame: Uint8Array): boolean {
    let socket = this.sockets.get(ifindex);
    if (socket === undefined) {
      const name = interfaceName(ifindex);
      socket = name ? new (nativeAddon().PacketSocket)(name, false) : null;
      this.sockets.set(ifindex, socket);
    }
    return socket !== null && socket.send(frame) >= 0;
  }

  close(): void {
    for (const s of this.sockets.values()) s?.close();
  }
}

function runAfXdp(machine: BpfMachine, worker: XdpWorker): void {
  const addon = nativeAddon();
  const affinity = setup.pinCpu !== undefined && addon.setAffinity(setup.pinCpu);
  const umemSize = setup.frames * XDP_FRAME_SIZE;
  const umemBase = machine.maps.heap.alloc(umemSize, XDP_FRAME_SIZE);
  if (!umemBase) throw new UserError(`out of linear memory for ${setup.frames} UMEM frames`);
  const memory = new Uint8Array(setup.memory.buffer);
  let socket;
  try {
    socket = new addon.XskSocket(
      setup.iface,
      setup.queue,
      memory.subarray(umemBase, umemBase + umemSize),
      XDP_FRAME_SIZE,
      setup.ringSize,
      setup.bindMode,
      setup.xskMapFd,
    );
  } catch (e) {
    throw explainNativeError(e, `AF_XDP socket on ${setup.iface} queue ${setup.queue}`);
  }
  const tap = setup.passTap ? new addon.TapDevice(setup.passTap.name, setup.passTap.mac) : undefined;
  const egress = new Egress();
  const redirector = new Redirector(
    machine,
    worker,
    setup.ifindex,
    {
      send: (ifindex, frame) => egress.send(ifindex, frame),
      pass: (frame) => tap !== undefined && tap.write(frame) >= 0,
    },
    inboxes,
  );
  report({ type: 'ready', zeroCopy: socket.zeroCopy, affinity });
  if (setup.ceiling) {
    try {
      runCeiling(socket, setup.ceiling);
    } finally {
      socket.close();
      tap?.close();
    }
    return;
  }
  const rx = new Uint32Array(2 * setup.batch);
  const tx = new Uint32Array(2 * setup.batch);
  const recycle = new Uint32Array(setup.batch);
  const batch = worker.batch(setup.batch);
  batch.setShared(XDP_FRAME_SIZE, setup.ifindex, setup.queue);
  let lastReport = Date.now();
  let returning = 0;
  try {
    while (!stopping()) {
      // The previous batch's dropped frames go back to the fill ring in the same call.
      const received = socket.receive(rx, pollMs, recycle, returning);
      drainInbox(redirector);
      let sending = 0;
      returning = 0;
      // One call into the program for the whole batch, on the chunks in place.
      for (let i = 0; i < received; i++) {
        const address = rx[2 * i]!;
        batch.setPacket(i, umemBase + address - (address % XDP_FRAME_SIZE), umemBase + address, rx[2 * i + 1]!);
      }
      if (received) worker.runBatch(setup.program, batch, received);
      for (let i = 0; i < received; i++) {
        const chunk = batch.frame(i) - umemBase;
        const action = batch.action(i); // a frame shorter than Ethernet is XDP_ABORTED, as the kernel refuses it
        let data = batch.data(i);
        let end = data + batch.length(i);
        count(action, end - data);
        let transmit = action === XDP_ACTION.TX;
        if (action === XDP_ACTION.REDIRECT) {
          const delivery = redirector.deliver(batch.redirect(i), batch.frame(i), batch.frameSize(i), data, end - data, batch.metaLength(i));
          if (delivery === 'dropped') row[SLOT.redirectDropped]!++;
          else if (delivery !== 'sent') {
            transmit = true; // back out of the receiving interface, zero-copy
            data = delivery.data;
            end = data + delivery.length;
          }
        } else if (action === XDP_ACTION.PASS) {
          if (!tap || tap.write(memory.subarray(data, end)) < 0) row[SLOT.passDropped]!++;
        }
        if (transmit) {
          tx[2 * sending] = data - umemBase;
          tx[2 * sending + 1] = end - data;
          sending++;
        } else {
          recycle[returning++] = chunk;
        }
      }
      if (sending) row[SLOT.txDropped]! += sending - socket.transmit(tx, sending);
      row[SLOT.faults] = worker.aborted;
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        report({ type: 'socket', statistics: { ...socket.statistics() } });
      }
    }
    if (returning) socket.recycle(recycle, returning);
    // Let the kernel finish what is on the TX ring, then account for every frame.
    for (let i = 0; i < 20; i++) {
      socket.reclaim();
      const s = socket.statistics();
      if (s.fillQueued + s.rxQueued === s.frames) break;
      Atomics.wait(stop, 1, 0, 5);
    }
    // Which frames, not only how many: a frame handed out twice would hide a lost one in the sum.
    report({ type: 'socket', statistics: { ...socket.statistics(), ...socket.audit() } });
  } finally {
    socket.close();
    tap?.close();
    egress.close();
  }
}

/** No program: the addon's C loop moves every frame (the datapath's ceiling on this socket). */
function runCeiling(socket: XskSocket, ceiling: 'drop' | 'tx'): void {
  const action = ceiling === 'tx' ? XDP_ACTION.TX : XDP_ACTION.DROP;
  let lastReport = Date.now();
  while (!stopping()) {
    row[SLOT.packets(action)]! += socket.forward(action === XDP_ACTION.TX, POLL_MS, setup.batch);
    if (Date.now() - lastReport >= 1000) {
      lastReport = Date.now();
      report({ type: 'socket', statistics: { ...socket.statistics() } });
    }
  }
  for (let i = 0; i < 20; i++) {
    socket.reclaim();
    const s = socket.statistics();
    if (s.fillQueued + s.rxQueued === s.frames) break;
    Atomics.wait(stop, 1, 0, 5);
  }
  report({ type: 'socket', statistics: { ...socket.statistics(), ...socket.audit() } });
}

function runAfPacket(machine: BpfMachine, worker: XdpWorker): void {
  const addon = nativeAddon();
  const affinity = setup.pinCpu !== undefined && addon.setAffinity(setup.pinCpu);
  const areaBase = machine.maps.heap.alloc(PACKET_BATCH * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
  if (!areaBase) throw new UserError('out of linear memory for receive buffers');
  const memory = new Uint8Array(setup.memory.buffer);
  const area = memory.subarray(areaBase, areaBase + PACKET_BATCH * XDP_FRAME_SIZE);
  let socket: PacketSocket;
  try {
    socket = new addon.PacketSocket(setup.iface, true, setup.fanoutGroup);
  } catch (e) {
    throw explainNativeError(e, `AF_PACKET socket on ${setup.iface}`);
  }
  const egress = new Egress();
  // The kernel has its own copy of every frame: a cpumap's XDP_PASS has nothing left to do.
  const redirector = new Redirector(
    machine,
    worker,
    setup.ifindex,
    {
      send: (ifindex, frame) => (ifindex === setup.ifindex ? socket.send(frame) >= 0 : egress.send(ifindex, frame)),
      pass: () => true,
    },
    inboxes,
  );
  const lengths = new Uint32Array(PACKET_BATCH);
  const batch = worker.batch(PACKET_BATCH);
  batch.setShared(XDP_FRAME_SIZE, setup.ifindex, setup.queue);
  report({ type: 'ready', zeroCopy: false, affinity });
  try {
    while (!stopping()) {
      const received = socket.receive(area, XDP_FRAME_SIZE, XDP_HEADROOM, lengths, pollMs);
      drainInbox(redirector);
      let n = 0;
      for (let i = 0; i < received; i++) {
        const frame = areaBase + i * XDP_FRAME_SIZE;
        const length = lengths[i]!;
        if (length > XDP_MAX_PACKET) {
          row[SLOT.invalidAction]!++;
          continue;
        }
        batch.setPacket(n++, frame, frame + XDP_HEADROOM, length);
      }
      if (n) worker.runBatch(setup.program, batch, n);
      for (let i = 0; i < n; i++) {
        const action = batch.action(i); // a frame shorter than Ethernet is XDP_ABORTED
        const packet = memory.subarray(batch.data(i), batch.data(i) + batch.length(i));
        count(action, packet.length);
        if (action === XDP_ACTION.TX) {
          if (socket.send(packet) < 0) row[SLOT.txDropped]!++;
        } else if (action === XDP_ACTION.REDIRECT) {
          const delivery = redirector.deliver(
            batch.redirect(i),
            batch.frame(i),
            batch.frameSize(i),
            batch.data(i),
            packet.length,
            batch.metaLength(i),
          );
          const sent =
            delivery === 'sent' ||
            (delivery !== 'dropped' && socket.send(memory.subarray(delivery.data, delivery.data + delivery.length)) >= 0);
          if (!sent) row[SLOT.redirectDropped]!++;
        }
        // XDP_PASS / XDP_DROP: the kernel already has its own copy of the frame.
      }
      row[SLOT.faults] = worker.aborted;
    }
  } finally {
    socket.close();
    egress.close();
  }
}

try {
  compileOptimised(); // this thread's module: TurboFan before the first packet
  const loaded = loadWasm(setup.wasm, setup.label);
  const machine = BpfMachine.attach(loaded, setup.memory);
  const worker = machine.worker(setup.worker, {
    engine: setup.engine,
    budget: setup.budget,
    preciseClock: setup.preciseClock,
    routeTables: routeTablesFor(machine.manifest.helpers),
  });
  if (setup.mode === 'pcap') runPcap(setup, machine, worker, row, report, stopping);
  else if (setup.mode === 'afpacket') runAfPacket(machine, worker);
  else runAfXdp(machine, worker);
} catch (e) {
  report({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
