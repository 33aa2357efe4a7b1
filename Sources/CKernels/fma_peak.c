// The FMA peak loop (see ckernels.h): 12 independent chains of fused multiply-adds, one
// instruction set per function, picked at run time.
#include "ckernels.h"
#include <math.h>

#define X 0.999f
#define Y 0.001f
#define START 0.5f

#if defined(__x86_64__)
#include <immintrin.h>

#define CHAIN_STEP(fma, k) a##k = fma(a##k, x, y);
#define ALL_CHAINS(fma) \
    CHAIN_STEP(fma, 0) CHAIN_STEP(fma, 1) CHAIN_STEP(fma, 2) CHAIN_STEP(fma, 3) \
    CHAIN_STEP(fma, 4) CHAIN_STEP(fma, 5) CHAIN_STEP(fma, 6) CHAIN_STEP(fma, 7) \
    CHAIN_STEP(fma, 8) CHAIN_STEP(fma, 9) CHAIN_STEP(fma, 10) CHAIN_STEP(fma, 11)

__attribute__((target("avx512f")))
static float loop16(long iterations) {
    const __m512 x = _mm512_set1_ps(X), y = _mm512_set1_ps(Y);
    __m512 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm512_set1_ps(START);
    for (long i = 0; i < iterations; i++) { ALL_CHAINS(_mm512_fmadd_ps) }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma")))
static float loop8(long iterations) {
    const __m256 x = _mm256_set1_ps(X), y = _mm256_set1_ps(Y);
    __m256 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = _mm256_set1_ps(START);
    for (long i = 0; i < iterations; i++) { ALL_CHAINS(_mm256_fmadd_ps) }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float total = 0;
    for (int i = 0; i < 8; i++) total += lanes[i];
    return total;
}

int ckernels_fma_supported(int width) {
    __builtin_cpu_init();
    if (width == 16) return __builtin_cpu_supports("avx512f");
    if (width == 8) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return 0;
}

float ckernels_fma_loop(int width, long iterations) {
    if (!ckernels_fma_supported(width)) return NAN;
    return width == 16 ? loop16(iterations) : loop8(iterations);
}

#elif defined(__aarch64__)
#include <arm_neon.h>

#define CHAIN_STEP(k) a##k = vfmaq_f32(y, a##k, x);

static float loop4(long iterations) {
    const float32x4_t x = vdupq_n_f32(X), y = vdupq_n_f32(Y);
    float32x4_t a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = vdupq_n_f32(START);
    for (long i = 0; i < iterations; i++) {
        CHAIN_STEP(0) CHAIN_STEP(1) CHAIN_STEP(2) CHAIN_STEP(3) CHAIN_STEP(4) CHAIN_STEP(5)
        CHAIN_STEP(6) CHAIN_STEP(7) CHAIN_STEP(8) CHAIN_STEP(9) CHAIN_STEP(10) CHAIN_STEP(11)
    }
    float32x4_t s = vaddq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)), vaddq_f32(vaddq_f32(a4, a5), vaddq_f32(a6, a7)));
    s = vaddq_f32(s, vaddq_f32(vaddq_f32(a8, a9), vaddq_f32(a10, a11)));
    return vaddvq_f32(s);
}

int ckernels_fma_supported(int width) { return width == 4; }

float ckernels_fma_loop(int width, long iterations) {
    return width == 4 ? loop4(iterations) : NAN;
}

#else
int ckernels_fma_supported(int width) { (void)width; return 0; }
float ckernels_fma_loop(int width, long iterations) { (void)width; (void)iterations; return NAN; }
#endif

int ckernels_fma_width(void) {
    if (ckernels_fma_supported(16)) return 16;
    if (ckernels_fma_supported(8)) return 8;
    if (ckernels_fma_supported(4)) return 4;
    return 0;
}
