// 2-D convolution, forward and backward, as im2col + GEMM.
//
// Shape letters: N batch, C input channels, H×W input size, O output channels, kh×kw kernel,
// OH×OW output size, P = OH·OW, CKK = C·kh·kw. Input NCHW, weight OIHW, bias [O], output N·O·OH·OW.
//
// Images are processed in chunks: the columns of `chunk` images sit side by side in one
// [CKK, chunk·P] matrix so the small late layers (P = 25 or 1) still make one GEMM large enough
// to be efficient, while the column matrix of the large early layers stays about L2-sized.

/// How many images share one column matrix: enough to reach about `columnBudget` floats
/// (512 KiB, a quarter to a half of a core's L2), at least 1 and at most `batch`, with the batch
/// cut into as few chunks as that allows, as even as whole images allow (`evenChunk`).
public func conv2dChunkSize(geometry g: Conv2dGeometry, batch: Int, columnBudget: Int = 1 << 17) -> Int {
    evenChunk(batch: batch, most: conv2dLargestChunk(geometry: g, batch: batch, columnBudget: columnBudget))
}

/// The most images an im2col chunk of `batch` holds: `columnBudget` / (CKK·P), at least 1.
func conv2dLargestChunk(geometry g: Conv2dGeometry, batch: Int, columnBudget: Int = 1 << 17) -> Int {
    max(1, min(batch, columnBudget / max(1, g.columnRows * g.outputPlane)))
}

/// The chunk size that cuts `batch` into as few chunks of at most `most` images as possible, as
/// even as whole chunks allow (all equal but a smaller last one): 16 with at most 14 makes 8 + 8,
/// not 14 + 2.
@inline(__always)
func evenChunk(batch: Int, most: Int) -> Int {
    let chunks = (batch + most - 1) / most
    return (batch + chunks - 1) / chunks
}

/// Floats of scratch space `conv2dForward`/`conv2dBackward` need for a batch of up to `batch` images
/// (a smaller batch can make larger chunks: 14 images are one chunk where 16 are two of 8),
/// enough for every algorithm that supports `g`: im2col's column matrix plus one output-layout
/// matrix of a chunk, or Winograd's transformed weights and one chunk's transformed tiles.
public func conv2dWorkspaceSize(geometry g: Conv2dGeometry, batch: Int) -> Int {
    let chunk = conv2dLargestChunk(geometry: g, batch: batch)
    let im2colSize = chunk * g.outputPlane * (g.columnRows + g.outChannels)
    guard Conv2dAlgorithm.winograd.supports(g) else { return im2colSize }
    return max(im2colSize, winogradWorkspaceSize(geometry: g, batch: batch))
}

extension Conv2dGeometry {
    /// True when the kernel covers the whole unpadded input, so the output is 1×1 and the
    /// convolution is a linear layer on the flattened image (the network's conv6).
    var isFullyConnected: Bool {
        padding == 0 && kernelHeight == inputHeight && kernelWidth == inputWidth
    }

    /// True for a 1×1 kernel with stride 1 and no padding (the network's oneconv1): each image's
    /// C×P input is already its column matrix, so im2col would only copy it.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
    }
}

/// Adds `bias[o]` to each of the O rows of `count` floats at `rows` (and applies ReLU).
@inline(__always)
private func addBias(_ rows: UnsafeMutablePointer<Float>, channels: Int, count: Int, bias: UnsafePointer<Float>, relu: Bool) {
    for oc in 0..<channels {
        let row = rows + oc * count
        let b = bias[oc]
        if relu {
            for i in 0..<count { row[i] = max(row[i] + b, 0) }
        } else {
            for i in 0..<count { row[i] += b }
        }
    }
}

/// Convolution forward over `batch` NCHW images, optionally followed by ReLU.
///
/// `output[n, o, y, x] = bias[o] + Σ_{c,ky,kx} weight[o, c, ky, kx] · input[n, c, y·s − p + ky, x·s − p + kx]`
/// (zero outside the image), then `max(0, ·)` when `fuseReLU`. Buffers: `input` N·C·H·W, `weight` O·CKK,
/// `bias` O, `output` N·O·P, `workspace` at least `conv2dWorkspaceSize(geometry:batch:)` floats.
/// `algorithm` nil picks `Conv2dAlgorithm.preferred(for:batch:)`; one that does not support `g` is a
/// programming error (precondition). When the kernel covers the whole input (output 1×1), im2col
/// is skipped: the images are the rows of one GEMM, as in a linear layer. With Winograd, pass
/// `transformedWeight` (from `winogradTransformWeight`, for this `weight`) to skip the per-call
/// weight transform; im2col ignores it.
/// Matches `torch.nn.functional.conv2d(input, weight, bias, stride, padding)` (then `relu`), dilation 1, groups 1.
public func conv2dForward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, fuseReLU: Bool = false,
    algorithm: Conv2dAlgorithm? = nil, transformedWeight: UnsafePointer<Float>? = nil
) {
    let algorithm = algorithm ?? .preferred(for: g, batch: batch)
    precondition(algorithm.supports(g), "conv2d: \(algorithm) does not support \(g)")
    if algorithm == .winograd {
        winogradConv2dForward(
            input: input, batch: batch, geometry: g, weight: weight, bias: bias, output: output,
            workspace: workspace, fuseReLU: fuseReLU, transformedWeight: transformedWeight)
        return
    }
    let (o, p, ckk) = (g.outChannels, g.outputPlane, g.columnRows)
    if g.isFullyConnected {
        // output[N, O] = input[N, CKK] · weightᵀ + bias
        gemm(transB: true, m: batch, n: o, k: ckk, a: input, lda: ckk, b: weight, ldb: ckk, c: output, ldc: o)
        for n in 0..<batch {
            let row = output + n * o
            for oc in 0..<o { row[oc] = fuseReLU ? max(row[oc] + bias[oc], 0) : row[oc] + bias[oc] }
        }
        return
    }
    if g.isPointwise {
        // output[n] (O×P) = weight (O×C) · input[n] (C×P), straight on the NCHW images.
        for n in 0..<batch {
            let image = output + n * g.outputImageSize
            gemm(m: o, n: p, k: ckk, a: weight, lda: ckk, b: input + n * g.inputImageSize, ldb: p, c: image, ldc: p)
            addBias(image, channels: o, count: p, bias: bias, relu: fuseReLU)
        }
        return
    }
    let chunk = conv2dChunkSize(geometry: g, batch: batch)
    let col = workspace
    let wide = workspace + chunk * p * ckk  // [O, chunk·P] when chunk > 1
    var n0 = 0
    while n0 < batch {
        let nb = min(chunk, batch - n0)
        let ld = nb * p
        for j in 0..<nb {
            im2col(input + (n0 + j) * g.inputImageSize, geometry: g, into: col + j * p, ldCol: ld)
        }
        // One image writes straight into its NCHW slot; several go through [O, nb·P] and are scattered.
        let target = nb == 1 ? output + n0 * g.outputImageSize : wide
        gemm(m: o, n: ld, k: ckk, a: weight, lda: ckk, b: col, ldb: ld, c: target, ldc: ld)
        for j in 0..<nb {
            let image = output + (n0 + j) * g.outputImageSize
            for oc in 0..<o {
                let dst = image + oc * p
                let src = target + oc * ld + j * p
                let b = bias[oc]
                if fuseReLU {
                    for i in 0..<p { dst[i] = max(src[i] + b, 0) }
                } else {
                    for i in 0..<p { dst[i] = src[i] + b }
                }
            }
        }
        n0 += nb
    }
}

/// Convolution backward over `batch` images: accumulates `gradWeight` and `gradBias`, and writes
/// `gradInput` when it is given.
///
/// `gradOutput` is N·O·P (already multiplied by the ReLU mask, if any); `gradWeight` O·CKK and
/// `gradBias` O are **added to** (zero them first for a fresh gradient); `gradInput`, N·C·H·W, is
/// overwritten. Pass `nil` for the network's input, whose gradient nobody needs. When the input is
/// the output of a ReLU, pass it as `gradInputReLUOutput`: each image's input gradient is then
/// multiplied by the ReLU mask (`input > 0`) while it is still in cache, which is ReLU's backward
/// fused in. `workspace` as in `conv2dForward`. Matches `torch.nn.grad.conv2d_weight` /
/// `conv2d_input` (then `threshold_backward`) and PyTorch's bias gradient (sum over N and positions).
/// `algorithm` as in `conv2dForward`; Winograd's gradients are those of its own forward pass, equal
/// to the convolution's up to rounding. `transformedWeight` as in `conv2dForward`.
public func conv2dBackward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradInputReLUOutput: UnsafePointer<Float>? = nil,
    workspace: UnsafeMutablePointer<Float>, algorithm: Conv2dAlgorithm? = nil,
    transformedWeight: UnsafePointer<Float>? = nil
) {
    let algorithm = algorithm ?? .preferred(for: g, batch: batch)
    precondition(algorithm.supports(g), "conv2d: \(algorithm) does not support \(g)")
    if algorithm == .winograd {
        winogradConv2dBackward(
            input: input, batch: batch, geometry: g, weight: weight, gradOutput: .plane(gradOutput),
            gradWeight: gradWeight, gradBias: gradBias, gradInput: gradInput,
            gradInputReLUOutput: gradInputReLUOutput, workspace: workspace, transformedWeight: transformedWeight)
        return
    }
    let (o, p, ckk) = (g.outChannels, g.outputPlane, g.columnRows)
    if g.isFullyConnected {
        // gradOutput is [N, O]; the input is [N, CKK].
        for n in 0..<batch {
            let row = gradOutput + n * o
            for oc in 0..<o { gradBias[oc] += row[oc] }
        }
        // gradWeight[O, CKK] += gradOutputᵀ · input
        gemm(transA: true, m: o, n: ckk, k: batch, a: gradOutput, lda: o, b: input, ldb: ckk,
             beta: 1, c: gradWeight, ldc: ckk)
        if let gradInput {
            // gradInput[N, CKK] = gradOutput · weight
            gemm(m: batch, n: ckk, k: o, a: gradOutput, lda: o, b: weight, ldb: ckk, c: gradInput, ldc: ckk)
            if let mask = gradInputReLUOutput { reluMask(grad: gradInput, output: mask, count: batch * ckk) }
        }
        return
    }
    if g.isPointwise {
        for n in 0..<batch {
            let grad = gradOutput + n * g.outputImageSize, image = input + n * g.inputImageSize
            for oc in 0..<o { gradBias[oc] += sumFloats(grad + oc * p, count: p) }
            // gradWeight[O, C] += grad[n] (O×P) · input[n]ᵀ (P×C)
            gemm(transB: true, m: o, n: ckk, k: p, a: grad, lda: p, b: image, ldb: p, beta: 1, c: gradWeight, ldc: ckk)
            if let gradInput {
                // gradInput[n] (C×P) = weightᵀ (C×O) · grad[n] (O×P)
                let gradImage = gradInput + n * g.inputImageSize
                gemm(transA: true, m: ckk, n: p, k: o, a: weight, lda: ckk, b: grad, ldb: p, c: gradImage, ldc: p)
                if let mask = gradInputReLUOutput {
                    reluMask(grad: gradImage, output: mask + n * g.inputImageSize, count: g.inputImageSize)
                }
            }
        }
        return
    }
    // An image with 256 or more output positions goes alone: its gradient is read where it lies
    // (no copy into a chunk's [O, nb·P] layout) and its weight-gradient GEMM is thin enough for
    // OpenBLAS's unpacked small-matrix kernel (input1's backward: 0.68 → 0.31 ms per 128 images).
    let chunk = p >= 256 ? 1 : conv2dChunkSize(geometry: g, batch: batch)
    let col = workspace
    let wide = workspace + chunk * p * ckk
    var n0 = 0
    while n0 < batch {
        let nb = min(chunk, batch - n0)
        let ld = nb * p
        let grad: UnsafePointer<Float>
        if nb == 1 {
            grad = gradOutput + n0 * g.outputImageSize
        } else {
            for j in 0..<nb {
                let image = gradOutput + (n0 + j) * g.outputImageSize
                for oc in 0..<o { copyFloats(wide + oc * ld + j * p, image + oc * p, count: p) }
            }
            grad = UnsafePointer(wide)
        }
        for oc in 0..<o { gradBias[oc] += sumFloats(grad + oc * ld, count: ld) }
        for j in 0..<nb {
            im2col(input + (n0 + j) * g.inputImageSize, geometry: g, into: col + j * p, ldCol: ld)
        }
        // gradWeight[O, CKK] += grad[O, nb·P] · colᵀ
        gemm(transB: true, m: o, n: ckk, k: ld, a: grad, lda: ld, b: col, ldb: ld,
             beta: 1, c: gradWeight, ldc: ckk)
        if let gradInput {
            // gradCol[CKK, nb·P] = weightᵀ · grad, reusing the column buffer.
            gemm(transA: true, m: ckk, n: ld, k: o, a: weight, lda: ckk, b: grad, ldb: ld,
                 c: col, ldc: ld)
            for j in 0..<nb {
                let image = gradInput + (n0 + j) * g.inputImageSize
                col2im(col + j * p, ldCol: ld, geometry: g, into: image)
                if let mask = gradInputReLUOutput {
                    reluMask(grad: image, output: mask + (n0 + j) * g.inputImageSize, count: g.inputImageSize)
                }
            }
        }
        n0 += nb
    }
}

extension Conv2dGeometry {
    /// The geometry of `weight` (OIHW) applied to `input` (NCHW); the channel counts must agree.
    public init(input: Tensor, weight: Tensor, stride: Int = 1, padding: Int = 0) {
        precondition(input.rank == 4 && weight.rank == 4, "conv2d wants NCHW input and OIHW weight")
        precondition(input.shape[1] == weight.shape[1],
                     "conv2d input has \(input.shape[1]) channels, weight expects \(weight.shape[1])")
        self.init(
            inChannels: weight.shape[1], outChannels: weight.shape[0],
            kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
            stride: stride, padding: padding, inputHeight: input.shape[2], inputWidth: input.shape[3])
    }
}

/// Convolution forward on tensors: input (N, C, H, W), weight (O, C, kh, kw), bias (O) → (N, O, OH, OW).
///
/// Allocates its output and workspace; the training loop uses the pointer form with buffers it keeps.
/// Matches `torch.nn.functional.conv2d(input, weight, bias, stride=stride, padding=padding)`.
/// `algorithm` nil picks `Conv2dAlgorithm.preferred(for:batch:)`.
public func conv2dForward(
    input: Tensor, weight: Tensor, bias: Tensor, stride: Int = 1, padding: Int = 0,
    algorithm: Conv2dAlgorithm? = nil
) -> Tensor {
    let g = Conv2dGeometry(input: input, weight: weight, stride: stride, padding: padding)
    precondition(bias.shape == [g.outChannels], "conv2d bias shape \(bias.shape), expected [\(g.outChannels)]")
    let n = input.shape[0]
    var output = Tensor(shape: [n, g.outChannels, g.outputHeight, g.outputWidth])
    var workspace = [Float](repeating: 0, count: conv2dWorkspaceSize(geometry: g, batch: n))
    input.scalars.withUnsafeBufferPointer { x in
        weight.scalars.withUnsafeBufferPointer { w in
            bias.scalars.withUnsafeBufferPointer { b in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    workspace.withUnsafeMutableBufferPointer { ws in
                        conv2dForward(
                            input: x.baseAddress!, batch: n, geometry: g, weight: w.baseAddress!,
                            bias: b.baseAddress!, output: y.baseAddress!, workspace: ws.baseAddress!,
                            algorithm: algorithm)
                    }
                }
            }
        }
    }
    return output
}

/// Convolution backward on tensors: from `gradOutput` (N, O, OH, OW) to the gradients of the
/// input (N, C, H, W) when `needsGradInput`, the weight (O, C, kh, kw) and the bias (O).
///
/// `algorithm` nil picks `Conv2dAlgorithm.preferred(for:batch:)`.
/// Matches the gradients autograd gives for `torch.nn.functional.conv2d`.
public func conv2dBackward(
    input: Tensor, weight: Tensor, gradOutput: Tensor, stride: Int = 1, padding: Int = 0,
    needsGradInput: Bool = true, algorithm: Conv2dAlgorithm? = nil
) -> (gradInput: Tensor?, gradWeight: Tensor, gradBias: Tensor) {
    let g = Conv2dGeometry(input: input, weight: weight, stride: stride, padding: padding)
    let n = input.shape[0]
    precondition(gradOutput.shape == [n, g.outChannels, g.outputHeight, g.outputWidth],
                 "conv2d gradOutput shape \(gradOutput.shape)")
    var gradWeight = Tensor(shape: weight.shape)
    var gradBias = Tensor(shape: [g.outChannels])
    var gradInput = Tensor(shape: needsGradInput ? input.shape : [0])
    var workspace = [Float](repeating: 0, count: conv2dWorkspaceSize(geometry: g, batch: n))
    input.scalars.withUnsafeBufferPointer { x in
        weight.scalars.withUnsafeBufferPointer { w in
            gradOutput.scalars.withUnsafeBufferPointer { gy in
                gradWeight.scalars.withUnsafeMutableBufferPointer { gw in
                    gradBias.scalars.withUnsafeMutableBufferPointer { gb in
                        gradInput.scalars.withUnsafeMutableBufferPointer { gx in
                            workspace.withUnsafeMutableBufferPointer { ws in
                                conv2dBackward(
                                    input: x.baseAddress!, batch: n, geometry: g, weight: w.baseAddress!,
                                    gradOutput: gy.baseAddress!, gradWeight: gw.baseAddress!,
                                    gradBias: gb.baseAddress!,
                                    gradInput: needsGradInput ? gx.baseAddress! : nil,
                                    workspace: ws.baseAddress!, algorithm: algorithm)
                            }
                        }
                    }
                }
            }
        }
    }
    return (needsGradInput ? gradInput : nil, gradWeight, gradBias)
}
