// The contract between the katran control plane and whatever holds the maps: our
// userspace runtime or the kernel (through libbpf). Keys and values are raw bytes in the
// layouts of structs.ts; maps are named as in the object's `.maps` section.

import { MAP_FLAG, MAP_TYPE, type MapShape } from '../../core/map-types.js';

export interface InnerMapSpec extends MapShape {
  /** Name for introspection (katran names per-core LRUs katran_lru<core>). */
  name: string;
  /** NUMA node to allocate on, with MAP_FLAG.NUMA_NODE in flags. */
  numaNode?: number;
}

/** A map created at run time (an inner map of a map-in-map); opaque to the control plane. */
export interface InnerMapHandle {
  readonly innerMap: number;
}

/** A map of the object, by name, or an inner map. */
export type MapRef = string | InnerMapHandle;

export interface KatranMaps {
  /** CPUs a per-CPU lookup reports (the kernel's possible CPUs). */
  readonly possibleCpus: number;
  /** Shape of a map of the loaded object, or undefined if the object has no such map. */
  describe(map: string): MapShape | undefined;
  lookup(map: MapRef, key: Uint8Array): Uint8Array | undefined;
  /** Inserts or replaces (BPF_ANY). Throws if the backend refuses. */
  update(map: MapRef, key: Uint8Array, value: Uint8Array): void;
  /**
   * `count` updates at once, keys and values packed back to back (the layout of the
   * kernel's BPF_MAP_UPDATE_BATCH); keys are distinct, order is irrelevant.
   */
  updateBatch(map: MapRef, keys: Uint8Array, values: Uint8Array, count: number): void;
  /** Returns false if the key was absent. */
  delete(map: MapRef, key: Uint8Array): boolean;
  /** Per-CPU maps: one value (valueSize bytes) per possible CPU, or undefined if absent. */
  lookupPerCpu(map: string, key: Uint8Array): Uint8Array[] | undefined;
  createMap(spec: InnerMapSpec): InnerMapHandle;
  /** Map-in-map: makes `inner` the value at `key` (the kernel stores the map behind an fd). */
  setInnerMap(outer: string, key: Uint8Array, inner: InnerMapHandle): void;
  getInnerMap(outer: string, key: Uint8Array): InnerMapHandle | undefined;
}

/** katran's maps in the default build (KATRAN.md section 1). */
export const KATRAN_MAP_SHAPES: Readonly<Record<string, MapShape>> = {
  stats: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1024, flags: 0 },
  ctl_array: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0 },
  vip_map: { type: MAP_TYPE.HASH, keySize: 20, valueSize: 8, maxEntries: 512, flags: 0 },
  fallback_cache: { type: MAP_TYPE.LRU_HASH, keySize: 40, valueSize: 16, maxEntries: 1000, flags: 0 },
  lru_mapping: { type: MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 128, flags: 0 },
  ch_rings: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 512 * 65537, flags: 0 },
  reals: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 20, maxEntries: 4096, flags: 0 },
  reals_stats: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 16, maxEntries: 4096, flags: 0 },
  lru_miss_stats: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4096, flags: 0 },
  vip_miss_stats: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 20, maxEntries: 1, flags: 0 },
  quic_stats_map: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 104, maxEntries: 1, flags: 0 },
  stable_rt_stats: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 40, maxEntries: 1, flags: 0 },
  decap_vip_stats: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 16, maxEntries: 512, flags: 0 },
  server_id_map: { type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 0xfffffe, flags: 0 },
  tpr_stats_map: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 32, maxEntries: 1, flags: 0 },
  server_id_stats: { type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 16, maxEntries: 512, flags: 0 },
  vip_to_down_reals_map: {
    type: MAP_TYPE.HASH_OF_MAPS,
    keySize: 20,
    valueSize: 4,
    maxEntries: 512,
    flags: MAP_FLAG.NO_PREALLOC,
  },
};
