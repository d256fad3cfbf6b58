// A map declared the pre-BTF way: a `struct bpf_map_def` in the "maps" section, as older
// objects (and older katran builds) did. libbpf 1.x no longer loads such objects — it
// refuses the "maps" section outright — but bpf2wasm still reads them, so this example
// keeps that path tested. The struct is written out here because current libbpf headers
// no longer provide it.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

/* Frames seen, keyed by receive queue. */
struct bpf_map_def SEC("maps") queue_packets = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 64,
	.map_flags = 0,
};

/* A one-slot switch: drop everything while slot 0 holds a non-zero value. */
struct bpf_map_def SEC("maps") drop_switch = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 1,
	.map_flags = 0,
};

SEC("xdp")
int legacy_count(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index, zero = 0;
	__u64 one = 1, *seen;
	__u32 *off;

	seen = bpf_map_lookup_elem(&queue_packets, &queue);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&queue_packets, &queue, &one, BPF_NOEXIST);

	off = bpf_map_lookup_elem(&drop_switch, &zero);
	return off && *off ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
