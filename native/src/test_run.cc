// BPF_PROG_TEST_RUN without a process per call: the kernel oracle (runtime/kernel.ts) runs
// pinned programs through this when the addon is built, which also lets the benchmarks time
// thousands of distinct packets one kernel call each.
#include "test_run.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <string>
#include <unistd.h>

#include "util.h"

namespace {

// openPinned(path) -> fd of a pinned BPF object (program or map).
Napi::Value OpenPinned(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "pin path");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(info.Env(), "opening " + path, errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(static_cast<int>(U32Arg(info, 0, "fd")));
  return info.Env().Undefined();
}

// testRun(progFd, data: Uint8Array, repeat, out: Uint8Array) -> {retval, durationNs, length}
// The program's output packet is written into `out` (length bytes).
Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(U32Arg(info, 0, "program fd"));
  Bytes in = BytesOf(info[1], "data");
  uint32_t repeat = U32Arg(info, 2, "repeat");
  Bytes out = BytesOf(info[3], "out");
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data, .data_out = out.data,
              .data_size_in = static_cast<__u32>(in.length), .data_size_out = static_cast<__u32>(out.length),
              .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(fd, &opts) != 0) ThrowErrno(env, "BPF_PROG_TEST_RUN", errno);
  Napi::Object result = Napi::Object::New(env);
  result.Set("retval", Napi::Number::New(env, opts.retval));
  result.Set("durationNs", Napi::Number::New(env, opts.duration));
  result.Set("length", Napi::Number::New(env, opts.data_size_out));
  return result;
}

}  // namespace

void InitTestRun(Napi::Env env, Napi::Object exports) {
  exports.Set("openPinned", Napi::Function::New(env, OpenPinned));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("testRun", Napi::Function::New(env, TestRun));
}
