// The worker side of maps-threads.test.ts: opens the maps of a memory another thread
// created, then does what the main thread asks (see the `job` names there).

import { parentPort, workerData } from 'node:worker_threads';
import type { ManifestMap } from '../../core/manifest.js';
import type { MemoryLayout } from '../../core/abi.js';
import { MAP_TYPE } from '../../core/map-types.js';
import { openMaps } from '../../runtime/maps/index.js';

interface Job {
  memory: WebAssembly.Memory;
  manifest: ManifestMap[];
  layout: MemoryLayout;
  job: string;
  /** Address of an i32 start flag both threads wait on, so their loops overlap. */
  startFlag: number;
  id: number;
  rounds: number;
}

const d = workerData as Job;
const table = openMaps(d.memory, d.manifest, d.layout);
const i32 = new Int32Array(d.memory.buffer);
const le = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

function waitForStart(): void {
  Atomics.wait(i32, d.startFlag >>> 2, 0);
}

const jobs: Record<string, () => unknown> = {
  /** Inserts keys id*1e6 + i, and creates an inner map stored under key 1 of `outer`. */
  insert: () => {
    const h = table.byNameOrThrow('h');
    for (let i = 0; i < d.rounds; i++) h.updateBytes(le(d.id * 1e6 + i), le(i));
    const inner = table.createInnerMap({
      name: `inner_w${d.id}`,
      type: MAP_TYPE.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 300_000,
      flags: 0,
    });
    table.byNameOrThrow('outer').updateBytes(le(1), le(inner));
    table.get(inner)!.updateBytes(le(299_999), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    return inner;
  },
  /** Increments the u32 counter under key 7 of `h`, `rounds` times, through the map's lock. */
  increment: () => {
    const h = table.byNameOrThrow('h');
    const ptr = h.lookup(table.heap.scratch(8) && writeKey(7), 0);
    const view = new Uint32Array(d.memory.buffer);
    waitForStart();
    for (let i = 0; i < d.rounds; i++)
      h.locked(() => {
        view[ptr >>> 2]!++;
      });
    return view[ptr >>> 2];
  },
  /** Inserts `rounds` distinct keys into the same map as the other thread, concurrently. */
  race: () => {
    const h = table.byNameOrThrow('h');
    waitForStart();
    for (let i = 0; i < d.rounds; i++) h.updateBytes(le(d.id * 1e6 + i), le(d.id));
    for (let i = 0; i < d.rounds; i += 2) h.deleteBytes(le(d.id * 1e6 + i));
    return h.count();
  },
  /** Inserts into a small LRU map concurrently with the other thread, with lookups. */
  lru: () => {
    const l = table.byNameOrThrow('lru');
    const key = table.heap.alloc(8, 8);
    const dv = (): DataView => new DataView(d.memory.buffer);
    waitForStart();
    for (let i = 0; i < d.rounds; i++) {
      l.updateBytes(le(d.id * 1e6 + i), le(i));
      dv().setUint32(key, d.id * 1e6 + (i >> 1), true);
      l.lookup(key, d.id);
    }
    return l.count();
  },
};

function writeKey(n: number): number {
  const at = table.heap.scratch(8);
  new DataView(d.memory.buffer).setUint32(at, n, true);
  return at;
}

parentPort!.postMessage(jobs[d.job]!());
