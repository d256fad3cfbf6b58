// bpf2wasm's native addon: the one place of the live datapath that speaks to the kernel
// (AF_XDP sockets, the prefilter XDP program, AF_PACKET, TAP, thread affinity).
#include <napi.h>
#include <pthread.h>
#include <sched.h>

#include "packet_socket.h"
#include "prefilter.h"
#include "tap_device.h"
#include "util.h"
#include "xsk_socket.h"

namespace {

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
  InitXskSocket(env, exports);
  InitPrefilter(env, exports);
  InitPacketSocket(env, exports);
  InitTapDevice(env, exports);
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("ifIndex", Napi::Function::New(env, IfIndex));
  return exports;
}

}  // namespace

NODE_API_MODULE(bpf2wasm_native, Init)
