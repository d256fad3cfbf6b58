// The runtime's BPF maps: creating the object's maps in its shared memory, creating inner
// maps at run time, and finding the map behind a handle from any thread.
//
// A handle is the address of the map's 64-byte descriptor (descriptor.ts). Everything a
// map is lives in linear memory; the JS objects here are views any thread can rebuild
// with openMap(memory, handle), which is how a worker finds an inner map the control
// plane created in the main thread.

import type { ManifestMap, ManifestProgram } from '../../core/manifest.js';
import type { MemoryLayout } from '../../core/abi.js';
import { MAP_TYPE, isPerCpu, mapTraits } from '../../core/map-types.js';
import { specProblem } from '../../core/map-spec.js';

export { specProblem } from '../../core/map-spec.js';
import { MapError } from '../errors.js';
import { releaseIfOwned, SharedHeap } from '../memory.js';
import { ArrayMap, type ArrayPlacement, initArray } from './array.js';
import { BaseMap } from './base.js';
import { D, isPublished, type MapSpecLike, publish, writeHeader } from './descriptor.js';
import { FdArrayMap, initFdArray } from './fd-array.js';
import { HashMap, initHash } from './hash.js';
import { initLpmTrie, LpmTrieMap } from './lpm-trie.js';
import { initRingbuf, RingbufMap } from './ringbuf.js';
import { initPerfEventArray, PerfEventArrayMap } from './perf-event-array.js';
import { writeInnerTemplate } from './inner-template.js';
import { registerRedirectPrograms } from './redirect-value.js';
import { FD_ARRAY_DESC, HASH_DESC } from '../../core/map-layout.js';

export { ArrayMap } from './array.js';
export { BPF_ANY, BPF_EXIST, BPF_NOEXIST, FROM_USER, type BpfMap } from './base.js';
export type { MapSpecLike } from './descriptor.js';
export { FdArrayMap } from './fd-array.js';
export { HashMap } from './hash.js';
export { LpmTrieMap } from './lpm-trie.js';
export { RINGBUF_QUERY, RingbufMap } from './ringbuf.js';
export { PERF_BUFFER_DEFAULT, PerfEventArrayMap, type PerfRecord } from './perf-event-array.js';

export type AnyMap = ArrayMap | FdArrayMap | HashMap | LpmTrieMap | RingbufMap | PerfEventArrayMap;

/** Builds a map's structures behind the descriptor at `handle` and publishes it. */
function initMap(heap: SharedHeap, handle: number, spec: MapSpecLike, place: ArrayPlacement = {}): void {
  const problem = specProblem(spec);
  if (problem) throw new MapError(spec.name, 'create', 'EINVAL', problem);
  if (!writeHeader(heap, handle, spec)) throw new MapError(spec.name, 'create', 'ENOMEM');
  const cpus = isPerCpu(spec.type) ? heap.maxCpus : 1;
  let r: number;
  switch (mapTraits(spec.type)!.family) {
    case 'array':
      r = initArray(heap, handle, spec, cpus, place);
      break;
    case 'fd-array':
      r = initFdArray(heap, handle, spec);
      break;
    case 'hash':
      r = initHash(heap, handle, spec, cpus);
      break;
    case 'lpm':
      r = initLpmTrie(heap, handle, spec);
      break;
    case 'ringbuf':
      r = initRingbuf(heap, handle, spec);
      break;
    case 'perf':
      r = initPerfEventArray(heap, handle, spec);
      break;
  }
  if (r < 0) throw new MapError(spec.name, 'create', 'ENOMEM', `out of linear memory for ${spec.maxEntries} entries`);
  if (spec.inner && (spec.type === MAP_TYPE.ARRAY_OF_MAPS || spec.type === MAP_TYPE.HASH_OF_MAPS)) {
    const template = writeInnerTemplate(heap, spec.inner);
    if (!template) throw new MapError(spec.name, 'create', 'ENOMEM', 'out of linear memory for the inner-map template');
    heap.view.i32[(handle >>> 2) + (spec.type === MAP_TYPE.ARRAY_OF_MAPS ? FD_ARRAY_DESC.INNER_TEMPLATE : HASH_DESC.INNER_TEMPLATE)] =
      template;
  }
  publish(heap.view.i32, handle);
}

/** A new view of the map whose descriptor is at `handle` (any thread). */
export function openMap(memory: WebAssembly.Memory, handle: number): AnyMap {
  const i32 = new Int32Array(memory.buffer);
  if (!isPublished(i32, handle)) throw new MapError(`@${handle}`, 'open', 'EINVAL', 'no map descriptor at this handle');
  const type = i32[(handle >>> 2) + D.TYPE]!;
  switch (mapTraits(type)?.family) {
    case 'array':
      return new ArrayMap(memory, handle);
    case 'fd-array':
      return new FdArrayMap(memory, handle);
    case 'hash':
      return new HashMap(memory, handle);
    case 'lpm':
      return new LpmTrieMap(memory, handle);
    case 'ringbuf':
      return new RingbufMap(memory, handle);
    case 'perf':
      return new PerfEventArrayMap(memory, handle);
    default:
      throw new MapError(`@${handle}`, 'open', 'EOPNOTSUPP', `map type ${type} is not supported`);
  }
}

/**
 * This thread's maps of one loaded object: the static maps by index and name, a registry
 * from handle to map (filled lazily, so inner maps made elsewhere are found too), and
 * creation of inner maps.
 */
export class MapTable {
  /** Static maps in manifest order (index = the map's index in the object). */
  readonly maps: AnyMap[];
  private readonly byName = new Map<string, AnyMap>();
  private readonly registry: (AnyMap | undefined)[] = [];
  private readonly descBase: number;
  private readonly descSize: number;
  private readonly descCount: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly heap: SharedHeap,
    handles: readonly number[],
  ) {
    this.descBase = heap.descBase;
    this.descSize = heap.descSize;
    this.descCount = heap.descCount;
    this.maps = handles.map((h) => this.get(h)!);
    for (const m of this.maps) this.byName.set(m.name, m);
  }

  /** The map behind a handle, or undefined if there is none (e.g. a bad pointer from a program). */
  get(handle: number): AnyMap | undefined {
    const offset = handle - this.descBase;
    const index = (offset / this.descSize) | 0;
    const cached = this.registry[index];
    if (cached && cached.handle === handle) return cached;
    if (offset < 0 || offset % this.descSize !== 0 || index >= this.descCount) return undefined;
    if (!isPublished(this.heap.view.i32, handle)) return undefined;
    const map = openMap(this.memory, handle);
    this.registry[index] = map;
    return map;
  }

  /** A static map by name; throws a MapError naming the known maps if absent. */
  byNameOrThrow(name: string): AnyMap {
    const m = this.byName.get(name);
    if (!m) throw new MapError(name, 'open', 'ENOENT', `no such map (maps: ${[...this.byName.keys()].join(', ')})`);
    return m;
  }

  find(name: string): AnyMap | undefined {
    return this.byName.get(name);
  }

  /**
   * Frees every map lock `owner` holds (memory.ts, abi.ts lockOwnerOfCpu): after a run
   * that trapped inside a compiled module's own map code, which has no `finally`. Scans
   * the descriptors in use, static and inner; returns how many it freed.
   */
  releaseLocksOf(owner: number): number {
    const i32 = this.heap.view.i32;
    const words = this.descSize >>> 2;
    let freed = 0;
    for (let i = 0, w = (this.descBase >>> 2) + D.LOCK, n = this.heap.descUsed; i < n; i++, w += words) {
      if (i32[w] === owner && releaseIfOwned(i32, w, owner)) freed++;
    }
    return freed;
  }

  /** Creates a map at run time (an inner map for a map-in-map) and returns its handle. */
  createInnerMap(spec: MapSpecLike): number {
    const handle = this.heap.allocDescriptor();
    if (!handle) throw new MapError(spec.name, 'create', 'ENOMEM', `all ${this.descCount} map descriptors are in use`);
    initMap(this.heap, handle, spec);
    return handle;
  }
}

export interface CreateMapsOptions {
  /** Programs of the module, for PROG_ARRAY initial slots naming programs. */
  programs?: readonly ManifestProgram[];
}

/**
 * Creates the object's maps in `memory` (main thread, once): heap header, descriptors,
 * structures, global data's initial contents, and map-in-map / prog-array initial slots.
 */
export function createMaps(
  memory: WebAssembly.Memory,
  manifestMaps: readonly ManifestMap[],
  layout: MemoryLayout,
  options: CreateMapsOptions = {},
): MapTable {
  const heap = SharedHeap.init(memory, layout, manifestMaps.length);
  registerRedirectPrograms(memory, options.programs ?? []);
  for (const m of manifestMaps) initMap(heap, m.placement.handle, m, m.placement);
  const table = new MapTable(
    memory,
    heap,
    manifestMaps.map((m) => m.placement.handle),
  );
  manifestMaps.forEach((m, i) => {
    const map = table.maps[i]!;
    if (m.initialData) {
      const bytes = Buffer.from(m.initialData, 'base64');
      if (!(map instanceof ArrayMap) || bytes.length > map.valueSize) {
        throw new MapError(m.name, 'create', 'EINVAL', 'initial data needs a single-value array that can hold it');
      }
      heap.view.u8.set(bytes, map.storage);
    }
    for (const slot of m.initialSlots ?? []) {
      const key = new Uint8Array(new Uint32Array([slot.index]).buffer);
      let target: number | undefined;
      if (m.type === MAP_TYPE.PROG_ARRAY) target = options.programs?.find((p) => p.name === slot.target)?.tableIndex;
      else target = table.find(slot.target)?.handle;
      if (target === undefined) {
        throw new MapError(m.name, 'create', 'ENOENT', `initial slot ${slot.index} names '${slot.target}', which is not in the object`);
      }
      map.updateBytes(key, new Uint8Array(new Uint32Array([target]).buffer));
    }
  });
  return table;
}

/** This thread's view of maps another thread created with createMaps (workers). */
export function openMaps(memory: WebAssembly.Memory, manifestMaps: readonly ManifestMap[], layout: MemoryLayout): MapTable {
  return new MapTable(
    memory,
    SharedHeap.open(memory, layout.heapBase),
    manifestMaps.map((m) => m.placement.handle),
  );
}

export function isMap(x: unknown): x is BaseMap {
  return x instanceof BaseMap;
}
