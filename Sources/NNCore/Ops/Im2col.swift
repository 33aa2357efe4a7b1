// im2col / col2im: unfold convolution windows into columns so a convolution becomes one GEMM.
//
// Shape letters: N batch, C input channels, H×W input size, O output channels, K×K kernel (kh, kw),
// OH×OW output size, P = OH·OW output positions, CKK = C·kh·kw rows of the column matrix.

/// The geometry of a 2-D convolution over one NCHW image: sizes, stride and zero padding.
///
/// Output size per axis is `(in + 2·padding − kernel) / stride + 1`, as in `torch.nn.Conv2d`
/// (dilation 1, groups 1). Padding is symmetric and zero-valued (`padding_mode='zeros'`).
public struct Conv2dGeometry: Sendable, Equatable {
    /// Input channels C.
    public let inChannels: Int
    /// Output channels O.
    public let outChannels: Int
    /// Kernel height kh.
    public let kernelHeight: Int
    /// Kernel width kw.
    public let kernelWidth: Int
    /// Step between windows, the same on both axes.
    public let stride: Int
    /// Zeros added on each side of both axes.
    public let padding: Int
    /// Input height H.
    public let inputHeight: Int
    /// Input width W.
    public let inputWidth: Int

    /// Describes a convolution; sizes must be positive and the kernel must fit the padded input
    /// (a programming error otherwise, checked with a precondition).
    public init(
        inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        stride: Int = 1, padding: Int = 0, inputHeight: Int, inputWidth: Int
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernelHeight > 0 && kernelWidth > 0)
        precondition(stride > 0 && padding >= 0)
        precondition(
            inputHeight + 2 * padding >= kernelHeight && inputWidth + 2 * padding >= kernelWidth,
            "kernel \(kernelHeight)×\(kernelWidth) larger than padded input \(inputHeight)×\(inputWidth)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
    }

    /// Output height OH.
    public var outputHeight: Int { (inputHeight + 2 * padding - kernelHeight) / stride + 1 }
    /// Output width OW.
    public var outputWidth: Int { (inputWidth + 2 * padding - kernelWidth) / stride + 1 }
    /// Output positions per image, P = OH·OW.
    public var outputPlane: Int { outputHeight * outputWidth }
    /// Values per input image, C·H·W.
    public var inputImageSize: Int { inChannels * inputHeight * inputWidth }
    /// Values per output image, O·OH·OW.
    public var outputImageSize: Int { outChannels * outputPlane }
    /// Rows of the column matrix, CKK = C·kh·kw (also the weight's row length in OIHW).
    public var columnRows: Int { inChannels * kernelHeight * kernelWidth }
}

/// Unfolds one CHW image into rows `CKK` × columns `P` of a column matrix.
///
/// Writes `col[r · ldCol + p]` for row `r = (c·kh + ky)·kw + kx` and position `p = oy·OW + ox`,
/// the input value at `(c, oy·stride − padding + ky, ox·stride − padding + kx)` or 0 outside the image.
/// `ldCol ≥ P` lets several images share one matrix side by side. Matches `torch.nn.functional.unfold`
/// for one image (whose output is `[CKK, P]`).
public func im2col(
    _ image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
    into col: UnsafeMutablePointer<Float>, ldCol: Int
) {
    let (h, w, oh, ow) = (g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth)
    let (kh, kw, s, pad) = (g.kernelHeight, g.kernelWidth, g.stride, g.padding)
    for c in 0..<g.inChannels {
        let plane = image + c * h * w
        for ky in 0..<kh {
            for kx in 0..<kw {
                let row = col + ((c * kh + ky) * kw + kx) * ldCol
                if s == 1 && pad == 0 {
                    // Each output row is one contiguous run of the input row: copy it whole.
                    for oy in 0..<oh {
                        copyFloats(row + oy * ow, plane + (oy + ky) * w + kx, count: ow)
                    }
                    continue
                }
                for oy in 0..<oh {
                    let iy = oy * s - pad + ky
                    let out = row + oy * ow
                    guard iy >= 0 && iy < h else {
                        out.update(repeating: 0, count: ow)
                        continue
                    }
                    let src = plane + iy * w
                    for ox in 0..<ow {
                        let ix = ox * s - pad + kx
                        out[ox] = (ix >= 0 && ix < w) ? src[ix] : 0
                    }
                }
            }
        }
    }
}

/// Folds a column matrix back into one CHW image, adding every column entry to the input position
/// it was read from; the adjoint of `im2col` (so ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩).
///
/// `image` must hold C·H·W values; they are overwritten (zeroed first), not accumulated into.
/// Matches `torch.nn.functional.fold` for one image.
public func col2im(
    _ col: UnsafePointer<Float>, ldCol: Int, geometry g: Conv2dGeometry,
    into image: UnsafeMutablePointer<Float>
) {
    let (h, w, oh, ow) = (g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth)
    let (kh, kw, s, pad) = (g.kernelHeight, g.kernelWidth, g.stride, g.padding)
    image.update(repeating: 0, count: g.inputImageSize)
    for c in 0..<g.inChannels {
        let plane = image + c * h * w
        for ky in 0..<kh {
            for kx in 0..<kw {
                let row = col + ((c * kh + ky) * kw + kx) * ldCol
                for oy in 0..<oh {
                    let iy = oy * s - pad + ky
                    guard iy >= 0 && iy < h else { continue }
                    let dst = plane + iy * w
                    let src = row + oy * ow
                    if s == 1 && pad == 0 {
                        let d = dst + kx
                        for ox in 0..<ow { d[ox] += src[ox] }
                        continue
                    }
                    for ox in 0..<ow {
                        let ix = ox * s - pad + kx
                        if ix >= 0 && ix < w { dst[ix] += src[ox] }
                    }
                }
            }
        }
    }
}

/// Copies `count` floats; short runs (the 5-, 7- and 9-wide rows of the network's late layers) in an
/// inline loop, where a `memmove` call would cost more than the copy.
@inline(__always)
func copyFloats(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
    if count < 32 {
        for i in 0..<count { destination[i] = source[i] }
    } else {
        destination.update(from: source, count: count)
    }
}

/// The sum of `count` floats, in eight interleaved partial sums (so the additions do not wait on
/// each other) added at the end; rounding differs from a left-to-right loop in the last bits.
@inline(__always)
func sumFloats(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var partial = SIMD8<Float>()
    var i = 0
    while i + 8 <= count {
        partial += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = partial.sum()
    while i < count {
        total += values[i]
        i += 1
    }
    return total
}
