// Map types as the kernel numbers them, and one table of what each type is: every
// "is this per-CPU / array-like / LRU / a map of maps" question is answered here, so a new
// map type is one row, not a search through the code base.

/** Linux uapi `enum bpf_map_type` values the project knows by name. */
export const MAP_TYPE = {
  UNSPEC: 0,
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP: 14,
  SOCKMAP: 15,
  CPUMAP: 16,
  XSKMAP: 17,
  SOCKHASH: 18,
  CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  SK_STORAGE: 24,
  DEVMAP_HASH: 25,
  STRUCT_OPS: 26,
  RINGBUF: 27,
  INODE_STORAGE: 28,
  TASK_STORAGE: 29,
  BLOOM_FILTER: 30,
} as const;

export type MapTypeName = keyof typeof MAP_TYPE;

export const MAP_TYPE_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(MAP_TYPE).map(([name, id]) => [id, name.toLowerCase()]),
);

/** Map flags from uapi (`BPF_F_*`) that change behaviour here. */
export const MAP_FLAG = {
  NO_PREALLOC: 1,
  NO_COMMON_LRU: 2,
  NUMA_NODE: 1 << 2,
  RDONLY_PROG: 1 << 7,
  MMAPABLE: 1 << 10,
  INNER_MAP: 1 << 12,
} as const;

/** What every layer needs to know of a map: the numbers `BPF_MAP_CREATE` takes. */
export interface MapShape {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

/** How the runtime stores a map type: one family per storage structure (runtime/maps). */
export type MapFamily = 'array' | 'fd-array' | 'hash' | 'lpm' | 'ringbuf' | 'perf';

export interface MapTraits {
  family: MapFamily;
  /** One value per CPU (worker) behind each key. */
  perCpu: boolean;
  /** Values in one flat block placed at compile time, so a lookup is address arithmetic. */
  arrayLike: boolean;
  /** Full maps evict instead of refusing inserts. */
  lru: boolean;
  /** Values are handles of other maps (inner maps). */
  ofMaps: boolean;
  /** Values are references (program, map, device, socket slots), written by the control plane only. */
  fdValues: boolean;
}

const row = (family: MapFamily, t: Partial<Omit<MapTraits, 'family'>> = {}): MapTraits => ({
  family,
  perCpu: false,
  arrayLike: false,
  lru: false,
  ofMaps: false,
  fdValues: false,
  ...t,
});

/** The map types this project runs, by uapi id. A type absent here is refused at load. */
export const MAP_TRAITS: ReadonlyMap<number, MapTraits> = new Map([
  [MAP_TYPE.ARRAY, row('array', { arrayLike: true })],
  [MAP_TYPE.PERCPU_ARRAY, row('array', { arrayLike: true, perCpu: true })],
  [MAP_TYPE.HASH, row('hash')],
  [MAP_TYPE.PERCPU_HASH, row('hash', { perCpu: true })],
  [MAP_TYPE.LRU_HASH, row('hash', { lru: true })],
  [MAP_TYPE.LRU_PERCPU_HASH, row('hash', { lru: true, perCpu: true })],
  [MAP_TYPE.HASH_OF_MAPS, row('hash', { ofMaps: true, fdValues: true })],
  [MAP_TYPE.DEVMAP_HASH, row('hash', { fdValues: true })],
  [MAP_TYPE.PROG_ARRAY, row('fd-array', { fdValues: true })],
  [MAP_TYPE.ARRAY_OF_MAPS, row('fd-array', { ofMaps: true, fdValues: true })],
  [MAP_TYPE.DEVMAP, row('fd-array', { fdValues: true })],
  [MAP_TYPE.XSKMAP, row('fd-array', { fdValues: true })],
  [MAP_TYPE.CPUMAP, row('fd-array', { fdValues: true })],
  [MAP_TYPE.LPM_TRIE, row('lpm')],
  [MAP_TYPE.RINGBUF, row('ringbuf')],
  [MAP_TYPE.PERF_EVENT_ARRAY, row('perf')],
]);

/** Traits of a map type, or undefined for a type the runtime does not run. */
export const mapTraits = (type: number): MapTraits | undefined => MAP_TRAITS.get(type);

export const isPerCpu = (type: number): boolean => MAP_TRAITS.get(type)?.perCpu ?? false;
export const isArrayLike = (type: number): boolean => MAP_TRAITS.get(type)?.arrayLike ?? false;
export const isLru = (type: number): boolean => MAP_TRAITS.get(type)?.lru ?? false;
export const isOfMaps = (type: number): boolean => MAP_TRAITS.get(type)?.ofMaps ?? false;
