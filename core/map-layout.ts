// The layout of map structures in linear memory, shared by runtime/maps (which builds and
// updates the maps) and the compiled module's own map code (compiler/codegen-maps.ts):
// the 64-byte descriptor a map handle points at, a hash-family entry, a node pool, and an
// fd-array slot. runtime/maps/descriptor.ts, hash.ts and pool.ts explain them.

export const DESC_MAGIC = 0x4450414d; // 'MAPD'
export const DESC_WORD = {
  LOCK: 0,
  MAGIC: 1,
  TYPE: 2,
  KEY: 3,
  VALUE: 4,
  MAX: 5,
  FLAGS: 6,
  HEAP: 7,
  COUNT: 8,
  NAME: 9,
  F0: 10,
  F1: 11,
  F2: 12,
  F3: 13,
  F4: 14,
  F5: 15,
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
/**
 * Hash family: descriptor words 10-15. LRU maps keep the address of their LRU state
 * (LRU_STATE) in word 14; HASH_OF_MAPS, never LRU, keeps its inner-map template
 * (INNER_TEMPLATE_WORDS) there instead; runtime only. A HASH map keeps there the address of
 * its spare entries (SPARES: one word per CPU, then the control plane's, each filled from
 * the pool at creation), the kernel's extra_elems: an update of an existing key fills the updating CPU's spare, which
 * replaces the old entry, and the old entry becomes the spare. A HASH map whose value holds
 * a bpf_spin_lock keeps its offset + 1 in word 15 (0: none): compiled updates leave such
 * maps to the runtime, which copies values around the lock word.
 */
export const HASH_DESC = {
  BUCKETS: 10,
  MASK: 11,
  ENTRY_SIZE: 12,
  POOL: 13,
  LRU: 14,
  INNER_TEMPLATE: 14,
  SPARES: 14,
  SPIN_LOCK: 15,
} as const;
/**
 * Hash family: entry fields (byte offsets); the value follows the key padded to 8. PREV and
 * LNEXT link an LRU map's entry into one of its lists (circular, as the kernel's list_head);
 * LRU_REF, LRU_TYPE (LRU_LIST_TYPE) and LRU_CPU are the kernel's bpf_lru_node fields.
 */
export const HASH_ENTRY = { NEXT: 0, HASH: 4, PREV: 8, LNEXT: 12, LRU_REF: 16, LRU_TYPE: 17, LRU_CPU: 18, KEY: 24 } as const;
/** HASH_ENTRY.PREV of an entry that is on the free list. */
export const HASH_ENTRY_DEAD = -1;
/**
 * LRU maps (runtime/maps/lru.ts, the kernel's bpf_lru_list.c algorithm): the state block
 * word 14 points at. A list head is two words (prev, next) at the offsets given here; the
 * head's address minus LRU_SENTINEL is its sentinel "entry", so that heads and entries link
 * through the same PREV/LNEXT fields. The common LRU is one global list (LRU_LIST) at
 * LISTS followed by one LRU_LOCAL per CPU; BPF_F_NO_COMMON_LRU keeps one LRU_LIST per CPU.
 */
export const LRU_STATE = { CPUS: 0, TARGET_FREE: 4, PERCPU: 8, NR_SCANS: 12, LISTS: 16 } as const;
export const LRU_LIST = {
  ACTIVE: 0,
  INACTIVE: 8,
  FREE: 16,
  COUNT_ACTIVE: 24,
  COUNT_INACTIVE: 28,
  NEXT_ROTATION: 32,
  UNCARVED: 36,
  BYTES: 40,
} as const;
export const LRU_LOCAL = { FREE: 0, PENDING: 8, NEXT_STEAL: 16, BYTES: 24 } as const;
/** Offset of a list head's prev word from its sentinel entry (HASH_ENTRY.PREV). */
export const LRU_SENTINEL = 8;
/** The kernel's enum bpf_lru_list_type: where an LRU entry is (HASH_ENTRY.LRU_TYPE). */
export const LRU_LIST_TYPE = { ACTIVE: 0, INACTIVE: 1, FREE: 2, LOCAL_FREE: 3, LOCAL_PENDING: 4 } as const;

/**
 * PROG_ARRAY / ARRAY_OF_MAPS / DEVMAP / XSKMAP: storage and slot size; a slot is a presence
 * word, then the value at +8. ARRAY_OF_MAPS: address of its inner-map template (runtime only).
 */
export const FD_ARRAY_DESC = { STORAGE: 10, SLOT: 11, INNER_TEMPLATE: 12 } as const;
/**
 * A map-in-map's inner-map template on the heap, as the kernel keeps inner_map_meta: what
 * a map must be to go into a slot. Words: type, key size, value size, max_entries, flags.
 */
export const INNER_TEMPLATE_WORDS = 5;
export const FD_ARRAY_VALUE_OFF = 8;

/**
 * A node pool's header (runtime/maps/pool.ts), in 32-bit words: free-list head, next
 * uncarved node, end of the current chunk, nodes carved, capacity in nodes, node size.
 */
export const POOL_WORD = { FREE: 0, NEXT: 1, END: 2, CARVED: 3, CAPACITY: 4, SIZE: 5 } as const;
export const POOL_BYTES = 24;
