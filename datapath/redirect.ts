// Where a worker's XDP_REDIRECT goes, with the kernel's semantics for redirect maps:
// - an ifindex, or a devmap / devmap_hash entry: out of that device; an entry naming an
//   xdp/devmap program runs it first on the frame (ingress_ifindex, egress_ifindex set;
//   rx_queue_index 0, as the kernel's devmap leaves it), and only XDP_PASS goes out;
// - every second program sees the frame as the kernel rebuilds it from its xdp_frame
//   (xdp_convert_frame_to_buff): the headroom the first program left, data_meta = data -
//   the metadata it reserved, ingress_ifindex the frame's own receiving device; what the
//   second program does to them (adjust_head / meta / tail) goes on with the frame;
// - BPF_F_BROADCAST: a copy to every device of the map (minus the ingress device with
//   BPF_F_EXCLUDE_INGRESS), each through its entry's program;
// - a cpumap entry: the frame goes to the worker that plays that CPU (CpuQueues), which
//   runs the entry's xdp/cpumap program (ingress_ifindex set, rx_queue_index 0, as the
//   kernel's cpumap leaves them), hands XDP_PASS to the kernel's stack (ports.pass) and
//   follows an XDP_REDIRECT as the kernel's cpu_map_bpf_prog_run_xdp does through
//   xdp_do_redirect: to a device, a devmap (broadcast too) or another cpumap entry — that
//   one queued for its CPU, never run inside the first;
// - xskmap: sockets live in a kernel; dropped.

import { MAP_TYPE } from '../core/map-types.js';
import { UserError } from '../core/errors.js';
import type { BpfMachine, XdpWorker } from '../runtime/machine.js';
import { FdArrayMap, HashMap } from '../runtime/maps/index.js';
import { tableIndexOfId } from '../runtime/maps/redirect-value.js';
import { XDP_ACTION, XDP_FRAME_SIZE, XDP_TAILROOM, type XdpRedirect } from '../runtime/xdp.js';
import type { CpuQueues } from './cpu-queues.js';

/** 'local': transmit on the ingress device (the packet may have moved: data, length). */
export type Delivery = { local: true; data: number; length: number } | 'sent' | 'dropped';

export interface RedirectPorts {
  /** Send bytes out of another device. */
  send(ifindex: number, frame: Uint8Array): boolean;
  /** Hand bytes to the kernel's stack on CPU `cpu` (what a cpumap program's XDP_PASS does). */
  pass(frame: Uint8Array, cpu: number): boolean;
}

const NOTHING_DRAINED = Object.freeze({ delivered: 0, dropped: 0 });
/**
 * Frames one drainInbox call takes at most: a cpumap program that keeps redirecting into
 * its own CPU circulates as in the kernel, but the worker still gets back to its RX ring.
 */
const DRAIN_LIMIT = 256;
/** Without queues (a Redirector alone), cpumap hops run nested, this deep at most. */
const MAX_NESTED_CPU_HOPS = 4;

/**
 * A frame on its way: the packet at data..data+length of the frame at `frame`, with
 * metaLength bytes of metadata in front of it (what the kernel's xdp_frame keeps as
 * metasize), received on device `ingress` (its dev_rx).
 */
interface InFlight {
  frame: number;
  frameSize: number;
  data: number;
  length: number;
  metaLength: number;
  ingress: number;
}

export class Redirector {
  /** Where broadcast copies are made. */
  private readonly scratch: number;
  /** Where frames from the inbox are run. */
  private readonly cpuFrame: number;
  private readonly programNames = new Map<number, string>();

  constructor(
    private readonly machine: BpfMachine,
    private readonly worker: XdpWorker,
    private readonly ingress: number,
    private readonly ports: RedirectPorts,
    /** Where cpumap frames wait for their CPU (cpu-queues.ts); none: they run here at once. */
    private readonly cpuQueues?: CpuQueues,
  ) {
    const scratch = machine.maps.heap.alloc(2 * XDP_FRAME_SIZE, XDP_FRAME_SIZE);
    if (!scratch) throw new UserError('out of linear memory for the redirect frames');
    this.scratch = scratch;
    this.cpuFrame = scratch + XDP_FRAME_SIZE;
    for (const p of machine.manifest.programs) this.programNames.set(p.tableIndex, p.name);
  }

  private bytes(data: number, length: number): Uint8Array {
    return new Uint8Array(this.machine.memory.buffer, data, length);
  }

  /**
   * Delivers the packet at data..data+length of the frame at `frame` as `r` says;
   * `metaLength` bytes before `data` are the metadata the program left (data - data_meta).
   */
  deliver(r: XdpRedirect | undefined, frame: number, frameSize: number, data: number, length: number, metaLength = 0): Delivery {
    return this.route(r, { frame, frameSize, data, length, metaLength, ingress: this.ingress }, 0);
  }

  private route(r: XdpRedirect | undefined, f: InFlight, depth: number): Delivery {
    if (!r) return 'dropped';
    if (r.kind === 'ifindex') return this.toDevice(r.target, 0, f);
    const map = this.machine.maps.get(r.target);
    if (r.kind === 'broadcast') return this.broadcast(map, r.excludeIngress, f);
    if (!(map instanceof FdArrayMap || map instanceof HashMap)) return 'dropped';
    const type = map.spec.type;
    if (type === MAP_TYPE.DEVMAP || type === MAP_TYPE.DEVMAP_HASH) {
      const ifindex = map.target(r.key);
      return ifindex > 0 ? this.toDevice(ifindex, map.programId(r.key), f) : 'dropped';
    }
    if (type === MAP_TYPE.CPUMAP && map instanceof FdArrayMap && map.target(r.key) >= 0) {
      const cpu = r.key;
      const program = map.programId(cpu);
      const queues = this.cpuQueues;
      // A cpumap program's own redirect into a cpumap is queued like any other (the
      // kernel's kthread enqueues it for the target CPU), so never runs in its caller.
      if (queues && (depth > 0 || !queues.runsHere(cpu))) {
        // The entry's first word is its queue size (qsize): frames beyond it are dropped.
        // The frame keeps its headroom and metadata, as the kernel's xdp_frame does.
        const queued = {
          bytes: this.bytes(f.data - f.metaLength, f.metaLength + f.length),
          headroom: f.data - f.frame,
          metaLength: f.metaLength,
        };
        return queues.post(cpu, map.target(cpu), queued, f.ingress, program) ? 'sent' : 'dropped';
      }
      if (depth > MAX_NESTED_CPU_HOPS) return 'dropped';
      return this.toCpu(cpu, program, f, depth);
    }
    return 'dropped';
  }

  /**
   * Runs program `id` (a map value's) on the frame in place, as the kernel rebuilds the
   * xdp_buff from the xdp_frame: same headroom, data_meta = data - metasize, ingress_ifindex
   * the frame's receiving device, rx_queue_index 0. The action; the packet in xdp.
   */
  private runSecond(id: number, f: InFlight, egress: number): number {
    const name = this.programNames.get(tableIndexOfId(id));
    if (name === undefined) return XDP_ACTION.ABORTED;
    return this.worker.runXdpInPlace(name, f.frame, f.frameSize, f.data, f.length, f.ingress, 0, egress, f.metaLength);
  }

  /** The frame as the second program left it (adjust_head / adjust_meta / adjust_tail moved its pointers). */
  private afterSecond(f: InFlight): InFlight {
    const xdp = this.worker.xdp;
    return { ...f, data: xdp.data, length: xdp.dataEnd - xdp.data, metaLength: xdp.data - xdp.dataMeta };
  }

  private toDevice(ifindex: number, program: number, f: InFlight): Delivery {
    if (program) {
      if (this.runSecond(program, f, ifindex) !== XDP_ACTION.PASS) return 'dropped';
      f = this.afterSecond(f);
    }
    if (ifindex === this.ingress) return { local: true, data: f.data, length: f.length };
    return this.ports.send(ifindex, this.bytes(f.data, f.length)) ? 'sent' : 'dropped';
  }

  private toCpu(cpu: number, program: number, f: InFlight, depth: number): Delivery {
    if (program) {
      const action = this.runSecond(program, f, 0);
      if (action === XDP_ACTION.REDIRECT) return this.route(this.worker.xdp.redirect, this.afterSecond(f), depth + 1);
      if (action !== XDP_ACTION.PASS) return 'dropped';
      f = this.afterSecond(f);
    }
    return this.ports.pass(this.bytes(f.data, f.length), cpu) ? 'sent' : 'dropped';
  }

  /**
   * Runs the frames other workers (or this one's cpumap programs) queued for the CPUs this
   * worker plays, at most `limit` of them. Returns how many were delivered and how many
   * dropped (by the program, or undeliverable).
   */
  drainInbox(limit = DRAIN_LIMIT): { readonly delivered: number; readonly dropped: number } {
    // Called once per batch by every worker: no allocation when there is no cpumap.
    if (!this.cpuQueues) return NOTHING_DRAINED;
    const tally = { delivered: 0, dropped: 0 };
    for (let n = 0; n < limit; n++) {
      const into = new Uint8Array(this.machine.memory.buffer, this.cpuFrame, XDP_FRAME_SIZE);
      const posted = this.cpuQueues.take(into);
      if (!posted) break;
      const f: InFlight = {
        frame: this.cpuFrame,
        frameSize: XDP_FRAME_SIZE,
        data: this.cpuFrame + posted.headroom,
        length: posted.length,
        metaLength: posted.metaLength,
        ingress: posted.ingress,
      };
      let d = this.toCpu(posted.cpu, posted.program, f, 0);
      // Back out of the receiving device: not from a UMEM chunk, so through a socket.
      if (typeof d === 'object') d = this.ports.send(this.ingress, this.bytes(d.data, d.length)) ? 'sent' : 'dropped';
      tally[d === 'sent' ? 'delivered' : 'dropped']++;
    }
    return tally;
  }

  /**
   * A copy to every device of the devmap (not the frame's receiving device with
   * BPF_F_EXCLUDE_INGRESS), each through its entry's program. Each copy keeps the frame's
   * headroom and metadata, as the kernel's xdpf_clone copies them.
   */
  private broadcast(map: unknown, excludeIngress: boolean, f: InFlight): Delivery {
    const targets: [ifindex: number, program: number][] = [];
    if (map instanceof FdArrayMap && map.spec.type === MAP_TYPE.DEVMAP) {
      for (let i = 0; i < map.maxEntries; i++) if (map.target(i) > 0) targets.push([map.target(i), map.programId(i)]);
    } else if (map instanceof HashMap && map.spec.type === MAP_TYPE.DEVMAP_HASH) {
      for (const [, value] of map.entries()) {
        const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
        targets.push([dv.getUint32(0, true), value.length >= 8 ? dv.getUint32(4, true) : 0]);
      }
    }
    const original = this.bytes(f.data - f.metaLength, f.metaLength + f.length).slice();
    const headroom = f.data - f.frame;
    if (headroom + f.length > XDP_FRAME_SIZE - XDP_TAILROOM) return 'dropped';
    const copy: InFlight = { ...f, frame: this.scratch, frameSize: XDP_FRAME_SIZE, data: this.scratch + headroom };
    let sent = 0;
    for (const [ifindex, program] of targets) {
      if (excludeIngress && ifindex === f.ingress) continue;
      new Uint8Array(this.machine.memory.buffer).set(original, copy.data - copy.metaLength);
      let out = this.bytes(copy.data, copy.length);
      if (program) {
        if (this.runSecond(program, copy, ifindex) !== XDP_ACTION.PASS) continue;
        out = this.bytes(this.worker.xdp.data, this.worker.xdp.dataEnd - this.worker.xdp.data);
      }
      if (this.ports.send(ifindex, out)) sent++;
    }
    return sent ? 'sent' : 'dropped';
  }
}
