// Not a useful program: a catalogue of every kind of map definition and global data
// that katran's balancer relies on, in one small object, so the loader and the runtime
// can be checked against the kernel on each of them. Two programs in different sections
// share one out-of-line subprogram from .text, as katran's programs share helpers.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 src;
	__u32 dst;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct backend {
	__u32 addr;
	__u16 port;
	__u16 flags;
};

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct prefix_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, struct flow_key);
	__type(value, __u32);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct counters);
} cpu_stats SEC(".maps");

/* katran keeps connection state in LRU maps, one per CPU (BPF_F_NO_COMMON_LRU). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct flow_key);
	__type(value, struct backend);
} conn_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 100);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct prefix_key);
	__type(value, __u32);
} prefixes SEC(".maps");

/* Map-in-map: the outer maps hold inner maps shaped like these templates. */
struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
};

/* Like katran's per-VIP sets: no preallocation, in the template and in the outer map. */
struct inner_set {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
};

/* Like katran's per-CPU connection tables (no flags member at all). */
struct inner_lru {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, struct flow_key);
	__type(value, struct backend);
};

/* A concrete inner map, placed in slot 1 of outer_array when the object loads. */
struct inner_array inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_array SEC(".maps") = {
	.values = { [1] = &inner_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 16);
	__type(key, __u32);
	__array(values, struct inner_lru);
} outer_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__array(values, struct inner_set);
} outer_hash SEC(".maps");

/* Global data: .data (initialised), .rodata (set before load, constant after), .bss. */
int data_seed = 0x1234567;
const volatile __u32 cfg_port = 8080;
__u64 bss_hits;

/*
 * Out of line (.text), called by both programs: each program gets its own copy
 * appended when the object is loaded.
 */
static __noinline int pick_backend(__u32 key)
{
	struct backend *b = bpf_map_lookup_elem(&backends, &key);

	if (!b)
		return -1;
	if (b->port != cfg_port)
		return -1;
	return (int)b->addr;
}

static __always_inline void count(__u32 slot, __u64 bytes)
{
	struct counters *c = bpf_map_lookup_elem(&cpu_stats, &slot);

	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

SEC("xdp")
int zoo_main(struct xdp_md *ctx)
{
	struct flow_key key = { .src = ctx->ingress_ifindex, .proto = 6 };
	struct backend *cached;
	__u32 *idx, zero = 0, one = 1;
	__u64 *slot;
	void *inner;
	__u32 *prefix_hit;
	struct prefix_key pk;

	/* Filled by hand, not by an initialiser, so that no constant template lands in .rodata. */
	__builtin_memset(&pk, 0, sizeof(pk));
	pk.prefixlen = 128;
	count(0, ctx->data_end - ctx->data);
	__sync_fetch_and_add(&bss_hits, 1);

	cached = bpf_map_lookup_elem(&conn_cache, &key);
	if (cached)
		return XDP_TX;

	idx = bpf_map_lookup_elem(&flows, &key);
	if (idx && pick_backend(*idx) >= 0) {
		struct backend b = { .addr = *idx, .port = cfg_port };
		bpf_map_update_elem(&conn_cache, &key, &b, BPF_ANY);
	}

	prefix_hit = bpf_map_lookup_elem(&prefixes, &pk);
	if (prefix_hit)
		return XDP_DROP;

	inner = bpf_map_lookup_elem(&outer_array, &one);
	if (inner) {
		slot = bpf_map_lookup_elem(inner, &zero);
		if (slot) {
			/* Atomics on a map value: add, exchange, compare-and-exchange. */
			__u64 before = __sync_fetch_and_add(slot, 1);
			__u64 swapped = __sync_lock_test_and_set(slot, before + data_seed);
			__sync_val_compare_and_swap(slot, swapped, 0);
		}
	}

	inner = bpf_map_lookup_elem(&outer_hash, &zero);
	if (inner && bpf_map_lookup_elem(inner, &key.src))
		return XDP_DROP;

	inner = bpf_map_lookup_elem(&outer_lru, &zero);
	if (inner && bpf_map_lookup_elem(inner, &key))
		return XDP_TX;
	return XDP_PASS;
}

SEC("xdp.frags")
int zoo_second(struct xdp_md *ctx)
{
	count(1, ctx->data_end - ctx->data);
	data_seed += 1;
	return pick_backend(ctx->rx_queue_index) >= 0 ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
