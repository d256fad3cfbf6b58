#pragma once
#include <napi.h>
void InitPerfBuffer(Napi::Env env, Napi::Object exports);
