#pragma once
#include <napi.h>

void InitTapDevice(Napi::Env env, Napi::Object exports);
