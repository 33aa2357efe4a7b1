// The backward Winograd transforms at 8 floats a vector (AVX2): winograd_backward_body.h
// compiled for AVX2. Called through winograd_backward.c, only on CPUs that have it.
#if defined(__x86_64__)
#define W 8
#define KERNEL(name) ckernels_winograd_##name##_8
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#include "winograd_backward_body.h"
#pragma clang attribute pop
#endif
