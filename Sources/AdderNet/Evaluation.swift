// Test-set metrics: both accuracies over every item actually seen, the confusion matrix, and the
// average losses.
import Foundation
import MNISTData
import NNCore

/// The metrics of a network on a dataset.
public struct Evaluation: Codable, Sendable, Equatable {
    /// Items evaluated (10,000 for the MNIST test split): every accuracy divides by this.
    public var count: Int
    /// Fraction of items whose argmax digit equals the label.
    public var classificationAccuracy: Double
    /// Fraction of items whose predicted sum, rounded to the nearest integer, equals label + addend.
    public var additionAccuracy: Double
    /// Mean cross-entropy of the logits, in nats.
    public var crossEntropy: Double
    /// Mean squared error of the predicted sums.
    public var mse: Double
    /// `confusion[label][predicted]`: counts of each (true, predicted) digit pair; sums to `count`.
    public var confusion: [[Int]]
    /// Dataset indices of the items whose digit was predicted wrong, in order (for the MNIST test split,
    /// and for its first N items under `--test-limit`, the index in the test set).
    public var misclassified: [Int]
    /// For each entry of `misclassified`, the softmax probability the network gave its (wrong) predicted
    /// digit, in 0...1 (`torch.softmax(logits, 1).max(1)` of that item).
    public var misclassifiedProbabilities: [Double]
    /// The predicted digit of every item, in dataset order.
    public var predictedDigits: [Int]

    /// Classification accuracy per true digit (nil for a digit with no items).
    public var perDigitAccuracy: [Double?] {
        confusion.enumerated().map { digit, row in
            let total = row.reduce(0, +)
            return total == 0 ? nil : Double(row[digit]) / Double(total)
        }
    }
}

/// A dataset with no items, where a metric needs at least one.
public struct EmptyDatasetError: Error, Equatable, CustomStringConvertible {
    /// What was empty, e.g. "test set".
    public var name: String
    /// An error naming the empty dataset.
    public init(name: String) { self.name = name }
    /// One line naming the dataset, the expected and the found count.
    public var description: String {
        "the \(name) is empty (0 images), expected at least 1 image to evaluate"
    }
}

/// Runs the network over `dataset` in order, in batches of `batchSize`, and gathers its metrics.
///
/// The accuracies divide by the number of items seen (a last partial batch counts its true size).
/// Throws `EmptyDatasetError` for a dataset without items, `NonFiniteForwardError` (naming the layer)
/// when a batch's logits, sums or losses are NaN or infinite, and `ShapeError` only if the dataset
/// holds a label outside 0...9 (it cannot after loading).
/// Matches the seed's test loop, without its division by batches × batch size.
public func evaluate(
    _ network: AdderNetwork, on dataset: AdderDataset, engine: AdderEngine, batchSize: Int = 1000
) throws -> Evaluation {
    guard dataset.count > 0 else { throw EmptyDatasetError(name: "test set") }
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: AdderNetwork.classes), count: AdderNetwork.classes)
    var addition = AccuracyMeter()
    var ceTotal = 0.0, mseTotal = 0.0
    var misclassified: [Int] = []
    var probabilities: [Double] = []
    var predicted: [Int] = []
    predicted.reserveCapacity(dataset.count)
    for batch in try dataset.batches(batchSize: batchSize, shuffle: false) {
        let out = engine.forward(network, images: batch.images, addends: batch.addends)
        try engine.checkFinite(out, network: network, images: batch.images, addends: batch.addends)
        let ce = try crossEntropy(logits: out.logits, targets: batch.labels)
        let targets = Tensor(shape: [batch.count], scalars: batch.sums.map(Float.init))
        let m = try mse(predictions: out.sums, targets: targets)
        guard ce.loss.isFinite else { throw NonFiniteForwardError(layer: "cross-entropy", value: ce.loss) }
        guard m.loss.isFinite else { throw NonFiniteForwardError(layer: "MSE", value: m.loss) }
        ceTotal += Double(ce.loss) * Double(batch.count)
        mseTotal += Double(m.loss) * Double(batch.count)
        addition.update(predictions: out.sums.scalars.map(roundedSum), targets: batch.sums)
        for (i, (digit, label)) in zip(out.digits, batch.labels).enumerated() {
            confusion[label][digit] += 1
            if digit != label {
                misclassified.append(batch.indices[i])
                probabilities.append(softmaxProbability(logits: out.logits, row: i, of: digit))
            }
        }
        predicted += out.digits
    }
    let n = max(1, addition.seen)
    let correct = (0..<AdderNetwork.classes).reduce(0) { $0 + confusion[$1][$1] }
    return Evaluation(
        count: addition.seen, classificationAccuracy: Double(correct) / Double(n),
        additionAccuracy: addition.accuracy, crossEntropy: ceTotal / Double(n), mse: mseTotal / Double(n),
        confusion: confusion, misclassified: misclassified, misclassifiedProbabilities: probabilities,
        predictedDigits: predicted)
}

/// `softmax(logits[row])[digit]` of `[batch, classes]` logits, in Double with the row's maximum subtracted.
private func softmaxProbability(logits: Tensor, row: Int, of digit: Int) -> Double {
    let classes = logits.shape.last ?? 1
    let values = logits.scalars[(row * classes)..<((row + 1) * classes)].map(Double.init)
    let largest = values.max() ?? 0
    let total = values.reduce(0) { $0 + exp($1 - largest) }
    return exp(values[values.startIndex + digit] - largest) / total
}

/// The integer a predicted sum stands for: the nearest one (halves away from zero); a non-finite
/// prediction maps to −1, which never equals a true sum.
public func roundedSum(_ value: Float) -> Int {
    guard value.isFinite, abs(value) < 1e9 else { return -1 }
    return Int(value.rounded())
}
