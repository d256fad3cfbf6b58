// The host's routing, neighbour and link tables through rtnetlink, one request per question,
// for bpf_fib_lookup in userspace (native/fib.ts). Questions go to the network namespace
// the process runs in, as the kernel's helper looks in the namespace of the device the
// packet arrived on. Synchronous on purpose: the helper answers within the packet's run.
//
// A route question is RTM_GETROUTE with RTM_F_FIB_MATCH: the kernel answers with the FIB
// entry its own lookup matched (type, table, priority, next hop), or with the error its
// lookup gave (EINVAL for a blackhole, EHOSTUNREACH unreachable, EACCES prohibit,
// ENETUNREACH no route), which is what bpf_fib_lookup maps to its return codes.
#include "route_netlink.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "util.h"

namespace {

// One rtnetlink socket per thread (workers ask from their own threads).
int NetlinkSocket(Napi::Env env) {
  thread_local int fd = -1;
  if (fd >= 0) return fd;
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) ThrowErrno(env, "rtnetlink socket", errno);
  int on = 1;
  // Errors come back without the request attached; replies to GET requests are strict.
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
  return fd;
}

struct Request {
  std::vector<uint8_t> bytes;
  explicit Request(uint16_t type, const void* header, size_t size) : bytes(NLMSG_SPACE(size)) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(bytes.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    std::memcpy(NLMSG_DATA(nlh), header, size);
  }
  void Attr(uint16_t type, const void* data, size_t size) {
    size_t at = NLMSG_ALIGN(bytes.size());
    bytes.resize(at + RTA_SPACE(size));
    auto* rta = reinterpret_cast<rtattr*>(bytes.data() + at);
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(size);
    std::memcpy(RTA_DATA(rta), data, size);
  }
};

// Sends `request` and returns the reply's payload (header + attributes), or -errno.
int Ask(Napi::Env env, Request& request, std::vector<uint8_t>& reply) {
  int fd = NetlinkSocket(env);
  static thread_local uint32_t seq = 0;
  auto* nlh = reinterpret_cast<nlmsghdr*>(request.bytes.data());
  nlh->nlmsg_len = static_cast<uint32_t>(request.bytes.size());
  nlh->nlmsg_seq = ++seq;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, request.bytes.data(), request.bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    ThrowErrno(env, "rtnetlink send", errno);
  }
  std::vector<uint8_t> buffer(32768);
  for (;;) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, "rtnetlink receive", errno);
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue;  // a late answer to an earlier question
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err != 0) return err;
        continue;
      }
      auto* data = static_cast<uint8_t*>(NLMSG_DATA(h));
      reply.assign(data, data + NLMSG_PAYLOAD(h, 0));
      return 0;
    }
  }
}

Napi::Uint8Array Copy(Napi::Env env, const void* data, size_t size) {
  auto out = Napi::Uint8Array::New(env, size);
  std::memcpy(out.Data(), data, size);
  return out;
}

Napi::Value ErrorResult(Napi::Env env, int err) {
  Napi::Object result = Napi::Object::New(env);
  const char* name = strerrorname_np(-err);
  result.Set("error", Napi::String::New(env, name ? name : "EUNKNOWN"));
  return result;
}

// routeGet(family, dst: Uint8Array, oif, mark, chooseSource) -> {type, table, priority, oif, gateway?,
// viaFamily?, prefsrc?, mtu?, mtuLocked} or {error: errno name}. With chooseSource the
// question is an ordinary route lookup, whose answer carries the source address chosen.
Napi::Value RouteGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t family = U32Arg(info, 0, "family");
  Bytes dst = BytesOf(info[1], "destination");
  uint32_t oif = U32Arg(info, 2, "oif");
  uint32_t mark = U32Arg(info, 3, "mark");
  bool chooseSource = info.Length() > 4 && info[4].ToBoolean();
  rtmsg header{};
  header.rtm_family = static_cast<uint8_t>(family);
  header.rtm_dst_len = static_cast<uint8_t>(dst.length * 8);
  header.rtm_flags = chooseSource ? 0 : RTM_F_FIB_MATCH;
  Request request(RTM_GETROUTE, &header, sizeof(header));
  request.Attr(RTA_DST, dst.data, dst.length);
  if (oif) request.Attr(RTA_OIF, &oif, sizeof(oif));
  if (mark) request.Attr(RTA_MARK, &mark, sizeof(mark));
  std::vector<uint8_t> reply;
  if (int err = Ask(env, request, reply)) return ErrorResult(env, err);
  auto* rtm = reinterpret_cast<rtmsg*>(reply.data());
  Napi::Object result = Napi::Object::New(env);
  result.Set("type", Napi::Number::New(env, rtm->rtm_type));
  result.Set("table", Napi::Number::New(env, rtm->rtm_table));
  result.Set("priority", Napi::Number::New(env, 0));
  result.Set("oif", Napi::Number::New(env, 0));
  result.Set("mtuLocked", Napi::Boolean::New(env, false));
  int left = static_cast<int>(reply.size() - NLMSG_ALIGN(sizeof(rtmsg)));
  for (auto* rta = RTM_RTA(rtm); RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
    void* data = RTA_DATA(rta);
    size_t size = RTA_PAYLOAD(rta);
    switch (rta->rta_type) {
      case RTA_TABLE: result.Set("table", Napi::Number::New(env, *static_cast<uint32_t*>(data))); break;
      case RTA_PRIORITY: result.Set("priority", Napi::Number::New(env, *static_cast<uint32_t*>(data))); break;
      case RTA_OIF: result.Set("oif", Napi::Number::New(env, *static_cast<uint32_t*>(data))); break;
      case RTA_GATEWAY:
        result.Set("gateway", Copy(env, data, size));
        result.Set("viaFamily", Napi::Number::New(env, family));
        break;
      case RTA_VIA: {
        auto* via = static_cast<rtvia*>(data);
        result.Set("gateway", Copy(env, via->rtvia_addr, size - sizeof(via->rtvia_family)));
        result.Set("viaFamily", Napi::Number::New(env, via->rtvia_family));
        break;
      }
      case RTA_PREFSRC: result.Set("prefsrc", Copy(env, data, size)); break;
      case RTA_MULTIPATH: result.Set("multipath", Napi::Boolean::New(env, true)); break;
      case RTA_ENCAP: result.Set("encap", Napi::Boolean::New(env, true)); break;
      case RTA_METRICS: {
        int mleft = static_cast<int>(size);
        uint32_t locks = 0, mtu = 0;
        for (auto* m = static_cast<rtattr*>(data); RTA_OK(m, mleft); m = RTA_NEXT(m, mleft)) {
          if (m->rta_type == RTAX_LOCK) locks = *static_cast<uint32_t*>(RTA_DATA(m));
          if (m->rta_type == RTAX_MTU) mtu = *static_cast<uint32_t*>(RTA_DATA(m));
        }
        result.Set("mtu", Napi::Number::New(env, mtu));
        result.Set("mtuLocked", Napi::Boolean::New(env, (locks & (1u << RTAX_MTU)) != 0));
        break;
      }
    }
  }
  return result;
}

// neighGet(family, ifindex, address: Uint8Array) -> {state, lladdr?} or undefined when absent.
Napi::Value NeighGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ndmsg header{};
  header.ndm_family = static_cast<uint8_t>(U32Arg(info, 0, "family"));
  header.ndm_ifindex = static_cast<int>(U32Arg(info, 1, "ifindex"));
  Bytes address = BytesOf(info[2], "address");
  Request request(RTM_GETNEIGH, &header, sizeof(header));
  request.Attr(NDA_DST, address.data, address.length);
  std::vector<uint8_t> reply;
  if (int err = Ask(env, request, reply)) {
    if (err == -ENOENT || err == -ENODEV) return env.Undefined();
    ThrowErrno(env, "RTM_GETNEIGH", -err);
  }
  auto* ndm = reinterpret_cast<ndmsg*>(reply.data());
  Napi::Object result = Napi::Object::New(env);
  result.Set("state", Napi::Number::New(env, ndm->ndm_state));
  int left = static_cast<int>(reply.size() - NLMSG_ALIGN(sizeof(ndmsg)));
  for (auto* rta = reinterpret_cast<rtattr*>(reply.data() + NLMSG_ALIGN(sizeof(ndmsg))); RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
    if (rta->rta_type == NDA_LLADDR) result.Set("lladdr", Copy(env, RTA_DATA(rta), RTA_PAYLOAD(rta)));
  }
  return result;
}

// linkGet(ifindex) -> {name, mtu, address?} or undefined when there is no such device.
Napi::Value LinkGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ifinfomsg header{};
  header.ifi_index = static_cast<int>(U32Arg(info, 0, "ifindex"));
  Request request(RTM_GETLINK, &header, sizeof(header));
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  request.Attr(IFLA_EXT_MASK, &mask, sizeof(mask));
  std::vector<uint8_t> reply;
  if (int err = Ask(env, request, reply)) {
    if (err == -ENODEV) return env.Undefined();
    ThrowErrno(env, "RTM_GETLINK", -err);
  }
  Napi::Object result = Napi::Object::New(env);
  int left = static_cast<int>(reply.size() - NLMSG_ALIGN(sizeof(ifinfomsg)));
  for (auto* rta = IFLA_RTA(reinterpret_cast<ifinfomsg*>(reply.data())); RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
    switch (rta->rta_type) {
      case IFLA_IFNAME: result.Set("name", Napi::String::New(env, static_cast<const char*>(RTA_DATA(rta)))); break;
      case IFLA_MTU: result.Set("mtu", Napi::Number::New(env, *static_cast<uint32_t*>(RTA_DATA(rta)))); break;
      case IFLA_ADDRESS: result.Set("address", Copy(env, RTA_DATA(rta), RTA_PAYLOAD(rta))); break;
    }
  }
  return result;
}

}  // namespace

void InitRouteNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("routeGet", Napi::Function::New(env, RouteGet));
  exports.Set("neighGet", Napi::Function::New(env, NeighGet));
  exports.Set("linkGet", Napi::Function::New(env, LinkGet));
}
