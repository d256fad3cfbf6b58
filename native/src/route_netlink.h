#pragma once
#include <napi.h>
void InitRouteNetlink(Napi::Env env, Napi::Object exports);
