// The kernel oracle's maps (runtime/kernel.ts): create, describe, read and write BPF maps
// by fd with the raw bytes the kernel stores. Per-CPU maps hold one value per possible CPU,
// each padded to 8 bytes in the syscall's buffer; a single value written to one is copied
// to every CPU, as bpftool does. Map-in-map and prog_array slots take an fd when written
// and read back as the id of what they hold. Ring buffers are read as a consumer does.
#include "kernel_object.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "util.h"

namespace {

struct MapShape {
  bpf_map_type type;
  uint32_t keySize;
  uint32_t valueSize;
  uint32_t cpus;  // 1 unless per-CPU
  size_t Stride() const { return cpus == 1 ? valueSize : (valueSize + 7) / 8 * 8; }
  size_t ValueBytes() const { return Stride() * cpus; }
};

bpf_map_info InfoOf(Napi::Env env, int fd) {
  bpf_map_info map{};
  __u32 length = sizeof(map);
  if (bpf_obj_get_info_by_fd(fd, &map, &length) != 0) ThrowErrno(env, "BPF_OBJ_GET_INFO_BY_FD", errno);
  return map;
}

bool IsPerCpu(bpf_map_type type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

MapShape ShapeOf(Napi::Env env, int fd) {
  bpf_map_info map = InfoOf(env, fd);
  auto type = static_cast<bpf_map_type>(map.type);
  uint32_t cpus = 1;
  if (IsPerCpu(type)) {
    int possible = libbpf_num_possible_cpus();
    if (possible < 0) ThrowErrno(env, "counting possible CPUs", -possible);
    cpus = static_cast<uint32_t>(possible);
  }
  return MapShape{type, map.key_size, map.value_size, cpus};
}

int FdArg(const Napi::CallbackInfo& info) { return static_cast<int>(U32Arg(info, 0, "map fd")); }

void CheckSize(Napi::Env env, const char* what, size_t got, size_t want) {
  if (got != want) {
    throw Napi::Error::New(env, std::string(what) + " has " + std::to_string(got) + " bytes, the map takes " + std::to_string(want));
  }
}

// One value (copied to every CPU of a per-CPU map) as the syscall's value buffer.
void SpreadValue(const MapShape& shape, const uint8_t* value, uint8_t* out) {
  for (uint32_t cpu = 0; cpu < shape.cpus; cpu++) std::memcpy(out + cpu * shape.Stride(), value, shape.valueSize);
}

Napi::Uint8Array CopyOut(Napi::Env env, const uint8_t* data, size_t length) {
  Napi::Uint8Array array = Napi::Uint8Array::New(env, length);
  std::memcpy(array.Data(), data, length);
  return array;
}

// The value buffer as JS: one Uint8Array per CPU (one for other maps).
Napi::Array ValuesOf(Napi::Env env, const MapShape& shape, const uint8_t* value) {
  Napi::Array values = Napi::Array::New(env, shape.cpus);
  for (uint32_t cpu = 0; cpu < shape.cpus; cpu++) values.Set(cpu, CopyOut(env, value + cpu * shape.Stride(), shape.valueSize));
  return values;
}

// mapInfo(fd) -> {id, type, typeName, keySize, valueSize, maxEntries, flags}
Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map_info map = InfoOf(env, FdArg(info));
  const char* name = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(map.type));
  Napi::Object result = Napi::Object::New(env);
  result.Set("id", Napi::Number::New(env, map.id));
  result.Set("type", Napi::Number::New(env, map.type));
  result.Set("typeName", Napi::String::New(env, name ? name : std::to_string(map.type)));
  result.Set("keySize", Napi::Number::New(env, map.key_size));
  result.Set("valueSize", Napi::Number::New(env, map.value_size));
  result.Set("maxEntries", Napi::Number::New(env, map.max_entries));
  result.Set("flags", Napi::Number::New(env, map.map_flags));
  return result;
}

// mapLookup(fd, key, flags = 0) -> values (one per CPU for per-CPU maps), or undefined when
// absent. flags: BPF_F_LOCK copies the value holding its bpf_spin_lock.
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  MapShape shape = ShapeOf(env, fd);
  Bytes key = BytesOf(info[1], "key");
  uint32_t flags = info.Length() > 2 && !info[2].IsUndefined() ? U32Arg(info, 2, "flags") : 0;
  CheckSize(env, "the key", key.length, shape.keySize);
  std::vector<uint8_t> value(shape.ValueBytes());
  if (bpf_map_lookup_elem_flags(fd, key.data, value.data(), flags) != 0) {
    if (errno == ENOENT) return env.Undefined();
    ThrowErrno(env, "bpf_map_lookup_elem", errno);
  }
  return ValuesOf(env, shape, value.data());
}

// mapUpdate(fd, key, value, flags): value is value-size bytes, or a u32 fd for fd maps.
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  MapShape shape = ShapeOf(env, fd);
  Bytes key = BytesOf(info[1], "key");
  Bytes value = BytesOf(info[2], "value");
  uint32_t flags = U32Arg(info, 3, "flags");
  CheckSize(env, "the key", key.length, shape.keySize);
  CheckSize(env, "the value", value.length, shape.valueSize);
  std::vector<uint8_t> buffer(shape.ValueBytes());
  SpreadValue(shape, value.data, buffer.data());
  if (bpf_map_update_elem(fd, key.data, buffer.data(), flags) != 0) ThrowErrno(env, "bpf_map_update_elem", errno);
  return env.Undefined();
}

// mapUpdateMany(fd, keys, values, count, flags): `count` keys and values laid end to end,
// in one BPF_MAP_UPDATE_BATCH where the map type has it, else one update each.
Napi::Value MapUpdateMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  MapShape shape = ShapeOf(env, fd);
  Bytes keys = BytesOf(info[1], "keys");
  Bytes values = BytesOf(info[2], "values");
  uint32_t count = U32Arg(info, 3, "count");
  uint32_t flags = U32Arg(info, 4, "flags");
  CheckSize(env, "the keys", keys.length, size_t{count} * shape.keySize);
  CheckSize(env, "the values", values.length, size_t{count} * shape.valueSize);
  std::vector<uint8_t> buffer(size_t{count} * shape.ValueBytes());
  for (uint32_t i = 0; i < count; i++) SpreadValue(shape, values.data + size_t{i} * shape.valueSize, buffer.data() + i * shape.ValueBytes());
  __u32 done = count;
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
  if (count == 0 || bpf_map_update_batch(fd, keys.data, buffer.data(), &done, &opts) == 0) return env.Undefined();
  int err = errno;
  // Map types without batch support answer the kernel's own ENOTSUPP (524).
  if ((err != EINVAL && err != EOPNOTSUPP && err != 524) || done != 0) ThrowErrno(env, "bpf_map_update_batch", err);
  for (uint32_t i = 0; i < count; i++) {
    if (bpf_map_update_elem(fd, keys.data + size_t{i} * shape.keySize, buffer.data() + i * shape.ValueBytes(), flags) != 0) {
      ThrowErrno(env, "bpf_map_update_elem (entry " + std::to_string(i) + ")", errno);
    }
  }
  return env.Undefined();
}

// mapDelete(fd, key) -> false when the key was absent.
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  Bytes key = BytesOf(info[1], "key");
  CheckSize(env, "the key", key.length, ShapeOf(env, fd).keySize);
  if (bpf_map_delete_elem(fd, key.data) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  ThrowErrno(env, "bpf_map_delete_elem", errno);
}

// mapNextKey(fd, key or undefined) -> the next key, or undefined after the last: one
// BPF_MAP_GET_NEXT_KEY, for tests of iteration with deletes in between.
Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  MapShape shape = ShapeOf(env, fd);
  std::vector<uint8_t> next(shape.keySize);
  const void* previous = nullptr;
  Bytes key{};
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    key = BytesOf(info[1], "key");
    CheckSize(env, "the key", key.length, shape.keySize);
    previous = key.data;
  }
  if (bpf_map_get_next_key(fd, previous, next.data()) == 0) return CopyOut(env, next.data(), next.size());
  if (errno == ENOENT) return env.Undefined();
  ThrowErrno(env, "bpf_map_get_next_key", errno);
}

// mapDump(fd) -> [{key, values}], skipping keys with nothing to read (empty slots of fd
// arrays, entries deleted meanwhile), as bpftool's dump reports them apart.
Napi::Value MapDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  MapShape shape = ShapeOf(env, fd);
  Napi::Array entries = Napi::Array::New(env);
  std::vector<uint8_t> key(shape.keySize), next(shape.keySize), value(shape.ValueBytes());
  const void* previous = nullptr;
  uint32_t count = 0;
  while (bpf_map_get_next_key(fd, previous, next.data()) == 0) {
    key.swap(next);
    previous = key.data();
    if (bpf_map_lookup_elem(fd, key.data(), value.data()) != 0) continue;
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("key", CopyOut(env, key.data(), key.size()));
    entry.Set("values", ValuesOf(env, shape, value.data()));
    entries.Set(count++, entry);
  }
  if (errno != ENOENT) ThrowErrno(env, "bpf_map_get_next_key", errno);
  return entries;
}

// mapCreate(typeName, name, keySize, valueSize, maxEntries, flags, innerFd) -> fd; typeName
// as libbpf spells it ("hash", "lru_hash", ...); innerFd (or -1) shapes a map-in-map's values.
Napi::Value MapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string typeName = StringArg(info, 0, "map type");
  std::string name = StringArg(info, 1, "map name");
  int type = 0;
  while (libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type)) && typeName != libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type))) type++;
  if (!libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type))) throw Napi::Error::New(env, "unknown map type " + typeName);
  int innerFd = info.Length() > 6 && info[6].IsNumber() ? info[6].As<Napi::Number>().Int32Value() : -1;
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = U32Arg(info, 5, "flags"));
  if (innerFd >= 0) opts.inner_map_fd = static_cast<__u32>(innerFd);
  int fd = bpf_map_create(static_cast<bpf_map_type>(type), name.c_str(), U32Arg(info, 2, "key size"), U32Arg(info, 3, "value size"),
                          U32Arg(info, 4, "max entries"), &opts);
  if (fd < 0) ThrowErrno(env, "bpf_map_create", errno);
  return Napi::Number::New(env, fd);
}

// pinObject(fd, path): pins a map or program on bpffs.
Napi::Value PinObject(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 1, "pin path");
  if (bpf_obj_pin(static_cast<int>(U32Arg(info, 0, "fd")), path.c_str()) != 0) ThrowErrno(info.Env(), "pinning " + path, errno);
  return info.Env().Undefined();
}

// libbpf's callback for one ring-buffer record: keeps a copy (JS values cannot be made
// here, and a callback must not throw through libbpf's C frames).
int KeepRecord(void* ctx, void* data, size_t size) {
  auto* records = static_cast<std::vector<std::vector<uint8_t>>*>(ctx);
  const auto* bytes = static_cast<const uint8_t*>(data);
  records->emplace_back(bytes, bytes + size);
  return 0;
}

// ringbufDrain(fd) -> [Uint8Array]: every record submitted since the last drain, in order,
// discarded ones skipped, through libbpf's consumer; it advances the ring's consumer
// position, so programs have that room again and the next drain starts after these.
Napi::Value RingbufDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  std::vector<std::vector<uint8_t>> records;
  ring_buffer* ring = ring_buffer__new(fd, KeepRecord, &records, nullptr);
  if (!ring) ThrowErrno(env, "ring_buffer__new", errno);
  int consumed = ring_buffer__consume(ring);
  ring_buffer__free(ring);
  if (consumed < 0) ThrowErrno(env, "ring_buffer__consume", -consumed);
  Napi::Array result = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); i++) result.Set(static_cast<uint32_t>(i), CopyOut(env, records[i].data(), records[i].size()));
  return result;
}

}  // namespace

void InitKernelMap(Napi::Env env, Napi::Object exports) {
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapUpdateMany", Napi::Function::New(env, MapUpdateMany));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapDump", Napi::Function::New(env, MapDump));
  exports.Set("mapNextKey", Napi::Function::New(env, MapNextKey));
  exports.Set("mapCreate", Napi::Function::New(env, MapCreate));
  exports.Set("pinObject", Napi::Function::New(env, PinObject));
  exports.Set("ringbufDrain", Napi::Function::New(env, RingbufDrain));
}
