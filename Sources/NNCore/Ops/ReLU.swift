// Rectified linear unit, forward and backward, elementwise on any shape.

/// `max(0, x)` elementwise, any shape. Matches `torch.relu` (NaN stays NaN).
public func reluForward(_ input: Tensor) -> Tensor {
    Tensor(shape: input.shape, scalars: input.scalars.map { $0 < 0 ? 0 : $0 })
}

/// The gradient of ReLU given its **output**: `gradOutput` where `output > 0`, else 0.
///
/// Using the output rather than the input is exact because `relu(x) > 0 ⇔ x > 0`. At `x = 0` the
/// gradient is 0, as in PyTorch (`threshold_backward`).
public func reluBackward(gradOutput: Tensor, output: Tensor) -> Tensor {
    precondition(gradOutput.shape == output.shape, "relu backward shapes \(gradOutput.shape) and \(output.shape)")
    var grad = gradOutput
    reluBackwardInPlace(grad: &grad.scalars, output: output.scalars)
    return grad
}

/// Multiplies `grad` by the ReLU mask of `output` in place (zero where `output ≤ 0`).
@inlinable
public func reluBackwardInPlace(grad: inout [Float], output: [Float]) {
    precondition(grad.count == output.count)
    grad.withUnsafeMutableBufferPointer { g in
        output.withUnsafeBufferPointer { y in
            reluMask(grad: g.baseAddress!, output: y.baseAddress!, count: g.count)
        }
    }
}

/// Pointer form of the ReLU mask: `grad[i] = output[i] > 0 ? grad[i] : 0` for `count` values.
@inlinable
public func reluMask(grad: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, count: Int) {
    // Eight at a time with a select (the compiler does not vectorize the plain loop: it cannot
    // rule out that the two pointers overlap); NaN outputs give 0, as `output > 0` is false.
    var i = 0
    while i + 8 <= count {
        let y = UnsafeRawPointer(output + i).loadUnaligned(as: SIMD8<Float>.self)
        let g = UnsafeRawPointer(grad + i).loadUnaligned(as: SIMD8<Float>.self)
        let masked = g.replacing(with: 0, where: .!(y .> 0))
        UnsafeMutableRawPointer(grad + i).storeBytes(of: masked, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        grad[i] = output[i] > 0 ? grad[i] : 0
        i += 1
    }
}
