// One AF_XDP socket on one RX queue, with its own UMEM. The UMEM is a page-aligned range
// of the program's shared WebAssembly memory, so the program runs on received frames in
// place and XDP_TX sends the very same frame back. Every frame starts in the fill ring;
// frames come back to it after TX completion (XDP_TX) or at once (drop, pass, abort), so
// the fill ring is sized to hold them all and a push to it can never fail.
#include "xsk_socket.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>
#include <xdp/xsk.h>

#include "util.h"

namespace {

bool IsPowerOfTwo(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

class XskSocket : public Napi::ObjectWrap<XskSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "XskSocket", {
      InstanceMethod("receive", &XskSocket::Receive),
      InstanceMethod("transmit", &XskSocket::Transmit),
      InstanceMethod("recycle", &XskSocket::Recycle),
      InstanceMethod("reclaim", &XskSocket::ReclaimMethod),
      InstanceMethod("forward", &XskSocket::Forward),
      InstanceMethod("statistics", &XskSocket::Statistics),
      InstanceMethod("audit", &XskSocket::Audit),
      InstanceMethod("close", &XskSocket::Close),
      InstanceAccessor("fd", &XskSocket::Fd, nullptr),
      InstanceAccessor("zeroCopy", &XskSocket::ZeroCopy, nullptr),
    });
  }

  // new XskSocket(ifname, queue, umem: Uint8Array, frameSize, ringSize, bindMode, xskMapFd)
  // bindMode: 0 = let the kernel choose, 1 = copy, 2 = zero-copy.
  explicit XskSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<XskSocket>(info) {
    Napi::Env env = info.Env();
    std::string ifname = StringArg(info, 0, "interface");
    uint32_t queue = U32Arg(info, 1, "queue");
    Bytes area = BytesOf(info[2], "umem");
    frameSize_ = U32Arg(info, 3, "frame size");
    uint32_t ringSize = U32Arg(info, 4, "ring size");
    uint32_t bindMode = U32Arg(info, 5, "bind mode");
    int xskMapFd = info[6].As<Napi::Number>().Int32Value();
    InterfaceIndex(env, ifname);  // a clear error for a missing interface

    if (reinterpret_cast<uintptr_t>(area.data) % 4096 != 0) {
      throw Napi::Error::New(env, "umem must start on a page boundary");
    }
    frameCount_ = static_cast<uint32_t>(area.length / frameSize_);
    if (!IsPowerOfTwo(frameCount_) || !IsPowerOfTwo(ringSize) || ringSize > frameCount_) {
      throw Napi::Error::New(env, "umem frame count and ring size must be powers of two, ring size <= frames");
    }
    // Keep the memory alive as long as the kernel may write into it.
    memory_ = Napi::Persistent(info[2].As<Napi::Object>());

    xsk_umem_config umemConfig{};
    umemConfig.fill_size = frameCount_;
    umemConfig.comp_size = frameCount_;
    umemConfig.frame_size = frameSize_;
    umemConfig.frame_headroom = 0;
    int err = xsk_umem__create(&umem_, area.data, area.length, &fill_, &comp_, &umemConfig);
    if (err) ThrowErrno(env, "AF_XDP umem on " + ifname, -err);

    xsk_socket_config config{};
    config.rx_size = ringSize;
    config.tx_size = ringSize;
    txSize_ = ringSize;
    // Our own prefilter program owns the interface's XDP hook and the xskmap.
    config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    config.bind_flags = XDP_USE_NEED_WAKEUP | (bindMode == 1 ? XDP_COPY : bindMode == 2 ? XDP_ZEROCOPY : 0);
    err = xsk_socket__create(&xsk_, ifname.c_str(), queue, umem_, &rx_, &tx_, &config);
    if (err) {
      xsk_umem__delete(umem_);
      umem_ = nullptr;
      ThrowErrno(env, "AF_XDP socket on " + ifname + " queue " + std::to_string(queue), -err);
    }
    if (xskMapFd >= 0) {
      err = xsk_socket__update_xskmap(xsk_, xskMapFd);
      if (err) {
        Release();
        ThrowErrno(env, "registering the AF_XDP socket in the xskmap", -err);
      }
    }
    uint32_t index = 0;
    xsk_ring_prod__reserve(&fill_, frameCount_, &index);
    for (uint32_t i = 0; i < frameCount_; i++) {
      *xsk_ring_prod__fill_addr(&fill_, index + i) = static_cast<uint64_t>(i) * frameSize_;
    }
    xsk_ring_prod__submit(&fill_, frameCount_);

    xdp_options options{};
    socklen_t optionsLength = sizeof(options);
    if (getsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_OPTIONS, &options, &optionsLength) == 0) {
      zeroCopy_ = (options.flags & XDP_OPTIONS_ZEROCOPY) != 0;
    }
  }

  ~XskSocket() override { Release(); }

 private:
  void Release() {
    if (xsk_) xsk_socket__delete(xsk_);
    if (umem_) xsk_umem__delete(umem_);
    xsk_ = nullptr;
    umem_ = nullptr;
    if (!memory_.IsEmpty()) memory_.Reset();
  }

  void RequireOpen(Napi::Env env) {
    if (!xsk_) throw Napi::Error::New(env, "AF_XDP socket is closed");
  }

  // Frames go back to the fill ring through Fill. The ring has a slot for every frame, yet
  // it can be full while a frame is in our hands: the kernel publishes how far it has read
  // the fill ring lazily (copy mode: after it has published the RX ring), so a frame can
  // be on the RX ring, or received and recycled by us, while its old fill slot still counts
  // as taken. A reservation then comes up short (libbpf reserves all or nothing); ignoring
  // that wrote over entries the kernel had not read yet and re-exposed stale ones: frames
  // lost and frames doubled (the soak's audit found two of each in 3 M packets). What does
  // not fit waits in fillOverflow_, still ours (counted in `held`), and goes first next time.
  template <typename AddressAt>
  void Fill(uint32_t count, AddressAt addressAt) {
    FlushFillOverflow();
    uint32_t placed = 0;
    if (fillOverflow_.empty()) {
      uint32_t room = xsk_prod_nb_free(&fill_, count);
      if (room > count) room = count;
      uint32_t index = 0;
      if (room > 0 && xsk_ring_prod__reserve(&fill_, room, &index) == room) {
        for (uint32_t i = 0; i < room; i++) *xsk_ring_prod__fill_addr(&fill_, index + i) = Chunk(addressAt(i));
        xsk_ring_prod__submit(&fill_, room);
        placed = room;
      }
    }
    for (uint32_t i = placed; i < count; i++) fillOverflow_.push_back(Chunk(addressAt(i)));
  }

  void FlushFillOverflow() {
    if (fillOverflow_.empty()) return;
    uint32_t waiting = static_cast<uint32_t>(fillOverflow_.size());
    uint32_t room = xsk_prod_nb_free(&fill_, waiting);
    if (room > waiting) room = waiting;
    uint32_t index = 0;
    if (room == 0 || xsk_ring_prod__reserve(&fill_, room, &index) != room) return;
    for (uint32_t i = 0; i < room; i++) *xsk_ring_prod__fill_addr(&fill_, index + i) = fillOverflow_[i];
    xsk_ring_prod__submit(&fill_, room);
    fillOverflow_.erase(fillOverflow_.begin(), fillOverflow_.begin() + room);
  }

  uint64_t Chunk(uint64_t address) const { return address - address % frameSize_; }

  // Frames the kernel finished sending go back to the fill ring.
  void Reclaim() {
    uint32_t index = 0;
    uint32_t done = xsk_ring_cons__peek(&comp_, frameCount_, &index);
    if (done == 0) {
      FlushFillOverflow();
      return;
    }
    Fill(done, [&](uint32_t i) { return *xsk_ring_cons__comp_addr(&comp_, index + i); });
    xsk_ring_cons__release(&comp_, done);
  }

  // In copy mode the kernel sends TX descriptors only inside sendto(), at most 32 per call
  // (its TX budget), answering EAGAIN while more are left. One call per batch therefore
  // sent 32 frames of each batch and left the rest to fill the ring and be dropped, so
  // this calls again while the kernel takes frames, up to what the ring can hold. Other
  // errors (EBUSY, ENOBUFS) mean the device is busy: the frames wait for the next kick.
  void KickTx() {
    if (!xsk_ring_prod__needs_wakeup(&tx_)) return;
    for (uint32_t calls = 0; calls <= txSize_ / 32; calls++) {
      if (xsk_prod_nb_free(&tx_, txSize_) == txSize_) return;  // the kernel took every descriptor
      if (sendto(xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) continue;
      if (errno != EAGAIN) return;
      Reclaim();  // the completion ring may be what is full
    }
  }

  // receive(descriptors: Uint32Array, timeoutMs[, recycle: Uint32Array, count]) -> n;
  // descriptors get (address, length) pairs, addresses relative to the UMEM start. The
  // frames are then the caller's until it hands them to transmit() or recycle(), or to the
  // next receive() as `recycle` (the previous batch's dropped frames: one call into the
  // addon per batch instead of two).
  Napi::Value Receive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    auto descriptors = info[0].As<Napi::Uint32Array>();
    int timeout = info[1].As<Napi::Number>().Int32Value();
    uint32_t max = static_cast<uint32_t>(descriptors.ElementLength() / 2);
    if (info.Length() > 3) {
      auto recycle = info[2].As<Napi::Uint32Array>();
      uint32_t count = info[3].As<Napi::Number>().Uint32Value();
      if (count > recycle.ElementLength()) throw Napi::RangeError::New(env, "recycle count exceeds its array");
      RecycleAddresses(recycle.Data(), count);
    }
    Reclaim();
    uint32_t index = 0;
    uint32_t received = xsk_ring_cons__peek(&rx_, max, &index);
    if (received == 0) {
      pollfd waiting{xsk_socket__fd(xsk_), POLLIN, 0};
      // poll() also wakes the kernel to refill from the fill ring (need_wakeup).
      int ready = poll(&waiting, 1, timeout);
      if (ready < 0 && errno != EINTR) ThrowErrno(env, "poll on AF_XDP socket", errno);
      Reclaim();
      received = xsk_ring_cons__peek(&rx_, max, &index);
    }
    uint32_t* out = descriptors.Data();
    for (uint32_t i = 0; i < received; i++) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&rx_, index + i);
      out[2 * i] = static_cast<uint32_t>(d->addr);
      out[2 * i + 1] = d->len;
    }
    xsk_ring_cons__release(&rx_, received);
    held_ += received;
    return Napi::Number::New(env, received);
  }

  // transmit(descriptors: Uint32Array, count) -> frames queued; frames that do not fit in
  // the TX ring are recycled (dropped) and counted.
  Napi::Value Transmit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    auto descriptors = info[0].As<Napi::Uint32Array>();
    uint32_t count = info[1].As<Napi::Number>().Uint32Value();
    const uint32_t* in = descriptors.Data();
    // Reservations are all or nothing: ask how much room there is, then take what fits.
    uint32_t room = xsk_prod_nb_free(&tx_, count);
    if (room < count) {
      KickTx();
      Reclaim();
      room = xsk_prod_nb_free(&tx_, count);
    }
    if (room > count) room = count;
    uint32_t index = 0;
    if (room > 0) xsk_ring_prod__reserve(&tx_, room, &index);
    for (uint32_t i = 0; i < room; i++) {
      xdp_desc* d = xsk_ring_prod__tx_desc(&tx_, index + i);
      d->addr = in[2 * i];
      d->len = in[2 * i + 1];
      d->options = 0;
    }
    xsk_ring_prod__submit(&tx_, room);
    if (room < count) {
      Fill(count - room, [&](uint32_t i) { return static_cast<uint64_t>(in[2 * (room + i)]); });
      txDropped_ += count - room;
    }
    held_ -= count;
    KickTx();
    return Napi::Number::New(env, room);
  }

  // forward(transmit: boolean, milliseconds, batch) -> frames: a benchmark's ceiling. For
  // `milliseconds` it does in C what the datapath worker does around the program, with no
  // program: take up to `batch` frames from the RX ring (after reclaiming completed TX),
  // then hand them all back to the fill ring (drop) or queue them on the TX ring (tx; what
  // does not fit is dropped as in transmit()). Same rings, same socket, same poll when
  // idle, so the datapath's rate over this one is the cost of running the program in JS.
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    bool transmit = info[0].ToBoolean();
    uint32_t milliseconds = U32Arg(info, 1, "milliseconds");
    uint32_t batch = U32Arg(info, 2, "batch");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
    double frames = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      Reclaim();
      uint32_t index = 0;
      uint32_t received = xsk_ring_cons__peek(&rx_, batch, &index);
      if (received == 0) {
        pollfd waiting{xsk_socket__fd(xsk_), POLLIN, 0};
        poll(&waiting, 1, 1);
        continue;
      }
      if (transmit) {
        uint32_t room = xsk_prod_nb_free(&tx_, received);
        if (room < received) {
          KickTx();
          Reclaim();
          room = xsk_prod_nb_free(&tx_, received);
        }
        if (room > received) room = received;
        uint32_t txIndex = 0;
        if (room > 0) xsk_ring_prod__reserve(&tx_, room, &txIndex);
        for (uint32_t i = 0; i < room; i++) {
          const xdp_desc* in = xsk_ring_cons__rx_desc(&rx_, index + i);
          xdp_desc* out = xsk_ring_prod__tx_desc(&tx_, txIndex + i);
          out->addr = in->addr;
          out->len = in->len;
          out->options = 0;
        }
        xsk_ring_prod__submit(&tx_, room);
        Fill(received - room, [&](uint32_t i) { return xsk_ring_cons__rx_desc(&rx_, index + room + i)->addr; });
        txDropped_ += received - room;
        KickTx();
      } else {
        Fill(received, [&](uint32_t i) { return xsk_ring_cons__rx_desc(&rx_, index + i)->addr; });
      }
      xsk_ring_cons__release(&rx_, received);
      frames += received;
    }
    return Napi::Number::New(env, frames);
  }

  void RecycleAddresses(const uint32_t* in, uint32_t count) {
    if (count == 0) return;
    Fill(count, [&](uint32_t i) { return static_cast<uint64_t>(in[i]); });
    held_ -= count;  // the caller's frames, back with the kernel (or in fillOverflow_, counted in `held`)
  }

  // recycle(addresses: Uint32Array, count): frames the caller is done with.
  Napi::Value Recycle(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env());
    auto addresses = info[0].As<Napi::Uint32Array>();
    uint32_t count = info[1].As<Napi::Number>().Uint32Value();
    if (count > addresses.ElementLength()) throw Napi::RangeError::New(info.Env(), "recycle count exceeds its array");
    RecycleAddresses(addresses.Data(), count);
    return info.Env().Undefined();
  }

  // reclaim(): kicks pending TX and moves completed frames back to the fill ring, so that
  // once traffic stops every frame can be accounted for (statistics().fillQueued).
  Napi::Value ReclaimMethod(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env());
    KickTx();
    Reclaim();
    return info.Env().Undefined();
  }

  Napi::Value Statistics(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    xdp_statistics stats{};
    socklen_t length = sizeof(stats);
    if (getsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_STATISTICS, &stats, &length) != 0) {
      ThrowErrno(env, "AF_XDP statistics", errno);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("rxDropped", Napi::Number::New(env, static_cast<double>(stats.rx_dropped)));
    out.Set("rxInvalidDescriptors", Napi::Number::New(env, static_cast<double>(stats.rx_invalid_descs)));
    out.Set("txInvalidDescriptors", Napi::Number::New(env, static_cast<double>(stats.tx_invalid_descs)));
    out.Set("rxRingFull", Napi::Number::New(env, static_cast<double>(stats.rx_ring_full)));
    out.Set("fillRingEmpty", Napi::Number::New(env, static_cast<double>(stats.rx_fill_ring_empty_descs)));
    out.Set("txRingEmpty", Napi::Number::New(env, static_cast<double>(stats.tx_ring_empty_descs)));
    out.Set("txDropped", Napi::Number::New(env, static_cast<double>(txDropped_)));
    // Frames the kernel holds for reception right now; with nothing in flight this equals
    // the UMEM's frame count, which is how a lost frame would show.
    out.Set("fillQueued", Napi::Number::New(env, frameCount_ - xsk_prod_nb_free(&fill_, frameCount_)));
    // Frames received but not yet taken by receive(): still accounted for.
    out.Set("rxQueued", Napi::Number::New(env, xsk_cons_nb_avail(&rx_, frameCount_)));
    // Frames queued for sending that the kernel has not taken yet.
    out.Set("txQueued", Napi::Number::New(env, tx_.size - xsk_prod_nb_free(&tx_, tx_.size)));
    // Frames sent and completed, not yet moved back to the fill ring.
    out.Set("completionQueued", Napi::Number::New(env, xsk_cons_nb_avail(&comp_, frameCount_)));
    // Frames receive() handed out that transmit() or recycle() has not taken back: the
    // caller's. With the rings above (and nothing between the kernel's TX ring and its
    // completion ring) these add up to `frames`; anything less is a lost frame.
    out.Set("held", Napi::Number::New(env, static_cast<double>(held_) + static_cast<double>(fillOverflow_.size())));
    out.Set("frames", Napi::Number::New(env, frameCount_));
    return out;
  }

  // audit() -> { missing: number[], doubled: number[] }: which frames (UMEM offsets) are on
  // no ring and which are on more than one (or twice on one), read from the rings' entries
  // between their published consumer and producer. The counts in statistics() cannot tell a
  // frame the kernel keeps off the rings from one handed out twice (a duplicate hides a
  // loss in the sum); this can. Only meaningful when nothing moves (traffic stopped, TX
  // completed): a frame the kernel is holding right then shows as missing.
  Napi::Value Audit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    std::vector<uint8_t> seen(frameCount_, 0);
    auto mark = [&](uint64_t address) {
      uint64_t frame = address / frameSize_;
      if (frame < frameCount_ && seen[frame] < 255) seen[frame]++;
    };
    auto load = [](uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); };
    for (uint32_t i = load(fill_.consumer); i != load(fill_.producer); i++) mark(*xsk_ring_prod__fill_addr(&fill_, i));
    for (uint32_t i = load(rx_.consumer); i != load(rx_.producer); i++) mark(xsk_ring_cons__rx_desc(&rx_, i)->addr);
    for (uint32_t i = load(tx_.consumer); i != load(tx_.producer); i++) mark(xsk_ring_prod__tx_desc(&tx_, i)->addr);
    for (uint32_t i = load(comp_.consumer); i != load(comp_.producer); i++) {
      mark(*xsk_ring_cons__comp_addr(&comp_, i));
    }
    for (uint64_t address : fillOverflow_) mark(address);  // ours, waiting for fill-ring room
    Napi::Array missing = Napi::Array::New(env);
    Napi::Array doubled = Napi::Array::New(env);
    for (uint32_t f = 0; f < frameCount_; f++) {
      double offset = static_cast<double>(f) * frameSize_;
      if (seen[f] == 0) missing.Set(missing.Length(), Napi::Number::New(env, offset));
      for (uint8_t k = 1; k < seen[f]; k++) doubled.Set(doubled.Length(), Napi::Number::New(env, offset));
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("missing", missing);
    out.Set("doubled", doubled);
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), xsk_ ? xsk_socket__fd(xsk_) : -1);
  }

  Napi::Value ZeroCopy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), zeroCopy_); }

  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  xsk_ring_prod fill_{};
  xsk_ring_cons comp_{};
  xsk_ring_cons rx_{};
  xsk_ring_prod tx_{};
  uint32_t frameSize_ = 0;
  uint32_t frameCount_ = 0;
  uint32_t txSize_ = 0;
  uint64_t txDropped_ = 0;
  int64_t held_ = 0;
  // Frames for the fill ring that did not fit yet (Fill).
  std::vector<uint64_t> fillOverflow_;
  bool zeroCopy_ = false;
  Napi::ObjectReference memory_;
};

}  // namespace

void InitXskSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("XskSocket", XskSocket::Define(env));
}
