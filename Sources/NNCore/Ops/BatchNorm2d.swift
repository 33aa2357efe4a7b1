// Batch normalization over the channels of NCHW activations, forward and backward, in the form
// PyTorch's CPU kernels use: statistics accumulated in Double, the output as x·α + β with
// α = γ·invstd and β = bias − mean·α per channel.
//
// Shape letters: n images, C channels, P values per plane (H·W), M = N·P values per channel over the
// whole batch. The pointer kernels work on one piece of a batch; the caller adds the pieces' sums
// (the training batch's statistics are over the whole batch, as PyTorch computes them).

/// Adds, per channel, Σx and Σx² of `count` images into `sums` (2C Doubles: the C sums, then the C
/// sums of squares). Part of `torch.nn.functional.batch_norm`'s training statistics.
public func batchNorm2dAccumulateStatistics(
    input: UnsafePointer<Float>, count: Int, channels: Int, planeSize: Int, into sums: UnsafeMutablePointer<Double>
) {
    for n in 0..<count {
        for c in 0..<channels {
            let x = input + (n * channels + c) * planeSize
            var s: Double = 0, s2: Double = 0
            for i in 0..<planeSize {
                let v = Double(x[i])
                s += v
                s2 += v * v
            }
            sums[c] += s
            sums[channels + c] += s2
        }
    }
}

/// `output = input·scale[c] + shift[c]` per channel, then `max(0, ·)` when `relu`; `count` images of
/// C planes of P values. With scale = γ/√(var + ε) and shift = β − mean·scale this is
/// `torch.nn.functional.batch_norm` (then `relu`).
public func batchNorm2dApply(
    input: UnsafePointer<Float>, count: Int, channels: Int, planeSize: Int,
    scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, relu: Bool, output: UnsafeMutablePointer<Float>
) {
    for n in 0..<count {
        for c in 0..<channels {
            let offset = (n * channels + c) * planeSize
            let (x, y, a, b) = (input + offset, output + offset, scale[c], shift[c])
            if relu {
                for i in 0..<planeSize { y[i] = max(x[i] * a + b, 0) }
            } else {
                for i in 0..<planeSize { y[i] = x[i] * a + b }
            }
        }
    }
}

/// Adds, per channel, Σdy and Σ(x − mean)·dy of `count` images into `sums` (2C Doubles, in that
/// order): the bias gradient and, times invstd, the weight gradient of batch normalization.
public func batchNorm2dAccumulateGradientStatistics(
    input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    count: Int, channels: Int, planeSize: Int, into sums: UnsafeMutablePointer<Double>
) {
    for n in 0..<count {
        for c in 0..<channels {
            let offset = (n * channels + c) * planeSize
            let (x, dy, m) = (input + offset, gradOutput + offset, mean[c])
            var s: Double = 0, d: Double = 0
            for i in 0..<planeSize {
                s += Double(dy[i])
                d += Double(x[i] - m) * Double(dy[i])
            }
            sums[c] += s
            sums[channels + c] += d
        }
    }
}

/// The input gradient of training-mode batch normalization:
/// `dx = (dy − Σdy/M − (x − mean)·Σ((x − mean)·dy)·invstd²/M) · invstd · γ`, with the sums over the
/// whole batch (`sums` as `batchNorm2dAccumulateGradientStatistics` made them, `total` = M).
/// Overwrites `gradInput`. Matches the gradient autograd gives for `batch_norm(training=True)`
/// (PyTorch's `batch_norm_backward_cpu`).
public func batchNorm2dBackwardInput(
    input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invstd: UnsafePointer<Float>, weight: UnsafePointer<Float>, sums: UnsafePointer<Double>, total: Int,
    count: Int, channels: Int, planeSize: Int, gradInput: UnsafeMutablePointer<Float>
) {
    for c in 0..<channels {
        let gradMean = Float(sums[c] / Double(total))
        let k = Float(sums[channels + c] * Double(invstd[c]) * Double(invstd[c]) / Double(total))
        let w = invstd[c] * weight[c]
        let m = mean[c]
        for n in 0..<count {
            let offset = (n * channels + c) * planeSize
            let (x, dy, dx) = (input + offset, gradOutput + offset, gradInput + offset)
            for i in 0..<planeSize { dx[i] = (dy[i] - gradMean - (x[i] - m) * k) * w }
        }
    }
}

/// Batch normalization of a tensor (N, C, H, W) in training mode, with the running statistics'
/// update: returns the output, the batch mean and 1/√(biased var + ε) per channel, and the new running
/// mean and (unbiased) variance. Matches `torch.nn.functional.batch_norm(x, running_mean,
/// running_var, weight, bias, training=True, momentum=momentum, eps=eps)`.
public func batchNorm2dTraining(
    input: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
    momentum: Float = 0.1, eps: Float = 1e-5
) -> (output: Tensor, mean: Tensor, invstd: Tensor, runningMean: Tensor, runningVar: Tensor) {
    let (n, c, p) = (input.shape[0], input.shape[1], input.shape[2] * input.shape[3])
    let m = n * p
    var sums = [Double](repeating: 0, count: 2 * c)
    input.scalars.withUnsafeBufferPointer { x in
        batchNorm2dAccumulateStatistics(input: x.baseAddress!, count: n, channels: c, planeSize: p, into: &sums)
    }
    var mean = Tensor(shape: [c]), invstd = Tensor(shape: [c]), newMean = runningMean, newVar = runningVar
    var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
    for k in 0..<c {
        let mu = sums[k] / Double(m)
        let variance = max(0, sums[c + k] / Double(m) - mu * mu)
        mean.scalars[k] = Float(mu)
        invstd.scalars[k] = Float(1 / (variance + Double(eps)).squareRoot())
        scale[k] = weight.scalars[k] * invstd.scalars[k]
        shift[k] = bias.scalars[k] - mean.scalars[k] * scale[k]
        newMean.scalars[k] = (1 - momentum) * runningMean.scalars[k] + momentum * Float(mu)
        let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
        newVar.scalars[k] = (1 - momentum) * runningVar.scalars[k] + momentum * Float(unbiased)
    }
    var output = Tensor(shape: input.shape)
    input.scalars.withUnsafeBufferPointer { x in
        output.scalars.withUnsafeMutableBufferPointer { y in
            batchNorm2dApply(input: x.baseAddress!, count: n, channels: c, planeSize: p, scale: scale, shift: shift,
                             relu: false, output: y.baseAddress!)
        }
    }
    return (output, mean, invstd, newMean, newVar)
}

/// The gradients of `batchNorm2dTraining`'s output for its input, weight and bias, from `gradOutput`
/// (N, C, H, W) and the batch's `mean` and `invstd`. Matches autograd's for
/// `torch.nn.functional.batch_norm(training=True)`.
public func batchNorm2dTrainingBackward(
    input: Tensor, weight: Tensor, mean: Tensor, invstd: Tensor, gradOutput: Tensor
) -> (gradInput: Tensor, gradWeight: Tensor, gradBias: Tensor) {
    let (n, c, p) = (input.shape[0], input.shape[1], input.shape[2] * input.shape[3])
    var sums = [Double](repeating: 0, count: 2 * c)
    var gradInput = Tensor(shape: input.shape)
    input.scalars.withUnsafeBufferPointer { x in
        gradOutput.scalars.withUnsafeBufferPointer { dy in
            batchNorm2dAccumulateGradientStatistics(
                input: x.baseAddress!, gradOutput: dy.baseAddress!, mean: mean.scalars, count: n, channels: c,
                planeSize: p, into: &sums)
            gradInput.scalars.withUnsafeMutableBufferPointer { dx in
                batchNorm2dBackwardInput(
                    input: x.baseAddress!, gradOutput: dy.baseAddress!, mean: mean.scalars, invstd: invstd.scalars,
                    weight: weight.scalars, sums: sums, total: n * p, count: n, channels: c, planeSize: p,
                    gradInput: dx.baseAddress!)
            }
        }
    }
    let gradWeight = Tensor(shape: [c], scalars: (0..<c).map { Float(sums[c + $0] * Double(invstd.scalars[$0])) })
    let gradBias = Tensor(shape: [c], scalars: (0..<c).map { Float(sums[$0]) })
    return (gradInput, gradWeight, gradBias)
}

/// Batch normalization of a tensor (N, C, H, W) in evaluation mode, with the running statistics.
/// Matches `torch.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=eps)`.
public func batchNorm2dInference(
    input: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5
) -> Tensor {
    let (n, c, p) = (input.shape[0], input.shape[1], input.shape[2] * input.shape[3])
    let (scale, shift) = batchNorm2dInferenceAffine(
        weight: weight.scalars, bias: bias.scalars, runningMean: runningMean.scalars, runningVar: runningVar.scalars, eps: eps)
    var output = Tensor(shape: input.shape)
    input.scalars.withUnsafeBufferPointer { x in
        output.scalars.withUnsafeMutableBufferPointer { y in
            batchNorm2dApply(input: x.baseAddress!, count: n, channels: c, planeSize: p, scale: scale, shift: shift,
                             relu: false, output: y.baseAddress!)
        }
    }
    return output
}

/// The per-channel scale γ/√(running_var + ε) and shift β − running_mean·scale of evaluation mode.
public func batchNorm2dInferenceAffine(
    weight: [Float], bias: [Float], runningMean: [Float], runningVar: [Float], eps: Float
) -> (scale: [Float], shift: [Float]) {
    let scale = (0..<weight.count).map { weight[$0] / (runningVar[$0] + eps).squareRoot() }
    let shift = (0..<weight.count).map { bias[$0] - runningMean[$0] * scale[$0] }
    return (scale, shift)
}
