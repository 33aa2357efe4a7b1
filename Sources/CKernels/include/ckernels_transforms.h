// The Winograd F(2×2, 3×3) transforms in C at 8 floats a vector (AVX2) and 16 (AVX-512F), for
// NNCore's WinogradTransforms.swift, whose Swift versions (4 floats a vector, every CPU) they match
// bit for bit: the same additions in the same order, no fused multiply-adds. Each kernel is
// compiled per instruction set with target attributes; the caller passes the width
// (WinogradKernels.width), so tests run every width the CPU has. Layouts and the columns a kernel
// may read or write past its last tile are those of WinogradLayout.swift (16 spare columns in
// V, M, dV and dM; 32 floats of slack after each padded input row). The kernels are declared in
// the headers beside this one.
#ifndef CKERNELS_TRANSFORMS_H
#define CKERNELS_TRANSFORMS_H

/// Whether this CPU runs the transform kernels of `width` floats: 8 needs AVX2, 16 AVX-512F.
/// Any other width: 0.
int ckernels_transforms_supported(int width);

#include "ckernels_transforms_forward.h"
#include "ckernels_transforms_backward.h"

#endif
