// The backward Winograd transforms at 16 floats a vector (AVX-512F): winograd_backward_body.h
// compiled for AVX-512F. Called through winograd_backward.c, only on CPUs that have it.
#if defined(__x86_64__)
#define W 16
#define KERNEL(name) ckernels_winograd_##name##_16
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "winograd_backward_body.h"
#pragma clang attribute pop
#endif
