// The backward Winograd transforms' entry points (ckernels_transforms_backward.h): each calls the
// kernel of the width asked for, compiled per instruction set in winograd_backward_avx512.c (16)
// and winograd_backward_avx2.c (8). Other widths, and other CPU architectures, do nothing.
#include "ckernels_transforms_backward.h"

#if defined(__x86_64__)
#define DECLARE(width) \
    void ckernels_winograd_grad_output_transform_##width( \
        const float *grad_output, long channels, long oh, long ow, long tile_rows, long tx, \
        float *dm, long ld, long column); \
    void ckernels_winograd_pool_grad_output_transform_##width( \
        const float *gradient, const float *pooled, const int32_t *indices, const int32_t *corners, \
        long channels, long count, long ow, float *dm, long ld, long column, float *sums); \
    void ckernels_winograd_grad_input_transform_##width( \
        const float *dv, long ld, long column, long channels, long h, long w, long pad, \
        long tile_rows, long tx, float *image);
DECLARE(16)
DECLARE(8)
void ckernels_winograd_transpose_tiles_8(const float *v, long row_stride, long channels, long columns, float *vt);
#define DISPATCH(name, ...) \
    do { \
        if (width == 16) ckernels_winograd_##name##_16(__VA_ARGS__); \
        else if (width == 8) ckernels_winograd_##name##_8(__VA_ARGS__); \
    } while (0)
#else
#define DISPATCH(name, ...) (void)width
#endif

/// The width to run a row-by-row kernel at: 16 asked for and rows of at most 8 tiles (the seed
/// network's conv3, conv4 and conv5) run the 8-float kernel, one group per row instead of a half
/// empty one of 16; 1.3–1.5× faster there on a Zen 5. The values are the same either way.
static long row_width(long width, long tile_columns) { return width == 16 && tile_columns <= 8 ? 8 : width; }

void ckernels_winograd_grad_output_transform(
    long width, const float *grad_output, long channels, long oh, long ow, long tile_rows, long tile_columns,
    float *dm, long ld, long column
) {
    width = row_width(width, tile_columns);
    DISPATCH(grad_output_transform, grad_output, channels, oh, ow, tile_rows, tile_columns, dm, ld, column);
}

void ckernels_winograd_pool_grad_output_transform(
    long width, const float *gradient, const float *pooled, const int32_t *indices, const int32_t *corners,
    long channels, long count, long ow, float *dm, long ld, long column, float *sums
) {
    DISPATCH(pool_grad_output_transform, gradient, pooled, indices, corners, channels, count, ow, dm, ld, column, sums);
}

void ckernels_winograd_grad_input_transform(
    long width, const float *dv, long ld, long column, long channels, long h, long w, long pad,
    long tile_rows, long tile_columns, float *image
) {
    width = row_width(width, tile_columns);
    DISPATCH(grad_input_transform, dv, ld, column, channels, h, w, pad, tile_rows, tile_columns, image);
}

void ckernels_winograd_transpose_tiles(
    long width, const float *v, long row_stride, long channels, long columns, float *vt
) {
    // The 8-float kernel for 16 as well (see winograd_backward_body.h); every AVX-512F CPU has AVX2.
#if defined(__x86_64__)
    if (width == 16 || width == 8) ckernels_winograd_transpose_tiles_8(v, row_stride, channels, columns, vt);
#else
    (void)width; (void)v; (void)row_stride; (void)channels; (void)columns; (void)vt;
#endif
}
