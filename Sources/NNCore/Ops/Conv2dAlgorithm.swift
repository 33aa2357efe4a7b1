// The choice between the two ways this engine computes a 2-D convolution: im2col + GEMM
// (Conv2d.swift) or Winograd F(2×2, 3×3) (the Winograd folder), and which one is preferred for a
// given layer and batch.

/// How a 2-D convolution is computed. Both give `torch.nn.functional.conv2d`'s result up to float
/// rounding (PyTorch picks among its own algorithms the same way, invisibly).
public enum Conv2dAlgorithm: String, Sendable, CaseIterable, Codable {
    /// Unfold windows into a column matrix and multiply by the weight: one GEMM of O×CKK by CKK×P.
    /// Works for every geometry.
    case im2col
    /// Winograd F(2×2, 3×3): 16 GEMMs of O×C by C×(P/4), 2.25× fewer multiply-adds. Only for
    /// 3×3 kernels with stride 1 (any padding).
    case winograd

    /// Whether this algorithm can compute the convolution `g`.
    public func supports(_ g: Conv2dGeometry) -> Bool {
        switch self {
        case .im2col: return true
        case .winograd: return g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1
        }
    }

    /// The faster algorithm for `g` on `batch` images at a time: Winograd for 3×3 stride-1 kernels
    /// over at least 8 input channels, im2col otherwise (with fewer channels Winograd's GEMMs are too
    /// thin to pay for its transforms). For small outputs (under 100 positions: the network's 9×9,
    /// 7×7 and 5×5 layers) Winograd only from 16 images on: below that its per-call weight transform
    /// costs more than it saves (single-image latency). `adder-bench` times each layer both ways (BENCHMARKS.md).
    public static func preferred(for g: Conv2dGeometry, batch: Int) -> Conv2dAlgorithm {
        guard Conv2dAlgorithm.winograd.supports(g) && g.inChannels >= 8 else { return .im2col }
        return g.outputPlane >= 100 || batch >= 16 ? .winograd : .im2col
    }
}
