// What programs send to userspace through ring buffers (bpf_ringbuf_output / submit) and
// perf event arrays (bpf_perf_event_output), as the operator sees it: every record the
// object's maps hold, drained as a reader (libbpf's ring_buffer / perf_buffer) would and
// made JSON-ready, bytes in hex. Perf samples keep their CPU and the kernel's padding to
// 8 bytes (the raw size the reader gets); a lost count comes as its own record, before
// the next sample that found room, as the kernel delivers it.

import { PerfEventArrayMap, RingbufMap, type MapTable } from './maps/index.js';

export type MapRecord =
  { map: string; data: string } | { map: string; cpu: number; data: string } | { map: string; cpu: number; lost: number };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class RecordReader {
  private readonly sources: (RingbufMap | PerfEventArrayMap)[];

  constructor(maps: MapTable) {
    this.sources = maps.maps.filter((m) => m instanceof RingbufMap || m instanceof PerfEventArrayMap);
  }

  /** Whether the object has a map records come through. */
  get any(): boolean {
    return this.sources.length > 0;
  }

  /** Every record written since the last drain, map by map in object order. */
  drain(): MapRecord[] {
    const out: MapRecord[] = [];
    for (const source of this.sources) {
      const map = source.name;
      if (source instanceof RingbufMap) source.drain((data) => out.push({ map, data: hex(data) }));
      else source.drain((r) => out.push('lost' in r ? { map, cpu: r.cpu, lost: r.lost } : { map, cpu: r.cpu, data: hex(r.data) }));
    }
    return out;
  }
}
