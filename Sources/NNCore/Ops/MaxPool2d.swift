// 2-D max pooling, forward and backward.
//
// Shape letters: N batch, C channels, H×W input, OH×OW output, k kernel, s stride.
// OH = (H − k) / s + 1 (floor): rows and columns that do not fill a window are dropped.

/// Max pooling forward over `planes` = N·C planes of H×W.
///
/// Writes each window's maximum into `output` (planes·OH·OW) and, into `indices`, the offset inside
/// its plane of the first maximum in row-major window order (strict `>`), which is where backward
/// sends the gradient. NaN is not propagated specially. Matches `torch.nn.functional.max_pool2d`
/// (padding 0, dilation 1, `ceil_mode=False`) and its `return_indices=True` tie rule.
public func maxPool2dForward(
    input: UnsafePointer<Float>, planes: Int, height h: Int, width w: Int,
    kernelSize k: Int, stride s: Int,
    output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
) {
    let oh = (h - k) / s + 1, ow = (w - k) / s + 1
    if k == 2 && s == 2 {
        maxPool2x2Forward(input: input, planes: planes, height: h, width: w, output: output, indices: indices)
        return
    }
    for plane in 0..<planes {
        let x = input + plane * h * w
        let y = output + plane * oh * ow
        let idx = indices + plane * oh * ow
        for oy in 0..<oh {
            for ox in 0..<ow {
                var best = -Float.infinity
                var bestIndex = (oy * s) * w + ox * s
                for ky in 0..<k {
                    let rowStart = (oy * s + ky) * w + ox * s
                    for kx in 0..<k where x[rowStart + kx] > best {
                        best = x[rowStart + kx]
                        bestIndex = rowStart + kx
                    }
                }
                y[oy * ow + ox] = x[bestIndex]
                idx[oy * ow + ox] = Int32(bestIndex)
            }
        }
    }
}

/// The 2×2, stride 2 case of `maxPool2dForward` (the network's pool), unrolled: same values, same
/// first-maximum rule (a later element wins only when strictly greater).
@inline(__always)
func maxPool2x2Forward(
    input: UnsafePointer<Float>, planes: Int, height h: Int, width w: Int,
    output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
) {
    let oh = h / 2, ow = w / 2
    for plane in 0..<planes {
        let x = input + plane * h * w
        let y = output + plane * oh * ow
        let idx = indices + plane * oh * ow
        for oy in 0..<oh {
            let top = 2 * oy * w
            for ox in 0..<ow {
                let first = top + 2 * ox
                var bestIndex = first
                var best = x[first]
                if x[first + 1] > best { best = x[first + 1]; bestIndex = first + 1 }
                if x[first + w] > best { best = x[first + w]; bestIndex = first + w }
                if x[first + w + 1] > best { best = x[first + w + 1]; bestIndex = first + w + 1 }
                y[oy * ow + ox] = best
                idx[oy * ow + ox] = Int32(bestIndex)
            }
        }
    }
}

/// Max pooling backward: routes each output gradient to the input position `indices` recorded.
///
/// `gradInput` (planes·H·W) is overwritten; positions that were never a window's first maximum,
/// including dropped remainder rows and columns, get 0. Matches `torch.nn.functional.max_pool2d`'s
/// gradient (`max_pool2d_with_indices_backward`).
public func maxPool2dBackward(
    gradOutput: UnsafePointer<Float>, indices: UnsafePointer<Int32>, planes: Int,
    height h: Int, width w: Int, outputHeight oh: Int, outputWidth ow: Int,
    gradInput: UnsafeMutablePointer<Float>
) {
    gradInput.update(repeating: 0, count: planes * h * w)
    for plane in 0..<planes {
        let gx = gradInput + plane * h * w
        let gy = gradOutput + plane * oh * ow
        let idx = indices + plane * oh * ow
        for i in 0..<(oh * ow) { gx[Int(idx[i])] += gy[i] }
    }
}

/// Max pooling on a tensor: (N, C, H, W) → (N, C, OH, OW), with the indices backward needs.
///
/// Matches `torch.nn.functional.max_pool2d(input, kernel_size, stride, return_indices=True)`
/// (indices are per-plane offsets, as PyTorch's are).
public func maxPool2dForward(input: Tensor, kernelSize: Int, stride: Int) -> (output: Tensor, indices: [Int32]) {
    precondition(input.rank == 4, "max_pool2d wants NCHW input, got \(input.shape)")
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    precondition(h >= kernelSize && w >= kernelSize, "max_pool2d kernel \(kernelSize) larger than \(h)×\(w)")
    let oh = (h - kernelSize) / stride + 1, ow = (w - kernelSize) / stride + 1
    var output = Tensor(shape: [n, c, oh, ow])
    var indices = [Int32](repeating: 0, count: output.count)
    input.scalars.withUnsafeBufferPointer { x in
        output.scalars.withUnsafeMutableBufferPointer { y in
            indices.withUnsafeMutableBufferPointer { i in
                maxPool2dForward(
                    input: x.baseAddress!, planes: n * c, height: h, width: w, kernelSize: kernelSize,
                    stride: stride, output: y.baseAddress!, indices: i.baseAddress!)
            }
        }
    }
    return (output, indices)
}

/// Max pooling backward on tensors: `gradOutput` (N, C, OH, OW) to a gradient of `inputShape`.
/// Matches the gradient autograd gives for `torch.nn.functional.max_pool2d`.
public func maxPool2dBackward(gradOutput: Tensor, indices: [Int32], inputShape: [Int]) -> Tensor {
    precondition(gradOutput.rank == 4 && inputShape.count == 4 && indices.count == gradOutput.count)
    var gradInput = Tensor(shape: inputShape)
    gradOutput.scalars.withUnsafeBufferPointer { gy in
        indices.withUnsafeBufferPointer { i in
            gradInput.scalars.withUnsafeMutableBufferPointer { gx in
                maxPool2dBackward(
                    gradOutput: gy.baseAddress!, indices: i.baseAddress!,
                    planes: inputShape[0] * inputShape[1], height: inputShape[2], width: inputShape[3],
                    outputHeight: gradOutput.shape[2], outputWidth: gradOutput.shape[3],
                    gradInput: gx.baseAddress!)
            }
        }
    }
    return gradInput
}
