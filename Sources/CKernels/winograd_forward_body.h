// The body of the forward transforms at W floats a vector (see winograd_forward.c, which includes
// this once per instruction set with W, the vector types and the partial stores defined). Each
// function mirrors its Swift SIMD4 counterpart in WinogradTransforms.swift / WinogradFusedPool.swift:
// the same additions in the same order (no contraction into FMAs), W tiles where Swift does 4.

/// Points `rows[r]`, r < `count`, at padded row r of `plane` (plane row r − pad, shifted right by
/// `pad`), of which `readable` floats may be read: the first `width` are the padded row's (zero
/// outside the plane), the rest only feed lanes past the last tile. A row read in place (no padding, and `readable` floats from
/// its start still inside the plane) is used where it lies; any other is copied into `copies`
/// (`count` rows of `stride` ≥ `readable` rounded up to W floats), W floats at a time with masked
/// loads, which read nothing outside the plane's row.
static void NAME(padded_rows)(
    const float *plane, long h, long w, long pad, long width, long readable, long stride, long count,
    float *copies, const float **rows
) {
    VI iota;
    for (int k = 0; k < W; k++) iota[k] = k;
    const long n = w < width - pad ? w : width - pad;  // plane columns a padded row holds
    for (long r = 0; r < count; r++) {
        const long y = r - pad;
        if (pad == 0 && width <= w && y >= 0 && y * w + readable <= h * w) {
            rows[r] = plane + y * w;
            continue;
        }
        float *copy = copies + r * stride;
        // Padded column x is source[x]; a row outside the plane loads nothing (all lanes masked).
        const float *source = y >= 0 && y < h ? plane + y * w - pad : plane;
        for (long x = 0; x < readable; x += W) {
            // Lanes whose plane column x + k − pad lies in 0 ..< n (none outside the plane's rows).
            const VI column = iota + (VI)(int32_t)(x - pad);
            const VI inside = (column >= (VI)0) & (column < (VI)(int32_t)n) & (VI)(int32_t)(y >= 0 && y < h ? -1 : 0);
            STORE(copy + x, LOAD_INSIDE(source + x, TO_MASK(inside)));
        }
        rows[r] = copy;
    }
}

/// The input rows a row of tiles reads, padded: row i (0..<4) of tile row ty is plane row
/// 2·ty + i − pad, whose padded column x is `source[i][x]`; `valid[i]` says whether it lies inside
/// the plane (otherwise it is zero, and `source[i]` any readable address).
struct NAME(tile_rows) { const float *source[4]; int valid[4]; };

static inline struct NAME(tile_rows) NAME(rows_of)(const float *plane, long h, long w, long pad, long ty) {
    struct NAME(tile_rows) rows;
    for (int i = 0; i < 4; i++) {
        const long y = 2 * ty + i - pad;
        rows.valid[i] = y >= 0 && y < h;
        rows.source[i] = rows.valid[i] ? plane + y * w - pad : plane;
    }
    return rows;
}

/// The lanes of a load of W padded columns from column x0 that fall inside the plane's row
/// (0 ≤ x0 + k − pad < w); the others load as zero, which is the padding.
static inline MASK NAME(columns_inside)(long x0, long w, long pad) {
    VI iota;
    for (int k = 0; k < W; k++) iota[k] = k;
    const VI column = iota + (VI)(int32_t)(x0 - pad);
    return TO_MASK((column >= (VI)0) & (column < (VI)(int32_t)w));
}

/// Columns (d B) of one input row for W tiles: (e0 − e1, o0 + e1, e1 − o0, o0 − o1), e and o the
/// even and odd input columns of the loads a (from the tiles' first column) and b (2 further on);
/// a0, b0 hold the first W columns, a1, b1 the next W.
static inline void NAME(input_columns)(VF a0, VF a1, VF b0, VF b1, VF c[4]) {
    VF e0 = EVEN(a0, a1), o0 = ODD(a0, a1), e1 = EVEN(b0, b1), o1 = ODD(b0, b1);
    c[0] = e0 - e1; c[1] = o0 + e1; c[2] = e1 - o0; c[3] = o0 - o1;
}

/// Rows (Bᵀ ·) of W tiles' columns r0..r3 into V at `out` (rows ld apart), tiles in the order
/// `ORDER` puts them: V[4k + j] = (r0 − r2, r1 + r2, r2 − r1, r1 − r3)[k] of column j, in the
/// Swift code's order, which keeps at most three rows' columns live. `load(i, c)` makes row i's
/// columns.
#define INPUT_ROWS(out, ld, load, ORDER) do { \
        VF r0[4], r1[4], r2[4], r3[4]; \
        load(1, r1); load(2, r2); \
        for (int j = 0; j < 4; j++) STORE((out) + (4 + j) * (ld), ORDER(r1[j] + r2[j])); \
        for (int j = 0; j < 4; j++) STORE((out) + (8 + j) * (ld), ORDER(r2[j] - r1[j])); \
        load(0, r0); \
        for (int j = 0; j < 4; j++) STORE((out) + j * (ld), ORDER(r0[j] - r2[j])); \
        load(3, r3); \
        for (int j = 0; j < 4; j++) STORE((out) + (12 + j) * (ld), ORDER(r1[j] - r3[j])); \
    } while (0)
#define AS_IS(v) (v)

/// V = Bᵀ d B for one plane laid out by NAME(padded_rows), W tiles of a row at a time (see
/// ckernels_winograd_input_image). Reads 2·t + 2W + 2 floats of each row, t the last group's first
/// tile.
static void NAME(input_plane)(const float *const *rows, long tile_rows, long tx, float *v, long ld) {
    for (long ty = 0; ty < tile_rows; ty++) {
        for (long t = 0; t < tx; t += W) {
#define ROW_COLUMNS(i, out) do { \
                const float *p = rows[2 * ty + (i)] + 2 * t; \
                NAME(input_columns)(LOAD(p), LOAD(p + W), LOAD(p + 2), LOAD(p + 2 + W), out); \
            } while (0)
            INPUT_ROWS(v + ty * tx + t, ld, ROW_COLUMNS, AS_IS);
#undef ROW_COLUMNS
        }
    }
}

/// V = Bᵀ d B for one CHW image whose rows of tiles hold at most W/2 tiles: two rows of tiles a
/// vector (lanes 0..<W/2 row ty, the rest row ty + 1), moved together by `compact` (tile x of row
/// ty + 1 to lane tx + x) so that one store writes both rows' tiles; the lanes past them fall on
/// the rows after, written later, or on the spare columns.
static void NAME(input_image_pairs)(
    const float *image, long channels, long h, long w, long pad, long tile_rows, long tx, float *v, long ld
) {
    VI compact;
    for (int k = 0; k < W; k++) compact[k] = k < tx ? k : (k < 2 * tx ? k - tx + W / 2 : 0);
    const MASK a = NAME(columns_inside)(0, w, pad), b = NAME(columns_inside)(2, w, pad);
#define COMPACT(x) PERMUTE(x, compact)
    for (long c = 0; c < channels; c++) {
        for (long ty = 0; ty < tile_rows; ty += 2) {
            const int second = ty + 1 < tile_rows;
            const float *plane = image + c * h * w;
            const struct NAME(tile_rows) lo = NAME(rows_of)(plane, h, w, pad, ty);
            const struct NAME(tile_rows) hi = NAME(rows_of)(plane, h, w, pad, second ? ty + 1 : ty);
#define PAIR_COLUMNS(i, out) do { \
                const int in_lo = lo.valid[i], in_hi = hi.valid[i]; \
                NAME(input_columns)(LOAD_INSIDE(lo.source[i], MASK_IF(a, in_lo)), LOAD_INSIDE(hi.source[i], MASK_IF(a, in_hi)), \
                                    LOAD_INSIDE(lo.source[i] + 2, MASK_IF(b, in_lo)), \
                                    LOAD_INSIDE(hi.source[i] + 2, MASK_IF(b, in_hi)), out); \
            } while (0)
            INPUT_ROWS(v + c * 16 * ld + ty * tx, ld, PAIR_COLUMNS, COMPACT);
#undef PAIR_COLUMNS
        }
    }
#undef COMPACT
}

#undef INPUT_ROWS
#undef AS_IS

/// ReLU from the sign bit, as Swift's relu4: v where the sign bit is clear, +0 where it is set.
static inline VF NAME(relu)(VF v) {
    VI bits = (VI)v;
    return (VF)(bits & ~(bits >> 31));
}

/// Y = Aᵀ M A + bias for one image (see ckernels_winograd_output_image).
static void NAME(output_image)(
    const float *m, long ld, long out_channels, long oh, long ow, long tile_rows, long tx,
    const float *bias, int relu, float *image, float *pool_output, int32_t *pool_indices,
    const int32_t *corners, float *scratch
) {
    const long count = tile_rows * tx, span = count + 16;
    float *y00 = scratch, *y01 = scratch + span, *y10 = scratch + 2 * span, *y11 = scratch + 3 * span;
    const VI step_right = (VI)(int32_t)1, step_down = (VI)(int32_t)ow, step_both = (VI)(int32_t)(ow + 1);
    for (long o = 0; o < out_channels; o++) {
        const float *src = m + o * 16 * ld;
        const VF b = (VF)bias[o];
        for (long t = 0; t < count; t += W) {
            VF r[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) r[i][j] = LOAD(src + (4 * i + j) * ld + t);
            // Aᵀ m: a = m0 + m1 + m2, b = m1 − m2 − m3 (rows); then · A: (x0 + x1 + x2, x1 − x2 − x3).
            VF a[4], d[4];
            for (int j = 0; j < 4; j++) {
                a[j] = r[0][j] + r[1][j] + r[2][j];
                d[j] = r[1][j] - r[2][j] - r[3][j];
            }
            VF v00 = a[0] + a[1] + a[2], v01 = a[1] - a[2] - a[3];
            VF v10 = d[0] + d[1] + d[2], v11 = d[1] - d[2] - d[3];
            if (!pool_output) {
                STORE(y00 + t, v00); STORE(y01 + t, v01); STORE(y10 + t, v10); STORE(y11 + t, v11);
                continue;
            }
            // The fused pool (winogradPoolTiles): max of the four outputs plus bias (ReLU, or + 0,
            // which turns −0 into +0), first maximum winning; a lane takes a candidate where
            // best − candidate is negative (its sign bit).
            v00 = v00 + b; v01 = v01 + b; v10 = v10 + b; v11 = v11 + b;
            if (relu) {
                v00 = NAME(relu)(v00); v01 = NAME(relu)(v01); v10 = NAME(relu)(v10); v11 = NAME(relu)(v11);
            } else {
                v00 = v00 + 0.0f; v01 = v01 + 0.0f; v10 = v10 + 0.0f; v11 = v11 + 0.0f;
            }
            const VI first = LOADI(corners + t);
            VF best = v00;
            VI index = first, better;
            better = (VI)(best - v01) >> 31;
            best = (VF)(((VI)v01 & better) | ((VI)best & ~better)); index = ((first + step_right) & better) | (index & ~better);
            better = (VI)(best - v10) >> 31;
            best = (VF)(((VI)v10 & better) | ((VI)best & ~better)); index = ((first + step_down) & better) | (index & ~better);
            better = (VI)(best - v11) >> 31;
            best = (VF)(((VI)v11 & better) | ((VI)best & ~better)); index = ((first + step_both) & better) | (index & ~better);
            const long n = count - t < W ? count - t : W;
            STORE_N(pool_output + o * count + t, best, n);
            STORE_NI(pool_indices + o * count + t, index, n);
        }
        if (pool_output || !image) continue;
        // Interleave the tiles' 2×2 blocks into the image, adding the bias (and ReLU): W tiles of a
        // row of tiles make 2W outputs. The last group of a row stores whole vectors too where they
        // end inside the image: what lands past the row falls on rows and planes written later.
        // Only groups that would reach past the image store just the outputs inside their row
        // (masked stores cost more).
        float *plane = image + o * oh * ow;
        const float *image_end = image + out_channels * oh * ow;
        for (long ty = 0; ty < tile_rows; ty++) {
            for (int rr = 0; rr < 2 && 2 * ty + rr < oh; rr++) {
                float *dst = plane + (2 * ty + rr) * ow;
                const float *left = (rr == 0 ? y00 : y10) + ty * tx, *right = (rr == 0 ? y01 : y11) + ty * tx;
                for (long x = 0; x < tx; x += W) {
                    VF l = LOAD(left + x) + b, r = LOAD(right + x) + b;
                    if (relu) { l = NAME(relu)(l); r = NAME(relu)(r); }
                    const long n = ow - 2 * x;  // outputs left in the row
                    if (n >= 2 * W || dst + 2 * x + 2 * W <= image_end) {
                        STORE(dst + 2 * x, INTERLEAVE_LOW(l, r));
                        STORE(dst + 2 * x + W, INTERLEAVE_HIGH(l, r));
                    } else {
                        STORE_N(dst + 2 * x, INTERLEAVE_LOW(l, r), n < W ? n : W);
                        if (n > W) STORE_N(dst + 2 * x + W, INTERLEAVE_HIGH(l, r), n - W);
                    }
                }
            }
        }
    }
}
