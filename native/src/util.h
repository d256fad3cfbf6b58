// Shared helpers of the native addon: errors that name the failing call and errno, and
// access to byte ranges of JS typed arrays (views over the program's shared memory).
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>

// Throws a JS Error "<what>: <strerror(err)>" carrying `code` = the errno name.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& what, int err);

// The bytes of a Uint8Array, which may be a view over a SharedArrayBuffer (the wasm memory).
struct Bytes {
  uint8_t* data;
  size_t length;
};
Bytes BytesOf(const Napi::Value& value, const char* what);

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what);

// The interface's index, or a JS error naming the interface.
unsigned InterfaceIndex(Napi::Env env, const std::string& name);
