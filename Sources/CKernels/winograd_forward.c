// The forward Winograd transforms (see ckernels_transforms_forward.h): winograd_forward_body.h
// compiled for AVX2 at 8 floats a vector and for AVX-512F at 16, chosen by the caller's width.
// Clang vector types keep one body for both. Masked loads read the input's edges (nothing outside
// the image), masked stores the last groups that end past the output image or the pool's outputs.
#include "ckernels_transforms.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

typedef float f8 __attribute__((ext_vector_type(8)));
typedef int32_t i8 __attribute__((ext_vector_type(8)));
typedef float f16 __attribute__((ext_vector_type(16)));
typedef int32_t i16 __attribute__((ext_vector_type(16)));
// Unaligned variants, for loads and stores at any float's address.
typedef float f8u __attribute__((ext_vector_type(8), aligned(4)));
typedef int32_t i8u __attribute__((ext_vector_type(8), aligned(4)));
typedef float f16u __attribute__((ext_vector_type(16), aligned(4)));
typedef int32_t i16u __attribute__((ext_vector_type(16), aligned(4)));

// MARK: AVX2, 8 floats

#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)

/// Lanes 0..<n (0...8) of the mask: −1, the rest 0.
static inline __m256i lanes8(long n) {
    const i8 iota = {0, 1, 2, 3, 4, 5, 6, 7};
    return (__m256i)(iota < (i8)(int32_t)n);
}
static inline void store_n8(float *p, f8 v, long n) { _mm256_maskstore_ps(p, lanes8(n), (__m256)v); }
static inline void store_ni8(int32_t *p, i8 v, long n) { _mm256_maskstore_epi32((int *)p, lanes8(n), (__m256i)v); }

#define W 8
#define VF f8
#define VI i8
#define NAME(x) x##_avx2
#define LOAD(p) (*(const f8u *)(p))
#define LOADI(p) ((i8)(*(const i8u *)(p)))
#define STORE(p, v) (*(f8u *)(p) = (v))
#define STORE_N(p, v, n) store_n8((p), (v), (n))
#define STORE_NI(p, v, n) store_ni8((p), (v), (n))
#define EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#define INTERLEAVE_LOW(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define INTERLEAVE_HIGH(a, b) __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#define PERMUTE(v, index) ((f8)_mm256_permutevar8x32_ps((__m256)(v), (__m256i)(index)))
#define MASK __m256i
#define TO_MASK(vi) ((__m256i)(vi))
#define MASK_IF(m, condition) ((condition) ? (m) : _mm256_setzero_si256())
// The W floats at p where `mask` is set, zero elsewhere (reads nothing where it is not).
#define LOAD_INSIDE(p, mask) ((f8)_mm256_maskload_ps((p), (mask)))
#include "winograd_forward_body.h"
#undef W
#undef VF
#undef VI
#undef NAME
#undef LOAD
#undef LOADI
#undef STORE
#undef STORE_N
#undef STORE_NI
#undef EVEN
#undef ODD
#undef INTERLEAVE_LOW
#undef INTERLEAVE_HIGH
#undef PERMUTE
#undef LOAD_INSIDE
#undef MASK
#undef TO_MASK
#undef MASK_IF

#pragma clang attribute pop

// MARK: AVX-512F, 16 floats

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)

static inline __mmask16 lanes16(long n) { return (__mmask16)((1u << n) - 1); }
static inline void store_n16(float *p, f16 v, long n) { _mm512_mask_storeu_ps(p, lanes16(n), (__m512)v); }
static inline void store_ni16(int32_t *p, i16 v, long n) { _mm512_mask_storeu_epi32(p, lanes16(n), (__m512i)v); }

#define W 16
#define VF f16
#define VI i16
#define NAME(x) x##_avx512
#define LOAD(p) (*(const f16u *)(p))
#define LOADI(p) ((i16)(*(const i16u *)(p)))
#define STORE(p, v) (*(f16u *)(p) = (v))
#define STORE_N(p, v, n) store_n16((p), (v), (n))
#define STORE_NI(p, v, n) store_ni16((p), (v), (n))
#define EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define INTERLEAVE_LOW(a, b) \
    __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define INTERLEAVE_HIGH(a, b) \
    __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#define PERMUTE(v, index) ((f16)_mm512_permutexvar_ps((__m512i)(index), (__m512)(v)))
#define MASK __mmask16
#define TO_MASK(vi) _mm512_test_epi32_mask((__m512i)(vi), (__m512i)(vi))
#define MASK_IF(m, condition) ((condition) ? (m) : (__mmask16)0)
// The W floats at p where `mask` is set, zero elsewhere (reads nothing where it is not).
#define LOAD_INSIDE(p, mask) ((f16)_mm512_maskz_loadu_ps((mask), (p)))
#include "winograd_forward_body.h"

#pragma clang attribute pop

/// Whether this CPU runs `width`, asked once per width (ckernels_transforms_supported).
static int supported(int width) {
    static int known[2];  // 0 not asked yet, 1 no, 2 yes; for widths 8 and 16
    int *slot = &known[width == 16];
    int answer = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!answer) {
        answer = ckernels_transforms_supported(width) ? 2 : 1;
        __atomic_store_n(slot, answer, __ATOMIC_RELAXED);
    }
    return answer == 2;
}

#endif

long ckernels_winograd_input_scratch_floats(long tile_rows, long tile_columns) {
    return 2 * (2 * tile_rows + 2) * (2 * tile_columns + 48);
}

void ckernels_winograd_input_image(
    const float *image, long channels, long h, long w, long pad, long tile_rows, long tile_columns,
    float *v, long ld, float *scratch, const float **row_scratch, int width
) {
#if defined(__x86_64__)
    if ((width != 8 && width != 16) || !supported(width)) return;
    const long tx = tile_columns;
    // Rows of at most W/2 tiles: two rows of tiles a vector, straight from the image (width 16
    // runs 8 floats on rows of at most 4 tiles). Measured on the seed network's conv3-conv5
    // (rows of 5, 4 and 3 tiles): 1.5-1.9× the Swift code, where the padded copies below gave
    // 1.1-1.3×.
    if (tx <= 4) { input_image_pairs_avx2(image, channels, h, w, pad, tile_rows, tx, v, ld); return; }
    if (width == 16 && tx <= 8) { input_image_pairs_avx512(image, channels, h, w, pad, tile_rows, tx, v, ld); return; }
    // Longer rows: W tiles of a row at a time from padded rows (padded_rows_*), most read in
    // place; on conv1 and conv2 this ran 1.2× faster than masked loads from the image.
    void (*plane)(const float *const *, long, long, float *, long);
    void (*pad_rows)(const float *, long, long, long, long, long, long, long, float *, const float **);
    long readable, lanes;
    if (width == 8) {
        plane = input_plane_avx2; pad_rows = padded_rows_avx2; lanes = 8;
        readable = 2 * ((tx - 1) / 8 * 8) + 16 + 2;
    } else {
        plane = input_plane_avx512; pad_rows = padded_rows_avx512; lanes = 16;
        readable = 2 * ((tx - 1) / 16 * 16) + 32 + 2;
    }
    const long rows = 2 * tile_rows + 2, width_padded = 2 * tx + 2;
    const long stride = (readable + lanes - 1) / lanes * lanes;  // a copied row, whole vectors
    // Two sets of rows, for even and odd channels: channel c + 1's are copied before channel c is
    // transformed, so that the copies have reached the cache before loads straddle two of them.
    #define PREPARE(c) pad_rows(image + (c) * h * w, h, w, pad, width_padded, readable, stride, rows, \
                                scratch + ((c) & 1) * rows * stride, row_scratch + ((c) & 1) * rows)
    PREPARE(0);
    for (long c = 0; c < channels; c++) {
        if (c + 1 < channels) PREPARE(c + 1);
        plane(row_scratch + (c & 1) * rows, tile_rows, tx, v + c * 16 * ld, ld);
    }
    #undef PREPARE
#else
    (void)image; (void)channels; (void)h; (void)w; (void)pad; (void)tile_rows; (void)tile_columns;
    (void)v; (void)ld; (void)scratch; (void)row_scratch; (void)width;
#endif
}

void ckernels_winograd_output_image(
    const float *m, long ld, long out_channels, long output_height, long output_width,
    long tile_rows, long tile_columns, const float *bias, int relu, float *image,
    float *pool_output, int32_t *pool_indices, const int32_t *corners, float *scratch, int width
) {
#if defined(__x86_64__)
    if ((width != 8 && width != 16) || !supported(width)) return;
    // Rows of at most 8 tiles go 8 at a time at either width: the interleave works one row of
    // tiles at a time, and at 16 did twice the shuffles (measured slower on conv3-conv5).
    if (width == 16 && tile_columns > 8)
        output_image_avx512(m, ld, out_channels, output_height, output_width, tile_rows, tile_columns, bias,
                            relu, image, pool_output, pool_indices, corners, scratch);
    else
        output_image_avx2(m, ld, out_channels, output_height, output_width, tile_rows, tile_columns, bias,
                          relu, image, pool_output, pool_indices, corners, scratch);
#else
    (void)m; (void)ld; (void)out_channels; (void)output_height; (void)output_width; (void)tile_rows;
    (void)tile_columns; (void)bias; (void)relu; (void)image; (void)pool_output; (void)pool_indices;
    (void)corners; (void)scratch; (void)width;
#endif
}
