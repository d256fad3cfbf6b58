// BPF_PROG_TEST_RUN without a process per call: the kernel oracle (runtime/kernel.ts) runs
// pinned programs through this when the addon is built, which also lets the benchmarks time
// thousands of distinct packets one kernel call each.
#include "test_run.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <linux/bpf.h>
#include <string>
#include <unistd.h>
#include <vector>

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

// The generator's XDP program: writes `frame` over the packet, then XDP_TX. The kernel
// recycles live-frame pages without restoring their bytes, so a receiver that rewrites
// the frame in place (a load balancer's encapsulation, in the kernel's XDP on the veth
// peer) would otherwise be sent its own output from the second batch on.
std::vector<bpf_insn> FrameWriter(const Bytes& frame) {
  auto insn = [](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst;
    i.src_reg = src;
    i.off = off;
    i.imm = imm;
    return i;
  };
  std::vector<bpf_insn> stores;
  size_t at = 0;
  for (; at + 4 <= frame.length; at += 4) {
    int32_t word;
    std::memcpy(&word, frame.data + at, 4);
    stores.push_back(insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_2, 0, static_cast<int16_t>(at), word));
  }
  for (; at < frame.length; at++) stores.push_back(insn(BPF_ST | BPF_MEM | BPF_B, BPF_REG_2, 0, static_cast<int16_t>(at), frame.data[at]));
  std::vector<bpf_insn> program = {
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, data), 0),
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, offsetof(xdp_md, data_end), 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, static_cast<int32_t>(frame.length)),
      // Past the end (cannot happen: the frame is this long): skip the stores.
      insn(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, static_cast<int16_t>(stores.size()), 0),
  };
  program.insert(program.end(), stores.begin(), stores.end());
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_TX));
  program.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return program;
}

// xdpLiveFrames(ifindex, frame: Uint8Array, repeat, batchSize) -> {sent, ns}: a traffic
// generator. The program above is run `repeat` times with BPF_F_TEST_XDP_LIVE_FRAMES as
// if `frame` had arrived on `ifindex` (an interface of the calling thread's namespace),
// so each run sends a copy of the frame out of that interface through the driver's XDP
// transmit path, with no socket or skb on the way. On a veth the copies arrive at the
// peer, which does its receive work (and its XDP) on the generator's CPU. `ns` is the
// wall time of the call.
Napi::Value XdpLiveFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = U32Arg(info, 0, "ifindex");
  Bytes frame = BytesOf(info[1], "frame");
  uint32_t repeat = U32Arg(info, 2, "repeat");
  uint32_t batchSize = U32Arg(info, 3, "batch size");
  std::vector<bpf_insn> writer = FrameWriter(frame);
  int programFd = bpf_prog_load(BPF_PROG_TYPE_XDP, "live_gen_tx", "GPL", writer.data(), writer.size(), nullptr);
  if (programFd < 0) ThrowErrno(env, "loading the live-frames generator program", errno);
  xdp_md context{};
  context.data_end = static_cast<__u32>(frame.length);  // the kernel checks it against the frame
  context.ingress_ifindex = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data, .data_size_in = static_cast<__u32>(frame.length),
              .ctx_in = &context, .ctx_size_in = sizeof(context), .repeat = static_cast<int>(repeat),
              .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batchSize);
  auto start = std::chrono::steady_clock::now();
  int failed = bpf_prog_test_run_opts(programFd, &opts);
  int err = errno;
  close(programFd);
  if (failed) ThrowErrno(env, "BPF_PROG_TEST_RUN with live frames", err);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  Napi::Object result = Napi::Object::New(env);
  result.Set("sent", Napi::Number::New(env, repeat));
  result.Set("ns", Napi::Number::New(env, static_cast<double>(ns)));
  return result;
}

}  // namespace

void InitTestRun(Napi::Env env, Napi::Object exports) {
  exports.Set("openPinned", Napi::Function::New(env, OpenPinned));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("testRun", Napi::Function::New(env, TestRun));
  exports.Set("xdpLiveFrames", Napi::Function::New(env, XdpLiveFrames));
}
