// The kernel oracle's objects (runtime/kernel.ts): load an eBPF object the way
// `bpftool prog loadall OBJ DIR type xdp pinmaps DIR/maps` does, read its programs' run
// counts, and attach them to interfaces, inside a network namespace when asked.
#include "kernel_object.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <vector>

#include "util.h"

namespace {

thread_local std::vector<std::string>* kept = nullptr;

// Collects libbpf's warnings while alive; Cause() is errno's text plus libbpf's last words.
class KeepMessages {
 public:
  KeepMessages() { kept = &lines_; }
  ~KeepMessages() { kept = nullptr; }
  std::string Cause(int err) const {
    std::string cause = std::strerror(err);
    size_t first = lines_.size() > 3 ? lines_.size() - 3 : 0;
    for (size_t i = first; i < lines_.size(); i++) cause += " / " + lines_[i];
    return cause;
  }

 private:
  std::vector<std::string> lines_;
};

[[noreturn]] void ThrowCause(Napi::Env env, const std::string& what, int err, const KeepMessages& messages) {
  Napi::Error error = Napi::Error::New(env, what + ": " + messages.Cause(err));
  const char* name = strerrorname_np(err);
  error.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  throw error;
}

// ensureBpffs(dir): mounts a bpf filesystem on `dir` unless one is there already.
Napi::Value EnsureBpffs(const Napi::CallbackInfo& info) {
  std::string dir = StringArg(info, 0, "bpffs directory");
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) ThrowErrno(info.Env(), dir, errno);
  if (static_cast<unsigned long>(fs.f_type) != BPF_FS_MAGIC && mount("bpf", dir.c_str(), "bpf", 0, nullptr) != 0) {
    ThrowErrno(info.Env(), "mounting bpffs on " + dir, errno);
  }
  return info.Env().Undefined();
}

// loadObject(path, programDir, mapDir[, deviceIfindex]): every program loaded as XDP (as
// bpftool's `type xdp`) and pinned by name in programDir, every map pinned in mapDir (dots
// become underscores). The pins keep them alive; the object itself is closed before
// returning. A nonzero deviceIfindex loads the programs device-bound to that interface
// (BPF_F_XDP_DEV_BOUND_ONLY, as bpftool's `xdpmeta_dev`), which the XDP metadata kfuncs need.
// BPF_F_XDP_DEV_BOUND_ONLY (uapi, Linux 6.3), which older headers lack.
constexpr uint32_t kXdpDevBoundOnly = 1U << 6;

Napi::Value LoadObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "object path");
  std::string programDir = StringArg(info, 1, "program pin directory");
  std::string mapDir = StringArg(info, 2, "map pin directory");
  uint32_t deviceIfindex = info.Length() > 3 ? U32Arg(info, 3, "device ifindex") : 0;
  KeepMessages messages;
  bpf_object* object = bpf_object__open_file(path.c_str(), nullptr);
  if (!object) ThrowCause(env, "opening " + path, errno, messages);
  bpf_program* program;
  bpf_object__for_each_program(program, object) {
    // libbpf's own XDP sections keep the attach type it gave them: xdp/devmap and
    // xdp/cpumap programs must be BPF_XDP_DEVMAP / BPF_XDP_CPUMAP to go into map entries.
    if (deviceIfindex != 0) {
      bpf_program__set_ifindex(program, deviceIfindex);
      bpf_program__set_flags(program, bpf_program__flags(program) | kXdpDevBoundOnly);
    }
    if (bpf_program__type(program) == BPF_PROG_TYPE_XDP) continue;
    bpf_program__set_type(program, BPF_PROG_TYPE_XDP);
    bpf_program__set_expected_attach_type(program, BPF_XDP);
  }
  int err = bpf_object__load(object);
  const char* step = "loading";
  if (!err) err = bpf_object__pin_programs(object, programDir.c_str()), step = "pinning programs of";
  if (!err) err = bpf_object__pin_maps(object, mapDir.c_str()), step = "pinning maps of";
  bpf_object__close(object);
  if (err) ThrowCause(env, std::string(step) + " " + path, -err, messages);
  return env.Undefined();
}

// programInfo(fd) -> {id, runCount, runTimeNs}; the counts need kernel.bpf_stats_enabled=1.
Napi::Value ProgramInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_prog_info prog{};
  __u32 length = sizeof(prog);
  if (bpf_obj_get_info_by_fd(static_cast<int>(U32Arg(info, 0, "program fd")), &prog, &length) != 0) {
    ThrowErrno(env, "BPF_OBJ_GET_INFO_BY_FD", errno);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", Napi::Number::New(env, prog.id));
  result.Set("runCount", Napi::Number::New(env, static_cast<double>(prog.run_cnt)));
  result.Set("runTimeNs", Napi::Number::New(env, static_cast<double>(prog.run_time_ns)));
  return result;
}

// Moves the calling thread into network namespace /run/netns/NAME (none when empty) for
// its lifetime: interface names and the netlink socket of bpf_xdp_attach belong to a
// namespace. setns affects only this thread, and the destructor brings it back.
class InNetns {
 public:
  InNetns(Napi::Env env, const std::string& name) {
    if (name.empty()) return;
    home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_ < 0) ThrowErrno(env, "opening this thread's network namespace", errno);
    int target = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    int err = target < 0 || setns(target, CLONE_NEWNET) != 0 ? errno : 0;
    if (target >= 0) close(target);
    if (err) {
      close(home_);
      ThrowErrno(env, "network namespace " + name, err);
    }
  }
  ~InNetns() {
    if (home_ < 0) return;
    // Staying in the other namespace would silently misdirect everything after: stop.
    if (setns(home_, CLONE_NEWNET) != 0) {
      std::perror("bpf2wasm: returning to the original network namespace");
      std::abort();
    }
    close(home_);
  }
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;

 private:
  int home_ = -1;
};

__u32 ModeFlag(Napi::Env env, uint32_t mode) {
  if (mode == 1) return XDP_FLAGS_DRV_MODE;
  if (mode == 2) return XDP_FLAGS_SKB_MODE;
  throw Napi::TypeError::New(env, "XDP mode must be 1 (native) or 2 (generic)");
}

// xdpAttach(ifname, progFd, mode, netns): like `bpftool net attach xdpdrv|xdpgeneric`,
// refusing an interface that already has a program in that mode.
Napi::Value XdpAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string ifname = StringArg(info, 0, "interface");
  int fd = static_cast<int>(U32Arg(info, 1, "program fd"));
  __u32 flags = ModeFlag(env, U32Arg(info, 2, "mode")) | XDP_FLAGS_UPDATE_IF_NOEXIST;
  InNetns netns(env, StringArg(info, 3, "network namespace"));
  unsigned ifindex = InterfaceIndex(env, ifname);
  int err = bpf_xdp_attach(static_cast<int>(ifindex), fd, flags, nullptr);
  if (err) ThrowErrno(env, "bpf_xdp_attach", -err);
  return env.Undefined();
}

// xdpDetach(ifname, mode, netns): removes whatever program that mode holds.
Napi::Value XdpDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string ifname = StringArg(info, 0, "interface");
  __u32 flags = ModeFlag(env, U32Arg(info, 1, "mode"));
  InNetns netns(env, StringArg(info, 2, "network namespace"));
  unsigned ifindex = InterfaceIndex(env, ifname);
  int err = bpf_xdp_detach(static_cast<int>(ifindex), flags, nullptr);
  if (err) ThrowErrno(env, "bpf_xdp_detach", -err);
  return env.Undefined();
}

}  // namespace

void KeepLibbpfMessage(enum libbpf_print_level level, const char* format, va_list args) {
  if (!kept || level != LIBBPF_WARN) return;
  va_list copy;
  va_copy(copy, args);
  int length = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (length <= 0) return;
  std::string text(static_cast<size_t>(length) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(length));
  // One message may be the whole verifier log, whose last lines say why.
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    // Dropped: frames, statistics and the closing line, all of which say nothing of why.
    if (line.empty() || line.find("PROG LOAD LOG --") != std::string::npos || line.rfind("processed ", 0) == 0 ||
        line.find("failed to load object") != std::string::npos) {
      continue;
    }
    kept->push_back(line);
    if (kept->size() > 16) kept->erase(kept->begin());
  }
}

void InitKernelObject(Napi::Env env, Napi::Object exports) {
  exports.Set("ensureBpffs", Napi::Function::New(env, EnsureBpffs));
  exports.Set("loadObject", Napi::Function::New(env, LoadObject));
  exports.Set("programInfo", Napi::Function::New(env, ProgramInfo));
  exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach));
  exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach));
}
