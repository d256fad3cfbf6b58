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
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "util.h"

namespace {

// RTA_FLOWLABEL (Linux 6.10+), which older headers lack.
constexpr uint16_t kRtaFlowlabel = 31;

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

// Sends `request` (a dump when `dump`) and hands each answering message's payload (header +
// attributes) to `take`, until `take` returns false, the dump is done, or the kernel
// reports an error. Returns 0 or -errno.
template <typename Take>
int Exchange(Napi::Env env, Request& request, bool dump, Take take) {
  int fd = NetlinkSocket(env);
  static thread_local uint32_t seq = 0;
  auto* nlh = reinterpret_cast<nlmsghdr*>(request.bytes.data());
  nlh->nlmsg_len = static_cast<uint32_t>(request.bytes.size());
  if (dump) nlh->nlmsg_flags |= NLM_F_DUMP;
  nlh->nlmsg_seq = ++seq;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, request.bytes.data(), request.bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    ThrowErrno(env, "rtnetlink send", errno);
  }
  std::vector<uint8_t> buffer(65536);
  for (;;) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, "rtnetlink receive", errno);
    }
    int left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue;  // a late answer to an earlier question
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err != 0) return err;
        continue;
      }
      auto* data = static_cast<uint8_t*>(NLMSG_DATA(h));
      if (!take(data, NLMSG_PAYLOAD(h, 0))) return 0;
    }
  }
}

// Sends `request` and returns the reply's payload (header + attributes), or -errno.
int Ask(Napi::Env env, Request& request, std::vector<uint8_t>& reply) {
  return Exchange(env, request, false, [&](const uint8_t* data, size_t size) {
    reply.assign(data, data + size);
    return false;
  });
}

// Sends a dump `request` and returns every reply's payload, or -errno.
int AskAll(Napi::Env env, Request& request, std::vector<std::vector<uint8_t>>& replies) {
  return Exchange(env, request, true, [&](const uint8_t* data, size_t size) {
    replies.emplace_back(data, data + size);
    return true;
  });
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

// One route message (rtmsg + attributes) as {type, table, priority, oif, dstLen, tos, scope,
// flags, dst?, gateway?, viaFamily?, prefsrc?, mtu?, mtuLocked, encap?, nexthops?}; a multipath
// route lists its next hops as {oif, flags, weight, gateway?, viaFamily?, encap?}.
Napi::Object RouteObject(Napi::Env env, const std::vector<uint8_t>& reply) {
  auto* rtm = reinterpret_cast<const rtmsg*>(reply.data());
  uint32_t family = rtm->rtm_family;
  Napi::Object result = Napi::Object::New(env);
  result.Set("type", Napi::Number::New(env, rtm->rtm_type));
  result.Set("table", Napi::Number::New(env, rtm->rtm_table));
  result.Set("dstLen", Napi::Number::New(env, rtm->rtm_dst_len));
  result.Set("tos", Napi::Number::New(env, rtm->rtm_tos));
  result.Set("scope", Napi::Number::New(env, rtm->rtm_scope));
  result.Set("flags", Napi::Number::New(env, rtm->rtm_flags));
  result.Set("priority", Napi::Number::New(env, 0));
  result.Set("oif", Napi::Number::New(env, 0));
  result.Set("mtuLocked", Napi::Boolean::New(env, false));
  int left = static_cast<int>(reply.size() - NLMSG_ALIGN(sizeof(rtmsg)));
  for (auto* rta = RTM_RTA(rtm); RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
    void* data = RTA_DATA(rta);
    size_t size = RTA_PAYLOAD(rta);
    switch (rta->rta_type) {
      case RTA_DST: result.Set("dst", Copy(env, data, size)); break;
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
      case RTA_NH_ID: result.Set("nexthopObject", Napi::Number::New(env, *static_cast<uint32_t*>(data))); break;
      case RTA_MULTIPATH: {
        result.Set("multipath", Napi::Boolean::New(env, true));
        Napi::Array hops = Napi::Array::New(env);
        int mleft = static_cast<int>(size);
        auto* nh = static_cast<rtnexthop*>(data);
        while (mleft >= static_cast<int>(sizeof(rtnexthop)) && nh->rtnh_len >= sizeof(rtnexthop) && nh->rtnh_len <= mleft) {
          Napi::Object hop = Napi::Object::New(env);
          hop.Set("oif", Napi::Number::New(env, nh->rtnh_ifindex));
          hop.Set("flags", Napi::Number::New(env, nh->rtnh_flags));
          hop.Set("weight", Napi::Number::New(env, nh->rtnh_hops + 1));
          int aleft = static_cast<int>(nh->rtnh_len - RTNH_LENGTH(0));
          for (auto* a = RTNH_DATA(nh); RTA_OK(a, aleft); a = RTA_NEXT(a, aleft)) {
            if (a->rta_type == RTA_GATEWAY) {
              hop.Set("gateway", Copy(env, RTA_DATA(a), RTA_PAYLOAD(a)));
              hop.Set("viaFamily", Napi::Number::New(env, family));
            } else if (a->rta_type == RTA_VIA) {
              auto* via = static_cast<rtvia*>(RTA_DATA(a));
              hop.Set("gateway", Copy(env, via->rtvia_addr, RTA_PAYLOAD(a) - sizeof(via->rtvia_family)));
              hop.Set("viaFamily", Napi::Number::New(env, via->rtvia_family));
            } else if (a->rta_type == RTA_ENCAP) {
              hop.Set("encap", Napi::Boolean::New(env, true));
            }
          }
          hops.Set(hops.Length(), hop);
          mleft -= RTNH_ALIGN(nh->rtnh_len);
          nh = RTNH_NEXT(nh);
        }
        result.Set("nexthops", hops);
        break;
      }
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

uint32_t U32Field(Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

// routeGet(family, dst: Uint8Array, flow: {iif?, oif?, mark?, src?: Uint8Array, tos?, proto?,
// sport?, dport?, flowlabel?, fibMatch?}) -> a route (RouteObject) or {error: errno name}.
// With fibMatch the answer is the FIB entry the lookup matched (a multipath route with all
// its next hops); without, the route the kernel made for the flow: its chosen next hop and,
// for an output lookup, the source address it picked. With iif the lookup is the input
// path's (ip_route_input: policy rules see the input device; the source is validated).
Napi::Value RouteGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t family = U32Arg(info, 0, "family");
  Bytes dst = BytesOf(info[1], "destination");
  Napi::Object flow = info[2].As<Napi::Object>();
  rtmsg header{};
  header.rtm_family = static_cast<uint8_t>(family);
  header.rtm_dst_len = static_cast<uint8_t>(dst.length * 8);
  header.rtm_tos = static_cast<uint8_t>(U32Field(flow, "tos"));
  // IPv4 names the table the lookup found the route in only when asked (RTM_F_LOOKUP_TABLE,
  // else "main"); IPv6 always does, and refuses the flag.
  header.rtm_flags = (family == AF_INET ? RTM_F_LOOKUP_TABLE : 0) | (flow.Get("fibMatch").ToBoolean() ? RTM_F_FIB_MATCH : 0);
  Request request(RTM_GETROUTE, &header, sizeof(header));
  request.Attr(RTA_DST, dst.data, dst.length);
  if (flow.Has("src") && flow.Get("src").IsTypedArray()) {
    Bytes src = BytesOf(flow.Get("src"), "source");
    header.rtm_src_len = static_cast<uint8_t>(src.length * 8);
    reinterpret_cast<rtmsg*>(NLMSG_DATA(reinterpret_cast<nlmsghdr*>(request.bytes.data())))->rtm_src_len = header.rtm_src_len;
    request.Attr(RTA_SRC, src.data, src.length);
  }
  uint32_t iif = U32Field(flow, "iif"), oif = U32Field(flow, "oif"), mark = U32Field(flow, "mark");
  if (iif) request.Attr(RTA_IIF, &iif, sizeof(iif));
  if (oif) request.Attr(RTA_OIF, &oif, sizeof(oif));
  if (mark) request.Attr(RTA_MARK, &mark, sizeof(mark));
  uint8_t proto = static_cast<uint8_t>(U32Field(flow, "proto"));
  if (proto) {
    request.Attr(RTA_IP_PROTO, &proto, sizeof(proto));
    // Ports only for the protocols the kernel builds a header for.
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
      uint16_t sport = htons(static_cast<uint16_t>(U32Field(flow, "sport")));
      uint16_t dport = htons(static_cast<uint16_t>(U32Field(flow, "dport")));
      request.Attr(RTA_SPORT, &sport, sizeof(sport));
      request.Attr(RTA_DPORT, &dport, sizeof(dport));
    }
  }
  if (flow.Has("flowlabel")) {
    uint32_t label = htonl(U32Field(flow, "flowlabel"));
    request.Attr(kRtaFlowlabel, &label, sizeof(label));
  }
  std::vector<uint8_t> reply;
  if (int err = Ask(env, request, reply)) return ErrorResult(env, err);
  return RouteObject(env, reply);
}

// routeDump(family, table) -> every route of the table (RouteObject each), for lookups that
// read one table directly (bpf_fib_lookup's BPF_FIB_LOOKUP_DIRECT).
Napi::Value RouteDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t family = U32Arg(info, 0, "family");
  uint32_t table = U32Arg(info, 1, "table");
  rtmsg header{};
  header.rtm_family = static_cast<uint8_t>(family);
  header.rtm_table = table < 256 ? static_cast<uint8_t>(table) : RT_TABLE_UNSPEC;
  Request request(RTM_GETROUTE, &header, sizeof(header));
  request.Attr(RTA_TABLE, &table, sizeof(table));
  std::vector<std::vector<uint8_t>> replies;
  if (int err = AskAll(env, request, replies)) ThrowErrno(env, "RTM_GETROUTE dump", -err);
  Napi::Array out = Napi::Array::New(env);
  for (auto& reply : replies) {
    Napi::Object route = RouteObject(env, reply);
    if (U32Field(route, "table") == table) out.Set(out.Length(), route);
  }
  return out;
}

// Whether a rule attribute narrows what the rule matches (or where it goes): not its
// priority, table, protocol or padding, nor the "none" values the kernel reports for
// suppress_prefixlength / suppress_ifgroup (-1) and the uid range (all uids).
bool Selects(const rtattr* rta) {
  const void* data = RTA_DATA(rta);
  switch (rta->rta_type) {
    case FRA_PRIORITY:
    case FRA_TABLE:
    case FRA_PROTOCOL:
    case FRA_PAD:
      return false;
    case FRA_SUPPRESS_PREFIXLEN:
    case FRA_SUPPRESS_IFGROUP:
      return *static_cast<const uint32_t*>(data) != 0xffffffffu;
    case FRA_UID_RANGE: {
      auto* range = static_cast<const fib_rule_uid_range*>(data);
      return !(range->start == 0 && range->end == 0xffffffffu);
    }
    default:
      return true;
  }
}

// ruleDump(family) -> the policy rules as {priority, table, action}, in the kernel's order.
Napi::Value RuleDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  fib_rule_hdr header{};
  header.family = static_cast<uint8_t>(U32Arg(info, 0, "family"));
  Request request(RTM_GETRULE, &header, sizeof(header));
  std::vector<std::vector<uint8_t>> replies;
  if (int err = AskAll(env, request, replies)) ThrowErrno(env, "RTM_GETRULE dump", -err);
  Napi::Array out = Napi::Array::New(env);
  for (auto& reply : replies) {
    auto* frh = reinterpret_cast<const fib_rule_hdr*>(reply.data());
    Napi::Object rule = Napi::Object::New(env);
    rule.Set("table", Napi::Number::New(env, frh->table));
    rule.Set("action", Napi::Number::New(env, frh->action));
    rule.Set("priority", Napi::Number::New(env, 0));
    rule.Set("selectors", Napi::Boolean::New(env, frh->src_len || frh->dst_len || frh->tos || frh->flags));
    int left = static_cast<int>(reply.size() - NLMSG_ALIGN(sizeof(fib_rule_hdr)));
    for (auto* rta = reinterpret_cast<const rtattr*>(reply.data() + NLMSG_ALIGN(sizeof(fib_rule_hdr))); RTA_OK(rta, left);
         rta = RTA_NEXT(rta, left)) {
      if (rta->rta_type == FRA_PRIORITY) rule.Set("priority", Napi::Number::New(env, *static_cast<const uint32_t*>(RTA_DATA(rta))));
      else if (rta->rta_type == FRA_TABLE) rule.Set("table", Napi::Number::New(env, *static_cast<const uint32_t*>(RTA_DATA(rta))));
      else if (Selects(rta)) rule.Set("selectors", Napi::Boolean::New(env, true));
    }
    out.Set(out.Length(), rule);
  }
  return out;
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
      case IFLA_MASTER: result.Set("master", Napi::Number::New(env, *static_cast<uint32_t*>(RTA_DATA(rta)))); break;
      case IFLA_LINKINFO: {
        // A VRF device (kind "vrf") names its table in IFLA_INFO_DATA / IFLA_VRF_TABLE.
        int ileft = static_cast<int>(RTA_PAYLOAD(rta));
        bool vrf = false;
        const rtattr* infoData = nullptr;
        for (auto* i = static_cast<const rtattr*>(RTA_DATA(rta)); RTA_OK(i, ileft); i = RTA_NEXT(i, ileft)) {
          if (i->rta_type == IFLA_INFO_KIND) vrf = std::strcmp(static_cast<const char*>(RTA_DATA(i)), "vrf") == 0;
          if (i->rta_type == IFLA_INFO_DATA) infoData = i;
        }
        if (vrf && infoData) {
          int dleft = static_cast<int>(RTA_PAYLOAD(infoData));
          for (auto* d = static_cast<const rtattr*>(RTA_DATA(infoData)); RTA_OK(d, dleft); d = RTA_NEXT(d, dleft)) {
            if (d->rta_type == IFLA_VRF_TABLE) result.Set("vrfTable", Napi::Number::New(env, *static_cast<const uint32_t*>(RTA_DATA(d))));
          }
        }
        break;
      }
    }
  }
  return result;
}

}  // namespace

void InitRouteNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("routeGet", Napi::Function::New(env, RouteGet));
  exports.Set("routeDump", Napi::Function::New(env, RouteDump));
  exports.Set("ruleDump", Napi::Function::New(env, RuleDump));
  exports.Set("neighGet", Napi::Function::New(env, NeighGet));
  exports.Set("linkGet", Napi::Function::New(env, LinkGet));
}
