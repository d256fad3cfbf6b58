// AF_PACKET: the fallback datapath where AF_XDP is unavailable, and the way frames leave
// through another interface (XDP_REDIRECT to an ifindex). It sees copies: the kernel stack
// still gets every received frame, so XDP_DROP and XDP_PASS cannot change what it sees.
#include "packet_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

namespace {

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket", {
      InstanceMethod("receive", &PacketSocket::Receive),
      InstanceMethod("send", &PacketSocket::Send),
      InstanceMethod("sendMany", &PacketSocket::SendMany),
      InstanceMethod("close", &PacketSocket::Close),
    });
  }

  // new PacketSocket(ifname, listen, fanoutGroup): listen = false opens a send-only socket;
  // listening sockets with the same fanout group (> 0) share the frames by flow hash, so
  // one worker per socket sees each frame once.
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    std::string ifname = StringArg(info, 0, "interface");
    bool listen = info[1].ToBoolean();
    ifindex_ = InterfaceIndex(env, ifname);
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, listen ? htons(ETH_P_ALL) : 0);
    if (fd_ < 0) ThrowErrno(env, "AF_PACKET socket", errno);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = listen ? htons(ETH_P_ALL) : 0;
    address.sll_ifindex = static_cast<int>(ifindex_);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      int err = errno;
      Release();
      ThrowErrno(env, "binding AF_PACKET socket to " + ifname, err);
    }
    // Our own transmissions must not come back to us as received frames.
    int one = 1;
    setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    uint32_t group = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
    if (listen && group > 0) {
      int fanout = static_cast<int>((group & 0xffff) | (PACKET_FANOUT_HASH << 16));
      if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) != 0) {
        int err = errno;
        Release();
        ThrowErrno(env, "AF_PACKET fanout on " + ifname, err);
      }
    }
  }

  ~PacketSocket() override { Release(); }

 private:
  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  void RequireOpen(Napi::Env env) {
    if (fd_ < 0) throw Napi::Error::New(env, "AF_PACKET socket is closed");
  }

  // receive(area: Uint8Array, slotSize, offset, lengths: Uint32Array, timeoutMs) -> n.
  // Frame i lands at area[i * slotSize + offset]; at most lengths.length frames.
  Napi::Value Receive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    Bytes area = BytesOf(info[0], "area");
    uint32_t slot = info[1].As<Napi::Number>().Uint32Value();
    uint32_t offset = info[2].As<Napi::Number>().Uint32Value();
    auto lengths = info[3].As<Napi::Uint32Array>();
    int timeout = info[4].As<Napi::Number>().Int32Value();
    uint32_t max = static_cast<uint32_t>(lengths.ElementLength());
    if (slot <= offset || static_cast<uint64_t>(max) * slot > area.length) {
      throw Napi::RangeError::New(env, "receive slots do not fit the area");
    }
    pollfd waiting{fd_, POLLIN, 0};
    int ready = poll(&waiting, 1, timeout);
    if (ready < 0 && errno != EINTR) ThrowErrno(env, "poll on AF_PACKET socket", errno);
    if (ready <= 0) return Napi::Number::New(env, 0);
    uint32_t received = 0;
    while (received < max) {
      uint8_t* slotStart = area.data + static_cast<size_t>(received) * slot + offset;
      ssize_t n = recv(fd_, slotStart, slot - offset, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        ThrowErrno(env, "AF_PACKET receive", errno);
      }
      // A frame longer than the slot was truncated: drop it rather than run on half a frame.
      if (static_cast<size_t>(n) > slot - offset) continue;
      lengths[received++] = static_cast<uint32_t>(n);
    }
    return Napi::Number::New(env, received);
  }

  // send(frame: Uint8Array) -> bytes sent, or a negative errno (a full queue is not fatal).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    Bytes frame = BytesOf(info[0], "frame");
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = static_cast<int>(ifindex_);
    address.sll_halen = ETH_ALEN;
    ssize_t n = sendto(fd_, frame.data, frame.length, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
  }

  // sendMany(frame: Uint8Array, count) -> frames sent: the benchmarks' raw-socket traffic
  // generator. Batches of 64 through sendmmsg; a full device queue is waited out with a
  // short poll rather than counted as loss, so every frame asked for leaves.
  Napi::Value SendMany(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    Bytes frame = BytesOf(info[0], "frame");
    double count = info[1].As<Napi::Number>().DoubleValue();
    constexpr unsigned kBatch = 64;
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = static_cast<int>(ifindex_);
    address.sll_halen = ETH_ALEN;
    iovec vector{frame.data, frame.length};
    mmsghdr messages[kBatch]{};
    for (auto& m : messages) {
      m.msg_hdr.msg_name = &address;
      m.msg_hdr.msg_namelen = sizeof(address);
      m.msg_hdr.msg_iov = &vector;
      m.msg_hdr.msg_iovlen = 1;
    }
    double sent = 0;
    while (sent < count) {
      unsigned batch = count - sent < kBatch ? static_cast<unsigned>(count - sent) : kBatch;
      int n = sendmmsg(fd_, messages, batch, 0);
      if (n < 0) {
        if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
          pollfd waiting{fd_, POLLOUT, 0};
          poll(&waiting, 1, 1);
          continue;
        }
        ThrowErrno(env, "AF_PACKET send", errno);
      }
      sent += n;
    }
    return Napi::Number::New(env, sent);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  unsigned ifindex_ = 0;
};

}  // namespace

void InitPacketSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
}
