/* One JIT engine behind the harness: engine-llvmbpf.cpp (bpftime's llvmbpf) or
 * engine-ubpf.c (iovisor's uBPF). The harness hands over instructions whose ld_imm64 map
 * references it already resolved to plain 64-bit pointers, and the helpers by id. */
#ifndef PEER_ENGINE_H
#define PEER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t (*peer_helper)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
typedef uint64_t (*peer_program)(void *ctx, size_t ctx_len);

#define PEER_HELPERS 256

extern const char peer_engine_name[];

/* The compiled program, or NULL with a message in err. helpers[id] is NULL where unset. */
peer_program peer_engine_compile(const uint8_t *insns, size_t slots, peer_helper const helpers[PEER_HELPERS], char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
