// The kernel half of bpf2wasm's AF_XDP datapath, attached to the interface the runtime
// serves. The host's own traffic stays in the kernel, so ARP, ping and SSH to the
// machine keep working while a userspace program owns the interface: ARP, broadcast and
// multicast frames, IPv6 neighbour discovery, and packets addressed to one of the host's
// addresses (host_v4 / host_v6, filled by the runtime) are passed. Everything else goes to
// the AF_XDP socket of the receiving queue; with no socket on that queue it is passed too.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} host_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct in6_addr);
	__type(value, __u8);
} host_v6 SEC(".maps");

#define IPPROTO_ICMPV6_NUMBER 58

SEC("xdp")
int xdp_prefilter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	/* Group-addressed frames (broadcast, multicast) are the host's business. */
	if (eth->h_dest[0] & 1)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		if (bpf_map_lookup_elem(&host_v4, &ip->daddr))
			return XDP_PASS;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		/* Neighbour discovery must reach the kernel or IPv6 stops resolving. */
		if (ip6->nexthdr == IPPROTO_ICMPV6_NUMBER && ip6->daddr.in6_u.u6_addr8[0] == 0xfe)
			return XDP_PASS;
		if (bpf_map_lookup_elem(&host_v6, &ip6->daddr))
			return XDP_PASS;
	} else {
		return XDP_PASS;
	}
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
