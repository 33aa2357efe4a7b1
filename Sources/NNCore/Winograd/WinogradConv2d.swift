// Winograd F(2×2, 3×3) convolution: forward, input gradient and weight gradient.
//
// A 3×3, stride-1 convolution computes each 2×2 block of outputs from a 4×4 block of inputs
// ("tile", tiles overlap by 2). In the Winograd domain that costs 16 products per (o, c) pair instead
// of 36, so 2.25× fewer multiply-adds than im2col + GEMM (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015):
//
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ (4×4 per kernel),   V = Bᵀ d B (4×4 per input tile),
//
// summed over input channels. Per position ξ of the 4×4 domain this is one GEMM,
// M[ξ] (O×T) = U[ξ] (O×C) · V[ξ] (C×T), over the T tiles of a chunk of images.
//
// The backward pass differentiates these same formulas (it is the exact gradient of the forward
// pass as computed, which equals the convolution's up to rounding):
//   dM = A dY Aᵀ,   dU[ξ] += dM[ξ] · V[ξ]ᵀ,   dV[ξ] = U[ξ]ᵀ · dM[ξ],   dX += B dV Bᵀ (scatter-add),
//   dW = Gᵀ dU G.
//
// Outputs whose count is odd get a last tile half outside the output; the input it reads past the
// image is zero and the outputs past the output are dropped (their gradient is zero).
//
// The weight gradient's GEMM runs as dM[ξ] · Vt with Vt = V[ξ]ᵀ (T×C) copied out one ξ at a time
// (`winogradTransposeTiles`): a plain `nn` GEMM, which OpenBLAS runs faster than the `transB` one.
//
// This file holds the forward and backward drivers: they cut the batch into chunks, run the
// transforms (WinogradTransforms.swift) and the 16 GEMMs. Layouts, chunk and workspace sizes are in
// WinogradLayout.swift; the fused convolution + ReLU + pool in WinogradFusedPool.swift.

/// Winograd forward for `batch` images: same contract as `conv2dForward` (im2col), `g` must be
/// 3×3 stride 1.
func winogradConv2dForward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>, fuseReLU: Bool,
    pool: WinogradPoolTarget? = nil, transformedWeight: UnsafePointer<Float>? = nil
) {
    let (o, c) = (g.outChannels, g.inChannels)
    let tiles = WinogradTiles(g)
    let chunk = winogradChunkSize(geometry: g, batch: batch)
    let v = workspace + 2 * winogradTransformedWeightSize(geometry: g)  // after U and dU
    let m = v + 16 * c * winogradLeadingDimension(columns: tiles.count * chunk)
    let u = transformedWeight ?? {
        winogradWeightTransform(weight, outChannels: o, inChannels: c, into: workspace)
        return UnsafePointer(workspace)
    }()
    var n0 = 0
    while n0 < batch {
        let nb = min(chunk, batch - n0), columns = nb * tiles.count
        let ld = winogradLeadingDimension(columns: columns)
        for j in 0..<nb {
            winogradInputTransform(
                input + (n0 + j) * g.inputImageSize, geometry: g, tiles: tiles, into: v, ld: ld, column: j * tiles.count)
        }
        for xi in 0..<16 {
            gemm(m: o, n: columns, k: c, a: u + xi * o * c, lda: c, b: v + xi * ld, ldb: 16 * ld,
                 c: m + xi * ld, ldc: 16 * ld)
        }
        for j in 0..<nb {
            let n = n0 + j
            winogradOutputTransform(
                m, ld: ld, column: j * tiles.count, geometry: g, tiles: tiles, bias: bias, relu: fuseReLU,
                into: output.map { $0 + n * g.outputImageSize },
                pool: pool?.image(n, size: g.outChannels * tiles.count))
        }
        n0 += nb
    }
}

/// Where the Winograd backward pass takes the gradient of the convolution's output from.
enum WinogradGradOutput {
    /// The N·O·OH·OW output gradient itself.
    case plane(UnsafePointer<Float>)
    /// The gradient of a fused 2×2 max pool's output, routed back through the pool and ReLU.
    case pool(WinogradPoolGradient)
}

/// Winograd backward for `batch` images: same contract as `conv2dBackward` (im2col), `g` must be
/// 3×3 stride 1.
func winogradConv2dBackward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, gradOutput: WinogradGradOutput,
    gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradInputReLUOutput: UnsafePointer<Float>?,
    workspace: UnsafeMutablePointer<Float>, transformedWeight: UnsafePointer<Float>? = nil
) {
    let (o, c, p) = (g.outChannels, g.inChannels, g.outputPlane)
    let tiles = WinogradTiles(g)
    let chunk = winogradChunkSize(geometry: g, batch: batch)
    let du = workspace + winogradTransformedWeightSize(geometry: g)
    let v = du + winogradTransformedWeightSize(geometry: g)  // V, then dV
    let dm = v + 16 * c * winogradLeadingDimension(columns: tiles.count * chunk)
    let vt = dm + 16 * o * winogradLeadingDimension(columns: tiles.count * chunk)  // one ξ of V, transposed
    var u = UnsafePointer(workspace)
    if let transformedWeight {
        u = transformedWeight
    } else if gradInput != nil {
        winogradWeightTransform(weight, outChannels: o, inChannels: c, into: workspace)
    }
    du.update(repeating: 0, count: winogradTransformedWeightSize(geometry: g))
    if case .plane(let gradOutput) = gradOutput {  // the pool's transform adds its own bias gradient
        for n in 0..<batch {
            let image = gradOutput + n * g.outputImageSize
            for oc in 0..<o { gradBias[oc] += sumFloats(image + oc * p, count: p) }
        }
    }
    var n0 = 0
    while n0 < batch {
        let nb = min(chunk, batch - n0), columns = nb * tiles.count
        let ld = winogradLeadingDimension(columns: columns)
        for j in 0..<nb {
            let column = j * tiles.count
            winogradInputTransform(
                input + (n0 + j) * g.inputImageSize, geometry: g, tiles: tiles, into: v, ld: ld, column: column)
            switch gradOutput {
            case .plane(let gradOutput):
                winogradGradOutputTransform(
                    gradOutput + (n0 + j) * g.outputImageSize, geometry: g, tiles: tiles, into: dm, ld: ld, column: column)
            case .pool(let pool):
                winogradPoolGradOutputTransform(
                    pool.image(n0 + j, size: o * tiles.count), geometry: g, tiles: tiles, into: dm, ld: ld,
                    column: column, gradBias: gradBias)
            }
        }
        for xi in 0..<16 {
            // dU[ξ] (O×C) += dM[ξ] (O×T) · Vt (T×C), Vt = V[ξ]ᵀ
            winogradTransposeTiles(v + xi * ld, rowStride: 16 * ld, channels: c, columns: columns, into: vt)
            gemm(m: o, n: c, k: columns, a: dm + xi * ld, lda: 16 * ld, b: vt, ldb: c,
                 beta: 1, c: du + xi * o * c, ldc: c)
        }
        if let gradInput {
            for xi in 0..<16 {
                // dV[ξ] (C×ld) = U[ξ]ᵀ · dM[ξ], over V (no longer needed).
                gemm(transA: true, m: c, n: columns, k: o, a: u + xi * o * c, lda: c, b: dm + xi * ld, ldb: 16 * ld,
                     c: v + xi * ld, ldc: 16 * ld)
            }
            for j in 0..<nb {
                let image = gradInput + (n0 + j) * g.inputImageSize
                image.update(repeating: 0, count: g.inputImageSize)
                winogradGradInputTransform(
                    v, ld: ld, column: j * tiles.count, geometry: g, tiles: tiles, addingTo: image)
                if let mask = gradInputReLUOutput {
                    reluMask(grad: image, output: mask + (n0 + j) * g.inputImageSize, count: g.inputImageSize)
                }
            }
        }
        n0 += nb
    }
    winogradWeightGradient(du, outChannels: o, inChannels: c, addingTo: gradWeight)
}
