/* Maps for the peer harness (maps.h). Hash maps: separate chaining over a preallocated
 * pool of max_entries elements, like the kernel's preallocated hash maps. LRU hash: the
 * same table with a second-chance list: a lookup sets the element's reference bit (as the
 * kernel's bpf_lru does), and an insert into a full map evicts from the list's tail,
 * moving referenced elements back to the head with the bit cleared. This is one global
 * list, not the kernel's per-CPU lists, which is what a one-CPU run needs. LPM trie: a
 * linear scan for the longest matching prefix (the benchmarked programs keep it small or
 * empty). */
#include "maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE 0xffffffffu
#define BPF_NOEXIST 1
#define BPF_EXIST 2

struct peer_map {
	uint32_t type, key_size, value_size, max_entries;
	uint32_t stride; /* value size rounded up to 8 */
	uint8_t *values;
	/* hash family */
	uint8_t *keys;
	uint32_t *buckets, mask;
	uint32_t *chain; /* next element in the bucket */
	uint32_t *prev, *next; /* LRU list, most recent first */
	uint8_t *ref;
	uint32_t *free_list, free_count;
	uint32_t head, tail, count;
};

static uint32_t round8(uint32_t n) { return (n + 7) & ~7u; }

static int is_hash(uint32_t t)
{
	return t == PEER_MAP_HASH || t == PEER_MAP_LRU_HASH || t == PEER_MAP_HASH_OF_MAPS || t == PEER_MAP_LPM_TRIE;
}

struct peer_map *peer_map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	if (type != PEER_MAP_HASH && type != PEER_MAP_ARRAY && type != PEER_MAP_PERCPU_ARRAY && type != PEER_MAP_LRU_HASH &&
	    type != PEER_MAP_LPM_TRIE && type != PEER_MAP_ARRAY_OF_MAPS && type != PEER_MAP_HASH_OF_MAPS) {
		fprintf(stderr, "peer harness: map type %u is not implemented\n", type);
		return NULL;
	}
	struct peer_map *m = calloc(1, sizeof *m);
	m->type = type;
	m->key_size = key_size;
	/* A map of maps holds the inner map pointer itself. */
	m->value_size = (type == PEER_MAP_ARRAY_OF_MAPS || type == PEER_MAP_HASH_OF_MAPS) ? sizeof(void *) : value_size;
	m->max_entries = max_entries;
	m->stride = round8(m->value_size);
	m->values = calloc((size_t)max_entries, m->stride);
	if (!m->values) return NULL;
	if (is_hash(type)) {
		uint32_t n = 1;
		while (n < max_entries) n <<= 1;
		m->mask = n - 1;
		m->buckets = malloc(sizeof(uint32_t) * n);
		memset(m->buckets, 0xff, sizeof(uint32_t) * n);
		m->keys = calloc(max_entries, key_size);
		m->chain = malloc(sizeof(uint32_t) * max_entries);
		m->prev = malloc(sizeof(uint32_t) * max_entries);
		m->next = malloc(sizeof(uint32_t) * max_entries);
		m->ref = calloc(max_entries, 1);
		m->free_list = malloc(sizeof(uint32_t) * max_entries);
		for (uint32_t i = 0; i < max_entries; i++) m->free_list[i] = max_entries - 1 - i;
		m->free_count = max_entries;
		m->head = m->tail = NONE;
	}
	return m;
}

uint32_t peer_map_type(const struct peer_map *m) { return m->type; }
uint8_t *peer_map_array_base(struct peer_map *m) { return m->values; }

static uint32_t hash_bytes(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	return (uint32_t)h;
}

static uint32_t find(const struct peer_map *m, const void *key, uint32_t bucket)
{
	for (uint32_t e = m->buckets[bucket]; e != NONE; e = m->chain[e])
		if (memcmp(m->keys + (size_t)e * m->key_size, key, m->key_size) == 0) return e;
	return NONE;
}

static void list_unlink(struct peer_map *m, uint32_t e)
{
	if (m->prev[e] != NONE) m->next[m->prev[e]] = m->next[e];
	else m->head = m->next[e];
	if (m->next[e] != NONE) m->prev[m->next[e]] = m->prev[e];
	else m->tail = m->prev[e];
}

static void list_push_head(struct peer_map *m, uint32_t e)
{
	m->prev[e] = NONE;
	m->next[e] = m->head;
	if (m->head != NONE) m->prev[m->head] = e;
	m->head = e;
	if (m->tail == NONE) m->tail = e;
}

static void remove_element(struct peer_map *m, uint32_t e)
{
	const uint8_t *key = m->keys + (size_t)e * m->key_size;
	uint32_t *link = &m->buckets[hash_bytes(key, m->key_size) & m->mask];
	while (*link != e) link = &m->chain[*link];
	*link = m->chain[e];
	list_unlink(m, e);
	m->free_list[m->free_count++] = e;
	m->count--;
}

/* Second chance: referenced elements at the tail go back to the head, the first unreferenced one goes. */
static void evict_one(struct peer_map *m)
{
	for (;;) {
		uint32_t e = m->tail;
		if (m->ref[e]) {
			m->ref[e] = 0;
			list_unlink(m, e);
			list_push_head(m, e);
			continue;
		}
		remove_element(m, e);
		return;
	}
}

static int prefix_matches(const struct peer_map *m, const uint8_t *entry, const uint8_t *key)
{
	uint32_t plen, klen;
	memcpy(&plen, entry, 4);
	memcpy(&klen, key, 4);
	if (plen > klen || plen > (m->key_size - 4) * 8) return 0;
	const uint8_t *a = entry + 4, *b = key + 4;
	uint32_t bytes = plen / 8, bits = plen % 8;
	if (memcmp(a, b, bytes)) return 0;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));
		if ((a[bytes] ^ b[bytes]) & mask) return 0;
	}
	return 1;
}

static void *lpm_lookup(struct peer_map *m, const void *key)
{
	uint32_t best = NONE, best_len = 0;
	for (uint32_t e = m->head; e != NONE; e = m->next[e]) {
		const uint8_t *k = m->keys + (size_t)e * m->key_size;
		uint32_t plen;
		memcpy(&plen, k, 4);
		if ((best == NONE || plen > best_len) && prefix_matches(m, k, key)) {
			best = e;
			best_len = plen;
		}
	}
	return best == NONE ? NULL : m->values + (size_t)best * m->stride;
}

void *peer_map_lookup(struct peer_map *m, const void *key)
{
	switch (m->type) {
	case PEER_MAP_ARRAY:
	case PEER_MAP_PERCPU_ARRAY: {
		uint32_t i;
		memcpy(&i, key, 4);
		return i < m->max_entries ? m->values + (size_t)i * m->stride : NULL;
	}
	case PEER_MAP_ARRAY_OF_MAPS: {
		uint32_t i;
		memcpy(&i, key, 4);
		return i < m->max_entries ? *(void **)(m->values + (size_t)i * m->stride) : NULL;
	}
	case PEER_MAP_LPM_TRIE:
		return lpm_lookup(m, key);
	default: {
		uint32_t e = find(m, key, hash_bytes(key, m->key_size) & m->mask);
		if (e == NONE) return NULL;
		m->ref[e] = 1;
		void *v = m->values + (size_t)e * m->stride;
		return m->type == PEER_MAP_HASH_OF_MAPS ? *(void **)v : v;
	}
	}
}

long peer_map_update(struct peer_map *m, const void *key, const void *value, uint64_t flags)
{
	if (flags > BPF_EXIST) return -EINVAL;
	switch (m->type) {
	case PEER_MAP_ARRAY:
	case PEER_MAP_PERCPU_ARRAY:
	case PEER_MAP_ARRAY_OF_MAPS: {
		uint32_t i;
		memcpy(&i, key, 4);
		if (i >= m->max_entries) return -E2BIG;
		if (flags == BPF_NOEXIST) return -EEXIST;
		memcpy(m->values + (size_t)i * m->stride, value, m->value_size);
		return 0;
	}
	default:
		break;
	}
	uint32_t bucket = hash_bytes(key, m->key_size) & m->mask;
	uint32_t e = find(m, key, bucket);
	if (e != NONE) {
		if (flags == BPF_NOEXIST) return -EEXIST;
		memcpy(m->values + (size_t)e * m->stride, value, m->value_size);
		m->ref[e] = 1;
		return 0;
	}
	if (flags == BPF_EXIST) return -ENOENT;
	if (m->count == m->max_entries) {
		if (m->type != PEER_MAP_LRU_HASH) return m->type == PEER_MAP_LPM_TRIE ? -ENOSPC : -E2BIG;
		evict_one(m);
	}
	e = m->free_list[--m->free_count];
	memcpy(m->keys + (size_t)e * m->key_size, key, m->key_size);
	memcpy(m->values + (size_t)e * m->stride, value, m->value_size);
	m->ref[e] = 0;
	m->chain[e] = m->buckets[bucket];
	m->buckets[bucket] = e;
	list_push_head(m, e);
	m->count++;
	return 0;
}

long peer_map_delete(struct peer_map *m, const void *key)
{
	if (!is_hash(m->type)) return -EINVAL;
	uint32_t e = find(m, key, hash_bytes(key, m->key_size) & m->mask);
	if (e == NONE) return -ENOENT;
	remove_element(m, e);
	return 0;
}

long peer_map_set_inner(struct peer_map *m, const void *key, struct peer_map *inner)
{
	return peer_map_update(m, key, &inner, 0);
}
