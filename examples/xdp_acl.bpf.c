// A source-address access list: longest-prefix match of the IPv4 or IPv6 source address
// against two LPM tries; the matching entry's value says whether to drop or pass. Frames
// that match nothing, and frames that are not IP, are passed. Drops are counted per
// address family.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Values stored in acl_v4 / acl_v6. */
#define ACL_PASS 0
#define ACL_DROP 1

/* Indices into acl_drops. */
#define DROPS_V4 0
#define DROPS_V6 1

/* LPM trie keys start with the prefix length in bits; the address follows in network order. */
struct acl_key_v4 {
	__u32 prefixlen;
	__u32 addr;
};

struct acl_key_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* The kernel requires BPF_F_NO_PREALLOC for LPM tries. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct acl_key_v4);
	__type(value, __u32);
} acl_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct acl_key_v6);
	__type(value, __u32);
} acl_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} acl_drops SEC(".maps");

static __always_inline int verdict(__u32 *action, __u32 family)
{
	__u64 *drops;

	if (!action || *action != ACL_DROP)
		return XDP_PASS;
	drops = bpf_map_lookup_elem(&acl_drops, &family);
	if (drops)
		__sync_fetch_and_add(drops, 1);
	return XDP_DROP;
}

SEC("xdp")
int xdp_acl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct acl_key_v4 key = { .prefixlen = 32 };

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		key.addr = ip->saddr;
		return verdict(bpf_map_lookup_elem(&acl_v4, &key), DROPS_V4);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct acl_key_v6 key = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(key.addr, &ip6->saddr, sizeof(key.addr));
		return verdict(bpf_map_lookup_elem(&acl_v6, &key), DROPS_V6);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
