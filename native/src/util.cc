#include "util.h"

#include <cerrno>
#include <cstring>
#include <net/if.h>

void ThrowErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error error = Napi::Error::New(env, what + ": " + std::strerror(err));
  const char* name = strerrorname_np(err);
  error.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  error.Set("errno", Napi::Number::New(env, err));
  throw error;
}

Bytes BytesOf(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a Uint8Array");
  }
  auto array = value.As<Napi::Uint8Array>();
  return Bytes{array.Data(), array.ByteLength()};
}

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  return info[index].As<Napi::Number>().Uint32Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || !info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

unsigned InterfaceIndex(Napi::Env env, const std::string& name) {
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) ThrowErrno(env, "interface " + name, errno);
  return index;
}
