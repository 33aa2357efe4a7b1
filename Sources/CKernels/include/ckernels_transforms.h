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

/// 1 on CPUs that run each 256-bit AVX2 instruction as two 128-bit halves (AMD family 17h models below
/// 30h: Zen and Zen+; Hygon family 18h), where the 8-float kernels gain nothing over 4 floats; else 0.
int ckernels_avx2_is_split(void);

/// The width the transforms run fastest at on this CPU: 16 with AVX-512F; 8 with AVX2, except 4 where
/// AVX2 is split into 128-bit halves (`ckernels_avx2_is_split`: on a 2-core AMD EPYC Zen 1 the training
/// step took 0.96x the time with the 4-float Swift code, inference the same); otherwise 4.
int ckernels_transforms_preferred_width(void);

#include "ckernels_transforms_forward.h"
#include "ckernels_transforms_backward.h"

#endif
