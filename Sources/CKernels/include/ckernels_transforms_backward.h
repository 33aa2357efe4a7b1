// The backward Winograd tile transforms in C (see ckernels_transforms.h): the output gradient's
// transform dM = A dY Aᵀ, the same from a fused 2×2 max pool's gradient, the input gradient's
// dX += B dV Bᵀ, and the transpose of V for the weight gradient's GEMM. Each matches its Swift version in NNCore's WinogradTransforms.swift or
// WinogradFusedPool.swift bit for bit, whose doc comment gives the layouts. `width` is 16
// (AVX-512F) or 8 (AVX2) and must be one `ckernels_transforms_supported` accepts; any other width
// does nothing. The kernels that go row of tiles by row of tiles (all but the pool's) run 8 floats
// a vector on rows of at most 8 tiles when 16 is asked for, which is faster there. Sizes are counts of floats, tiles or channels; `ld` and `column` as in
// WinogradLayout.swift.
#ifndef CKERNELS_TRANSFORMS_BACKWARD_H
#define CKERNELS_TRANSFORMS_BACKWARD_H

#include <stdint.h>

/// dM[ξ][o][column + t] = (A dy Aᵀ)[ξ] for every 2×2 tile dy of one image's output gradient
/// `grad_output` (channels × oh × ow; zero past the output), tiles `tile_rows` × `tile_columns`.
/// Writes up to `width` − 1 columns past the image's last tile. `winogradGradOutputTransform`.
void ckernels_winograd_grad_output_transform(
    long width, const float *grad_output, long channels, long oh, long ow, long tile_rows, long tile_columns,
    float *dm, long ld, long column);

/// dM[ξ][o][column + t] for one image whose output gradient comes through a fused 2×2 max pool
/// and ReLU: per channel `count` pooled gradients, pooled values and maxima offsets, `corners`
/// each window's top-left offset (`count` of them), `ow` the convolution's (even) output width.
/// Writes `sums` (4 per channel): each channel's masked gradient summed in 4 lanes, lane l over
/// windows l, l + 4, l + 8, ... in order, as the Swift code sums it; the caller adds their sum to
/// gradBias. Writes up to `width` − 1 columns past the image's last tile.
/// `winogradPoolGradOutputTransform`.
void ckernels_winograd_pool_grad_output_transform(
    long width, const float *gradient, const float *pooled, const int32_t *indices, const int32_t *corners,
    long channels, long count, long ow, float *dm, long ld, long column, float *sums);

/// image += B dV Bᵀ for every tile of one image (channels × h × w, padding `pad`), tiles
/// `tile_rows` × `tile_columns` read from dV at `column`: overlapping tiles add up, values that
/// fall on the padding are dropped. Reads up to `width` columns past the image's last tile.
/// `winogradGradInputTransform`.
void ckernels_winograd_grad_input_transform(
    long width, const float *dv, long ld, long column, long channels, long h, long w, long pad,
    long tile_rows, long tile_columns, float *image);

/// vt[t·channels + c] = v[c·row_stride + t] for every channel c and tile t < `columns`: one ξ of V
/// ([C][16][ld]) transposed into a row-major tiles × channels matrix, for the weight gradient's
/// GEMM. Reads up to 7 columns past the last tile; writes nothing past columns·channels. Width 16
/// runs the 8-float kernel, which was faster. `winogradTransposeTiles`.
void ckernels_winograd_transpose_tiles(
    long width, const float *v, long row_stride, long channels, long columns, float *vt);

#endif
