/* libxsmm 1.17 (Debian's libxsmm-dev, a static library): its JIT small-GEMM kernels, Linux only.
 * libxsmm's kernel type is a variadic function pointer, which Swift cannot call, so the kernel is handed
 * to Swift as an opaque pointer and called here. libxsmm is column-major. */
#include <libxsmm.h>

/* The kernel for C[m×n] = A[m×k]·B[k×n] (+ C when beta is 1; column-major, alpha 1), with B transposed when
 * transB is non-zero; NULL when libxsmm's JIT has none (1.17 generates no kernel with A transposed). */
static inline const void* adder_xsmm_dispatch(int m, int n, int k, int lda, int ldb, int ldc, float beta, int transB) {
    libxsmm_blasint m_ = m, n_ = n, k_ = k, lda_ = lda, ldb_ = ldb, ldc_ = ldc;
    const float alpha = 1;
    const int flags = transB ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
    const int prefetch = LIBXSMM_GEMM_PREFETCH_NONE;
    libxsmm_smmfunction kernel = libxsmm_smmdispatch(m_, n_, k_, &lda_, &ldb_, &ldc_, &alpha, &beta, &flags, &prefetch);
    return (const void*)kernel;
}

/* Runs a kernel from adder_xsmm_dispatch, then clears the upper halves of the vector registers: libxsmm
 * 1.17's kernels return with them dirty, and the SSE code that follows (Swift's, built for baseline x86-64)
 * then runs up to 2-3x slower until the next vzeroupper (measured: the engine's max pool). Only for kernels of
 * an AVX target (adder_xsmm_dispatch gives no other on a CPU where vzeroupper is missing: see LIBXSMM.swift). */
static inline void adder_xsmm_run(const void* kernel, const float* a, const float* b, float* c, int avx) {
    ((libxsmm_smmfunction)kernel)(a, b, c);
    if (avx) __asm__ volatile("vzeroupper" ::: "memory");
}

/* Whether libxsmm's target uses AVX (its id at or above LIBXSMM_X86_AVX), so that vzeroupper exists. */
static inline int adder_xsmm_target_is_avx(void) {
    return libxsmm_get_target_archid() >= LIBXSMM_X86_AVX;
}
