// Count frames and bytes per protocol class in a per-CPU array, plus a running total of
// all frames in a global variable (.bss) shared by every CPU, which therefore needs an
// atomic add. Every frame is passed on.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Index into proto_stats. */
enum proto_class {
	CLASS_OTHER = 0, /* IPv4/IPv6 with another transport, or a truncated IP header */
	CLASS_TCP = 1,
	CLASS_UDP = 2,
	CLASS_ICMP = 3,  /* ICMP over IPv4 and ICMPv6 */
	CLASS_NON_IP = 4, /* ARP, anything that is not IPv4/IPv6, runt frames */
	CLASS_COUNT = 5,
};

struct proto_counters {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CLASS_COUNT);
	__type(key, __u32);
	__type(value, struct proto_counters);
} proto_stats SEC(".maps");

/* Zero-initialised, so clang places it in .bss. */
__u64 total_packets = 0;

static __always_inline __u32 class_of(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP: return CLASS_TCP;
	case IPPROTO_UDP: return CLASS_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return CLASS_ICMP;
	default: return CLASS_OTHER;
	}
}

static __always_inline __u32 classify(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return CLASS_NON_IP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return CLASS_OTHER;
		return class_of(ip->protocol);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return CLASS_OTHER;
		return class_of(ip6->nexthdr);
	}
	return CLASS_NON_IP;
}

SEC("xdp")
int xdp_counter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = classify(data, data_end);
	struct proto_counters *c = bpf_map_lookup_elem(&proto_stats, &key);

	if (c) {
		/* Per-CPU value: no other CPU writes it, plain adds are enough. */
		c->packets += 1;
		c->bytes += data_end - data;
	}
	__sync_fetch_and_add(&total_packets, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
