// The harness's llvmbpf engine: bpftime's LLVM JIT (eunomia-bpf/llvmbpf), built outside
// this repository (bench/README.md "Peers").
#include "engine.h"

#include <cstdio>
#include <llvmbpf.hpp>
#include <string>

extern "C" const char peer_engine_name[] = "llvmbpf";

extern "C" peer_program peer_engine_compile(const uint8_t *insns, size_t slots, peer_helper const helpers[PEER_HELPERS], char *err,
					     size_t err_len)
{
	// Kept for the process's life: the compiled code belongs to it.
	auto *vm = new bpftime::llvmbpf_vm();
	for (int id = 0; id < PEER_HELPERS; id++)
		if (helpers[id] && vm->register_external_function(id, "helper_" + std::to_string(id), (void *)helpers[id]) != 0) {
			snprintf(err, err_len, "register helper %d: %s", id, vm->get_error_message().c_str());
			return nullptr;
		}
	if (vm->load_code(insns, slots * 8) != 0) {
		snprintf(err, err_len, "load: %s", vm->get_error_message().c_str());
		return nullptr;
	}
	auto fn = vm->compile();
	if (!fn) {
		snprintf(err, err_len, "compile: %s", vm->get_error_message().c_str());
		return nullptr;
	}
	return reinterpret_cast<peer_program>(*fn);
}
