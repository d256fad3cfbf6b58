// Helpers by their Linux uapi id (include/uapi/linux/bpf.h, `__BPF_FUNC_MAPPER`) and the
// name they are imported under. Names are literal types, so a misspelt helper name is a
// compile error wherever one is written.

export interface HelperInfo {
  id: number;
  name: HelperName;
  /** Number of argument registers the helper reads (r1..rN). */
  args: number;
}

/** Helpers by their Linux uapi id (include/uapi/linux/bpf.h, `__BPF_FUNC_MAPPER`). */
const HELPER_TABLE = [
  { id: 1, name: 'map_lookup_elem', args: 2 },
  { id: 2, name: 'map_update_elem', args: 4 },
  { id: 3, name: 'map_delete_elem', args: 2 },
  { id: 5, name: 'ktime_get_ns', args: 0 },
  { id: 6, name: 'trace_printk', args: 5 },
  { id: 7, name: 'get_prandom_u32', args: 0 },
  { id: 8, name: 'get_smp_processor_id', args: 0 },
  { id: 12, name: 'tail_call', args: 3 },
  { id: 23, name: 'redirect', args: 2 },
  { id: 25, name: 'perf_event_output', args: 5 },
  { id: 28, name: 'csum_diff', args: 5 },
  { id: 42, name: 'get_numa_node_id', args: 0 },
  { id: 44, name: 'xdp_adjust_head', args: 2 },
  { id: 51, name: 'redirect_map', args: 3 },
  { id: 54, name: 'xdp_adjust_meta', args: 2 },
  { id: 65, name: 'xdp_adjust_tail', args: 2 },
  { id: 69, name: 'fib_lookup', args: 4 },
  { id: 87, name: 'map_push_elem', args: 3 },
  { id: 88, name: 'map_pop_elem', args: 2 },
  { id: 89, name: 'map_peek_elem', args: 2 },
  { id: 93, name: 'spin_lock', args: 1 },
  { id: 94, name: 'spin_unlock', args: 1 },
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
  { id: 201, name: 'dynptr_read', args: 5 },
  { id: 202, name: 'dynptr_write', args: 5 },
  { id: 203, name: 'dynptr_data', args: 3 },
] as const;

export type HelperName = (typeof HELPER_TABLE)[number]['name'];
export const HELPERS: readonly HelperInfo[] = HELPER_TABLE;

export const HELPER_BY_ID: ReadonlyMap<number, HelperInfo> = new Map(HELPERS.map((h) => [h.id, h]));
export const HELPER_ID = Object.fromEntries(HELPERS.map((h) => [h.name, h.id])) as Readonly<Record<HelperName, number>>;
