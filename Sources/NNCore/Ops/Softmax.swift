// Softmax over the classes of each row.
import Foundation

/// Probabilities from logits, row by row: (N, C) → (N, C), each row summing to 1.
///
/// The row maximum is subtracted before exponentiating, so huge logits give no inf or NaN.
/// Matches `torch.softmax(logits, dim=1)`.
public func softmax(_ logits: Tensor) -> Tensor {
    precondition(logits.rank == 2, "softmax wants (N, C), got \(logits.shape)")
    let (n, c) = (logits.shape[0], logits.shape[1])
    var out = logits
    for r in 0..<n {
        let row = logits.scalars[(r * c)..<((r + 1) * c)]
        let m = row.max() ?? 0
        var sum: Float = 0
        for j in 0..<c {
            let e = exp(row[r * c + j] - m)
            out.scalars[r * c + j] = e
            sum += e
        }
        for j in 0..<c { out.scalars[r * c + j] /= sum }
    }
    return out
}
