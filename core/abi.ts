// The contract between compiled modules and the runtime, in one place: helper ids and
// their import names, the linear-memory layout, the exports, and the manifest that the
// compiler writes into a custom section. docs/abi.md explains the choices.

import { MAP_TYPE, type MapSpec, type TypeLayout } from './model.js';
import { UserError } from './errors.js';

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

export interface HelperInfo {
  id: number;
  name: string;
  /** Number of argument registers the helper reads (r1..rN). */
  args: number;
}

/** Helpers by their Linux uapi id (include/uapi/linux/bpf.h, `__BPF_FUNC_MAPPER`). */
export const HELPERS: readonly HelperInfo[] = [
  { id: 1, name: 'map_lookup_elem', args: 2 },
  { id: 2, name: 'map_update_elem', args: 4 },
  { id: 3, name: 'map_delete_elem', args: 2 },
  { id: 5, name: 'ktime_get_ns', args: 0 },
  { id: 6, name: 'trace_printk', args: 5 },
  { id: 7, name: 'get_prandom_u32', args: 0 },
  { id: 8, name: 'get_smp_processor_id', args: 0 },
  { id: 12, name: 'tail_call', args: 3 },
  { id: 23, name: 'redirect', args: 2 },
  { id: 28, name: 'csum_diff', args: 5 },
  { id: 42, name: 'get_numa_node_id', args: 0 },
  { id: 44, name: 'xdp_adjust_head', args: 2 },
  { id: 51, name: 'redirect_map', args: 3 },
  { id: 54, name: 'xdp_adjust_meta', args: 2 },
  { id: 65, name: 'xdp_adjust_tail', args: 2 },
  { id: 87, name: 'map_push_elem', args: 3 },
  { id: 88, name: 'map_pop_elem', args: 2 },
  { id: 89, name: 'map_peek_elem', args: 2 },
  { id: 118, name: 'jiffies64', args: 0 },
  { id: 125, name: 'ktime_get_boot_ns', args: 0 },
  { id: 130, name: 'ringbuf_output', args: 4 },
  { id: 131, name: 'ringbuf_reserve', args: 3 },
  { id: 132, name: 'ringbuf_submit', args: 2 },
  { id: 133, name: 'ringbuf_discard', args: 2 },
  { id: 134, name: 'ringbuf_query', args: 2 },
  { id: 160, name: 'ktime_get_coarse_ns', args: 0 },
  { id: 181, name: 'loop', args: 4 },
  { id: 188, name: 'xdp_get_buff_len', args: 1 },
  { id: 189, name: 'xdp_load_bytes', args: 4 },
  { id: 190, name: 'xdp_store_bytes', args: 4 },
  { id: 195, name: 'map_lookup_percpu_elem', args: 3 },
];

export const HELPER_BY_ID: ReadonlyMap<number, HelperInfo> = new Map(HELPERS.map((h) => [h.id, h]));
export const HELPER_ID = Object.fromEntries(HELPERS.map((h) => [h.name, h.id])) as Record<string, number>;

// ---------------------------------------------------------------------------------------
// Imports and exports
// ---------------------------------------------------------------------------------------

/** Import module of the shared memory and of runtime services. */
export const ENV_MODULE = 'env';
export const MEMORY_IMPORT = 'memory';
/** Import module of helpers; each helper is imported as `helpers.<name>` (see HELPERS). */
export const HELPER_MODULE = 'helpers';
/**
 * Every helper import has the signature (i64 r1, i64 r2, i64 r3, i64 r4, i64 r5) -> i64,
 * whatever its argument count, so that a helper can be bound to JS or to another wasm
 * module's export without per-helper glue.
 */
export const HELPER_PARAMS = 5;
/**
 * Hot helpers skip the BigInt crossing: their imports take i32 arguments (pointers are
 * 32-bit in this memory model) and return i32, which codegen widens as `result` says —
 * `pointer` zero-extends, `int` sign-extends (0 / -errno). A flags argument above 32 bits
 * reaches the runtime as 0xffffffff, which no helper accepts, so such calls still fail.
 */
export const I32_HELPERS: Readonly<Record<string, { args: number; result: 'pointer' | 'int'; /** Register holding flags. */ flagsArg?: number }>> = {
  map_lookup_elem: { args: 2, result: 'pointer' },
  map_update_elem: { args: 4, result: 'int', flagsArg: 4 },
  map_delete_elem: { args: 2, result: 'int' },
  xdp_adjust_head: { args: 2, result: 'int' },
  xdp_adjust_meta: { args: 2, result: 'int' },
  xdp_adjust_tail: { args: 2, result: 'int' },
};

/**
 * Map memory layout shared by runtime/maps (which builds the maps) and the compiled
 * module's own hash-map lookup (codegen-maps.ts): the 64-byte descriptor a map handle
 * points at, and a hash-family entry. runtime/maps/descriptor.ts and hash.ts explain them.
 */
export const DESC_MAGIC = 0x4450414d; // 'MAPD'
export const DESC_WORD = {
  LOCK: 0, MAGIC: 1, TYPE: 2, KEY: 3, VALUE: 4, MAX: 5, FLAGS: 6, HEAP: 7, COUNT: 8, NAME: 9,
  F0: 10, F1: 11, F2: 12, F3: 13, F4: 14, F5: 15,
} as const;
/**
 * The map lock (DESC_WORD.LOCK) holds its owner, never a bare 1, so that the runtime can
 * release what a trapped packet left held: a compiled module's own map code writes
 * `lockOwnerOfCpu(cpu)` (its worker's CPU + 1), JS code a negative per-thread token.
 * Spinning gives up after LOCK_SPIN_LIMIT attempts (the operation returns -EBUSY, as the
 * kernel's hash maps may), so no thread waits forever on an owner that died.
 */
export const lockOwnerOfCpu = (cpu: number): number => cpu + 1;
export const LOCK_SPIN_LIMIT = 1 << 24;
export const EBUSY = -16;
/** Hash family: descriptor words 10-15. */
export const HASH_DESC = { BUCKETS: 10, MASK: 11, ENTRY_SIZE: 12, POOL: 13, LRU_HEAD: 14, LRU_TAIL: 15 } as const;
/** Hash family: entry fields (byte offsets); the value follows the key padded to 8. */
export const HASH_ENTRY = { NEXT: 0, HASH: 4, PREV: 8, LNEXT: 12, KEY: 16 } as const;
/** HASH_ENTRY.PREV of an entry that is on the free list. */
export const HASH_ENTRY_DEAD = -1;
/** PROG_ARRAY / ARRAY_OF_MAPS / DEVMAP / XSKMAP: storage and slot size; a slot is a presence word, then the value at +8. */
export const FD_ARRAY_DESC = { STORAGE: 10, SLOT: 11 } as const;
export const FD_ARRAY_VALUE_OFF = 8;
/**
 * Each program is also exported as `<export>${ENTRY32_SUFFIX}`: the same entry returning
 * r0's low 32 bits as an i32, which is all an XDP verdict needs; it spares the JS caller
 * the BigInt an i64 result costs on every packet.
 */
export const ENTRY32_SUFFIX = '$r0_32';

/** `callx`: a call to the helper whose id is in a register: (i64 id, r1..r5) -> i64. */
export const CALLX_IMPORT = 'callx';
/** Fault raised by compiled code: (i32 kind, i32 pc) -> never returns (throws). */
export const FAULT_IMPORT = 'fault';

export const FAULT = { BUDGET: 1, UNKNOWN_HELPER: 2, DIV_BY_ZERO: 3, BAD_CALL: 4, BAD_POINTER: 5 } as const;
export const FAULT_NAME: Record<number, string> = {
  [FAULT.BUDGET]: 'instruction budget exhausted',
  [FAULT.BAD_POINTER]: 'helper pointer argument outside memory',
  [FAULT.UNKNOWN_HELPER]: 'unknown helper',
  [FAULT.DIV_BY_ZERO]: 'division by zero',
  [FAULT.BAD_CALL]: 'bad call target',
};

/**
 * Per-instance set-up, exported by every module: (i32 cpu, i32 stackTop, i32 budget).
 * `cpu` is what get_smp_processor_id returns and selects per-CPU slots; `stackTop` is the
 * address one past the worker's stack area (MAX_CALL_DEPTH frames); `budget` bounds the
 * back-edges one run may take (0 = unlimited).
 */
export const INIT_EXPORT = 'bpf2wasm_init';
/** Each program is exported under its name as (i32 r1, i32 r2) -> i64 (r0 at exit). */

// ---------------------------------------------------------------------------------------
// Memory layout
// ---------------------------------------------------------------------------------------

export const STACK_FRAME = 512;
export const MAX_CALL_DEPTH = 8;
/** Bytes of stack a worker needs: one frame per call level. */
export const STACK_AREA = STACK_FRAME * MAX_CALL_DEPTH;
export const WASM_PAGE = 65536;
/** Addresses below this are never handed out, so 0 is NULL and small offsets from it are too. */
export const NULL_PAGE = WASM_PAGE;
/** Map descriptors: the value a program holds for a map is the address of its descriptor. */
export const MAP_DESC_BASE = NULL_PAGE;
export const MAP_DESC_SIZE = 64;
/** Room for static maps plus inner maps created at run time. */
export const MAP_DESC_COUNT = 4096;
/** Per-CPU storage is laid out for this many CPUs (workers) unless the compiler is told otherwise. */
export const DEFAULT_MAX_CPUS = 16;
/** Maximum of the shared memory: the whole 32-bit space. */
export const MAX_PAGES = 65536;

/** Where a map lives. Array-like maps get storage at compile time; others at run time. */
export interface MapPlacement {
  /** Address of the descriptor (the map's handle inside programs). */
  handle: number;
  /** Address of the first value for array-like maps (array, percpu_array, global data). */
  storage?: number;
  /** Bytes between consecutive values (value size rounded up to 8). */
  valueStride?: number;
  /** Bytes between CPUs' copies for per-CPU arrays (maxEntries * valueStride). */
  cpuStride?: number;
}

export interface MemoryLayout {
  nullPage: number;
  descBase: number;
  descSize: number;
  descCount: number;
  maxCpus: number;
  /** First address the runtime may allocate from (stacks, packets, hash maps, inner maps). */
  heapBase: number;
  /** Initial size of the shared memory in wasm pages (covers everything placed statically). */
  initialPages: number;
  maxPages: number;
}

export const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/** Maps whose values live in one flat, statically placed block. */
export function isArrayLike(type: number): boolean {
  return type === MAP_TYPE.ARRAY || type === MAP_TYPE.PERCPU_ARRAY;
}

export function isPerCpu(type: number): boolean {
  return type === MAP_TYPE.PERCPU_ARRAY || type === MAP_TYPE.PERCPU_HASH || type === MAP_TYPE.LRU_PERCPU_HASH;
}

/** Decide the static layout: descriptors, then array storage, then the heap. */
export function planMemory(maps: readonly MapSpec[], maxCpus = DEFAULT_MAX_CPUS): {
  layout: MemoryLayout;
  placements: MapPlacement[];
} {
  if (maps.length > MAP_DESC_COUNT) throw new UserError(`too many maps: ${maps.length} > ${MAP_DESC_COUNT}`);
  let cursor = MAP_DESC_BASE + MAP_DESC_SIZE * MAP_DESC_COUNT;
  const placements = maps.map((m, index): MapPlacement => {
    const handle = MAP_DESC_BASE + index * MAP_DESC_SIZE;
    if (!isArrayLike(m.type)) return { handle };
    const valueStride = align(Math.max(m.valueSize, 1), 8);
    const cpus = m.type === MAP_TYPE.PERCPU_ARRAY ? maxCpus : 1;
    const cpuStride = valueStride * m.maxEntries;
    cursor = align(cursor, 64);
    const storage = cursor;
    cursor += cpuStride * cpus;
    if (cursor > 2 ** 32 - 2 ** 28) throw new UserError(`map ${m.name}: ${m.maxEntries} entries of ${m.valueSize} bytes do not fit in 4 GiB of linear memory`);
    return { handle, storage, valueStride, cpuStride };
  });
  const heapBase = align(cursor, WASM_PAGE);
  return {
    layout: {
      nullPage: NULL_PAGE,
      descBase: MAP_DESC_BASE,
      descSize: MAP_DESC_SIZE,
      descCount: MAP_DESC_COUNT,
      maxCpus,
      heapBase,
      initialPages: heapBase / WASM_PAGE + 16,
      maxPages: MAX_PAGES,
    },
    placements,
  };
}

// ---------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------

export const MANIFEST_SECTION = 'bpf2wasm.manifest';
export const MANIFEST_VERSION = 2;

export interface ManifestMap {
  name: string;
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  section: string;
  key?: TypeLayout;
  value?: TypeLayout;
  inner?: Omit<ManifestMap, 'placement' | 'inner' | 'initialData' | 'initialSlots'>;
  initialSlots?: { index: number; target: string }[];
  /** Base64 of the initial value of a global-data map. */
  initialData?: string;
  placement: MapPlacement;
}

export interface ManifestProgram {
  name: string;
  section: string;
  /** Export name of the entry function. */
  export: string;
  insnCount: number;
  helpers: number[];
  /** Index of this program in the module's function table (tail calls). */
  tableIndex: number;
  /**
   * The verified, relocated BPF code (base64 of the 8-byte slots) and its functions, so
   * the reference interpreter can run a module without the original object.
   */
  code: string;
  funcs: { name: string; start: number }[];
}

export interface Manifest {
  version: number;
  source: string;
  license: string;
  layout: MemoryLayout;
  maps: ManifestMap[];
  programs: ManifestProgram[];
  /** Union of helper ids used by all programs. */
  helpers: number[];
}
