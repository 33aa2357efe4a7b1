// The backward Winograd tile transforms for one vector width W (8 or 16 floats), included once per
// instruction set by winograd_backward_avx2.c and winograd_backward_avx512.c, which define W,
// KERNEL(name) (the name with the width appended) and the target attribute. Each kernel does what
// its Swift version does (WinogradTransforms.swift, WinogradFusedPool.swift), W tiles at a time
// instead of 4, with the same additions in the same order, so the values are the same bit for
// bit: lane-wise operations do not care how many lanes run at once. Two details keep the bits:
// FP contraction is off (no fused multiply-adds), and a negation is written 0 − x, as Swift's
// SIMD prefix minus computes it (−(+0) is +0 there, where C's −x would give −0).
#include <immintrin.h>
#include <stdint.h>

#pragma clang fp contract(off)

typedef float vf __attribute__((ext_vector_type(W)));
typedef int32_t vi __attribute__((ext_vector_type(W)));
typedef float v4 __attribute__((ext_vector_type(4)));

// Shuffles: the lanes of two vectors interleaved (a0 b0 a1 b1 ...: low and high half), the even
// and odd lanes of two vectors read as one of 2W, and the last two lanes of `a` followed by the
// first W − 2 of `b` (a shift by two floats across two vectors).
#if W == 16
#define INTERLEAVE_LOW(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define INTERLEAVE_HIGH(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#define EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define SHIFT2(a, b) __builtin_shufflevector(a, b, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29)
#define LANES (vi){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
#elif W == 8
#define INTERLEAVE_LOW(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define INTERLEAVE_HIGH(a, b) __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#define EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#define SHIFT2(a, b) __builtin_shufflevector(a, b, 6, 7, 8, 9, 10, 11, 12, 13)
#define LANES (vi){0, 1, 2, 3, 4, 5, 6, 7}
#else
#error "W must be 8 or 16"
#endif

static inline vf load(const float *p) { vf v; __builtin_memcpy(&v, p, sizeof v); return v; }
static inline vi load_int(const int32_t *p) { vi v; __builtin_memcpy(&v, p, sizeof v); return v; }
static inline void store(float *p, vf v) { __builtin_memcpy(p, &v, sizeof v); }

// Masked loads and stores: lanes lo ..< hi (any integers; clamped to 0 ... W) of p. Masked-off
// lanes are not touched, so p may point past either end of a buffer; loads give +0 there.
#if W == 16
static inline __mmask16 lane_mask(long lo, long hi) {
    lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
    hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}
static inline vf load_lanes(const float *p, long lo, long hi) { return (vf)_mm512_maskz_loadu_ps(lane_mask(lo, hi), p); }
static inline vi load_int_lanes(const int32_t *p, long lo, long hi) {
    return (vi)_mm512_maskz_loadu_epi32(lane_mask(lo, hi), p);
}
static inline void store_lanes(float *p, vf v, long lo, long hi) { _mm512_mask_storeu_ps(p, lane_mask(lo, hi), (__m512)v); }
#else
static inline __m256i lane_mask(long lo, long hi) {
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < 0 ? 0 : hi > 8 ? 8 : hi;
    return (__m256i)((LANES >= (int32_t)lo) & (LANES < (int32_t)hi));
}
static inline vf load_lanes(const float *p, long lo, long hi) { return (vf)_mm256_maskload_ps(p, lane_mask(lo, hi)); }
static inline vi load_int_lanes(const int32_t *p, long lo, long hi) {
    return (vi)_mm256_maskload_epi32((const int *)p, lane_mask(lo, hi));
}
static inline void store_lanes(float *p, vf v, long lo, long hi) { _mm256_maskstore_ps(p, lane_mask(lo, hi), (__m256)v); }
#endif

#if W == 8
/// Transposes the 8×8 matrix whose rows are r[0 ..< 8] in place.
static inline void transpose(vf r[8]) {
    // The usual three steps: pairs within 128-bit lanes, then quads, then the two lanes.
    __m256 t[8], s[8];
    for (int k = 0; k < 4; k++) {
        t[2 * k] = _mm256_unpacklo_ps((__m256)r[2 * k], (__m256)r[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_ps((__m256)r[2 * k], (__m256)r[2 * k + 1]);
    }
    for (int k = 0; k < 2; k++) {
        s[4 * k] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        s[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
        s[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        s[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {
        r[k] = (vf)_mm256_permute2f128_ps(s[k], s[k + 4], 0x20);
        r[k + 4] = (vf)_mm256_permute2f128_ps(s[k], s[k + 4], 0x31);
    }
}
#endif

/// `a` where mask is −1, `b` where it is 0, bit for bit (WinogradSIMD.swift's `select`).
static inline vf select_float(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

/// −1 where a < b, 0 elsewhere, from the sign bit of a − b (WinogradSIMD.swift's `lessMask`).
static inline vi less_mask(vf a, vf b) { return (vi)(a - b) >> 31; }

/// row[x] += the W values of `v` for padded columns x ..< x + W, those in from ..< to only (none
/// touched when no column is: short rows of tiles leave a whole vector out).
static inline void add_row(float *row, long x, vf v, long from, long to) {
    if (x >= from && x + W <= to) {
        store(row + x, load(row + x) + v);
    } else if (x + W > from && x < to) {
        store_lanes(row + x, load_lanes(row + x, from - x, to - x) + v, from - x, to - x);
    }
}

// MARK: - dM = A dY Aᵀ

void KERNEL(grad_output_transform)(
    const float *grad_output, long channels, long oh, long ow, long tile_rows, long tx,
    float *dm, long ld, long column
) {
    const long xi = ld;
    const vf zero = 0;
    for (long o = 0; o < channels; o++) {
        const float *plane = grad_output + o * oh * ow;
        for (long ty = 0; ty < tile_rows; ty++) {
            float *out = dm + o * 16 * ld + column + ty * tx;
            const float *row0 = plane + 2 * ty * ow, *row1 = plane + (2 * ty + 1) * ow;
            const int has_row1 = 2 * ty + 1 < oh;  // the tile row's second output row lies in the output
            for (long t = 0; t < tx; t += W) {
                // Columns 2t ..< 2t + 2W of both rows, zero past the output (an odd OW's last tile).
                const long x = 2 * t, left = ow - x;
                vf a0, a1, b0 = zero, b1 = zero;
                if (left >= 2 * W) {
                    a0 = load(row0 + x); a1 = load(row0 + x + W);
                    if (has_row1) { b0 = load(row1 + x); b1 = load(row1 + x + W); }
                } else {
                    a0 = load_lanes(row0 + x, 0, left); a1 = load_lanes(row0 + x + W, 0, left - W);
                    if (has_row1) { b0 = load_lanes(row1 + x, 0, left); b1 = load_lanes(row1 + x + W, 0, left - W); }
                }
                const vf p0 = EVEN(a0, a1), p1 = ODD(a0, a1), q0 = EVEN(b0, b1), q1 = ODD(b0, b1);
                // u = A dy: rows (p), (p + q), (p − q), (−q); then dm[i] = (u0, u0 + u1, u0 − u1, −u1).
#define PUT(i, u0, u1) do { \
                    float *q = out + 4 * (i) * xi + t; \
                    const vf u0_ = (u0), u1_ = (u1); \
                    store(q, u0_); store(q + xi, u0_ + u1_); store(q + 2 * xi, u0_ - u1_); store(q + 3 * xi, zero - u1_); \
                } while (0)
                PUT(0, p0, p1);
                PUT(1, p0 + q0, p1 + q1);
                PUT(2, p0 - q0, p1 - q1);
                PUT(3, zero - q0, zero - q1);
#undef PUT
            }
        }
    }
}

// MARK: - dM from a fused 2×2 max pool's gradient

void KERNEL(pool_grad_output_transform)(
    const float *gradient, const float *pooled, const int32_t *indices, const int32_t *corners,
    long channels, long count, long ow, float *dm, long ld, long column, float *sums
) {
    const long xi = ld;
    const vf zero = 0;
    const vi output_width = (vi)(int32_t)ow;
    for (long o = 0; o < channels; o++) {
        const float *grad = gradient + o * count, *values = pooled + o * count;
        const int32_t *index = indices + o * count;
        float *out = dm + o * 16 * ld + column;
        v4 sum = 0;
        for (long t = 0; t < count; t += W) {
            // W windows; in the last, partial group the lanes past the last window are zero.
            vf gv, pv; vi iv, corner;
            if (count - t >= W) {
                gv = load(grad + t); pv = load(values + t); iv = load_int(index + t); corner = load_int(corners + t);
            } else {
                gv = load_lanes(grad + t, 0, count - t); pv = load_lanes(values + t, 0, count - t);
                iv = load_int_lanes(index + t, 0, count - t); corner = load_int_lanes(corners + t, 0, count - t);
            }
            const vf gm = select_float(less_mask(zero, pv), gv, zero);  // the gradient where the pooled value is > 0
            // The Swift code's 4-lane sum, one group of four windows after another (those that hold a window).
            sum += __builtin_shufflevector(gm, gm, 0, 1, 2, 3);
            if (t + 4 < count) sum += __builtin_shufflevector(gm, gm, 4, 5, 6, 7);
#if W == 16
            if (t + 8 < count) sum += __builtin_shufflevector(gm, gm, 8, 9, 10, 11);
            if (t + 12 < count) sum += __builtin_shufflevector(gm, gm, 12, 13, 14, 15);
#endif
            // The maximum's place in its window: x = 1 for an odd offset (OW is even), r = 1 a row down.
            const vi delta = iv - corner;
            const vi right = 0 - (delta & 1), down = (output_width - 1 - delta) >> 31;  // −1 where x = 1, where r = 1
            const vf negative = zero - gm;
            // c_j = g · A[j][x]: x = 0 → (g, g, g, 0); x = 1 → (0, g, −g, −g).
            const vf c0 = select_float(right, zero, gm), c1 = gm, c2 = select_float(right, negative, gm),
                     c3 = select_float(right, negative, zero);
#define PUT(i, v0, v1, v2, v3) do { \
                float *q = out + 4 * (i) * xi + t; \
                store(q, v0); store(q + xi, v1); store(q + 2 * xi, v2); store(q + 3 * xi, v3); \
            } while (0)
            // dM[4i + j] = A[i][r] · c_j: r = 0 → (c, c, c, 0); r = 1 → (0, c, −c, −c).
            PUT(0, select_float(down, zero, c0), select_float(down, zero, c1), select_float(down, zero, c2),
                select_float(down, zero, c3));
            PUT(1, c0, c1, c2, c3);
            PUT(2, select_float(down, zero - c0, c0), select_float(down, zero - c1, c1),
                select_float(down, zero - c2, c2), select_float(down, zero - c3, c3));
            PUT(3, select_float(down, zero - c0, zero), select_float(down, zero - c1, zero),
                select_float(down, zero - c2, zero), select_float(down, zero - c3, zero));
#undef PUT
        }
        __builtin_memcpy(sums + 4 * o, &sum, sizeof sum);
    }
}

// MARK: - dX += B dV Bᵀ

void KERNEL(grad_input_transform)(
    const float *dv, long ld, long column, long channels, long h, long w, long pad,
    long tile_rows, long tx, float *image
) {
    const long xi = ld;
    const long width = 2 * tx + 2;  // padded input columns the tiles of one row cover
    // Input columns 0 ..< w sit at padded columns pad ..< w + pad; the tiles cover padded 0 ..< width.
    const long from = width < pad ? width : pad;
    const long end = w + pad < width ? w + pad : width, to = end > from ? end : from;
    const vf zero = 0;
    for (long c = 0; c < channels; c++) {
        float *plane = image + c * h * w;
        for (long ty = 0; ty < tile_rows; ty++) {
            const float *src = dv + c * 16 * ld + column + ty * tx;
            const long y0 = 2 * ty - pad;
            // Per output row i of the tile row, tile t adds dR_i's columns 0, 1 at padded columns
            // 2t, 2t + 1 ("own") and its columns 2, 3 at 2t + 2, 2t + 3 ("shifted", onto the next
            // tile's own). The shifted pairs of a group of W tiles reach two columns into the next
            // group: `carry` holds them. Padded column x gets own[x] + shifted[x], where own is +0
            // past the last tile (x ≥ 2·tx) and shifted +0 before the first (x < 2), as the Swift
            // code's zeroed scratch columns give them. So the groups run to t = tx inclusive: the
            // group after a full last group adds the last tile's shifted pair.
            vf carry[4] = {zero, zero, zero, zero};
            for (long t = 0; t <= tx; t += W) {
                // dS_k = dV[k] Bᵀ: (v0, v1 − v2 + v3 | v1 + v2 − v0, −v3) at columns (2t, 2t+1 | 2t+2, 2t+3).
#define COLUMNS(k, s) \
                const float *p##k = src + 4 * (k) * xi + t; \
                const vf v0_##k = load(p##k), v1_##k = load(p##k + xi), v2_##k = load(p##k + 2 * xi), \
                         v3_##k = load(p##k + 3 * xi); \
                const vf s##0 = v0_##k, s##1 = v1_##k - v2_##k + v3_##k, s##2 = v1_##k + v2_##k - v0_##k, \
                         s##3 = zero - v3_##k;
                // Lanes past the last tile must add +0 at columns 2·tx, 2·tx + 1.
                const vi keep_low = LANES < (vi)(int32_t)(2 * (tx - t)), keep_high = LANES + W < (vi)(int32_t)(2 * (tx - t));
                const int tail = t + W > tx;
                // dR_i = (r0, r1 | r2, r3); adds row y0 + i's columns 2t ..< 2t + 2W.
#define PUT(i, r0, r1, r2, r3) do { \
                    vf own_low = INTERLEAVE_LOW(r0, r1), own_high = INTERLEAVE_HIGH(r0, r1); \
                    if (tail) { own_low = select_float(keep_low, own_low, zero); own_high = select_float(keep_high, own_high, zero); } \
                    const vf shifted_low = INTERLEAVE_LOW(r2, r3), shifted_high = INTERLEAVE_HIGH(r2, r3); \
                    const vf sum_low = own_low + SHIFT2(carry[i], shifted_low), sum_high = own_high + SHIFT2(shifted_low, shifted_high); \
                    carry[i] = shifted_high; \
                    const long y = y0 + (i); \
                    if (y >= 0 && y < h) { \
                        add_row(plane + y * w - pad, 2 * t, sum_low, from, to); \
                        add_row(plane + y * w - pad, 2 * t + W, sum_high, from, to); \
                    } \
                } while (0)
                // In the Swift code's order: s1 + s2 and s1 − s2, then s0 and s3 one after the other.
                COLUMNS(1, s1_) COLUMNS(2, s2_)
                const vf sum0 = s1_0 + s2_0, sum1 = s1_1 + s2_1, sum2 = s1_2 + s2_2, sum3 = s1_3 + s2_3;
                const vf difference0 = s1_0 - s2_0, difference1 = s1_1 - s2_1, difference2 = s1_2 - s2_2,
                         difference3 = s1_3 - s2_3;
                COLUMNS(0, s0_)
                PUT(0, s0_0, s0_1, s0_2, s0_3);
                PUT(2, sum0 - s0_0, sum1 - s0_1, sum2 - s0_2, sum3 - s0_3);
                COLUMNS(3, s3_)
                PUT(1, difference0 + s3_0, difference1 + s3_1, difference2 + s3_2, difference3 + s3_3);
                PUT(3, zero - s3_0, zero - s3_1, zero - s3_2, zero - s3_3);
#undef PUT
#undef COLUMNS
            }
        }
    }
}

// MARK: - V[ξ]ᵀ for the weight gradient's GEMM

// Compiled at 8 floats only: a 16×16 transpose by four rounds of interleaving (vpermt2ps) ran
// 1.1–1.4× slower than this 8×8 one on a Zen 5, so winograd_backward.c runs this one for 16 too.
#if W == 8

void KERNEL(transpose_tiles)(const float *v, long row_stride, long channels, long columns, float *vt) {
    long c0 = 0;
    // W channels by W tiles at a time; the last group of tiles stores only the rows of real tiles.
    for (; c0 + W <= channels; c0 += W) {
        for (long t = 0; t < columns; t += W) {
            vf r[W];
            for (int k = 0; k < W; k++) r[k] = load(v + (c0 + k) * row_stride + t);
            transpose(r);
            if (columns - t >= W) {
                for (int k = 0; k < W; k++) store(vt + (t + k) * channels + c0, r[k]);
            } else {
                for (long k = 0; k < columns - t; k++) store(vt + (t + k) * channels + c0, r[k]);
            }
        }
    }
    // Channels past the last multiple of W (none in the seed network), one value at a time.
    for (long ch = c0; ch < channels; ch++) {
        for (long t = 0; t < columns; t++) vt[t * channels + ch] = v[ch * row_stride + t];
    }
}
#endif
