// Which algorithm each convolution runs, fixed per CPU kind so that a run's arithmetic, and so its
// result, is the same every time on that kind of machine. The rules were filled from the per-layer
// timings in docs/benchmarks-history.md (OpenBLAS `SkylakeX` kernels on an AMD EPYC Zen 4, `Haswell` on a Zen 3;
// BENCHMARKS.md has the Zen 1's and Zen 5's, where the same rule holds).
import NNCore

/// The CPU kinds the table knows, by the OpenBLAS kernel set the engine runs on.
public enum CPUKind: String, Sendable, Codable, CaseIterable {
    /// AVX-512 (OpenBLAS `SkylakeX` kernels): AMD Zen 4 and 5, Intel Xeon since Skylake-SP.
    case avx512 = "SkylakeX"
    /// AVX2 with FMA (OpenBLAS `Haswell` kernels): AMD Zen 2 and 3, Intel since Haswell.
    case avx2 = "Haswell"
    /// Anything else (Apple's Accelerate, an ARM CPU, OpenBLAS's generic kernels).
    case other

    /// The kind of this machine, from the kernel set OpenBLAS runs (`BLASKernels.coreName`).
    public static var current: CPUKind { CPUKind(coreName: BLASKernels.coreName) }

    /// The kind an OpenBLAS kernel set belongs to: `SkylakeX`, `Cooperlake` and `SapphireRapids` are
    /// AVX-512; `Haswell` and `Zen` (OpenBLAS runs its Haswell kernels on AMD Zen 1 to 3) are AVX2; any
    /// other name is `other`. No PyTorch counterpart (PyTorch picks its kernels inside MKL and oneDNN).
    public init(coreName: String) {
        switch coreName {
        case "SkylakeX", "Cooperlake", "SapphireRapids": self = .avx512
        case "Haswell", "Zen": self = .avx2
        default: self = .other
        }
    }
}

/// The default algorithm per convolution, a function of its geometry, the images per piece and the CPU kind.
public enum ConvAlgorithmTable {
    /// The algorithm for `g` on pieces of `pieceSize` images, and the reason in a few words.
    ///
    /// Today one rule holds on every kind measured (AVX-512 and AVX2): Winograd F(2×2, 3×3) for
    /// 3×3 stride-1 kernels over at least 8 input channels, for outputs of 100 positions or more, or
    /// from 16 images a piece on smaller outputs (below that its weight transform costs more than
    /// it saves); im2col + GEMM otherwise; 1×1 kernels and kernels that cover the input run as one
    /// GEMM without im2col. The same as `Conv2dAlgorithm.preferred(for:batch:)`.
    public static func choose(for g: Conv2dGeometry, pieceSize: Int, cpu: CPUKind = .current)
        -> (algorithm: Conv2dAlgorithm, reason: String)
    {
        if g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0 {
            return (.im2col, "1×1: one GEMM per image")
        }
        if g.padding == 0 && g.kernelHeight == g.inputHeight && g.kernelWidth == g.inputWidth {
            return (.im2col, "kernel covers the input: one GEMM")
        }
        guard Conv2dAlgorithm.winograd.supports(g) else { return (.im2col, "not 3×3 stride 1") }
        guard g.inChannels >= 8 else { return (.im2col, "C < 8: Winograd GEMMs too thin") }
        if g.outputPlane >= 100 { return (.winograd, "3×3, C ≥ 8, ≥ 100 outputs") }
        if pieceSize >= 16 { return (.winograd, "3×3, C ≥ 8, ≥ 16 images") }
        return (.im2col, "small output, < 16 images")
    }
}
