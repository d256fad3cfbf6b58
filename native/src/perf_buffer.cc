// The kernel side of bpf_perf_event_output for the kernel oracle: libbpf's perf_buffer over
// a BPF_MAP_TYPE_PERF_EVENT_ARRAY (a PERF_COUNT_SW_BPF_OUTPUT event per CPU, each in the
// map's slot of its CPU, each with a ring of `pages` pages), consumed on demand.
#include "perf_buffer.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "util.h"

namespace {

struct Record {
  int cpu;
  std::vector<uint8_t> data;
  uint64_t lost;
};

struct Reader {
  perf_buffer* buffer = nullptr;
  std::vector<Record> records;
};

std::map<uint32_t, Reader*> readers;
uint32_t lastReader = 0;

void OnSample(void* ctx, int cpu, void* data, __u32 size) {
  auto* bytes = static_cast<uint8_t*>(data);
  static_cast<Reader*>(ctx)->records.push_back(Record{cpu, std::vector<uint8_t>(bytes, bytes + size), 0});
}

void OnLost(void* ctx, int cpu, __u64 count) { static_cast<Reader*>(ctx)->records.push_back(Record{cpu, {}, count}); }

Reader* ReaderArg(const Napi::CallbackInfo& info) {
  auto it = readers.find(U32Arg(info, 0, "perf buffer"));
  if (it == readers.end()) throw Napi::Error::New(info.Env(), "no such perf buffer (closed?)");
  return it->second;
}

// perfBufferOpen(mapFd, pages) -> id: opens the events and fills the map's slots.
Napi::Value PerfBufferOpen(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(U32Arg(info, 0, "map fd"));
  uint32_t pages = U32Arg(info, 1, "pages");
  auto* reader = new Reader();
  reader->buffer = perf_buffer__new(fd, pages, OnSample, OnLost, reader, nullptr);
  if (!reader->buffer) {
    int err = errno;
    delete reader;
    ThrowErrno(info.Env(), "perf_buffer__new", err);
  }
  readers[++lastReader] = reader;
  return Napi::Number::New(info.Env(), lastReader);
}

// perfBufferConsume(id) -> [{cpu, data} | {cpu, lost}]: every record since the last call,
// CPU by CPU, in order.
Napi::Value PerfBufferConsume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reader* reader = ReaderArg(info);
  reader->records.clear();
  int err = perf_buffer__consume(reader->buffer);
  if (err < 0) ThrowErrno(env, "perf_buffer__consume", -err);
  Napi::Array result = Napi::Array::New(env, reader->records.size());
  for (size_t i = 0; i < reader->records.size(); i++) {
    const Record& r = reader->records[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("cpu", Napi::Number::New(env, r.cpu));
    if (r.lost) {
      o.Set("lost", Napi::Number::New(env, static_cast<double>(r.lost)));
    } else {
      auto data = Napi::Uint8Array::New(env, r.data.size());
      std::memcpy(data.Data(), r.data.data(), r.data.size());
      o.Set("data", data);
    }
    result.Set(static_cast<uint32_t>(i), o);
  }
  return result;
}

Napi::Value PerfBufferClose(const Napi::CallbackInfo& info) {
  Reader* reader = ReaderArg(info);
  readers.erase(U32Arg(info, 0, "perf buffer"));
  perf_buffer__free(reader->buffer);
  delete reader;
  return info.Env().Undefined();
}

}  // namespace

void InitPerfBuffer(Napi::Env env, Napi::Object exports) {
  exports.Set("perfBufferOpen", Napi::Function::New(env, PerfBufferOpen));
  exports.Set("perfBufferConsume", Napi::Function::New(env, PerfBufferConsume));
  exports.Set("perfBufferClose", Napi::Function::New(env, PerfBufferClose));
}
