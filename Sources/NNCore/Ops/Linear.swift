// Fully connected layer, forward and backward.
//
// Shape letters: N batch, I input features, O output features. Weight is [O, I] as in PyTorch.

/// `output = input · weightᵀ + bias`: input (N, I), weight (O, I), bias (O) → (N, O).
/// Matches `torch.nn.functional.linear`.
public func linearForward(input: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
    precondition(input.rank == 2 && weight.rank == 2 && input.shape[1] == weight.shape[1],
                 "linear input \(input.shape) does not fit weight \(weight.shape)")
    let (n, i, o) = (input.shape[0], input.shape[1], weight.shape[0])
    precondition(bias.shape == [o], "linear bias \(bias.shape), expected [\(o)]")
    var output = Tensor(shape: [n, o])
    output.scalars.withUnsafeMutableBufferPointer { y in
        for r in 0..<n { (y.baseAddress! + r * o).update(from: bias.scalars, count: o) }
        input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                gemm(transB: true, m: n, n: o, k: i, a: x.baseAddress!, lda: i, b: w.baseAddress!, ldb: i,
                     beta: 1, c: y.baseAddress!, ldc: o)
            }
        }
    }
    return output
}

/// The gradients of `linearForward` from `gradOutput` (N, O): gradInput (N, I) = gradOutput · weight,
/// gradWeight (O, I) = gradOutputᵀ · input, gradBias (O) = column sums of gradOutput.
/// Matches the gradients autograd gives for `torch.nn.functional.linear`.
public func linearBackward(input: Tensor, weight: Tensor, gradOutput: Tensor)
    -> (gradInput: Tensor, gradWeight: Tensor, gradBias: Tensor)
{
    let (n, i, o) = (input.shape[0], input.shape[1], weight.shape[0])
    precondition(gradOutput.shape == [n, o], "linear gradOutput \(gradOutput.shape), expected [\(n), \(o)]")
    var gradInput = Tensor(shape: [n, i])
    var gradWeight = Tensor(shape: [o, i])
    var gradBias = Tensor(shape: [o])
    gradOutput.scalars.withUnsafeBufferPointer { gy in
        weight.scalars.withUnsafeBufferPointer { w in
            gradInput.scalars.withUnsafeMutableBufferPointer { gx in
                gemm(m: n, n: i, k: o, a: gy.baseAddress!, lda: o, b: w.baseAddress!, ldb: i,
                     c: gx.baseAddress!, ldc: i)
            }
        }
        input.scalars.withUnsafeBufferPointer { x in
            gradWeight.scalars.withUnsafeMutableBufferPointer { gw in
                gemm(transA: true, m: o, n: i, k: n, a: gy.baseAddress!, lda: o, b: x.baseAddress!, ldb: i,
                     c: gw.baseAddress!, ldc: i)
            }
        }
        for r in 0..<n {
            for c in 0..<o { gradBias.scalars[c] += gy[r * o + c] }
        }
    }
    return (gradInput, gradWeight, gradBias)
}

/// Pointer form of `linearForward` for `batch` rows: `output (N, O) = input (N, I) · weightᵀ + bias`,
/// then `max(0, ·)` when `relu`. `bias` nil for a layer without one. Matches
/// `torch.nn.functional.linear` (then `relu`).
public func linearForward(
    input: UnsafePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, relu: Bool, output: UnsafeMutablePointer<Float>
) {
    gemm(transB: true, m: batch, n: outFeatures, k: inFeatures, a: input, lda: inFeatures, b: weight,
         ldb: inFeatures, c: output, ldc: outFeatures)
    for n in 0..<batch {
        let row = output + n * outFeatures
        for o in 0..<outFeatures {
            let value = row[o] + (bias?[o] ?? 0)
            row[o] = relu ? max(value, 0) : value
        }
    }
}

/// Pointer form of `linearBackward` for `batch` rows: adds gradOutputᵀ · input to `gradWeight`
/// (O, I) and the column sums of gradOutput to `gradBias` (when given), and overwrites `gradInput`
/// (N, I) with gradOutput · weight, masked by `gradInputReLUOutput > 0` when that is given.
/// Matches autograd's gradients for `torch.nn.functional.linear` (then ReLU's below).
public func linearBackward(
    input: UnsafePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int, weight: UnsafePointer<Float>,
    gradOutput: UnsafePointer<Float>, gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?,
    gradInput: UnsafeMutablePointer<Float>?, gradInputReLUOutput: UnsafePointer<Float>? = nil
) {
    if let gradBias {
        for n in 0..<batch {
            let row = gradOutput + n * outFeatures
            for o in 0..<outFeatures { gradBias[o] += row[o] }
        }
    }
    gemm(transA: true, m: outFeatures, n: inFeatures, k: batch, a: gradOutput, lda: outFeatures, b: input,
         ldb: inFeatures, beta: 1, c: gradWeight, ldc: inFeatures)
    if let gradInput {
        gemm(m: batch, n: inFeatures, k: outFeatures, a: gradOutput, lda: outFeatures, b: weight, ldb: inFeatures,
             c: gradInput, ldc: inFeatures)
        if let mask = gradInputReLUOutput { reluMask(grad: gradInput, output: mask, count: batch * inFeatures) }
    }
}
