// Each test item's predicted digit and sum, kept item by item so that two networks can be compared on
// the same items (paired outcomes) rather than only through their accuracies.
import MNISTData
import NNCore

/// A network's answers on every item of a dataset, in dataset order.
public struct ItemPredictions: Sendable, Equatable {
    /// The predicted digit (argmax of the logits) of each item.
    public var digits: [Int]
    /// The predicted sum of each item, rounded to the nearest integer as `roundedSum` does (−1 when not finite).
    public var sums: [Int]

    /// Whether each item's digit is right, against `labels` (same order and count).
    public func digitCorrect(labels: [Int]) -> [Bool] { zip(digits, labels).map { $0 == $1 } }

    /// Whether each item's sum is right, against `sums` (same order and count).
    public func sumCorrect(sums targets: [Int]) -> [Bool] { zip(sums, targets).map { $0 == $1 } }
}

/// Runs the network over `dataset` in item order, in batches of `batchSize`, and keeps each item's
/// predicted digit and rounded sum.
///
/// The same forward pass and checks as `evaluate` (whose accuracies these predictions reproduce:
/// the fraction of `digitCorrect` is its `classificationAccuracy`, of `sumCorrect` its `additionAccuracy`).
/// Throws `EmptyDatasetError` for a dataset without items, `NonFiniteForwardError` (naming the layer)
/// when a batch's logits or sums are NaN or infinite, and `MNISTError.invalidBatchSize` for `batchSize < 1`.
public func predictItems(
    _ network: AdderNetwork, on dataset: AdderDataset, engine: AdderEngine, batchSize: Int = 1000
) throws -> ItemPredictions {
    guard dataset.count > 0 else { throw EmptyDatasetError(name: "test set") }
    var result = ItemPredictions(digits: [], sums: [])
    result.digits.reserveCapacity(dataset.count)
    result.sums.reserveCapacity(dataset.count)
    for batch in try dataset.batches(batchSize: batchSize, shuffle: false) {
        let out = engine.forward(network, images: batch.images, addends: batch.addends)
        try engine.checkFinite(out, network: network, images: batch.images, addends: batch.addends)
        result.digits += out.digits
        result.sums += out.sums.scalars.map(roundedSum)
    }
    return result
}
