// Losses with their gradients: softmax cross-entropy and mean squared error, both averaged over the batch.
import Foundation

/// A shape that an op cannot accept from its caller.
public enum ShapeError: Error, Equatable, CustomStringConvertible {
    /// `operation` was given `found` where it expects `expected`.
    case mismatch(operation: String, expected: [Int], found: [Int])
    /// A class index outside `0..<classes`.
    case targetOutOfRange(operation: String, index: Int, target: Int, classes: Int)

    /// One line naming the operation, the expected and the found value.
    public var description: String {
        switch self {
        case .mismatch(let op, let expected, let found):
            "\(op): shape \(found) does not match the expected \(expected) (no broadcasting)"
        case .targetOutOfRange(let op, let index, let target, let classes):
            "\(op): target \(target) at row \(index) is outside 0..<\(classes)"
        }
    }
}

/// Softmax cross-entropy of `logits` (N, C) against class indices `targets` (N), mean over the batch,
/// in nats, with its gradient with respect to the logits, (softmax − onehot) / N.
///
/// Computed as `logsumexp(z) − z[t]` with the row maximum subtracted first, so large logits give
/// no inf or NaN: [1e8, 1e8] with target 1 gives ln 2; [−431, 279, 427] with target 0 gives 858.
/// Throws `ShapeError` when the counts differ or a target is outside 0..<C.
/// Matches `torch.nn.functional.cross_entropy(logits, targets)` (reduction 'mean', no weights or smoothing).
public func crossEntropy(logits: Tensor, targets: [Int]) throws -> (loss: Float, gradLogits: Tensor) {
    guard logits.rank == 2 else {
        throw ShapeError.mismatch(operation: "crossEntropy", expected: [targets.count, -1], found: logits.shape)
    }
    let (n, c) = (logits.shape[0], logits.shape[1])
    guard targets.count == n else {
        throw ShapeError.mismatch(operation: "crossEntropy", expected: [n], found: [targets.count])
    }
    for (i, t) in targets.enumerated() where t < 0 || t >= c {
        throw ShapeError.targetOutOfRange(operation: "crossEntropy", index: i, target: t, classes: c)
    }
    var grad = Tensor(shape: logits.shape)
    var total: Double = 0
    let scale = 1 / Float(n)
    logits.scalars.withUnsafeBufferPointer { z in
        grad.scalars.withUnsafeMutableBufferPointer { g in
            for r in 0..<n {
                let row = z.baseAddress! + r * c
                let gRow = g.baseAddress! + r * c
                var m = -Float.infinity
                for j in 0..<c { m = max(m, row[j]) }
                var sum: Float = 0
                for j in 0..<c {
                    let e = exp(row[j] - m)
                    gRow[j] = e
                    sum += e
                }
                total += Double(log(sum)) + Double(m - row[targets[r]])
                let inv = scale / sum
                for j in 0..<c { gRow[j] *= inv }
                gRow[targets[r]] -= scale
            }
        }
    }
    return (Float(total / Double(n)), grad)
}

/// Mean squared error of `predictions` against `targets`, both of shape (N), with its gradient
/// 2·(prediction − target)/N.
///
/// Throws `ShapeError.mismatch` unless the two shapes are equal: (N, 1) against (N) is an error here,
/// where PyTorch would broadcast it to (N, N) with a warning. Matches `torch.nn.functional.mse_loss`
/// (reduction 'mean') on equal shapes.
public func mse(predictions: Tensor, targets: Tensor) throws -> (loss: Float, gradPredictions: Tensor) {
    guard predictions.shape == targets.shape else {
        throw ShapeError.mismatch(operation: "mse", expected: targets.shape, found: predictions.shape)
    }
    let n = predictions.count
    guard n > 0 else { return (0, predictions) }
    var grad = Tensor(shape: predictions.shape)
    var total: Double = 0
    for i in 0..<n {
        let d = predictions.scalars[i] - targets.scalars[i]
        total += Double(d * d)
        grad.scalars[i] = 2 * d / Float(n)
    }
    return (Float(total / Double(n)), grad)
}
