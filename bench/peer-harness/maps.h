/* The BPF maps the benchmarked programs use, in plain C for the peer harness: array and
 * per-CPU array (one CPU), hash, LRU hash, array and hash of maps, LPM trie. A program
 * sees a map as a `struct peer_map *` (ld_imm64 relocated to the pointer) and calls the
 * helpers below with it, as a kernel program sees its `struct bpf_map *`. */
#ifndef PEER_MAPS_H
#define PEER_MAPS_H

#include <stdint.h>

enum {
	PEER_MAP_HASH = 1,
	PEER_MAP_ARRAY = 2,
	PEER_MAP_PERCPU_ARRAY = 6,
	PEER_MAP_LRU_HASH = 9,
	PEER_MAP_LPM_TRIE = 11,
	PEER_MAP_ARRAY_OF_MAPS = 12,
	PEER_MAP_HASH_OF_MAPS = 13,
};

struct peer_map;

/* Creates a map of the kernel's `type`; NULL (and a message on stderr) for a type not implemented. */
struct peer_map *peer_map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries);
/* The value's address, or NULL; for a map of maps the inner map itself, as in the kernel. */
void *peer_map_lookup(struct peer_map *m, const void *key);
/* 0 or a negative errno, with the kernel's BPF_ANY / BPF_NOEXIST / BPF_EXIST flags. */
long peer_map_update(struct peer_map *m, const void *key, const void *value, uint64_t flags);
long peer_map_delete(struct peer_map *m, const void *key);
/* For a map of maps: store the inner map pointer itself at `key` (control-plane side). */
long peer_map_set_inner(struct peer_map *m, const void *key, struct peer_map *inner);
/* The address of an array's value storage (global data: ld_imm64 MAP_IDX_VALUE). */
uint8_t *peer_map_array_base(struct peer_map *m);
uint32_t peer_map_type(const struct peer_map *m);

#endif
