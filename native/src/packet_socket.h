#pragma once
#include <napi.h>

void InitPacketSocket(Napi::Env env, Napi::Object exports);
