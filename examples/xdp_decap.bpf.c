// SPDX-License-Identifier: MIT
// The real server's side of the load balancer: strips the encapsulation that
// examples/xdp_lb and katran add — IPIP (IPv4 in IPv4), IPv4-in-IPv6 and IPv6-in-IPv6 —
// so the kernel stack sees the client's original packet, addressed to the VIP the server
// holds on its loopback. It stands in for ipip/ip6tnl devices on kernels built without
// them. Only packets whose outer destination is one of this host's decap addresses
// (decap_dst_v4 / decap_dst_v6) are touched; everything else passes unchanged.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IPPROTO_IPIP_NUMBER 4
#define IPPROTO_IPV6_NUMBER 41

enum decap_counter { DECAP_V4 = 0, DECAP_V6 = 1, PASSED = 2, MALFORMED = 3, COUNTERS };

struct counter { __u64 packets; __u64 bytes; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u32); __uint(max_entries, 64); } decap_dst_v4 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct in6_addr); __type(value, __u32); __uint(max_entries, 64); } decap_dst_v6 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, struct counter); __uint(max_entries, COUNTERS); } decap_stats SEC(".maps");

static __always_inline void add(__u32 which, __u64 bytes)
{
	struct counter *c = bpf_map_lookup_elem(&decap_stats, &which);

	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

static __always_inline int count(__u32 which, struct xdp_md *ctx, int action)
{
	add(which, ctx->data_end - ctx->data);
	return action;
}

/* Drop the `outer` bytes after the Ethernet header: the MACs move forward by that much
 * and the EtherType becomes the inner packet's. */
static __always_inline int strip(struct xdp_md *ctx, int outer, __u16 inner_proto, __u32 counter)
{
	struct ethhdr saved;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return count(MALFORMED, ctx, XDP_PASS);
	__u64 arrived = data_end - data;

	__builtin_memcpy(&saved, eth, sizeof(saved));
	if (bpf_xdp_adjust_head(ctx, outer))
		return XDP_DROP;
	/* Counted once the header is gone, with the size the packet arrived with. */
	add(counter, arrived);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, saved.h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_source, saved.h_source, ETH_ALEN);
	eth->h_proto = bpf_htons(inner_proto);
	return XDP_PASS;
}

SEC("xdp")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return count(MALFORMED, ctx, XDP_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return count(MALFORMED, ctx, XDP_PASS);
		if (ip->protocol != IPPROTO_IPIP_NUMBER || !bpf_map_lookup_elem(&decap_dst_v4, &ip->daddr))
			return count(PASSED, ctx, XDP_PASS);
		/* Outer options or fragments are not what a load balancer sends: leave them. */
		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
			return count(MALFORMED, ctx, XDP_PASS);
		if ((void *)(ip + 1) + sizeof(struct iphdr) > data_end)
			return count(MALFORMED, ctx, XDP_PASS);
		return strip(ctx, sizeof(struct iphdr), ETH_P_IP, DECAP_V4);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u16 inner;
		__u32 need;

		if ((void *)(ip6 + 1) > data_end)
			return count(MALFORMED, ctx, XDP_PASS);
		if (ip6->nexthdr == IPPROTO_IPV6_NUMBER) {
			inner = ETH_P_IPV6;
			need = sizeof(struct ipv6hdr);
		} else if (ip6->nexthdr == IPPROTO_IPIP_NUMBER) {
			inner = ETH_P_IP;
			need = sizeof(struct iphdr);
		} else {
			return count(PASSED, ctx, XDP_PASS);
		}
		if (!bpf_map_lookup_elem(&decap_dst_v6, &ip6->daddr))
			return count(PASSED, ctx, XDP_PASS);
		if ((void *)(ip6 + 1) + need > data_end)
			return count(MALFORMED, ctx, XDP_PASS);
		return strip(ctx, sizeof(struct ipv6hdr), inner, DECAP_V6);
	}
	return count(PASSED, ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
