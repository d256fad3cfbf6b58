// bpf2wasm's native addon: the one place of the live datapath that speaks to the kernel
// (AF_XDP sockets, the prefilter XDP program, AF_PACKET, TAP, thread affinity) and the
// kernel oracle's objects, maps and BPF_PROG_TEST_RUN.
#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <napi.h>
#include <pthread.h>
#include <sched.h>
#include <xdp/libxdp.h>

#include "kernel_object.h"
#include "packet_socket.h"
#include "prefilter.h"
#include "tap_device.h"
#include "perf_buffer.h"
#include "route_netlink.h"
#include "test_run.h"
#include "util.h"
#include "xsk_socket.h"

namespace {

// libbpf and libxdp narrate failures on stderr; our errors already name the cause (with
// libbpf's last warnings for a failed load), so their lines are shown only with
// BPF2WASM_DEBUG set.
int QuietLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  KeepLibbpfMessage(level, format, copy);
  va_end(copy);
  return std::getenv("BPF2WASM_DEBUG") ? std::vfprintf(stderr, format, args) : 0;
}
int QuietLibxdp(enum libxdp_print_level, const char* format, va_list args) {
  return std::getenv("BPF2WASM_DEBUG") ? std::vfprintf(stderr, format, args) : 0;
}

// setAffinity(cpu): pins the calling thread (a worker) to one CPU; false if not allowed.
Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  uint32_t cpu = U32Arg(info, 0, "cpu");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return Napi::Boolean::New(info.Env(), pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0);
}

Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), InterfaceIndex(info.Env(), StringArg(info, 0, "interface")));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(QuietLibbpf);
  libxdp_set_print(QuietLibxdp);
  InitXskSocket(env, exports);
  InitPrefilter(env, exports);
  InitPacketSocket(env, exports);
  InitTapDevice(env, exports);
  InitTestRun(env, exports);
  InitKernelObject(env, exports);
  InitKernelMap(env, exports);
  InitRouteNetlink(env, exports);
  InitPerfBuffer(env, exports);
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("ifIndex", Napi::Function::New(env, IfIndex));
  return exports;
}

}  // namespace

NODE_API_MODULE(bpf2wasm_native, Init)
