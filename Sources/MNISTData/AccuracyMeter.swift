// Accuracy over an evaluation, divided by the number of items actually seen. The seed divided by
// batches × batch size (313 × 32 = 10,016 for 10,000 test images), which understates accuracy.
import NNCore

/// Counts correct predictions over any number of batches of any sizes.
///
/// `accuracy = correct / seen`, with `seen` the true number of items passed in (a short last batch
/// counts its true size). Matches `torchmetrics.classification.MulticlassAccuracy(average="micro")`.
public struct AccuracyMeter: Sendable, Equatable {
    /// Items predicted correctly so far.
    public private(set) var correct = 0
    /// Items seen so far.
    public private(set) var seen = 0

    /// An empty meter.
    public init() {}

    /// Adds a batch of predicted class indices and their targets (equal counts, checked by a precondition).
    public mutating func update(predictions: [Int], targets: [Int]) {
        precondition(predictions.count == targets.count,
                     "\(predictions.count) predictions for \(targets.count) targets")
        correct += zip(predictions, targets).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        seen += targets.count
    }

    /// Adds a batch of logits `[N, C]`, predicting each row's argmax (the first maximum on ties, as
    /// `torch.argmax`), against `targets` `[N]`.
    public mutating func update(logits: Tensor, targets: [Int]) {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                     "logits \(logits.shape) for \(targets.count) targets")
        update(predictions: Self.argmax(logits), targets: targets)
    }

    /// Adds counts computed elsewhere: `correct` right out of `count` items.
    public mutating func update(correct: Int, count: Int) {
        precondition(0 <= correct && correct <= count, "\(correct) correct out of \(count)")
        self.correct += correct
        seen += count
    }

    /// Correct over seen, in 0...1; 0 before any item.
    public var accuracy: Double {
        seen == 0 ? 0 : Double(correct) / Double(seen)
    }

    /// The index of each row's largest value in `[N, C]` logits (the first on ties).
    public static func argmax(_ logits: Tensor) -> [Int] {
        precondition(logits.rank == 2, "argmax expects [N, C] logits, found \(logits.shape)")
        let rows = logits.shape[0], columns = logits.shape[1]
        return (0..<rows).map { row in
            var best = 0
            for column in 1..<max(columns, 1) where logits.scalars[row * columns + column] > logits.scalars[row * columns + best] {
                best = column
            }
            return best
        }
    }
}
