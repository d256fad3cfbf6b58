// A TAP device: how frames a userspace program passes (XDP_PASS) re-enter the host's
// kernel stack. It takes the MAC address of the interface it stands in for, so frames
// addressed to that interface are accepted as the host's own. The device disappears when
// last queue's fd closes.
#include "tap_device.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

namespace {

class TapDevice : public Napi::ObjectWrap<TapDevice> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TapDevice", {
      InstanceMethod("write", &TapDevice::Write),
      InstanceMethod("close", &TapDevice::Close),
      InstanceAccessor("name", &TapDevice::Name, nullptr),
    });
  }

  // new TapDevice(name, mac: Uint8Array(6))
  explicit TapDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TapDevice>(info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "tap name");
    Bytes mac = BytesOf(info[1], "mac");
    if (name.size() >= IFNAMSIZ) throw Napi::Error::New(env, "tap name '" + name + "' is longer than 15 characters");
    if (mac.length != 6) throw Napi::Error::New(env, "mac must be 6 bytes");
    fd_ = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) ThrowErrno(env, "/dev/net/tun", errno);
    ifreq request{};
    // One queue per worker thread: each worker opens the same device by name.
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_, TUNSETIFF, &request) != 0) Fail(env, "creating tap " + name);
    name_ = request.ifr_name;
    int control = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (control < 0) Fail(env, "control socket");
    ifreq hw{};
    std::strncpy(hw.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    hw.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(hw.ifr_hwaddr.sa_data, mac.data, 6);
    int failed = ioctl(control, SIOCSIFHWADDR, &hw);
    ifreq flags{};
    std::strncpy(flags.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    if (!failed) failed = ioctl(control, SIOCGIFFLAGS, &flags);
    flags.ifr_flags |= IFF_UP;
    if (!failed) failed = ioctl(control, SIOCSIFFLAGS, &flags);
    int err = errno;
    close(control);
    if (failed) {
      errno = err;
      Fail(env, "configuring tap " + name_);
    }
  }

  ~TapDevice() override { Release(); }

 private:
  [[noreturn]] void Fail(Napi::Env env, const std::string& what) {
    int err = errno;
    Release();
    ThrowErrno(env, what, err);
  }

  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // write(frame: Uint8Array) -> bytes written or a negative errno (never throws: a full
  // queue drops the frame, as the stack itself would).
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw Napi::Error::New(env, "tap is closed");
    Bytes frame = BytesOf(info[0], "frame");
    ssize_t n = write(fd_, frame.data, frame.length);
    return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

  int fd_ = -1;
  std::string name_;
};

}  // namespace

void InitTapDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("TapDevice", TapDevice::Define(env));
}
