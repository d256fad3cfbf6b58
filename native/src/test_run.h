#pragma once
#include <napi.h>

void InitTestRun(Napi::Env env, Napi::Object exports);
