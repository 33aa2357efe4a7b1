// The forward Winograd tile transforms (input V = Bᵀ d B, output Y = Aᵀ M A) at 8 floats a vector
// (AVX2) and 16 (AVX-512F), for winogradInputTransform and winogradOutputTransform of NNCore's
// WinogradTransforms.swift: the same values bit for bit. See ckernels_transforms.h.
#ifndef CKERNELS_TRANSFORMS_FORWARD_H
#define CKERNELS_TRANSFORMS_FORWARD_H

#include <stdint.h>

/// V = Bᵀ d B for every 4×4 input tile of one CHW image (`channels`×`h`×`w`, zero outside it:
/// `pad` columns and rows of zeros around it), `width` (8 or 16) tiles at a time. Tile
/// t = ty·`tile_columns` + tx of channel c goes to `v`[(16·c + ξ)·`ld` + t], ξ = 0..<16; may write
/// up to 15 columns past the image's last tile (onto later images' tiles or the spare columns).
/// Reads nothing outside the image. `scratch`: `ckernels_winograd_input_scratch_floats` floats;
/// `row_scratch`: 2·(2·`tile_rows` + 2) pointers. Matches the Swift SIMD4 code bit for bit. A width
/// the CPU does not run does nothing.
void ckernels_winograd_input_image(
    const float *image, long channels, long h, long w, long pad, long tile_rows, long tile_columns,
    float *v, long ld, float *scratch, const float **row_scratch, int width);

/// Floats of scratch `ckernels_winograd_input_image` needs for an image of these tiles.
long ckernels_winograd_input_scratch_floats(long tile_rows, long tile_columns);

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
