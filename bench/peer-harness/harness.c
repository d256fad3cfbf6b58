/* The peer harness: runs the program bench/peer-dump.ts wrote (our compiler's relocated,
 * linked instructions, the provisioned maps, the workload's packets) under another JIT
 * (engine.h), with maps (maps.c) and helpers in C, and
 *   1. runs every packet once in order and compares verdict and output bytes with what
 *      our compiled module gave (the dump's expectations), exiting non-zero on any
 *      difference, then
 *   2. times packets the way the bench times the wasm engine: each copied into the frame
 *      (timed too), then one call into the compiled program; clock_gettime around N.
 *
 *   peer-harness DUMP [N]            verify, then print ns/packet of 5 rounds of N
 *   peer-harness DUMP CMD REPLY      verify, reply "ok"; then serve "run N" lines read
 *                                    from the FIFO CMD with ns/packet lines on REPLY,
 *                                    until "quit" (bench/xdp-bench.ts interleaves these)
 *
 * The context is a kernel-layout struct xdp_md whose data/data_end are 32-bit, as the
 * program reads them: the frame is mapped below 4 GiB (MAP_32BIT) so they are the
 * packet's real addresses, no rewriting of the program's context loads needed. */
#define _GNU_SOURCE
#include "engine.h"
#include "maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define FRAME_SIZE 4096
#define HEADROOM 256 /* as our runtime (core/abi.ts XDP_HEADROOM) and the kernel's test run */
#define TAILROOM 320
#define XDP_FRAME_STRUCT 40 /* struct xdp_frame kept at the head of the headroom */
#define ETH_HLEN 14
#define LD_IMM64 0x18
#define PSEUDO_MAP_IDX 5
#define PSEUDO_MAP_IDX_VALUE 6

struct xdp_md {
	uint32_t data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex;
};

struct packet {
	const uint8_t *bytes;
	uint32_t len, action, out_len;
	const uint8_t *out;
};

static uint8_t *frame;
static struct xdp_md md;

static void die(const char *what)
{
	fprintf(stderr, "peer harness (%s): %s\n", peer_engine_name, what);
	exit(2);
}

/* ---- the dump ---------------------------------------------------------------------- */

static const uint8_t *cur, *end;

static const uint8_t *take(size_t n)
{
	if ((size_t)(end - cur) < n) die("dump truncated");
	const uint8_t *p = cur;
	cur += n;
	return p;
}

static uint32_t u32(void)
{
	uint32_t v;
	memcpy(&v, take(4), 4);
	return v;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) die(strerror(errno));
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(*len);
	if (fread(b, 1, *len, f) != *len) die("short read of the dump");
	fclose(f);
	return b;
}

/* ---- helpers (the kernel's ids and calling convention) ----------------------------- */

static uint64_t h_map_lookup(uint64_t map, uint64_t key, uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)(uintptr_t)peer_map_lookup((struct peer_map *)(uintptr_t)map, (const void *)(uintptr_t)key);
}

static uint64_t h_map_update(uint64_t map, uint64_t key, uint64_t value, uint64_t flags, uint64_t c)
{
	return (uint64_t)peer_map_update((struct peer_map *)(uintptr_t)map, (const void *)(uintptr_t)key,
					 (const void *)(uintptr_t)value, flags);
}

static uint64_t h_map_delete(uint64_t map, uint64_t key, uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)peer_map_delete((struct peer_map *)(uintptr_t)map, (const void *)(uintptr_t)key);
}

static uint64_t h_ktime_get_ns(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t h_prandom_u32(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	static uint64_t s = 0x853c49e6748fea9bull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)s;
}

static uint64_t h_smp_processor_id(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) { return 0; }

/* bpf_csum_diff: the one's-complement sum of ~from and to, 32-bit words, onto seed. */
static uint64_t h_csum_diff(uint64_t from, uint64_t from_size, uint64_t to, uint64_t to_size, uint64_t seed)
{
	if ((from_size | to_size) & 3 || from_size > 512 || to_size > 512) return (uint64_t)-EINVAL;
	uint64_t sum = (uint32_t)seed;
	for (uint64_t i = 0; i < from_size; i += 4) {
		uint32_t w;
		memcpy(&w, (const uint8_t *)(uintptr_t)from + i, 4);
		sum += (uint32_t)~w;
	}
	for (uint64_t i = 0; i < to_size; i += 4) {
		uint32_t w;
		memcpy(&w, (const uint8_t *)(uintptr_t)to + i, 4);
		sum += w;
	}
	while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
	return sum;
}

/* bpf_xdp_adjust_head, with the kernel's bounds: room for struct xdp_frame and the
 * metadata in front, an Ethernet header behind; metadata moves along. */
static uint64_t h_xdp_adjust_head(uint64_t ctx, uint64_t delta64, uint64_t a, uint64_t b, uint64_t c)
{
	struct xdp_md *x = (struct xdp_md *)(uintptr_t)ctx;
	int32_t delta = (int32_t)delta64;
	uint32_t meta_len = x->data - x->data_meta;
	uint64_t next = (uint64_t)x->data + (int64_t)delta;
	uint64_t hard_start = (uint64_t)(uintptr_t)frame;
	if (next < hard_start + XDP_FRAME_STRUCT + meta_len || next + ETH_HLEN > x->data_end) return (uint64_t)-EINVAL;
	if (meta_len) memmove((void *)(uintptr_t)(x->data_meta + delta), (void *)(uintptr_t)x->data_meta, meta_len);
	x->data = (uint32_t)next;
	x->data_meta += (uint32_t)delta;
	return 0;
}

/* bpf_xdp_adjust_tail, single-buffer: data_end moves within [data + ETH_HLEN, end of the
 * frame less its tailroom]; grown bytes are zeroed. */
static uint64_t h_xdp_adjust_tail(uint64_t ctx, uint64_t delta64, uint64_t a, uint64_t b, uint64_t c)
{
	struct xdp_md *x = (struct xdp_md *)(uintptr_t)ctx;
	int32_t delta = (int32_t)delta64;
	uint64_t next = (uint64_t)x->data_end + (int64_t)delta;
	if (next > (uint64_t)(uintptr_t)frame + FRAME_SIZE - TAILROOM || next < (uint64_t)x->data + ETH_HLEN)
		return (uint64_t)-EINVAL;
	if (delta > 0) memset((void *)(uintptr_t)x->data_end, 0, (size_t)delta);
	x->data_end = (uint32_t)next;
	return 0;
}

/* ---- running ----------------------------------------------------------------------- */

static void load_packet(const struct packet *p)
{
	uint8_t *data = frame + HEADROOM;
	memcpy(data, p->bytes, p->len);
	md.data = (uint32_t)(uintptr_t)data;
	md.data_end = md.data + p->len;
	md.data_meta = md.data;
	md.ingress_ifindex = 1;
	md.rx_queue_index = 0;
	md.egress_ifindex = 0;
}

static void dump_bytes(const char *label, const uint8_t *b, uint32_t n)
{
	fprintf(stderr, "  %s (%u bytes):", label, n);
	for (uint32_t i = 0; i < n && i < 96; i++) fprintf(stderr, "%s%02x", i % 16 ? "" : " ", b[i]);
	fprintf(stderr, "%s\n", n > 96 ? " ..." : "");
}

/* Every packet once, in order; 0 when each verdict and output equals the dump's. */
static int verify(peer_program run, const struct packet *ps, uint32_t n)
{
	int bad = 0;
	for (uint32_t i = 0; i < n; i++) {
		load_packet(&ps[i]);
		uint32_t action = (uint32_t)run(&md, sizeof md);
		const uint8_t *out = (const uint8_t *)(uintptr_t)md.data;
		uint32_t out_len = md.data_end - md.data;
		if (action == ps[i].action && out_len == ps[i].out_len && memcmp(out, ps[i].out, out_len) == 0) continue;
		if (bad++ < 3) {
			fprintf(stderr, "packet %u: action %u, expected %u\n", i, action, ps[i].action);
			dump_bytes("output", out, out_len);
			dump_bytes("expected", ps[i].out, ps[i].out_len);
		}
	}
	if (bad) fprintf(stderr, "%d of %u packets differ from the compiled module's\n", bad, n);
	return bad;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint32_t next_packet;

/* ns per packet over n packets, continuing through the workload's packets. */
static double timed(peer_program run, const struct packet *ps, uint32_t np, uint64_t n)
{
	uint64_t sink = 0;
	double start = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		load_packet(&ps[next_packet]);
		if (++next_packet == np) next_packet = 0;
		sink += run(&md, sizeof md);
	}
	double ns = (now_ns() - start) / (double)n;
	__asm__ volatile("" : : "r"(sink));
	return ns;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s DUMP [N] | DUMP CMD-FIFO REPLY-FIFO\n", argv[0]);
		return 2;
	}
	size_t size;
	uint8_t *file = read_file(argv[1], &size);
	cur = file;
	end = file + size;
	if (memcmp(take(8), "B2WPEER1", 8)) die("not a peer dump (bench/peer-dump.ts)");

	uint32_t slots = u32();
	uint8_t *insns = malloc((size_t)slots * 8);
	memcpy(insns, take((size_t)slots * 8), (size_t)slots * 8);

	uint32_t nmaps = u32();
	struct peer_map **maps = calloc(nmaps ? nmaps : 1, sizeof *maps);
	struct inner_ref {
		struct peer_map *outer;
		const uint8_t *key;
		uint32_t index;
	} *inner = NULL;
	size_t ninner = 0;
	for (uint32_t i = 0; i < nmaps; i++) {
		uint32_t type = u32(), key_size = u32(), value_size = u32(), max_entries = u32();
		(void)u32(); /* flags */
		uint32_t entries = u32();
		maps[i] = peer_map_create(type, key_size, value_size, max_entries);
		if (!maps[i]) die("a map the program needs is not implemented here");
		for (uint32_t e = 0; e < entries; e++) {
			const uint8_t *key = take(key_size);
			const uint8_t *value = take(value_size);
			if (type == PEER_MAP_ARRAY_OF_MAPS || type == PEER_MAP_HASH_OF_MAPS) {
				inner = realloc(inner, (ninner + 1) * sizeof *inner);
				inner[ninner].outer = maps[i];
				inner[ninner].key = key;
				memcpy(&inner[ninner++].index, value, 4);
			} else if (peer_map_update(maps[i], key, value, 0) != 0)
				die("provisioning a map failed");
		}
	}
	for (size_t i = 0; i < ninner; i++) {
		if (inner[i].index >= nmaps) die("inner map index out of range");
		peer_map_set_inner(inner[i].outer, inner[i].key, maps[inner[i].index]);
	}

	uint32_t np = u32();
	struct packet *ps = calloc(np ? np : 1, sizeof *ps);
	for (uint32_t i = 0; i < np; i++) {
		ps[i].len = u32();
		ps[i].bytes = take(ps[i].len);
		ps[i].action = u32();
		ps[i].out_len = u32();
		ps[i].out = take(ps[i].out_len);
		if (ps[i].len > FRAME_SIZE - HEADROOM - TAILROOM) die("packet too long for a frame");
	}
	if (!np) die("no packets");

	/* ld_imm64 map references -> the maps' addresses, as the kernel's loader does. */
	for (uint32_t s = 0; s < slots; s++) {
		uint8_t *in = insns + (size_t)s * 8;
		if (in[0] != LD_IMM64) continue;
		if (s + 1 >= slots) die("ld_imm64 in the last slot");
		uint8_t src = in[1] >> 4;
		int32_t imm, off;
		memcpy(&imm, in + 4, 4);
		memcpy(&off, in + 12, 4);
		uint64_t v;
		if (src == PSEUDO_MAP_IDX || src == PSEUDO_MAP_IDX_VALUE) {
			if ((uint32_t)imm >= nmaps) die("ld_imm64 names a map outside the dump");
			v = src == PSEUDO_MAP_IDX ? (uint64_t)(uintptr_t)maps[imm]
						  : (uint64_t)(uintptr_t)(peer_map_array_base(maps[imm]) + (uint32_t)off);
			in[1] &= 0x0f;
			uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
			memcpy(in + 4, &lo, 4);
			memcpy(in + 12, &hi, 4);
		} else if (src != 0)
			die("ld_imm64 with a pseudo source the harness does not resolve");
		s++;
	}

	peer_helper helpers[PEER_HELPERS] = { 0 };
	helpers[1] = h_map_lookup;
	helpers[2] = h_map_update;
	helpers[3] = h_map_delete;
	helpers[5] = h_ktime_get_ns;
	helpers[7] = h_prandom_u32;
	helpers[8] = h_smp_processor_id;
	helpers[28] = h_csum_diff;
	helpers[44] = h_xdp_adjust_head;
	helpers[65] = h_xdp_adjust_tail;

	frame = mmap(NULL, FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (frame == MAP_FAILED) die("mmap below 4 GiB failed");

	char err[512] = "";
	double t0 = now_ns();
	peer_program run = peer_engine_compile(insns, slots, helpers, err, sizeof err);
	if (!run) die(err);
	double jit_ms = (now_ns() - t0) / 1e6;
	if (verify(run, ps, np)) return 1;

	if (argc <= 3) {
		uint64_t n = argc == 3 ? strtoull(argv[2], NULL, 10) : 1000000;
		printf("%s: %u packets verified; compiled in %.1f ms; ns/packet:", peer_engine_name, np, jit_ms);
		for (int r = 0; r < 5; r++) printf(" %.1f", timed(run, ps, np, n));
		printf("\n");
		return 0;
	}
	FILE *cmd = fopen(argv[2], "r");
	FILE *reply = fopen(argv[3], "w");
	if (!cmd || !reply) die("cannot open the FIFOs");
	fprintf(reply, "ok %u %.1f\n", np, jit_ms);
	fflush(reply);
	char line[64];
	while (fgets(line, sizeof line, cmd)) {
		unsigned long long n;
		if (sscanf(line, "run %llu", &n) == 1 && n > 0) {
			fprintf(reply, "%.3f\n", timed(run, ps, np, n));
			fflush(reply);
		} else
			break;
	}
	return 0;
}
