/* The harness's uBPF engine: iovisor/ubpf's x86-64 JIT, built outside this repository
 * (bench/README.md "Peers"), retpolines off at its build (UBPF_DISABLE_RETPOLINES). */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <ubpf.h>

const char peer_engine_name[] = "ubpf";

peer_program peer_engine_compile(const uint8_t *insns, size_t slots, peer_helper const helpers[PEER_HELPERS], char *err, size_t err_len)
{
	struct ubpf_vm *vm = ubpf_create(); /* kept for the process's life: it owns the code */
	char *msg = NULL;
	for (unsigned id = 0; id < PEER_HELPERS; id++) {
		if (!helpers[id]) continue;
		char name[32];
		snprintf(name, sizeof name, "helper_%u", id);
		if (ubpf_register(vm, id, name, (external_function_t)helpers[id]) != 0) {
			snprintf(err, err_len, "register helper %u", id);
			return NULL;
		}
	}
	/* Room for a large program's machine code (the default buffer is 64 KiB). */
	ubpf_set_jit_code_size(vm, 4u << 20);
	if (ubpf_load(vm, insns, (uint32_t)(slots * 8), &msg) != 0) {
		snprintf(err, err_len, "load: %s", msg ? msg : "?");
		free(msg);
		return NULL;
	}
	ubpf_jit_fn fn = ubpf_compile(vm, &msg);
	if (!fn) {
		snprintf(err, err_len, "compile: %s", msg ? msg : "?");
		free(msg);
		return NULL;
	}
	return (peer_program)fn;
}
