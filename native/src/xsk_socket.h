#pragma once
#include <napi.h>

void InitXskSocket(Napi::Env env, Napi::Object exports);
