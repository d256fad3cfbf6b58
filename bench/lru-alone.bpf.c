// The connection-table step of a load balancer and nothing else, for bench/ab-bench.ts: a
// 40-byte key (bytes 14-53 of the frame: an IPv4 header and the start of TCP's, so one per
// flow) looked up in a 1,000-entry LRU_HASH and inserted when missing — with more flows
// than entries, every packet is a miss, an insert and an eviction.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key { __u8 b[40]; };
struct value { __u64 real, atime; };

struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, struct key); __type(value, struct value); __uint(max_entries, 1000); } table SEC(".maps");

SEC("xdp")
int lru_alone(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct key key;
	struct value fresh = { 1, 0 };

	if (data + 14 + sizeof(key) > end)
		return XDP_PASS;
	__builtin_memcpy(&key, data + 14, sizeof(key));
	if (bpf_map_lookup_elem(&table, &key))
		return XDP_TX;
	bpf_map_update_elem(&table, &key, &fresh, BPF_ANY);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
