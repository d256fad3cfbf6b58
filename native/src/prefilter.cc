// The kernel half of the AF_XDP datapath: our prefilter XDP program (prefilter.bpf.c)
// attached to the interface through a bpf_link. It keeps the host's own traffic (ARP,
// neighbour discovery, packets addressed to the host) in the kernel and redirects the rest
// to the AF_XDP socket of the receiving queue. A bpf_link detaches when its last fd closes,
// so the interface is left clean even when the process is killed.
#include "prefilter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <linux/if_link.h>
#include <unistd.h>

#include "util.h"

namespace {

class Prefilter : public Napi::ObjectWrap<Prefilter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Prefilter", {
      InstanceMethod("addHostAddress", &Prefilter::AddHostAddress),
      InstanceMethod("close", &Prefilter::Close),
      InstanceAccessor("xskMapFd", &Prefilter::XskMapFd, nullptr),
      InstanceAccessor("mode", &Prefilter::Mode, nullptr),
    });
  }

  // new Prefilter(objectPath, ifname, mode): mode 0 = native, falling back to generic;
  // 1 = native only; 2 = generic (skb) only.
  explicit Prefilter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Prefilter>(info) {
    Napi::Env env = info.Env();
    std::string path = StringArg(info, 0, "prefilter object");
    std::string ifname = StringArg(info, 1, "interface");
    uint32_t mode = U32Arg(info, 2, "attach mode");
    unsigned ifindex = InterfaceIndex(env, ifname);

    object_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!object_) ThrowErrno(env, "opening " + path, errno);
    int err = bpf_object__load(object_);
    if (err) {
      Release();
      ThrowErrno(env, "loading the prefilter into the kernel", -err);
    }
    bpf_program* program = bpf_object__find_program_by_name(object_, "xdp_prefilter");
    xskMap_ = bpf_object__find_map_fd_by_name(object_, "xsks_map");
    hostV4_ = bpf_object__find_map_fd_by_name(object_, "host_v4");
    hostV6_ = bpf_object__find_map_fd_by_name(object_, "host_v6");
    if (!program || xskMap_ < 0 || hostV4_ < 0 || hostV6_ < 0) {
      Release();
      throw Napi::Error::New(env, path + " is not the bpf2wasm prefilter");
    }
    const uint32_t attempts[2] = {mode == 2 ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
    int tries = mode == 0 ? 2 : 1;
    for (int i = 0; i < tries; i++) {
      LIBBPF_OPTS(bpf_link_create_opts, options, .flags = attempts[i]);
      link_ = bpf_link_create(bpf_program__fd(program), ifindex, BPF_XDP, &options);
      if (link_ >= 0) {
        generic_ = attempts[i] == XDP_FLAGS_SKB_MODE;
        return;
      }
      err = errno;
    }
    Release();
    if (err == EBUSY || err == EEXIST) {
      throw Napi::Error::New(env, "interface " + ifname + " already has an XDP program attached");
    }
    ThrowErrno(env, "attaching the prefilter to " + ifname, err);
  }

  ~Prefilter() override { Release(); }

 private:
  void Release() {
    if (link_ >= 0) close(link_);  // detaches the program
    link_ = -1;
    if (object_) bpf_object__close(object_);
    object_ = nullptr;
  }

  // addHostAddress(bytes: Uint8Array of 4 or 16): traffic to it stays in the kernel.
  Napi::Value AddHostAddress(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!object_) throw Napi::Error::New(env, "prefilter is closed");
    Bytes address = BytesOf(info[0], "address");
    if (address.length != 4 && address.length != 16) throw Napi::Error::New(env, "address must be 4 or 16 bytes");
    uint8_t present = 1;
    int fd = address.length == 4 ? hostV4_ : hostV6_;
    if (bpf_map_update_elem(fd, address.data, &present, BPF_ANY) != 0) ThrowErrno(env, "host address map", errno);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value XskMapFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), xskMap_); }
  Napi::Value Mode(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), generic_ ? "generic" : "native");
  }

  bpf_object* object_ = nullptr;
  int link_ = -1;
  int xskMap_ = -1;
  int hostV4_ = -1;
  int hostV6_ = -1;
  bool generic_ = false;
};

}  // namespace

void InitPrefilter(Napi::Env env, Napi::Object exports) {
  exports.Set("Prefilter", Prefilter::Define(env));
}
