// SPDX-License-Identifier: MIT
// A compact L4 load balancer written for bpf2wasm. It shares katran's map names, key and
// value layouts and flow hashing (see ../shared/KATRAN.md), so katran's control plane
// (runtime/katran/) provisions it unchanged and the same flow reaches the same real —
// but it is our own, much smaller program: IPv4/IPv6, TCP/UDP, per-CPU LRU or fallback
// LRU, Maglev ring lookup, IPIP / IPv6-in-IPv6 encapsulation, counters, source routing
// (VIPs flagged SRC_ROUTING send clients matching an lpm_src_v4 / lpm_src_v6 network to
// the real stored there) and inline decapsulation (IPIP / IPv6 tunnel packets to a
// decap_dst address lose their outer header). No ICMP or QUIC. Unlike katran, a
// decapsulated packet goes to the kernel (XDP_PASS) rather than back through the
// balancer, and tunnel packets to other addresses pass untouched.
//
// Sizes are smaller than katran's: 16 VIPs (rings of 65537 slots each), 64 reals, 256
// source-routing networks per family.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_VIPS 16
#define MAX_REALS 64
#define RING_SIZE 65537
/* katran's hash seeds (512 VIPs x 65537 slots, and 512), kept so flows map as in katran. */
#define HASH_SEED_PORTS (512u * 65537u)
#define HASH_SEED_V6 512u
#define LRU_SIZE 1000
#define F_HASH_NO_SRC_PORT 1
#define F_LRU_BYPASS 2
#define F_SRC_ROUTING 16
#define MAX_LPM_SRC 256
#define REAL_F_IPV6 1
/* Global counters in `stats`, after the per-VIP slots (katran's offsets). */
#define LRU_CNTRS (MAX_VIPS + 0)
#define LRU_MISS_CNTR (MAX_VIPS + 1)
#define FALLBACK_LRU (MAX_VIPS + 3)
#define LPM_SRC_CNTRS (MAX_VIPS + 5) /* v1: no network matched, v2: routed by a rule */
#define REMOTE_ENCAP_CNTRS (MAX_VIPS + 6) /* v1: tunnel packets to a decap destination */
#define DECAP_CNTR (MAX_VIPS + 10) /* v1 / v2: decapsulated from an IPv4 / IPv6 outer header */

struct vip_definition { __u8 addr[16]; __be16 port; __u8 proto; __u8 pad; };
struct vip_meta { __u32 flags; __u32 vip_num; };
struct real_definition { __u8 addr[16]; __u8 flags; __u8 pad[3]; };
struct flow_key { __u8 src[16]; __u8 dst[16]; __be16 sport; __be16 dport; __u8 proto; __u8 pad[3]; };
struct real_pos_lru { __u32 pos; __u32 pad; __u64 atime; };
struct ctl_value { __u8 mac[8]; };
struct lb_stats { __u64 v1; __u64 v2; };
/* LPM keys: prefix length, then the address in network order. */
struct v4_lpm_key { __u32 prefixlen; __be32 addr; };
struct v6_lpm_key { __u32 prefixlen; __u8 addr[16]; };
/* An address in katran's 16-byte form (IPv4 in the first 4 bytes). */
struct address { __u8 addr[16]; };

/* The LRU shape: per-CPU inner maps of lru_mapping, and fallback_cache. Sizes are given
 * as numbers because clang leaves types only reachable through __array() as forward
 * declarations in BTF. */
struct lru_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(key_size, sizeof(struct flow_key));
	__uint(value_size, sizeof(struct real_pos_lru));
	__uint(max_entries, LRU_SIZE);
};

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct vip_definition); __type(value, struct vip_meta); __uint(max_entries, MAX_VIPS); } vip_map SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct real_definition); __uint(max_entries, MAX_REALS); } reals SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, MAX_VIPS * RING_SIZE); } ch_rings SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __type(key, __u32); __type(value, __u32); __uint(max_entries, 128); __array(values, struct lru_map); } lru_mapping SEC(".maps");
struct lru_map fallback_cache SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct ctl_value); __uint(max_entries, 16); } ctl_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, struct lb_stats); __uint(max_entries, MAX_VIPS * 2); } stats SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, struct lb_stats); __uint(max_entries, MAX_REALS); } reals_stats SEC(".maps");
/* Source routing: client network -> real index. */
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __type(key, struct v4_lpm_key); __type(value, __u32); __uint(max_entries, MAX_LPM_SRC); __uint(map_flags, BPF_F_NO_PREALLOC); } lpm_src_v4 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __type(key, struct v6_lpm_key); __type(value, __u32); __uint(max_entries, MAX_LPM_SRC); __uint(map_flags, BPF_F_NO_PREALLOC); } lpm_src_v6 SEC(".maps");
/* Inline decapsulation: outer destination -> flags (0 = inline decap). */
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct address); __type(value, __u32); __uint(max_entries, MAX_VIPS); } decap_dst SEC(".maps");

/* Bob Jenkins' lookup3 as the Linux kernel's jhash.h has it. */
static __always_inline __u32 rol32(__u32 w, int s) { return (w << s) | (w >> (32 - s)); }
#define JHASH_INITVAL 0xdeadbeef
#define jmix(a, b, c) { \
	a -= c; a ^= rol32(c, 4); c += b; b -= a; b ^= rol32(a, 6); a += c; \
	c -= b; c ^= rol32(b, 8); b += a; a -= c; a ^= rol32(c, 16); c += b; \
	b -= a; b ^= rol32(a, 19); a += c; c -= b; c ^= rol32(b, 4); b += a; }
#define jfinal(a, b, c) { \
	c ^= b; c -= rol32(b, 14); a ^= c; a -= rol32(c, 11); b ^= a; b -= rol32(a, 25); \
	c ^= b; c -= rol32(b, 16); a ^= c; a -= rol32(c, 4); b ^= a; b -= rol32(a, 14); \
	c ^= b; c -= rol32(b, 24); }

static __always_inline __u32 jhash_2words(__u32 a, __u32 b, __u32 seed)
{
	__u32 iv = seed + JHASH_INITVAL + (2 << 2);
	__u32 c = iv;
	a += iv;
	b += iv;
	jfinal(a, b, c);
	return c;
}

static __always_inline __u32 jhash_16(const __u32 *k, __u32 seed)
{
	__u32 a, b, c;
	a = b = c = JHASH_INITVAL + 16 + seed;
	a += k[0]; b += k[1]; c += k[2];
	jmix(a, b, c);
	a += k[3];
	jfinal(a, b, c);
	return c;
}

static __always_inline void count(__u32 index, __u64 v1, __u64 v2)
{
	struct lb_stats *s = bpf_map_lookup_elem(&stats, &index);
	if (s) { s->v1 += v1; s->v2 += v2; }
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * A tunnel packet (outer IPv4 carrying IPv4, or outer IPv6 carrying IPv4 or IPv6) sent to
 * a decap_dst address: the inner TTL / hop limit drops by one (a packet reaching zero is
 * dropped), the outer IP header goes, and the kernel gets the inner packet. Tunnel packets
 * to other addresses pass as they are.
 */
static __always_inline int decap_inline(struct xdp_md *ctx, const struct flow_key *outer, __u32 outer_v6)
{
	struct address dst = {};
	__builtin_memcpy(dst.addr, outer->dst, 16);
	if (!bpf_map_lookup_elem(&decap_dst, &dst))
		return XDP_PASS;
	count(REMOTE_ENCAP_CNTRS, 1, 0);
	if (!outer_v6 && outer->proto != IPPROTO_IPIP)
		return XDP_PASS;
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 outer_len = outer_v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	struct ethhdr *eth = data;
	void *inner = data + sizeof(struct ethhdr) + outer_len;
	__u32 inner_v6 = outer->proto == IPPROTO_IPV6;
	if (inner_v6) {
		struct ipv6hdr *ip6 = inner;
		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		if (--ip6->hop_limit == 0)
			return XDP_DROP;
	} else {
		struct iphdr *ip = inner;
		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		/* TTL is the high byte of its header word: one less there is 0x0100 more in the
		 * checksum, added with the end-around carry. */
		__u32 check = ip->check + bpf_htons(0x0100);
		ip->check = (check & 0xffff) + (check >> 16);
		if (--ip->ttl == 0)
			return XDP_DROP;
	}
	/* The Ethernet header moves forward over the outer IP header. */
	struct ethhdr *moved = (void *)eth + outer_len;
	__u8 macs[12];
	__builtin_memcpy(macs, eth, 12);
	__builtin_memcpy(moved, macs, 12);
	moved->h_proto = inner_v6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	if (bpf_xdp_adjust_head(ctx, (int)outer_len))
		return XDP_DROP;
	count(DECAP_CNTR, !outer_v6, outer_v6);
	return XDP_PASS;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct flow_key flow = {};
	struct vip_definition vip = {};
	__u32 pkt_bytes, tos, is_v6, is_syn = 0;
	__u8 old_dst_mac[6];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
			return XDP_DROP;
		is_v6 = 0;
		tos = ip->tos;
		pkt_bytes = bpf_ntohs(ip->tot_len);
		flow.proto = ip->protocol;
		__builtin_memcpy(flow.src, &ip->saddr, 4);
		__builtin_memcpy(flow.dst, &ip->daddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		is_v6 = 1;
		tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		pkt_bytes = bpf_ntohs(ip6->payload_len);
		flow.proto = ip6->nexthdr;
		__builtin_memcpy(flow.src, &ip6->saddr, 16);
		__builtin_memcpy(flow.dst, &ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	if (flow.proto == IPPROTO_IPIP || flow.proto == IPPROTO_IPV6)
		return decap_inline(ctx, &flow, is_v6);
	void *l4 = (void *)(eth + 1) + (is_v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr));
	if (flow.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return XDP_DROP;
		flow.sport = tcp->source;
		flow.dport = tcp->dest;
		is_syn = tcp->syn;
	} else if (flow.proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return XDP_DROP;
		flow.sport = udp->source;
		flow.dport = udp->dest;
	} else {
		return XDP_PASS;
	}

	__builtin_memcpy(vip.addr, flow.dst, 16);
	vip.port = flow.dport;
	vip.proto = flow.proto;
	struct vip_meta *meta = bpf_map_lookup_elem(&vip_map, &vip);
	if (!meta) {
		vip.port = 0;
		meta = bpf_map_lookup_elem(&vip_map, &vip);
		if (!meta)
			return XDP_PASS;
		flow.dport = 0;
	}
	__u32 vip_num = meta->vip_num, vip_flags = meta->flags;
	if (vip_num >= MAX_VIPS)
		return XDP_DROP;
	count(LRU_CNTRS, 1, 0);
	__be16 saved_sport = flow.sport;
	if (vip_flags & F_HASH_NO_SRC_PORT) {
		flow.sport = 0;
		saved_sport = 0;
	}

	__u32 cpu = bpf_get_smp_processor_id();
	void *lru = bpf_map_lookup_elem(&lru_mapping, &cpu);
	if (!lru) {
		lru = &fallback_cache;
		count(FALLBACK_LRU, 1, 0);
	}
	__u32 real_index = 0;
	struct real_pos_lru *cached = 0;
	if (!is_syn && !(vip_flags & F_LRU_BYPASS))
		cached = bpf_map_lookup_elem(lru, &flow);
	if (cached) {
		real_index = cached->pos;
		if (flow.proto == IPPROTO_UDP)
			cached->atime = bpf_ktime_get_ns();
	} else {
		if (flow.proto == IPPROTO_TCP)
			count(LRU_MISS_CNTR, is_syn, !is_syn);
		__u32 *routed = 0;
		if (vip_flags & F_SRC_ROUTING) {
			if (is_v6) {
				struct v6_lpm_key k6 = { .prefixlen = 128 };
				__builtin_memcpy(k6.addr, flow.src, 16);
				routed = bpf_map_lookup_elem(&lpm_src_v6, &k6);
			} else {
				struct v4_lpm_key k4 = { .prefixlen = 32 };
				__builtin_memcpy(&k4.addr, flow.src, 4);
				routed = bpf_map_lookup_elem(&lpm_src_v4, &k4);
			}
			count(LPM_SRC_CNTRS, !routed, !!routed);
		}
		if (routed) {
			real_index = *routed;
		} else {
			__u32 ports = ((__u32)flow.dport << 16) | flow.sport;
			__u32 src = is_v6 ? jhash_16((const __u32 *)flow.src, HASH_SEED_V6) : *(__u32 *)flow.src;
			__u32 key = vip_num * RING_SIZE + jhash_2words(src, ports, HASH_SEED_PORTS) % RING_SIZE;
			__u32 *slot = bpf_map_lookup_elem(&ch_rings, &key);
			if (!slot || *slot == 0)
				return XDP_DROP;
			real_index = *slot;
		}
		count(LRU_CNTRS, 0, 1);
		if (!(vip_flags & F_LRU_BYPASS)) {
			struct real_pos_lru fresh = { .pos = real_index, .atime = flow.proto == IPPROTO_UDP ? bpf_ktime_get_ns() : 0 };
			bpf_map_update_elem(lru, &flow, &fresh, BPF_ANY);
		}
	}
	struct real_definition *real = bpf_map_lookup_elem(&reals, &real_index);
	__u32 zero = 0;
	struct ctl_value *router = bpf_map_lookup_elem(&ctl_array, &zero);
	if (!real || !router)
		return XDP_DROP;
	count(vip_num, 1, pkt_bytes);
	struct lb_stats *rs = bpf_map_lookup_elem(&reals_stats, &real_index);
	if (rs) { rs->v1 += 1; rs->v2 += pkt_bytes; }

	__builtin_memcpy(old_dst_mac, eth->h_dest, 6);
	__u8 *sp = (__u8 *)&saved_sport; /* network order: sp[0] high byte, sp[1] low byte */
	if (real->flags & REAL_F_IPV6) {
		if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct ipv6hdr)))
			return XDP_DROP;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		struct ethhdr *neth = data;
		struct ipv6hdr *outer = (void *)(neth + 1);
		if ((void *)(outer + 1) > end)
			return XDP_DROP;
		__builtin_memcpy(neth->h_dest, router->mac, 6);
		__builtin_memcpy(neth->h_source, old_dst_mac, 6);
		neth->h_proto = bpf_htons(ETH_P_IPV6);
		outer->version = 6;
		outer->priority = tos >> 4;
		outer->flow_lbl[0] = (tos & 0xf) << 4;
		outer->flow_lbl[1] = 0;
		outer->flow_lbl[2] = 0;
		outer->payload_len = bpf_htons(is_v6 ? pkt_bytes + sizeof(struct ipv6hdr) : pkt_bytes);
		outer->nexthdr = is_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
		outer->hop_limit = 64;
		__u8 *s6 = (__u8 *)&outer->saddr;
		__builtin_memset(s6, 0, 16);
		s6[0] = 1;
		const __u8 *client_tail = is_v6 ? flow.src + 12 : flow.src;
		s6[12] = client_tail[0] ^ sp[0];
		s6[13] = client_tail[1] ^ sp[1];
		s6[14] = client_tail[2];
		s6[15] = client_tail[3];
		__builtin_memcpy(&outer->daddr, real->addr, 16);
		return XDP_TX;
	}
	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	struct ethhdr *neth = data;
	struct iphdr *outer = (void *)(neth + 1);
	if ((void *)(outer + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(neth->h_dest, router->mac, 6);
	__builtin_memcpy(neth->h_source, old_dst_mac, 6);
	neth->h_proto = bpf_htons(ETH_P_IP);
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = tos;
	outer->tot_len = bpf_htons(pkt_bytes + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = 0;
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	__u8 *s4 = (__u8 *)&outer->saddr;
	s4[0] = 172;
	s4[1] = 16;
	s4[2] = flow.src[2] ^ sp[1];
	s4[3] = flow.src[3] ^ sp[0];
	__builtin_memcpy(&outer->daddr, real->addr, 4);
	__u32 sum = 0;
	__u16 *w = (__u16 *)outer;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	outer->check = csum_fold(sum);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
