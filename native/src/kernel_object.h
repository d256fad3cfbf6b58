#pragma once
#include <bpf/libbpf.h>
#include <cstdarg>
#include <napi.h>

void InitKernelObject(Napi::Env env, Napi::Object exports);
void InitKernelMap(Napi::Env env, Napi::Object exports);

// Keeps a libbpf warning for the error of the load in progress on this thread (if any),
// since the verifier's complaint is the cause worth reporting.
void KeepLibbpfMessage(enum libbpf_print_level level, const char* format, va_list args);
