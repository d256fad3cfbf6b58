#pragma once
#include <napi.h>

void InitPrefilter(Napi::Env env, Napi::Object exports);
