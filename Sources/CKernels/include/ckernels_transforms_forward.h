// The forward Winograd tile transforms (input V = Bᵀ d B, output Y = Aᵀ M A) at 8 floats a vector
// (AVX2) and 16 (AVX-512F), for winogradInputTransform and winogradOutputTransform of NNCore's
// WinogradTransforms.swift: the same values bit for bit. See ckernels_transforms.h.
#ifndef CKERNELS_TRANSFORMS_FORWARD_H
#define CKERNELS_TRANSFORMS_FORWARD_H

#include <stdint.h>

/// V = Bᵀ d B for every tile of one padded input plane (one channel of one image), `width` (8 or
/// 16) tiles at a time. `rows[r]`, r < 2·`tile_rows` + 2, points at padded row r, of which
/// 2·`tile_columns` + 2 floats plus 32 of slack may be read. Tile t = ty·`tile_columns` + tx goes to
/// `v`[ξ·`ld` + t] for ξ = 0..<16; each row of tiles may write up to `width` − 1 columns past its
/// last tile (onto the next row's, or the spare columns). Matches the Swift SIMD4 code bit for bit.
/// A width the CPU does not run (see ckernels_transforms_supported) does nothing.
void ckernels_winograd_input_plane(
    const float *const *rows, long tile_rows, long tile_columns, float *v, long ld, int width);

/// Y = Aᵀ M A + bias (ReLU when `relu` ≠ 0) for every tile of one image, `width` (8 or 16) tiles at
/// a time. `m` points at channel 0's row ξ = 0 of the image's first tile; channel o's row ξ is at
/// `m` + (16·o + ξ)·`ld`; up to `width` − 1 columns past the image's last tile are read (their
/// values are not used). With `pool_output` (and `pool_indices`, `corners`): each tile's maximum
/// and its offset in the `output_height`×`output_width` plane, O·T of each, first maximum in
/// row-major order winning, `corners`[t] being tile t's top-left offset (T + 16 entries readable);
/// otherwise, with `image`, the O×OH×OW output. Nothing is written past either.
/// `scratch`: 4·(T + 16) floats. Matches the Swift SIMD4 code (with winogradPoolTiles) bit for bit.
/// A width the CPU does not run does nothing.
void ckernels_winograd_output_image(
    const float *m, long ld, long out_channels, long output_height, long output_width,
    long tile_rows, long tile_columns, const float *bias, int relu, float *image,
    float *pool_output, int32_t *pool_indices, const int32_t *corners, float *scratch, int width);

#endif
